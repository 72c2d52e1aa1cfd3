"""Graduation (毕业) as requests: the senior-secondary cohort's bureau review, and the rollback of a
mistaken graduation (毕业撤销) back to in school, approved by the bureau.  Compulsory stages
graduate without a request (``app.services.schoolyear.graduation``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ....errors import Problem, ValidationFailed
from ....models import Graduation, Request, Student
from ...schoolyear.conditions import lacking
from .base import Kind


@dataclass(frozen=True)
class GraduationReview(Kind):
    """毕业审核 (senior secondary): opened by the cohort's graduation, the bureau approves it.  The
    graduation conditions of the rules then in force are checked again on the last approval and
    on a resubmission: an item emptied since the cohort was read stops it, naming the rule."""

    def recheck(self, session: Session, req: Request, now: datetime) -> list[Problem]:
        return lacking(session, req.student)

    def apply(self, session: Session, req: Request, student: Student, actor, now: datetime) -> None:
        problems = lacking(session, student)
        if problems:
            raise ValidationFailed(problems)
        student.status = "graduated"
        student.graduated_at = now
        session.add(Graduation(student_id=student.id,
                               **Graduation.values(student.school, student.grade, "graduated", now)))


@dataclass(frozen=True)
class GraduationRollback(Kind):
    """毕业撤销: a mistaken graduation undone, the record back in school and open again; the
    graduation row stays, revoked from now (a report of an earlier month still counts it)."""

    def apply(self, session: Session, req: Request, student: Student, actor, now: datetime) -> None:
        latest = (select(func.max(Graduation.id))
                  .where(Graduation.student_id == student.id, Graduation.revoked_at.is_(None))
                  .scalar_subquery())  # the stage just finished, not an earlier stage's
        session.execute(update(Graduation).where(Graduation.id == latest).values(revoked_at=now)
                        .execution_options(synchronize_session=False))
        student.status = "in_school"
        student.graduated_at = None
        student.destination = None


DECLARED = (
    GraduationReview("graduate", "毕业", startable=False, status_after="graduated", asks=(),
                     cancellable=False),
    GraduationRollback("revoke_graduation", "毕业撤销", exclusive=False, status_after="in_school",
                       asks=("reason", "evidence")),
)
