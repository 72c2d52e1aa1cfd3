"""Choices the filing pages offer: the classes a request may put a student in, the right grade
first (a transfer: the student's own grade; repeat and skip: one grade down or up)."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Grade, SchoolClass


def class_choices(school_id: int | None, grade: int | None, steps=(0,), *, only: bool = False) -> list:
    """The school's classes, those of grade ``grade + step`` (for each step, in order) first;
    ``only``: those alone.  A student without a grade gets every class, in grade order."""
    if school_id is None:
        return []
    classes = db.session.scalars(select(SchoolClass).join(Grade, SchoolClass.grade_id == Grade.id)
                                 .where(SchoolClass.school_id == school_id)
                                 .order_by(Grade.number, SchoolClass.name)).all()
    if grade is None:
        return list(classes)
    wanted = [grade + step for step in steps]
    rank = {number: n for n, number in enumerate(wanted)}
    if only:
        classes = [c for c in classes if c.grade.number in rank]
    return sorted(classes, key=lambda c: rank.get(c.grade.number, len(wanted)))  # stable: grade, name
