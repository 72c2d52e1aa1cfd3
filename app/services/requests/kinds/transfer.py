"""转学: the receiving school files for another school's student; four parties may approve, and a
transfer across provinces ends when the receiving school pulls the file (调档)."""

from __future__ import annotations

from dataclasses import dataclass

from ....errors import Conflict
from ....i18n import t
from ..seats import seat
from .base import Kind


@dataclass(frozen=True)
class Transfer(Kind):
    """A student moves, with the one record and its whole history, to the filing school."""

    def facts(self, student, origin, payload, target_class) -> dict:
        """The stage is the receiving class's; the distance picks the chain; the grade is the
        student's own (a graduating student's transfer is frozen from 1 July)."""
        own = super().facts(student, origin, payload, target_class)
        stage = target_class.grade.stage if target_class else own["stage"]
        return {"stage": stage, "grade": own["grade"], "variant": self.variant(student, origin)}

    def variant(self, student, origin) -> str | None:
        """How far the student moves: same county, same city, across provinces (None: else)."""
        if student.province_code != origin.province_code:
            return "cross_province"
        if student.county_code and student.county_code == origin.county_code:
            return "same_county"
        if student.city_code and student.city_code == origin.city_code:
            return "same_city"
        return None

    def waits_for_pull(self, req) -> bool:
        """Across provinces the receiving school pulls the file after the approvals."""
        return req.variant == "cross_province"

    def apply(self, session, req, student, actor, now) -> None:
        """Seat the student in the receiving class, if they are still in school."""
        if student.status != "in_school":
            raise Conflict(t("学生已不在校，不能转入", "the student is no longer in school"))
        seat(session, student, req.target_class)


DECLARED = (
    Transfer("transfer", "转学", asks=("target_class", "evidence"), needs_class=True,
             from_other_school=True),
)
