"""Exports: students of any scope the account may see, in the official template (the round trip
export -> import changes nothing), streamed in batches; every export logged with its file's sha256.

``write`` is the one place an export's file is made (immediate, or held for approval by
``export_requests``), so a background job can call it as it is."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...documents import confirmation, export_process
from ...documents import export as workbook
from ...models import ExportLog, School, Student
from ..common.actors import Actor
from ..common.transaction import transactional
from ..organisation import codes as code_tables
from . import export_rows


def _scope_query(actor: Actor, school: School | None, class_id: int | None = None):
    query = select(Student).where(actor.scope.clause(Student))
    if school is not None:
        query = query.where(Student.school_id == school.id)
    if class_id is not None:  # one class's in-school students (its confirmation forms)
        query = query.where(Student.class_id == class_id, Student.status == "in_school")
    return query.order_by(Student.school_id, Student.class_id, Student.id)


def rows(session: Session, actor: Actor, school: School | None = None, class_id: int | None = None):
    """The template's cell values for every student in scope (or of one class), batch by batch."""
    labels = {table: dict(pairs) for table, pairs in code_tables.template_labels(session).items()}
    yield from export_rows.rows(session, _scope_query(actor, school, class_id), labels)


# kind -> (writer of rows to a path or binary file, file suffix, content type)
KINDS = {
    "students": (workbook.write, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "confirmation_xlsx": (confirmation.write_xlsx, "xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "confirmation_pdf": (confirmation.write_pdf, "pdf", "application/pdf"),
}


def write(session: Session, actor: Actor, kind: str, out: Path | IO[bytes], school: School | None = None,
          class_id: int | None = None) -> int:
    """Write the file of one export (``kind`` of KINDS) of every student in scope, of one school
    or of one class, to ``out``; returns the number of students.  A large students export is
    written by a process of its own while this one reads and decrypts (``export_process``)."""
    writer = KINDS[kind][0]
    least = current_app.config.get("XUEJI_EXPORT_PROCESS_ROWS", export_process.PROCESS_ROWS)
    if kind == "students" and least and export_process.worth_it(count(session, actor, school, class_id), least):
        writer = export_process.write
    return writer(rows(session, actor, school, class_id), out)


def count(session: Session, actor: Actor, school: School | None = None, class_id: int | None = None) -> int:
    """How many students an export of this scope would write."""
    return session.scalar(select(func.count()).select_from(
        _scope_query(actor, school, class_id).order_by(None).subquery()))


def node(session: Session, actor: Actor, school: School | None, class_id: int | None = None) -> dict:
    """Where an export reaches: its level and code (one class of a school, a school, or the
    account's whole school or jurisdiction), its school id and its jurisdiction chain."""
    found = school or actor.place(session)
    school = found if isinstance(found, School) else None
    chain = {"province_code": found.province_code, "city_code": found.city_code,
             "county_code": found.county_code} if found is not None else {}
    level = ("class" if class_id else "school") if school else actor.scope.level
    return {"scope_level": level, "scope_code": school.code if school else actor.scope.code,
            "school_id": school.id if school else None, **chain}


def chain_codes(where: dict) -> tuple[str, ...]:
    """The jurisdiction chain of ``node``'s answer (or of a row carrying one), top first."""
    return tuple(c for c in (where.get("province_code"), where.get("city_code"), where.get("county_code")) if c)


@transactional
def log(session: Session, actor: Actor, kind: str, count: int, where: dict, *, sha256: str,
        request_id: int | None = None, class_id: int | None = None) -> None:
    """Who exported which scope (``node``'s answer: the log is scoped like the data it
    describes; ``class_id``: one class of it), how many rows, the file's hash; one transaction."""
    session.add(ExportLog(user_id=actor.user_id, username=actor.username, kind=kind, rows=count,
                          sha256=sha256, request_id=request_id, class_id=class_id, **where))
