"""Business requests (办件): registrations, key-field changes, 异动 and transfers, approved up a chain.

A request snapshots, when it is submitted, the approval chain of the rule-set version in force, with
every step resolved to a concrete party (a school or a bureau, and a role); later rule changes never
strand it halfway.  Steps are append-only rows; the request's own row moves by conditional updates.
"""

from __future__ import annotations

import json

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declared_attr, relationship

from .base import RowUidMixin, encrypted, local_now
from .scope import AnyOf, Chain

OPEN = ("pending", "returned", "awaiting_pull")
CLOSED = ("done", "rejected", "cancelled")


class Filed:
    """What a request and a filing waiting for its window (``QueuedRequest``) share: the schools
    between which it goes, with both schools' chains in clear so every party's jurisdiction sees
    it (a transfer's four parties), its target class, and its new values, encrypted."""

    __scope__ = AnyOf(Chain("origin_school_id", prefix="origin_", suffix=""),
                      Chain("other_school_id", prefix="other_", suffix=""))

    @declared_attr
    def origin_school_id(cls):
        return Column(Integer, ForeignKey("school.id"), nullable=False, index=True)

    @declared_attr
    def origin_school(cls):
        return relationship("School", foreign_keys=f"{cls.__name__}.origin_school_id")

    @declared_attr
    def other_school_id(cls):
        return Column(Integer, ForeignKey("school.id"), nullable=True, index=True)

    @declared_attr
    def other_school(cls):
        return relationship("School", foreign_keys=f"{cls.__name__}.other_school_id")

    @declared_attr
    def target_class_id(cls):
        return Column(Integer, ForeignKey("school_class.id"), nullable=True)

    @declared_attr
    def target_class(cls):
        return relationship("SchoolClass")

    origin_province = Column(String(6), nullable=False, index=True)
    origin_city = Column(String(6), index=True)
    origin_county = Column(String(6), index=True)
    other_province = Column(String(6), index=True)
    other_city = Column(String(6), index=True)
    other_county = Column(String(6), index=True)

    payload_enc = Column(Text)  # the new values, encrypted (they may be ID numbers or addresses)
    payload_text = encrypted("payload_enc")

    def between(self, origin, other=None) -> None:
        """The schools it goes between, with their chains (scoping reads them)."""
        self.origin_school = origin
        self.origin_province, self.origin_city, self.origin_county = (
            origin.province_code, origin.city_code, origin.county_code)
        self.other_school = other
        if other is not None:
            self.other_province, self.other_city, self.other_county = (
                other.province_code, other.city_code, other.county_code)

    @property
    def payload(self) -> dict:
        text = self.payload_text
        return json.loads(text) if text else {}

    @payload.setter
    def payload(self, value: dict) -> None:
        self.payload_text = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None


