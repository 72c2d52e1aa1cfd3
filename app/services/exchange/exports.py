"""Exports: students of any scope the account may see, in the official template (the round trip
export -> import changes nothing), streamed in batches; every export logged."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...excel.columns import COLUMNS, TEXT_KINDS
from ...excel.safe import cell
from ...excel.safe import value as safe_value
from ...models import ExportLog, FamilyMember, Jurisdiction, School, SchoolClass, Student
from ...models.base import keyring
from ...security.crypto import aad_for
from ..common.actors import Actor
from ..organisation import codes as code_tables

BATCH = 2000
HEAD = Font(bold=True)


def _scope_query(actor: Actor, school: School | None):
    query = select(Student).where(actor.scope.clause(Student))
    if school is not None:
        query = query.where(Student.school_id == school.id)
    return query.order_by(Student.school_id, Student.class_id, Student.id)


def _value(spec, raw, labels):
    if raw is None:
        return None
    kind = spec.kind
    if kind == "code":
        return labels.get(spec.code_table, {}).get(raw, raw)
    if kind == "bool":
        return "是" if raw else "否"
    if kind == "date":
        return raw.isoformat()
    if kind == "month":
        return raw.strftime("%Y-%m")
    if kind == "number":
        return float(raw)
    return raw


class _Decrypt:
    """Personal values of a batch, decrypted column by column from their raw tokens."""

    def __init__(self):
        self.ring = keyring()

    def __call__(self, table: str, column: str, uid: str, token):
        return None if token is None else self.ring.decrypt(token, aad_for(table, column, uid))


def rows(session: Session, actor: Actor, school: School | None = None):
    """The template's cell values for every student in scope, batch by batch."""
    labels = {table: dict(pairs) for table, pairs in code_tables.template_labels(session).items()}
    decrypt = _Decrypt()
    codes = {s.id: s.code for s in session.scalars(select(School).where(actor.scope.clause(School)))}
    classes: dict[int, str] = {}
    students = session.scalars(_scope_query(actor, school).execution_options(yield_per=BATCH))
    for batch in students.partitions(BATCH):
        members = defaultdict(list)
        for m in session.scalars(select(FamilyMember).where(
                FamilyMember.student_id.in_([s.id for s in batch])).order_by(FamilyMember.seq)):
            members[m.student_id].append(m)
        missing = {s.class_id for s in batch if s.class_id and s.class_id not in classes}
        if missing:
            classes.update(session.execute(select(SchoolClass.id, SchoolClass.name)
                                           .where(SchoolClass.id.in_(missing))).all())
        for student in batch:
            yield _row(student, members[student.id][:2], labels, codes, classes, decrypt)
        for obj in [*batch, *(m for group in members.values() for m in group)]:
            session.expunge(obj)  # flat memory: nothing of the batch stays in the session


def _row(student, members, labels, codes, classes, decrypt) -> list:
    out = []
    for column in COLUMNS:
        spec = column.spec
        if column.owner == "student":
            source, table, uid = student, "student", student.uid
        else:
            n = int(column.owner[-1])
            if n > len(members):
                out.append(None)
                continue
            source, table, uid = members[n - 1], "family_member", members[n - 1].uid
        if spec.kind == "school":
            raw = codes.get(student.school_id)
        elif spec.kind == "class":
            raw = classes.get(student.class_id)
        elif spec.personal:
            raw = decrypt(table, f"{spec.name}_enc", uid, getattr(source, f"{spec.name}_enc"))
        else:
            raw = getattr(source, spec.name)
        out.append(_value(spec, raw, labels))
    return out


def write(sheet_rows, target) -> int:
    """Stream rows into a template-shaped workbook (text columns kept as text); returns the count."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("学生信息")
    text_columns = {i for i, c in enumerate(COLUMNS) if c.spec.kind in TEXT_KINDS}
    for i in text_columns:  # typed into later, an ID or phone stays text
        sheet.column_dimensions[get_column_letter(i + 1)].number_format = "@"
    sheet.append([cell(sheet, c.header, font=HEAD) for c in COLUMNS])
    count = 0
    for values in sheet_rows:
        sheet.append([cell(sheet, v, number_format="@") if v is not None and i in text_columns
                      else safe_value(sheet, v) for i, v in enumerate(values)])
        count += 1
    book.save(target)
    return count


def log(session: Session, actor: Actor, kind: str, count: int, school: School | None) -> None:
    """Who exported which scope, how many rows (the log is scoped like the data it describes)."""
    scope = actor.scope
    if school is None and scope.school_id:
        school = session.get(School, scope.school_id)
    node = school or session.scalar(select(Jurisdiction).where(Jurisdiction.code == scope.code))
    chain = {"province_code": node.province_code, "city_code": node.city_code,
             "county_code": node.county_code} if node is not None else {}
    session.add(ExportLog(user_id=actor.user_id, username=actor.username, kind=kind,
                          scope_level="school" if school else scope.level,
                          scope_code=school.code if school else scope.code,
                          school_id=school.id if school else None, rows=count, **chain))
    session.commit()


def students_to_file(session: Session, actor: Actor, target: Path, school: School | None = None) -> int:
    count = write(rows(session, actor, school), target)
    log(session, actor, "students", count, school)
    return count


