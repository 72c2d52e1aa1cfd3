"""The export's rows, made at the writer's pace: Core rows of only the template's columns (no ORM
objects), each column's conversion chosen once, and only the personal columns decrypted, with their
associated data's prefix built once per column."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import Session

from ...documents import export as workbook
from ...documents.columns import COLUMNS
from ...models import FamilyMember, School, SchoolClass, Student
from ...models.base import keyring

BATCH = 2000


@dataclass
class _Plan:
    """The export's columns, worked out once: what to select, in the template's order (so a row's
    cells are slices of the rows read), and the cells that need work -- a code's label, another
    conversion, decryption with its associated data's prefix."""

    labels: dict
    student: list = field(default_factory=list)  # selected after Student.id and Student.uid
    member: list = field(default_factory=list)  # selected after FamilyMember.student_id and uid
    segments: list[tuple[str, int, int]] = field(default_factory=list)  # (owner, start, end) in its row
    codes: list[tuple[int, dict]] = field(default_factory=list)  # (cell, {code: label})
    converted: list[tuple[int, Callable]] = field(default_factory=list)  # (cell, conversion)
    sealed: dict[str, list[tuple[int, bytes]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, cell: int, owner: str, spec) -> None:
        """One template column: selected (once for both members), and its cell's work noted."""
        table = Student.__table__ if owner == "student" else FamilyMember.__table__
        name = f"{spec.name}_enc" if spec.personal else spec.name
        selected = self.student if owner == "student" else self.member
        if owner != "member2":
            joined = {"school": School.code, "class": SchoolClass.name}.get(spec.kind)
            selected.append(table.c[name] if joined is None else joined)
        if spec.personal:  # personal items are text of their own kinds: decrypted, never converted
            self.sealed[owner].append((cell, f"{table.name}.{name}.".encode()))
        elif spec.kind == "code":
            self.codes.append((cell, self.labels.get(spec.code_table, {})))
        elif convert := workbook.converter(spec, self.labels):
            self.converted.append((cell, convert))


def _plan(labels: dict) -> _Plan:
    plan = _Plan(labels)
    at = {"student": 2, "member1": 2, "member2": 2}  # after each row's id (or student id) and uid
    for cell, column in enumerate(COLUMNS):
        if plan.segments and plan.segments[-1][0] == column.owner:
            owner, start, _ = plan.segments[-1]
            plan.segments[-1] = (owner, start, at[column.owner] + 1)
        else:
            plan.segments.append((column.owner, at[column.owner], at[column.owner] + 1))
        at[column.owner] += 1
        plan.add(cell, column.owner, column.spec)
    return plan


def rows(session: Session, scoped: Select, labels: dict) -> Iterator[list]:
    """The template's cell values of the students ``scoped`` (a select of Student, scoped and
    ordered) finds, batch by batch; a student's first two family members by their number."""
    plan, ring = _plan(labels), keyring()
    query = (scoped.with_only_columns(Student.id, Student.uid, *plan.student)
             .join(School, School.id == Student.school_id)
             .outerjoin(SchoolClass, SchoolClass.id == Student.class_id))
    blank = (None,) * (len(plan.member) + 2)
    if session.autoflush:
        session.flush()  # what the session would flush before a query of its own
    connection = session.connection()  # plain rows: the ORM's row loading would double the cost
    for batch in connection.execute(query.execution_options(yield_per=BATCH)).partitions(BATCH):
        members = _members(connection, [r[0] for r in batch], plan.member)
        for r in batch:
            found = members.get(r[0], ())
            sources = {"student": r, "member1": found[0] if found else blank,
                       "member2": found[1] if len(found) > 1 else blank}
            out = []
            for owner, start, end in plan.segments:
                out += sources[owner][start:end]
            yield _worked(out, plan, sources, ring)


def _worked(out: list, plan: _Plan, sources: dict, ring) -> list:
    """A row's cells, labelled, converted and decrypted where they need it."""
    for cell, table in plan.codes:
        raw = out[cell]
        if raw is not None:
            out[cell] = table.get(raw, raw)
    for cell, convert in plan.converted:
        raw = out[cell]
        if raw is not None:
            out[cell] = convert(raw)
    for owner, cells in plan.sealed.items():
        bound = sources[owner][1]
        if bound is None:  # no such family member
            continue
        bound = bound.encode()
        for cell, aad in cells:
            token = out[cell]
            if token is not None:
                out[cell] = ring.decrypt(token, aad + bound)
    return out


def _members(connection: Connection, student_ids: list[int], columns: list) -> dict[int, list]:
    """The family members of each student of a batch, in their order."""
    found = defaultdict(list)
    for m in connection.execute(select(FamilyMember.student_id, FamilyMember.uid, *columns)
                                .where(FamilyMember.student_id.in_(student_ids))
                                .order_by(FamilyMember.student_id, FamilyMember.seq)).all():
        found[m[0]].append(m)
    return found
