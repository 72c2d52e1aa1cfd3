"""Changes that seat the student in another grade or back in school (留级, 跳级, 复学)."""

from __future__ import annotations

from dataclasses import dataclass

from ..seats import seat
from .base import Kind

CLASS_ASKS = ("target_class", "reason", "evidence")


@dataclass(frozen=True)
class Repeat(Kind):
    """留级: down a grade now (after this year's promotion), or held back at the next one."""

    def apply(self, session, req, student, actor, now) -> None:
        """Seat the student in the lower class chosen, or hold them back at promotion."""
        if req.target_class is not None:
            seat(session, student, req.target_class)
        else:
            student.hold_back = True


@dataclass(frozen=True)
class Skip(Kind):
    """跳级: up a grade, into the class chosen."""

    def apply(self, session, req, student, actor, now) -> None:
        """Seat the student in the higher class chosen."""
        seat(session, student, req.target_class)


@dataclass(frozen=True)
class Resume(Kind):
    """复学: back in school, in the class chosen or the one the student left."""

    def apply(self, session, req, student, actor, now) -> None:
        """Seat the student again, then mark them in school."""
        seat(session, student, req.target_class or student.school_class)
        super().apply(session, req, student, actor, now)


DECLARED = (
    Resume("resume", "复学", status_after="in_school", asks=CLASS_ASKS),
    Repeat("repeat", "留级", asks=CLASS_ASKS, grade_step=-1),
    Skip("skip", "跳级", asks=CLASS_ASKS, needs_class=True, grade_step=1),
)
