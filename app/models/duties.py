"""Separation of duties (三权分立): custom roles from the permission catalogue, and the account
changes that wait for a security administrator's approval."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import relationship

from .base import local_now
from .scope import Chain, Via

APPROVAL_STATUSES = ("pending", "approved", "refused", "withdrawn")  # withdrawn: no access left


class CustomRole(Model):
    """A role a security administrator composed of (resource, verb) grants at one level; synchronised
    into FAB's role table under ``name`` like the built-in roles.  Retired roles stay for history."""

    __tablename__ = "custom_role"
    __scope__ = Chain(school="school_id")  # the node of the security administrator who made it

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)  # the FAB role's name: custom_<key>
    label = Column(String(100), nullable=False)  # what pages call it (县级督查员)
    level = Column(String(10), nullable=False)  # province / city / county / school
    grants = Column(JSON, nullable=False)  # ["Student.read", "Report.read", ...]
    created_by = Column(String(128), nullable=False)
    created_at = Column(DateTime, nullable=False, default=local_now)
    retired_at = Column(DateTime, nullable=True)
    # its node: a role is kept, and held, inside the jurisdiction that made it (none: the system's)
    school_id = Column(Integer, nullable=True)
    province_code = Column(String(6), nullable=True)
    city_code = Column(String(6), nullable=True)
    county_code = Column(String(6), nullable=True)

    def covers(self, place) -> bool:
        """Whether an account bound to ``place`` (a School or a Jurisdiction) is inside the role's node."""
        if self.school_id is not None and (getattr(place, "__tablename__", None) != "school"
                                           or place.id != self.school_id):
            return False
        return all(getattr(self, c) in (None, getattr(place, c, None))
                   for c in ("province_code", "city_code", "county_code"))


class AccountApproval(Model):
    """An account change that grants access to students, inert until a security administrator of the
    account's node or above (not the one who made it) approves; one pending row per account."""

    __tablename__ = "account_approval"
    __scope__ = Via("user_id", "XuejiUser")
    # one pending change per account: two administrators' edits meet in one row, not two
    __table_args__ = (Index("uq_account_approval_pending", "user_id", unique=True,
                            postgresql_where=text("status = 'pending'"),
                            sqlite_where=text("status = 'pending'")),)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    user = relationship("XuejiUser", foreign_keys=[user_id])
    action = Column(String(10), nullable=False)  # create / update / reset (a password set by another)
    before = Column(JSON, nullable=True)  # roles, active, binding (None for a new account)
    after = Column(JSON, nullable=False)
    requested_by_id = Column(Integer, nullable=True)  # None: the system
    requested_by = Column(String(128), nullable=False)
    requested_at = Column(DateTime, nullable=False, default=local_now)
    status = Column(String(10), nullable=False, default="pending", index=True)  # APPROVAL_STATUSES
    decided_by_id = Column(Integer, nullable=True)
    decided_by = Column(String(128), nullable=True)
    decided_at = Column(DateTime, nullable=True)