class Request(Filed, RowUidMixin, Model):
    __tablename__ = "request"

    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False, default=1)
    kind = Column(String(30), nullable=False, index=True)  # an action name of the rule engine
    status = Column(String(20), nullable=False, default="pending", index=True)
    variant = Column(String(20))  # transfers: same_county / cross_county / cross_province

    student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), index=True)
    student = relationship("Student", foreign_keys=[student_id])
    student_uid = Column(String(32), nullable=False, index=True)
    student_name = Column(String(50), nullable=False)
    # set while the request is open, cleared when it closes: one open request per student,
    # enforced by the database (NULLs do not collide in a unique constraint)
    open_student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), unique=True)
    open_student = relationship("Student", foreign_keys=[open_student_id])

    requester_id = Column(Integer, nullable=True)
    requester_name = Column(String(128), nullable=False)

    reason = Column(String(100))
    note = Column(String(500))
    summary = Column(String(300))  # what the request is about, without personal values
    before_enc = Column(Text)  # the values they replace, as they were when the request was filed

    chain = Column(JSON, nullable=False)  # resolved steps of the rule-set version it started under
    rule_version = Column(Integer)
    round = Column(Integer, nullable=False, default=1)  # a resubmission starts a new round
    step = Column(Integer, nullable=False, default=0)  # index of the step waiting for a decision
    holder_node = Column(String(20), index=True)  # the party holding it: school:<id> / bureau:<code>
    holder_role = Column(String(20))
    step_started_at = Column(DateTime)
    due_on = Column(Date)  # the current step's deadline (working days)

    created_at = Column(DateTime, nullable=False, default=local_now)
    updated_at = Column(DateTime, nullable=False, default=local_now, onupdate=local_now)
    closed_at = Column(DateTime)
    # 强制干预: the party an overdue step went to (cleared when the step is decided), and the record
    # of the last escalation: {round, step, at, to, role, label, source, due_on, after_days, from}
    escalated_node = Column(String(20), index=True)
    escalated_role = Column(String(20))
    escalation = Column(JSON)

    steps = relationship("RequestStep", back_populates="request", order_by="RequestStep.id")
    attachments = relationship("Attachment", back_populates="request", order_by="Attachment.id")

    __mapper_args__ = {"version_id_col": version}

    before_text = encrypted("before_enc")

    @property
    def before(self) -> dict:
        text = self.before_text
        return json.loads(text) if text else {}

    @before.setter
    def before(self, value: dict) -> None:
        self.before_text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def holder(self) -> tuple[str, str] | None:
        """(node, role) of the party holding the request now; None once nobody does."""
        return (self.holder_node, self.holder_role) if self.holder_node else None

    @property
    def current(self) -> dict | None:
        if self.status != "pending" or self.step >= len(self.chain or []):
            return None
        return self.chain[self.step]

    def __repr__(self) -> str:
        return f"#{self.id} {self.kind} {self.student_name}"


class RequestStep(Model):
    """One thing that happened to a request: submitted, approved, returned, rejected, cancelled..."""

    __tablename__ = "request_step"
    # a decision on a step happens once per round: twenty identical clicks make one row
    __table_args__ = (UniqueConstraint("request_id", "round", "step", name="uq_request_step_decision"),)

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("request.id", ondelete="CASCADE"), nullable=False, index=True)
    request = relationship("Request", back_populates="steps")
    round = Column(Integer, nullable=False)
    step = Column(Integer, nullable=True)  # the step decided; NULL for submit, cancel, pull ...
    action = Column(String(20), nullable=False)
    party_node = Column(String(20))
    actor_id = Column(Integer)
    actor_name = Column(String(128), nullable=False)
    at = Column(DateTime, nullable=False, default=local_now)
    comment = Column(String(500))
    rule_version = Column(Integer)


class Attachment(RowUidMixin, Model):
    """Evidence for a request: type and size checked, stored encrypted."""

    __tablename__ = "attachment"

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("request.id", ondelete="CASCADE"), nullable=False, index=True)
    request = relationship("Request", back_populates="attachments")
    filename = Column(String(200), nullable=False)
    content_type = Column(String(50), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    data_enc = Column(LargeBinary, nullable=False)
    uploaded_by = Column(String(128), nullable=False)
    uploaded_at = Column(DateTime, nullable=False, default=local_now)


class Notification(Model):
    """A message to every account of one node (a school or a bureau): a request reached it or ended."""

    __tablename__ = "notification"

    id = Column(Integer, primary_key=True)
    node = Column(String(20), nullable=False, index=True)  # school:<id> / bureau:<code>
    request_id = Column(Integer, ForeignKey("request.id", ondelete="CASCADE"), index=True)
    request = relationship("Request")
    message = Column(String(300), nullable=False)
    at = Column(DateTime, nullable=False, default=local_now, index=True)


class NotificationRead(Model):
    """One account has read one message: messages go to a node, and each of its accounts reads them
    for itself (a message without a row here is unread for that account)."""

    __tablename__ = "notification_read"

    notification_id = Column(Integer, ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    read_at = Column(DateTime, nullable=False, default=local_now)
