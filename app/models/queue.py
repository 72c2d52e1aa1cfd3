"""Requests waiting for their window (排队，窗口开放时自动提交).

A queued item is not a request yet: it has no approval chain, no holder and no deadline, and the
rules decide those only when it is submitted.  It lives in a table of its own so that nothing
counting requests -- the lists, the inbox, the monthly report's business in progress -- ever counts
it; at release it becomes a ``Request`` filed through the same path as any other, and points to it.
"""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import relationship

from .base import RowUidMixin, local_now
from .requests import Filed

QUEUE_STATUSES = ("queued", "released", "failed", "cancelled")


class QueuedRequest(Filed, RowUidMixin, Model):
    """Everything a filing had, kept until its window opens."""

    __tablename__ = "queued_request"

    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False, default=1)
    kind = Column(String(30), nullable=False)
    status = Column(String(20), nullable=False, default="queued", index=True)
    student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), index=True)
    student = relationship("Student", foreign_keys=[student_id])
    student_name = Column(String(50), nullable=False)
    # an exclusive kind's student while it waits: one queued exclusive request per student
    queued_student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), unique=True)
    requester_id = Column(Integer)
    requester_name = Column(String(128), nullable=False)

    reason = Column(String(100))
    note = Column(String(500))
    summary = Column(String(300))
    opens_on = Column(Date, index=True)  # the day its window next opens (as last computed)
    closed_by = Column(String(80))  # the rule that closed the window when it was filed (file:line)
    problem = Column(String(500))  # why it was not submitted (failed), with the rules' file:line
    created_at = Column(DateTime, nullable=False, default=local_now)
    closed_at = Column(DateTime)  # released, failed or cancelled
    request_id = Column(Integer, ForeignKey("request.id", ondelete="SET NULL"))
    request = relationship("Request")
    attachments = relationship("QueuedAttachment", back_populates="queued",
                               order_by="QueuedAttachment.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"queued #{self.id} {self.kind} {self.student_name}"


class QueuedAttachment(RowUidMixin, Model):
    """Evidence filed with a queued request, stored encrypted; it becomes the request's at release."""

    __tablename__ = "queued_attachment"

    id = Column(Integer, primary_key=True)
    queued_id = Column(Integer, ForeignKey("queued_request.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    queued = relationship("QueuedRequest", back_populates="attachments")
    filename = Column(String(200), nullable=False)
    content_type = Column(String(50), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    data_enc = Column(LargeBinary, nullable=False)
    uploaded_by = Column(String(128), nullable=False)
    uploaded_at = Column(DateTime, nullable=False, default=local_now)
