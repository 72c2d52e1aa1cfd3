"""毕业后跨省就学: a school receives another province's primary or junior-secondary graduate into the
first grade of the next stage.  The receiving school files (like a transfer, by the national
registry number), its bureau and the graduating school's bureau approve (three parties), then the
receiving school pulls the file (调档): the one record moves, in school again, and the graduation's
destination (去向) names the receiving school.

No new registration review: the record keeps its number and its registration (一人一籍, 籍随人走),
and both bureaus have just reviewed the move; a review opens only for a record created anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ....errors import Conflict, Problem
from ....i18n import t
from ....policy.engine import school_year_start
from ....policy.vocab import COMPULSORY, FINAL_GRADE
from ..seats import seat
from .base import Kind

GRADUATES = ("graduated", "completed")


@dataclass(frozen=True)
class CrossProvinceEnrollment(Kind):
    """The graduate's record moves to the receiving school's entry grade once the file is pulled."""

    def prepare(self, session, student, origin, payload, target_class, actor) -> list[Problem]:
        """Another province's graduate of a compulsory stage, into the next stage's first grade."""
        problems = []
        if student.province_code == origin.province_code:
            problems.append(Problem(t("本省毕业生升学通过招生录取办理，不属于跨省就学",
                                      "a graduate of this province is admitted through enrolment"),
                                    "student", "same_province"))
        grade = student.grade
        if grade is None or grade.stage not in COMPULSORY or FINAL_GRADE[grade.stage] != grade.number:
            problems.append(Problem(t("只有小学六年级、初中九年级的毕业（结业）生可以跨省就学",
                                      "only a primary (grade 6) or junior (grade 9) graduate"),
                                    "student", "grade"))
            return problems
        return problems + super().prepare(session, student, origin, payload, target_class, actor)

    def facts(self, student, origin, payload, target_class) -> dict:
        """The stage is the receiving class's (the student's old grade is the one graduated)."""
        return {"stage": target_class.grade.stage if target_class is not None else None}

    def before(self, student, payload) -> dict:
        """The destination (usually none) and entry date the record held when it was filed."""
        return {"destination": student.destination,
                "entry_date": student.entry_date.isoformat() if student.entry_date else None}

    def waits_for_pull(self, req) -> bool:
        """Always across provinces: the receiving school pulls the file after the approvals."""
        return True

    def apply(self, session, req, student, actor, now) -> None:
        """Seat the graduate in the receiving class, in school again, with the destination filled."""
        from ...schoolyear.graduation import fill_destination  # it files requests: imported late

        if student.status not in GRADUATES:
            raise Conflict(t("该学生已不是毕业（结业）状态，不能调档",
                             "the student is no longer a graduate"), "student")
        seat(session, student, req.target_class)
        student.status, student.hold_back = "in_school", False
        student.entry_date = date(req.target_class.entry_year or school_year_start(now), 9, 1)
        student.destination = f"{req.origin_school.code} {req.origin_school.name}"[:200]
        session.flush()
        fill_destination(session, student)  # the person's other graduated records, if any

    def audited(self, req) -> dict:
        """The destination and the entry date, beside the school, grade, class and status."""
        before, student = req.before or {}, req.student
        after = {"destination": student.destination, "entry_date": student.entry_date.isoformat()}
        return {k: {"old": before.get(k), "new": v} for k, v in after.items() if before.get(k) != v}


DECLARED = (
    CrossProvinceEnrollment("enroll_cross_province", "毕业后跨省就学", status_after="in_school",
                            asks=("target_class", "evidence"), needs_class=True, grade_step=1,
                            from_other_school=True, by_registry_no=True),
)
