"""Enrollment plans (招生计划): a bureau sets, per school, school year and entry grade, the new
classes (each with its name and cap) and the planned seats; a school asks for a change, and its
bureau decides it once."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .base import local_now
from .school import SchoolScopedMixin
from .scope import Via

ENTRY_GRADES = {"primary": 1, "junior": 7, "senior": 10}  # the grade each stage enrolls into


class EnrollmentPlan(SchoolScopedMixin, Model):
    """One school's plan for one school year and entry grade."""

    __tablename__ = "enrollment_plan"
    __table_args__ = (
        UniqueConstraint("school_id", "school_year", "grade", name="uq_enrollment_plan"),
        CheckConstraint("grade in (1, 7, 10)", name="entry_grade"),
        CheckConstraint("seats >= 0", name="seats"),
    )

    id = Column(Integer, primary_key=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school = relationship("School")
    school_year = Column(Integer, nullable=False)  # the September the new students enter
    grade = Column(Integer, nullable=False)  # entry grade: 1, 7 or 10
    stage = Column(String(10), nullable=False)
    seats = Column(Integer, nullable=False)  # 计划招生人数
    version = Column(Integer, nullable=False, default=1)  # every change of the plan moves it
    set_by = Column(String(128), nullable=False)
    set_at = Column(DateTime, nullable=False)
    applied_at = Column(DateTime, nullable=True)  # last time its classes were created
    applied_by = Column(String(128), nullable=True)
    rule_version = Column(Integer, nullable=True)
    classes = relationship("EnrollmentPlanClass", order_by="EnrollmentPlanClass.number",
                           cascade="all, delete-orphan", back_populates="plan")


class EnrollmentPlanClass(Model):
    """One planned new class: its number in the plan, name and cap; ``class_id`` once created."""

    __tablename__ = "enrollment_plan_class"
    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="uq_enrollment_plan_class_number"),
        CheckConstraint("cap > 0", name="cap"),
    )
    __scope__ = Via("plan_id", "EnrollmentPlan")

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("enrollment_plan.id"), nullable=False, index=True)
    plan = relationship("EnrollmentPlan", back_populates="classes")
    number = Column(Integer, nullable=False)
    name = Column(String(40), nullable=False)
    cap = Column(Integer, nullable=False)  # 班额, never above the rules' cap for the stage
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=True)


class EnrollmentPlanChange(SchoolScopedMixin, Model):
    """A school's request to change its plan, decided once by its bureau.  ``open_key`` (the plan's
    id) is unique while the request waits: one open request per plan."""

    __tablename__ = "enrollment_plan_change"
    __table_args__ = (UniqueConstraint("open_key", name="uq_enrollment_plan_change_open"),)

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("enrollment_plan.id"), nullable=False, index=True)
    plan = relationship("EnrollmentPlan")
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school = relationship("School")
    open_key = Column(Integer, nullable=True)
    status = Column(String(10), nullable=False, default="pending")  # pending / approved / rejected
    classes = Column(JSON, nullable=False)  # [{"name": ..., "cap": ...}] as the school asks them
    seats = Column(Integer, nullable=False)
    reason = Column(String(500), nullable=False)
    plan_version = Column(Integer, nullable=False)  # the plan the school saw
    requested_by_id = Column(Integer, nullable=True)
    requested_by = Column(String(128), nullable=False)
    requested_at = Column(DateTime, nullable=False, default=local_now)
    decided_by_id = Column(Integer, nullable=True)
    decided_by = Column(String(128), nullable=True)
    decided_at = Column(DateTime, nullable=True)
    comment = Column(String(500), nullable=True)
