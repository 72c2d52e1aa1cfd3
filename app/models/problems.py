"""Problem records (问题学籍): invalid IDs and duplicates, found automatically, resolved by evidence,
change or deletion, arbitrated by the nearest common superior when two bureaus both insist."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import relationship

from .base import local_now
from .scope import Via

KINDS = ("invalid_id", "duplicate_id", "duplicate_no_id")


class ProblemCase(Model):
    """One problem: a record with an invalid ID, or a group of records that look like one person."""

    __tablename__ = "problem_case"
    __scope__ = Via("id", "ProblemMember", key="case_id")  # seen wherever one of its records is

    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False, index=True)
    group_key = Column(String(64), nullable=False, index=True)  # keyed hash, never the ID itself
    status = Column(String(20), nullable=False, default="open", index=True)  # open/arbitration/resolved
    resolution = Column(String(30))  # evidence / changed / deleted / distinct / arbitrated
    arbiter_code = Column(String(6))  # the nearest common superior, when bureaus disagree
    detected_at = Column(DateTime, nullable=False, default=local_now)
    resolved_at = Column(DateTime)
    resolved_by = Column(String(128))
    note = Column(String(500))

    members = relationship("ProblemMember", back_populates="case", order_by="ProblemMember.id",
                           cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"#{self.id} {self.kind}"


class ProblemMember(Model):  # noqa: D101
    """A record caught in a problem case, and what its bureau says about it."""

    __tablename__ = "problem_member"
    __table_args__ = (UniqueConstraint("case_id", "student_id", name="uq_problem_member"),)
    __scope__ = Via("school_id", "School")

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("problem_case.id", ondelete="CASCADE"), nullable=False)
    case = relationship("ProblemCase", back_populates="members")
    student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), index=True)
    student = relationship("Student")
    student_uid = Column(String(32), nullable=False)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False)
    stance = Column(String(20), nullable=False, default="pending")  # pending/insist/confirmed/withdrawn
    decided_by = Column(String(128))
    decided_at = Column(DateTime)
    comment = Column(String(500))
    # the bureau's evidence (佐证): one file, type-checked and encrypted like request attachments
    evidence_name = Column(String(200))
    evidence_type = Column(String(50))
    evidence_enc = Column(LargeBinary)
