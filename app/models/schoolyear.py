"""The school year's record: each graduation (毕业) and completion (结业) as it happened, and the
promotion batch (升级): one run per node and school year, the schools it has done, and the snapshot
of every student and class it moved (so an undo restores exactly)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .school import SchoolScopedMixin
from .scope import Chain, Via


class Graduation(SchoolScopedMixin, Model):
    """One graduation or completion as it happened: the school, stage and grade the student
    finished, kept when the lifelong record moves on (pulled into the next stage, received by
    another province), so a month's graduates are counted where they graduated.  Append-only: a
    rollback (毕业撤销) sets ``revoked_at`` and deletes nothing, so a report as of any month's end
    gives the same answer whenever it is run."""

    __tablename__ = "graduation"
    __table_args__ = (Index("ix_graduation_at", "at"),)

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), index=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school = relationship("School")
    stage = Column(String(10), nullable=False)
    grade_number = Column(Integer, nullable=False)
    status = Column(String(10), nullable=False)  # graduated (毕业) / completed (结业)
    at = Column(DateTime, nullable=False)
    revoked_at = Column(DateTime, nullable=True)

    @staticmethod
    def values(school, grade, status: str, at) -> dict:
        """The columns every graduation of ``grade`` at ``school`` shares (add ``student_id``)."""
        return {"school_id": school.id, "province_code": school.province_code, "city_code": school.city_code,
                "county_code": school.county_code, "stage": grade.stage, "grade_number": grade.number,
                "status": status, "at": at}


class PromotionRun(Model):
    """One promotion run of a bureau's node for a school year.  ``live_key`` (node:year) is unique
    while the run stands and cleared when it is undone: one standing run per node and year."""

    __tablename__ = "promotion_run"
    __table_args__ = (UniqueConstraint("live_key", name="uq_promotion_run_live"),)
    __scope__ = Chain(school=None)  # a bureau's row: its node's chain

    id = Column(Integer, primary_key=True)
    node_code = Column(String(6), nullable=False, index=True)
    school_year = Column(Integer, nullable=False)  # the school year that starts after promotion
    live_key = Column(String(20), nullable=True)
    status = Column(String(10), nullable=False, default="running")  # running / done / undone
    started_at = Column(DateTime, nullable=False)
    finished_at = Column(DateTime, nullable=True)
    undone_at = Column(DateTime, nullable=True)
    started_by = Column(String(128), nullable=False)
    undone_by = Column(String(128), nullable=True)
    carried_over = Column(JSON, nullable=True)  # the blockers carried over (by the rules' switch)
    schools_total = Column(Integer, nullable=False, default=0)
    students_moved = Column(Integer, nullable=False, default=0)
    classes_moved = Column(Integer, nullable=False, default=0)
    held_back = Column(Integer, nullable=False, default=0)
    rule_version = Column(Integer, nullable=True)
    province_code = Column(String(6), nullable=False, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)


class PromotionSchool(Model):
    """A school a run has promoted (committed with its moves: a crashed run resumes after the
    schools listed here).  ``live_key`` (school:year) is unique: no school moves up twice a year,
    whichever node's run reaches it."""

    __tablename__ = "promotion_school"
    __table_args__ = (UniqueConstraint("live_key", name="uq_promotion_school_live"),)
    __scope__ = Chain(school="school_id")

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("promotion_run.id"), nullable=False, index=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school_year = Column(Integer, nullable=False)
    live_key = Column(String(24), nullable=True)
    done_at = Column(DateTime, nullable=False)
    students_moved = Column(Integer, nullable=False, default=0)
    classes_moved = Column(Integer, nullable=False, default=0)
    held_back = Column(Integer, nullable=False, default=0)
    province_code = Column(String(6), nullable=False, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)


class PromotionStudentSnapshot(Model):
    """A student as the run found them: grade, class and hold-back before the move."""

    __tablename__ = "promotion_student_snapshot"
    __table_args__ = (Index("ix_promotion_student_run", "run_id", "student_id"),)
    __scope__ = Via("school_id", "School")

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("promotion_run.id"), nullable=False)
    school_id = Column(Integer, nullable=False, index=True)
    student_id = Column(Integer, nullable=False)
    old_grade_id = Column(Integer, nullable=True)
    old_class_id = Column(Integer, nullable=True)
    old_hold_back = Column(Boolean, nullable=False)


class PromotionClassSnapshot(Model):
    """A class as the run found it: its grade before it moved up."""

    __tablename__ = "promotion_class_snapshot"
    __table_args__ = (Index("ix_promotion_class_run", "run_id", "class_id"),)
    __scope__ = Via("school_id", "School")

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("promotion_run.id"), nullable=False)
    school_id = Column(Integer, nullable=False, index=True)
    class_id = Column(Integer, nullable=False)
    old_grade_id = Column(Integer, nullable=False)
