"""Month-end snapshots (月末快照) of what a report counts as stock: students on record by school,
grade, stage, status and gender, and accounts by node and activity.

A month is closed once: its ``ReportMonth`` row and its snapshot rows are written together, set-based,
and never rewritten (append-only, like the request history), so a past month's report gives the same
figures however the records change later.
"""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String, event

from .base import local_now
from .scope import Chain

SUBJECTS = ("student", "account")


class ReportMonth(Model):
    """One closed month: when its snapshot was taken, and by whom (an account or a command)."""

    __tablename__ = "report_month"

    month = Column(Date, primary_key=True)  # the first day of the month
    taken_at = Column(DateTime, nullable=False, default=local_now)
    taken_by = Column(String(128), nullable=False)
    # the rule-set version in force when the month was closed: its calendar (holidays, make-up
    # working days) counts the month's deadlines however the rules change later
    rule_version = Column(Integer, nullable=True)


class ReportSnapshot(Model):
    """One group of a month-end snapshot: ``count`` students (or accounts) of one school (or bureau)
    with the same grade, stage, status and gender (accounts: status active / dormant / disabled)."""

    __tablename__ = "report_snapshot"
    __table_args__ = (
        Index("ix_report_snapshot_month_subject", "month", "subject"),
    )
    # the chain in clear, copied from the school (or the bureau of a bureau's account)
    __scope__ = Chain(school="school_id")

    id = Column(Integer, primary_key=True)
    month = Column(Date, ForeignKey("report_month.month"), nullable=False)
    subject = Column(String(10), nullable=False)  # student / account
    school_id = Column(Integer, ForeignKey("school.id"), nullable=True, index=True)
    province_code = Column(String(6), nullable=True, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)
    stage = Column(String(10), nullable=True)
    grade = Column(Integer, nullable=True)
    status = Column(String(20), nullable=False)
    gender = Column(String(1), nullable=True)
    count = Column(Integer, nullable=False)


# The report's history queries: requests opened or closed in a window, problems found in one,
# graduations in one.
# Declared here, beside the report that needs them, on the tables they index.
def _history_indexes() -> None:
    from .problems import ProblemCase
    from .requests import Request
    from .student import Student

    Index("ix_request_closed_at", Request.closed_at)
    Index("ix_request_created_at", Request.created_at)
    Index("ix_problem_case_detected_at", ProblemCase.detected_at)
    Index("ix_student_graduated_at", Student.graduated_at)


_history_indexes()


def _refuse(mapper, connection, target) -> None:
    from .events import AppendOnly

    raise AppendOnly(f"{target.__tablename__} is append-only: a closed month is never rewritten")


for _model in (ReportMonth, ReportSnapshot):
    for _name in ("before_update", "before_delete"):
        if not event.contains(_model, _name, _refuse):
            event.listen(_model, _name, _refuse)
