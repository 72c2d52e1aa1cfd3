"""Blind indexes kept without the value they hash: admissions and problem cases hold a person's
index (never the ID), so a rotation to another profile redoes them from the records they name."""

from __future__ import annotations

from sqlalchemy import String, bindparam, case, cast, func, select, update
from sqlalchemy.orm import Session

from ...models import Admission, ProblemCase, ProblemMember, Student
from ...security.crypto import SM, SM3_BLIND, Keyring
from ..common.transaction import transaction

BATCH = 1000
KEYED_CASES = ("duplicate_id", "duplicate_no_id")  # invalid_id cases are keyed by the row uid


def _stale(column, ring: Keyring):
    """SQL: the index value was made by the other profile's hash."""
    made_by_sm3 = column.like(f"{SM3_BLIND}%")
    return ~made_by_sm3 if ring.profile == SM else made_by_sm3


def repoint_person_keys(session: Session, moved: list[dict[str, str]]) -> None:
    """Students' ID indexes moved from ``old`` to ``new``: admissions (and their live key, as
    ``admission_rows.live_key`` makes it) and duplicate-ID cases follow, in the same batch."""
    if not moved:
        return
    a = Admission.__table__
    session.execute(
        update(a)
        .where(a.c.id_blind == bindparam("old"))
        .values(
            id_blind=bindparam("new"),
            live_key=case(
                (a.c.live_key.is_(None), None), else_=cast(a.c.school_year, String) + ":" + bindparam("new")
            ),
        ),
        moved,
    )
    p = ProblemCase.__table__
    session.execute(
        update(p)
        .where(p.c.kind == "duplicate_id", p.c.group_key == bindparam("old"))
        .values(group_key=bindparam("new")),
        moved,
    )


def reindex_cases_without_id(session: Session, ring: Keyring) -> int:
    """Cases of records alike without an ID are keyed by name, gender and birth date (in clear on
    the records): redo each stale key from its first record still there; returns how many."""
    p, count, last = ProblemCase.__table__, 0, 0
    first = (
        select(func.min(ProblemMember.student_id)).where(ProblemMember.case_id == p.c.id).scalar_subquery()
    )
    while True:
        with transaction(session):
            rows = session.execute(
                select(p.c.id, Student.name, Student.gender, Student.birth_date)
                .join(Student, Student.id == first)
                .where(p.c.kind == "duplicate_no_id", _stale(p.c.group_key, ring), p.c.id > last)
                .order_by(p.c.id)
                .limit(BATCH)
            ).all()
            for row in rows:
                key = ring.blind_index("person", f"{row.name}|{row.gender}|{row.birth_date}")
                session.execute(update(p).where(p.c.id == row.id).values(group_key=key))
            count += len(rows)
        if not rows:
            return count
        last = rows[-1].id


def stale_left(session: Session, ring: Keyring) -> dict[str, int]:
    """Index values no record could redo (the record is gone or its ID changed since)."""
    p, a = ProblemCase.__table__, Admission.__table__
    count = func.count()
    return {
        "admission": session.scalar(select(count).select_from(a).where(_stale(a.c.id_blind, ring))),
        "problem_case": session.scalar(
            select(count).select_from(p).where(p.c.kind.in_(KEYED_CASES), _stale(p.c.group_key, ring))
        ),
    }
