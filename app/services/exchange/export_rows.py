"""The export's rows, made at the writer's pace: Core rows of only the template's columns (no ORM
objects), each column's work chosen once, and only the personal columns decrypted, with their
associated data's prefix built once per column.  A row's cells are taken from its student's and
family members' rows in one step, and labels, 是/否 and the other conversions cost a look-up each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter

from sqlalchemy import Connection, Select, bindparam, select
from sqlalchemy.orm import Session

from ...documents import export as workbook
from ...documents.columns import COLUMNS
from ...models import FamilyMember, School, SchoolClass, Student
from ...models.base import keyring

BATCH = 2000
_FIRST = 2  # each row read starts with its id (a member's: its student's id) and its uid


@dataclass
class _Plan:
    """The export's columns, worked out once: what to select, where each cell is in a student's
    row followed by its two members' rows (read as one tuple), and the cells that need work -- a
    look-up (a code's label, 是/否), another conversion, decryption with its associated data's prefix."""

    labels: dict
    student: list = field(default_factory=list)  # selected after Student.id and Student.uid
    member: list = field(default_factory=list)  # selected after FamilyMember.student_id and uid
    cells: list[tuple[str, int]] = field(default_factory=list)  # (owner, position in its row) by cell
    mapped: list[tuple[int, Mapping]] = field(default_factory=list)  # (cell, {stored: cell}, None kept)
    converted: list[tuple[int, Callable]] = field(default_factory=list)  # (cell, conversion)
    sealed: dict[str, list[tuple[int, bytes]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, cell: int, owner: str, spec) -> None:
        """One template column: selected (once for both members), and its cell's work noted."""
        table = Student.__table__ if owner == "student" else FamilyMember.__table__
        name = f"{spec.name}_enc" if spec.personal else spec.name
        selected = self.student if owner == "student" else self.member
        if owner == "member2":  # member1's columns, in the same order, in the next member's row
            position = _FIRST + sum(1 for o, _ in self.cells if o == owner)
        else:
            joined = {"school": School.code, "class": SchoolClass.name}.get(spec.kind)
            selected.append(table.c[name] if joined is None else joined)
            position = _FIRST + len(selected) - 1
        self.cells.append((owner, position))
        if spec.personal:  # personal items are text of their own kinds: decrypted, never converted
            self.sealed[owner].append((cell, f"{table.name}.{name}.".encode()))
        elif (mapping := workbook.mapping(spec, self.labels)) is not None:
            self.mapped.append((cell, mapping))
        elif convert := workbook.converter(spec, self.labels):
            self.converted.append((cell, convert))

    def layout(self) -> tuple[Callable, list[tuple[int, list[tuple[int, bytes]]]]]:
        """The cells' getter from a student's row and its members' (one tuple), and each owner's
        sealed cells with where its row's uid is in that tuple."""
        start = {"student": 0, "member1": _FIRST + len(self.student)}
        start["member2"] = start["member1"] + _FIRST + len(self.member)
        sealed = [(start[owner] + 1, cells) for owner, cells in self.sealed.items()]
        return itemgetter(*(start[owner] + position for owner, position in self.cells)), sealed


def _plan(labels: dict) -> _Plan:
    plan = _Plan(labels)
    for cell, column in enumerate(COLUMNS):
        plan.add(cell, column.owner, column.spec)
    return plan


def rows(session: Session, scoped: Select, labels: dict) -> Iterator[list]:
    """The template's cell values of the students ``scoped`` (a select of Student, scoped and
    ordered) finds, batch by batch; a student's first two family members by their number."""
    plan = _plan(labels)
    cells, sealed = plan.layout()
    query = (scoped.with_only_columns(Student.id, Student.uid, *plan.student)
             .join(School, School.id == Student.school_id)
             .outerjoin(SchoolClass, SchoolClass.id == Student.class_id))
    blank = (None,) * (len(plan.member) + _FIRST)
    work = _worker(plan, sealed, keyring().opener())
    if session.autoflush:
        session.flush()  # what the session would flush before a query of its own
    connection = session.connection()  # plain rows: the ORM's row loading would double the cost
    for batch in connection.execute(query.execution_options(yield_per=BATCH)).partitions(BATCH):
        members = _members(connection, [r[0] for r in batch], plan.member)
        for r in batch:
            found = members.get(r[0], ())
            read = (*r, *(found[0] if found else blank), *(found[1] if len(found) > 1 else blank))
            yield work(list(cells(read)), read)


def _worker(plan: _Plan, sealed: list, open_: Callable[[str, bytes], str]) -> Callable[[list, tuple], list]:
    """A row's cells labelled, converted and decrypted where they need it (``read``: the student's
    row and its members', where each owner's uid binds its ciphertexts)."""
    mapped, converted = plan.mapped, plan.converted

    def work(out: list, read: tuple) -> list:
        for cell, table in mapped:
            out[cell] = table[out[cell]]
        for cell, convert in converted:
            raw = out[cell]
            if raw is not None:
                out[cell] = convert(raw)
        for uid_at, owned in sealed:
            bound = read[uid_at]
            if bound is None:  # no such family member
                continue
            bound = bound.encode()
            for cell, aad in owned:
                token = out[cell]
                if token is not None:
                    out[cell] = open_(token, aad + bound)
        return out

    return work


def _members(connection: Connection, student_ids: list[int], columns: list) -> dict[int, list]:
    """The family members of each student of a batch, in their order (the ids written into the
    statement: thousands of bound parameters cost the driver more than the query costs the database)."""
    found = defaultdict(list)
    ids = bindparam("ids", student_ids, expanding=True, literal_execute=True)
    for m in connection.execute(select(FamilyMember.student_id, FamilyMember.uid, *columns)
                                .where(FamilyMember.student_id.in_(ids))
                                .order_by(FamilyMember.student_id, FamilyMember.seq)).all():
        found[m[0]].append(m)
    return found
