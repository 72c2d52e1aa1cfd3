"""Admissions (录取): one row per person a school's admission list admitted.  ``live_key``
(school year : ID blind index) is unique while the admission stands: one school holds a person per
school year, and a second school's admission of the same person is a duplicate row (no key) that
the bureau resolves."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship

from .base import local_now
from .school import SchoolScopedMixin

# admitted: the school holds the person (record created or pulled); contested: it does, but another
# school admitted the person too; duplicate: another school holds the person, the bureau decides;
# dropped: the bureau kept the person elsewhere (the reason says why)
ADMISSION_STATUSES = ("admitted", "contested", "duplicate", "dropped")


class Admission(SchoolScopedMixin, Model):
    __tablename__ = "admission"
    __table_args__ = (
        UniqueConstraint("live_key", name="uq_admission_live"),
        Index("ix_admission_year_blind", "school_year", "id_blind"),
    )

    id = Column(Integer, primary_key=True)
    school_year = Column(Integer, nullable=False)  # the September the admitted enter
    id_blind = Column(String(64), nullable=False)
    live_key = Column(String(80), nullable=True)  # "<year>:<blind>" while this school holds the person
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school = relationship("School")
    import_job_id = Column(Integer, ForeignKey("import_job.id", ondelete="SET NULL"), index=True)
    row_number = Column(Integer, nullable=False)  # as Excel numbers the row
    name = Column(String(50), nullable=False)
    grade_number = Column(Integer, nullable=False)  # 1, 7 or 10
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False)
    school_class = relationship("SchoolClass")
    student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), nullable=True, index=True)
    student = relationship("Student")
    outcome = Column(String(10), nullable=False)  # new (record created) / pulled / none (duplicate)
    status = Column(String(12), nullable=False, default="admitted", index=True)
    reason = Column(String(300))
    created_at = Column(DateTime, nullable=False, default=local_now)
    created_by = Column(String(128), nullable=False)
    decided_at = Column(DateTime)
    decided_by = Column(String(128))

    def __repr__(self) -> str:
        return f"#{self.id} {self.name}"
