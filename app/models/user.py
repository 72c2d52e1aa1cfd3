"""Accounts: FAB's user, bound to one jurisdiction node or one school."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import relationship


class XuejiUser(User):
    """An account; its roles' level must match the node it is bound to."""

    __tablename__ = "ab_user"

    jurisdiction_id = Column(Integer, ForeignKey("jurisdiction.id"), nullable=True, index=True)
    jurisdiction = relationship("Jurisdiction", foreign_keys=[jurisdiction_id])
    school_id = Column(Integer, ForeignKey("school.id"), nullable=True, index=True)
    school = relationship("School", foreign_keys=[school_id])
    password_changed_at = Column(DateTime, nullable=True)

    @property
    def bound_to(self) -> str:
        if self.school is not None:
            return f"{self.school.name} ({self.school.code})"
        if self.jurisdiction is not None:
            return f"{self.jurisdiction.name} ({self.jurisdiction.code})"
        return ""
