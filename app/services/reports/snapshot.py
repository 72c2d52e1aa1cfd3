"""Month-end snapshots: the stock a report counts (students on record, accounts), taken once per month
with one INSERT ... SELECT ... GROUP BY per subject and never rewritten.

A past month's report reads its stock from the snapshot -- taken by ``run.py report close``, the
scheduled job on the 1st, or the first time anyone asks for that month's report -- so it gives the
same figures however the records change later.  The current month's report counts the live rows
with the same grouping.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import Integer, String, and_, case, cast, func, insert, literal, null, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import ValidationFailed
from ...i18n import t
from ...models import Grade, Jurisdiction, ReportMonth, ReportSnapshot, School, Student, XuejiUser
from ..common.transaction import transaction
from .window import month_of, month_start, next_month

DORMANT_DAYS = 90  # no sign-in for this long: a dormant account (XUEJI_REPORT_DORMANT_DAYS)
COLUMNS = ("school_id", "province_code", "city_code", "county_code", "stage", "grade", "status",
           "gender", "count")


def dormant_days() -> int:
    """Days without a sign-in after which an account counts as dormant (configurable)."""
    if has_app_context():
        return int(current_app.config.get("XUEJI_REPORT_DORMANT_DAYS", DORMANT_DAYS))
    return DORMANT_DAYS


def student_groups():
    """Students counted by school, chain, stage, grade, status and gender (the live stock)."""
    return (select(Student.school_id, Student.province_code, Student.city_code, Student.county_code,
                   Grade.stage, Grade.number.label("grade"), Student.status, Student.gender,
                   func.count().label("count"))
            .select_from(Student).outerjoin(Grade, Grade.id == Student.grade_id)
            .group_by(Student.school_id, Student.province_code, Student.city_code, Student.county_code,
                      Grade.stage, Grade.number, Student.status, Student.gender))


def account_groups(at: datetime, days: int):
    """Accounts counted by the node they are bound to and by activity: active (signed in within
    ``days`` days before ``at``, or since), dormant (not), disabled (deactivated)."""
    since = at - timedelta(days=days)
    status = case((XuejiUser.active.is_not(True), "disabled"),
                  (XuejiUser.last_login >= since, "active"), else_="dormant")
    chain = [func.coalesce(getattr(School, c), getattr(Jurisdiction, c)).label(c)
             for c in ("province_code", "city_code", "county_code")]
    rows = (select(XuejiUser.school_id, *chain, status.label("status"))
            .select_from(XuejiUser)
            .outerjoin(School, School.id == XuejiUser.school_id)
            .outerjoin(Jurisdiction, Jurisdiction.id == XuejiUser.jurisdiction_id)
            .where(or_(XuejiUser.school_id.is_not(None), XuejiUser.jurisdiction_id.is_not(None)))).subquery()
    keys = [rows.c.school_id, rows.c.province_code, rows.c.city_code, rows.c.county_code]
    return (select(*keys, cast(null(), String).label("stage"), cast(null(), Integer).label("grade"),
                   rows.c.status, cast(null(), String).label("gender"), func.count().label("count"))
            .group_by(*keys, rows.c.status))


def taken(session: Session, month: date) -> ReportMonth | None:
    """The closed month's row (when its snapshot was taken), None if it was never taken."""
    return session.get(ReportMonth, month_of(month))


def close_month(session: Session, month, *, now: datetime, by: str = "system") -> ReportMonth:
    """Take the month-end snapshot of ``month`` (one transaction), or return the one taken before:
    a closed month is never taken again.  Only a month that has ended can be closed."""
    first = month_of(month)
    if month_start(next_month(first)) > now:
        raise ValidationFailed(t(f"{first:%Y-%m} 尚未结束，不能取月末快照",
                                 f"{first:%Y-%m} has not ended: no month-end snapshot yet"), "month")
    existing = taken(session, first)
    if existing is not None:
        return existing
    try:
        with transaction(session):
            return _take(session, first, now, by)
    except IntegrityError:  # someone closed it at the same moment: theirs stands
        row = taken(session, first)
        if row is None:
            raise
        return row


def _take(session: Session, month: date, now: datetime, by: str) -> ReportMonth:
    from ..policy.rulesets import latest_version

    version = latest_version(session)
    row = ReportMonth(month=month, taken_at=now, taken_by=by[:128],
                      rule_version=version.id if version is not None else None)
    session.add(row)
    session.flush()  # the month's row first: a concurrent close fails here
    end = month_start(next_month(month))
    target = ReportSnapshot.__table__
    names = ["month", "subject", *COLUMNS]
    for subject, groups in (("student", student_groups()),
                            ("account", account_groups(end, dormant_days()))):
        source = groups.subquery()
        chosen = select(literal(month).label("month"), literal(subject).label("subject"),
                        *[source.c[c] for c in COLUMNS])
        session.execute(insert(target).from_select(names, chosen))
    return row


def stock(w, subject: str):
    """The stock a report counts, as rows of ``COLUMNS``: the snapshot of the window's closed
    month, or the live rows for a live report."""
    if w.stock_month is None:
        groups = student_groups() if subject == "student" else account_groups(w.end, dormant_days())
        return groups.subquery()
    s = ReportSnapshot
    return (select(*[getattr(s, c) for c in COLUMNS])
            .where(and_(s.month == w.stock_month, s.subject == subject))).subquery()


def chain_columns(source) -> dict:
    """The chain columns of a stock source, by level, for ``Node.where``."""
    return {"province": source.c.province_code, "city": source.c.city_code,
            "county": source.c.county_code, "school": source.c.school_id}
