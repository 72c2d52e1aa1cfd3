"""Checking imported rows: cells read as a human meant them, then the same record checks, rules and
duplicate checks as the form -- with everything a row needs fetched once per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from pypinyin import lazy_pinyin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...documents import normalize as cell
from ...documents.reader import Layout
from ...fields import MEMBER_FIELDS
from ...models import SchoolClass, Student
from ...models.base import keyring
from ...policy import Facts, evaluate
from ..common.actors import Actor
from ..organisation import codes as code_tables
from ..organisation import divisions
from ..policy import rulesets as policy
from ..record.identity import RESIDENT_ID
from ..record.students import actor_facts, edited_items
from ..record.validation import Context, family_values_problems, record_problems
from ..requests import holds

JOB_LEVEL = ("outside_window", "frozen", "switch_off")  # refuse the whole file, once


@dataclass
class Row:
    """One data row: where it is, what it says, what is wrong with it."""

    number: int
    values: dict = field(default_factory=dict)
    members: list[dict] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (column, message, code)
    klass: SchoolClass | None = None
    id_blind: str | None = None
    person: tuple | None = None  # (name, gender, birth date) of a record without an ID
    existing: Student | None = None  # the school's record this row describes, if any
    changes: dict = field(default_factory=dict)  # what the row would change in it

    @property
    def ok(self) -> bool:
        return not self.problems


def _division(value: str | None) -> str | None:
    """A division named in a cell becomes its 12-digit code; anything else stays as written."""
    if value and not value.isdigit():
        return divisions.code_for_name(value) or value
    return value


@lru_cache(maxsize=65536)
def pinyin(name: str) -> str:
    return " ".join(lazy_pinyin(name)).title()


class Checker:
    """Row checks for one school and one file; call ``convert`` then ``check`` per row."""

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
                                                         Student.status.in_(policy.SEATED))
            .group_by(Student.class_id)).all())
        self.ruleset = policy.current(session)
        self.held = holds.in_school(session, school.id)  # records under review wait for a return
        self.codes_chain = policy.codes_of(school)
        self.ring = keyring()
        self.in_file_ids: dict[str, int] = {}
        self.in_file_persons: dict[tuple, int] = {}
        self.job_problems: dict[str, tuple[str, str]] = {}
        self._readers = [(i, c, self._reader(c.spec)) for i, c in sorted(layout.columns.items())]

    # -- cells ------------------------------------------------------------------------------
    def convert(self, number: int, cells: list) -> Row:
        row = Row(number)
        members = {"member1": {}, "member2": {}}
        width = len(cells)
        for index, column, read in self._readers:
            raw = cells[index] if index < width else None
            if raw is None or raw == "":
                value = None  # most cells of most rows: nothing to read
            else:
                try:
                    value = read(raw)
                except cell.CellProblem as problem:
                    row.problems.append((column.header, str(problem), problem.code))
                    continue
            if column.owner == "student":
                row.values[column.spec.name] = value
            else:
                members[column.owner][column.spec.name] = value
        row.members = [m for key, m in members.items()
                       if key == "member1" or any(v not in (None, "") for v in m.values())]
        return row

    def _reader(self, spec):
        """The function that reads one column's cells, chosen once per file."""
        kind = spec.kind
        if kind == "code":
            labels = self.labels.get(spec.code_table, {})
            return lambda raw: cell.code(raw, labels)
        if kind == "phone":
            return lambda raw: cell.digits(raw, leading_zero=True)
        if kind in ("region", "place"):  # a division's code, or its name (湖南省长沙市芙蓉区)
            read = cell.digits if kind == "region" else cell.text
            return lambda raw: _division(read(raw))
        simple = {"bool": cell.yes_no, "date": cell.day, "month": cell.month, "number": cell.number,
                  "id_number": cell.id_number, "postcode": cell.digits, "school": cell.digits}
        return simple.get(kind, cell.text)

    # -- the record --------------------------------------------------------------------------
    def check(self, row: Row) -> Row:
        """Record checks, the school and class, duplicates inside the file."""
        values = row.values
        if row.problems:  # an unreadable cell: checking the rest would only add echoes
            return row
        if values.get("school_code") not in (None, self.school.code):
            row.problems.append(("学校标识码", f"学校标识码 {values['school_code']} 不是本校 "
                                             f"{self.school.code}", "school"))
        klass = self.classes.get(values.get("class_name") or "")
        if values.get("class_name") and klass is None:
            row.problems.append(("班级", f"本校没有班级“{values['class_name']}”", "class"))
        row.klass = klass
        values["class_name"] = klass or values.get("class_name")  # an unknown one is reported once
        values["school_code"] = self.school
        problems = record_problems(values, self.ctx) + family_values_problems(values, row.members, self.ctx)
        row.problems += [(self._header(p.field), str(p.message), p.code) for p in problems]
        if row.ok:
            self._file_duplicates(row)
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
                column = {"class_full": "班级", "entry_age": "出生日期"}.get(v.code) or self._header(v.field)
                row.problems.append((column, f"{v.message}（{v.source}）" if v.source else v.message, v.code))

    def _file_duplicates(self, row: Row) -> None:
        values = row.values
        if values.get("id_type") == RESIDENT_ID and values.get("id_number"):
            row.id_blind = self.ring.blind_index("id_number", values["id_number"])
            first = self.in_file_ids.setdefault(row.id_blind, row.number)
            if first != row.number:
                row.problems.append(("身份证件号", f"与第 {first} 行身份证件号重复", "duplicate_in_file"))
        else:
            row.person = (values.get("name"), values.get("gender"), values.get("birth_date"))
            first = self.in_file_persons.setdefault(row.person, row.number)
            if first != row.number:
                row.problems.append(("姓名", f"与第 {first} 行姓名、性别、出生日期相同且无身份证件号",
                                     "duplicate_in_file"))

    def take_seat(self, row: Row) -> None:
        """A new record placed in its class, or a known one moved there: the next row sees one seat
        less."""
        if row.klass is not None and (row.existing is None or "school_class" in row.changes):
            self.seats[row.klass.id] = self.seats.get(row.klass.id, 0) + 1

    def _header(self, name: str | None) -> str:
        from ...fields import STUDENT_FIELD_BY_NAME

        if not name:
            return ""
        if name.startswith("成员"):
            spec = next((f for f in MEMBER_FIELDS if name.endswith(f.name)), None)
            return f"{name[:3]}{spec.header}" if spec else name
        spec = STUDENT_FIELD_BY_NAME.get(name)
        return spec.header if spec else ("成员1姓名" if name == "members" else name)
