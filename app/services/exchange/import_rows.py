"""Checking imported rows: cells read as a human meant them, then the same record checks, rules and
duplicate checks as the form -- with everything a row needs fetched once per file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...documents.reader import Layout
from ...models import SchoolClass, Student
from ...models.base import keyring
from ...policy import Facts, evaluate
from ..common.actors import Actor
from ..organisation import codes as code_tables
from ..policy import rulesets as policy
from ..record.students import actor_facts, edited_items
from ..record.validation import Context
from ..requests import holds
from .import_cells import Row, RowReader, _header, pinyin

__all__ = ["JOB_LEVEL", "Checker", "Row", "RowReader", "pinyin"]

JOB_LEVEL = ("outside_window", "frozen", "switch_off")  # refuse the whole file, once


class Checker:
    """Row checks for one school and one file; call ``convert`` then ``check`` per row (or let
    the ``reader`` read and check a row elsewhere, then ``place`` it)."""

    def __init__(self, session: Session, school, layout: Layout, now: datetime, actor: Actor):
        self.session, self.school, self.layout, self.now = session, school, layout, now
        self.actor, self.actor_facts = actor, actor_facts(actor)
        tables = code_tables.template_labels(session)
        # a cell may hold the label (as the template's drop-down writes it) or the code itself
        self.labels = {table: {**{label: code for code, label in pairs}, **{code: code for code, _ in pairs}}
                       for table, pairs in tables.items()}
        self.codes = {table: {code for code, _ in pairs} for table, pairs in tables.items()}
        self.ctx = Context(lambda table: self.codes.get(table, set()), now.date(),
                           school.kind == "special")
        self.classes = {c.name: c for c in session.scalars(
            select(SchoolClass).where(SchoolClass.school_id == school.id))}
        self.seats = dict(session.execute(
            select(Student.class_id, func.count()).where(Student.school_id == school.id,
                                                         Student.class_id.is_not(None),
                                                         Student.status.in_(policy.SEATED))
            .group_by(Student.class_id)).all())
        self.ruleset = policy.current(session)
        self.held = holds.in_school(session, school.id)  # records under review wait for a return
        self.codes_chain = policy.codes_of(school)
        self.ring = keyring()
        self.in_file_ids: dict[str, int] = {}
        self.in_file_persons: dict[tuple, int] = {}
        self.job_problems: dict[str, tuple[str, str]] = {}
        self.reader = RowReader(layout, self.labels, self.codes, now.date(), school.kind == "special",
                                school.code, set(self.classes))

    # -- cells ------------------------------------------------------------------------------
    def convert(self, number: int, cells: list) -> Row:
        return self.reader.convert(number, cells)

    # -- the record --------------------------------------------------------------------------
    def check(self, row: Row) -> Row:
        """Record checks, the school and class, duplicates inside the file."""
        return self.place(self.reader.check(row))

    def place(self, row: Row, *, checked: bool = True) -> Row:
        """A row the reader has read (here or in a worker process): its class and school as
        objects, its identity keys, and (``checked``) the duplicates inside the file."""
        if not row.read:
            return row
        row.klass = klass = self.classes.get(row.class_name or "")
        row.values["class_name"] = klass or row.values.get("class_name")  # an unknown one is reported once
        row.values["school_code"] = self.school
        if row.ok:
            self._file_duplicates(row, checked)
        return row

    def rules(self, row: Row) -> None:
        """The rules the form would apply: a registration for a new record, an edit (the items it
        changes, the class it moves to) for a known one.  A known row that changes nothing asks
        nothing."""
        if row.existing is None:
            grade = row.klass.grade if row.klass else None
            if grade is None:
                return
            facts = Facts(action="register_new" if grade.number == 1 else "register_in_school",
                          at=self.now, codes=self.codes_chain, stage=grade.stage, status="in_school",
                          birth_date=row.values.get("birth_date"), grade=grade.number,
                          class_size=self.seats.get(row.klass.id, 0), registered=False, **self.actor_facts)
        elif row.changes:
            student, moved = row.existing, "school_class" in row.changes
            grade = row.klass.grade if moved else student.grade
            facts = Facts(action="edit_field", at=self.now, codes=self.codes_chain,
                          stage=grade.stage if grade else None, status=student.status,
                          changed_fields=edited_items(row.changes),
                          class_size=self.seats.get(row.klass.id, 0) if moved else None,
                          registered=bool(student.registered), **self.actor_facts,
                          **holds.facts(self.held.get(student.id), self.session))
        else:
            return
        for v in evaluate(self.ruleset, facts).violations:
            if v.code in JOB_LEVEL:
                self.job_problems.setdefault(v.code, (v.message, v.source or ""))
            else:
                column = {"class_full": "班级", "entry_age": "出生日期"}.get(v.code) or _header(v.field)
                row.problems.append((column, f"{v.message}（{v.source}）" if v.source else v.message, v.code))

    def _file_duplicates(self, row: Row, checked: bool = True) -> None:
        if row.id_blind is None and row.person is None:  # (a worker finds them for a slim row)
            row.identify(self.ring)
        if not checked:
            return
        if row.id_blind is not None:
            first = self.in_file_ids.setdefault(row.id_blind, row.number)
            if first != row.number:
                row.problems.append(("身份证件号", f"与第 {first} 行身份证件号重复", "duplicate_in_file"))
        else:
            first = self.in_file_persons.setdefault(row.person, row.number)
            if first != row.number:
                row.problems.append(("姓名", f"与第 {first} 行姓名、性别、出生日期相同且无身份证件号",
                                     "duplicate_in_file"))

    def take_seat(self, row: Row) -> None:
        """A new record placed in its class, or a known one moved there: the next row sees one seat
        less."""
        if row.klass is not None and (row.existing is None or "school_class" in row.changes):
            self.seats[row.klass.id] = self.seats.get(row.klass.id, 0) + 1

