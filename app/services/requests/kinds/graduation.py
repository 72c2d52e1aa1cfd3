"""Graduation (毕业) as requests: the senior-secondary cohort's bureau review, and the rollback of a
mistaken graduation (毕业撤销) back to in school, approved by the bureau.  Compulsory stages
graduate without a request (``app.services.schoolyear.graduation``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ....models import Request, Student
from .base import Kind


@dataclass(frozen=True)
class GraduationReview(Kind):
    """毕业审核 (senior secondary): opened by the cohort's graduation, the bureau approves it."""

    def apply(self, session: Session, req: Request, student: Student, actor, now: datetime) -> None:
        student.status = "graduated"
        student.graduated_at = now


@dataclass(frozen=True)
class GraduationRollback(Kind):
    """毕业撤销: a mistaken graduation undone, the record back in school and open again."""

    def apply(self, session: Session, req: Request, student: Student, actor, now: datetime) -> None:
        student.status = "in_school"
        student.graduated_at = None
        student.destination = None


DECLARED = (
    GraduationReview("graduate", "毕业", startable=False, status_after="graduated", asks=(),
                     cancellable=False),
    GraduationRollback("revoke_graduation", "毕业撤销", exclusive=False, status_after="in_school",
                       asks=("reason", "evidence")),
)
