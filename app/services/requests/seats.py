"""Classes a request puts a student in: the grade the class must be, and a seat under the cap."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...errors import Conflict, Problem
from ...i18n import t
from ...models import School, SchoolClass, Student
from ..policy import rulesets as policy


def class_problems(step: int, student: Student, origin: School, klass: SchoolClass) -> list[Problem]:
    """The class must be the filing school's, ``step`` grades above the student's (-1: below)."""
    if klass.school_id != origin.id:
        return [Problem(t("班级须属于本校", "the class must belong to your school"), "target_class")]
    if student.grade is None:  # grade_id is nullable: nothing to compare a class of the same grade to
        return _no_grade(step)
    wanted = student.grade.number + step
    if klass.grade.number != wanted:
        return [Problem(t(f"须选择{wanted}年级的班级", f"choose a class of grade {wanted}"),
                        "target_class", "grade")]
    return []


def _no_grade(step: int) -> list[Problem]:
    """A move up or down a grade needs a grade to move from."""
    if step == 0:
        return []
    return [Problem(t("该学生没有年级，不能留级或跳级", "the student has no grade to repeat or skip"),
                    "target_class", "grade")]


def seat(session: Session, student: Student, klass: SchoolClass | None) -> None:
    """Place a student in a class, if a seat is left under the cap (the class row is locked)."""
    if klass is None:
        return
    cap = policy.current(session).effective(*policy.codes_of(klass.school)).caps.get(klass.grade.stage)
    taken = policy.seated(session, klass.id)
    if cap is not None and student.class_id != klass.id and taken + 1 > cap.value:
        raise Conflict(t(f"班级已满（上限 {cap.value} 人，{cap.source}）",
                         f"the class is full (cap {cap.value}, {cap.source})"), "target_class")
    student.school, student.grade, student.school_class = klass.school, klass.grade, klass
