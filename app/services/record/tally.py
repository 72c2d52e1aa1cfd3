"""Students counted per school and status (``student_tally``): read by the landing page, folded
by the worker every few minutes, recounted from ``student`` after a bulk load.

The database's triggers append signed deltas (migration 1b2c3d4e5f60); nothing here has to run
for the counts to be right -- ``compact`` only keeps the table small, ``rebuild`` repairs it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, literal, or_, select, text, tuple_, union_all
from sqlalchemy.orm import Session

from ...models import Student, StudentTally
from ..common.transaction import transactional

# pg_advisory_xact_lock's key: one compaction or rebuild at a time ("XJTL").  Two compactions
# would still add up, but a compaction's new rows are invisible to a concurrent rebuild's snapshot
# and would be counted twice.
TALLY_LOCK = 0x584A544C

# One statement, one snapshot: the deltas it deletes are exactly those it sums, and deltas that
# concurrent writers commit meanwhile are neither deleted nor summed.  Only (school, status) pairs
# with more than one row, or a zero, are rewritten.
_FOLD = text("""
WITH folded AS (
    DELETE FROM student_tally WHERE (school_id, status) IN (
        SELECT school_id, status FROM student_tally GROUP BY school_id, status
        HAVING count(*) > 1 OR sum(n) = 0)
    RETURNING school_id, status, n),
kept AS (
    INSERT INTO student_tally (school_id, status, n)
    SELECT school_id, status, sum(n) FROM folded GROUP BY school_id, status HAVING sum(n) <> 0
    RETURNING 1)
SELECT (SELECT count(*) FROM folded), (SELECT count(*) FROM kept)
""")
_RECOUNT = text("""
WITH gone AS (DELETE FROM student_tally RETURNING 1)
INSERT INTO student_tally (school_id, status, n)
SELECT school_id, status, count(*) FROM student GROUP BY school_id, status
""")


@dataclass(frozen=True)
class Folded:
    """What a compaction did: ``deltas`` rows folded into ``rows``."""

    deltas: int
    rows: int


def by_status(session: Session, scope) -> list[tuple[str, int]]:
    """[(status, students)] of the schools in ``scope``, by status, statuses with none left out."""
    total = func.sum(StudentTally.n)
    rows = session.execute(select(StudentTally.status, total).where(scope.clause(StudentTally))
                           .group_by(StudentTally.status).having(total != 0)).all()
    return sorted((status, int(n)) for status, n in rows)


@transactional
def compact(session: Session) -> Folded:
    """Fold the deltas into one row per (school, status), zeros dropped; safe beside writers."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": TALLY_LOCK})
        deltas, rows = session.execute(_FOLD).one()
        return Folded(int(deltas), int(rows))
    # SQLite has one writer at a time: what is there up to the highest id is all there is
    t = StudentTally.__table__
    top = session.scalar(select(func.max(t.c.id)))
    if top is None:
        return Folded(0, 0)
    total, pair = func.sum(t.c.n), tuple_(t.c.school_id, t.c.status)
    mine = and_(t.c.id <= top, pair.in_(select(t.c.school_id, t.c.status).where(t.c.id <= top)
                                       .group_by(t.c.school_id, t.c.status)
                                       .having(or_(func.count() > 1, total == 0))))
    rows = session.execute(insert(t).from_select(
        ["school_id", "status", "n"],
        select(t.c.school_id, t.c.status, total).where(mine)
        .group_by(t.c.school_id, t.c.status).having(total != 0))).rowcount
    deltas = session.execute(delete(t).where(mine)).rowcount
    return Folded(int(deltas), int(rows))


@transactional
def rebuild(session: Session) -> int:
    """Recount every school's students from ``student`` (after a load with the triggers off, or to
    repair); returns the rows written."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": TALLY_LOCK})
        return session.execute(_RECOUNT).rowcount
    t = StudentTally.__table__
    session.execute(delete(t))
    return session.execute(insert(t).from_select(
        ["school_id", "status", "n"],
        select(Student.school_id, Student.status, func.count())
        .group_by(Student.school_id, Student.status))).rowcount


def differences(session: Session) -> dict[tuple[int, str], tuple[int, int]]:
    """{(school id, status): (tally, counted)} wherever the tally and a count of ``student``
    disagree: empty when the tally is right.  One statement (one snapshot), reading every
    student's index entry: a check, not a page."""
    both = union_all(
        select(StudentTally.school_id, StudentTally.status, StudentTally.n.label("tally"),
               literal(0).label("counted")),
        select(Student.school_id, Student.status, literal(0), literal(1))).subquery()
    tally, counted = func.sum(both.c.tally), func.sum(both.c.counted)
    rows = session.execute(select(both.c.school_id, both.c.status, tally, counted)
                           .group_by(both.c.school_id, both.c.status).having(tally != counted))
    return {(school, status): (int(t), int(c)) for school, status, t, c in rows}
