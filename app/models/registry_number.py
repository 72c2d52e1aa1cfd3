"""Every registry number ever issued: never reused, history kept when a student's number changes."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from .base import utcnow


class RegistryNumber(Model):
    """One issued 学籍号; the unique constraint is what makes numbers never reused."""

    __tablename__ = "registry_number"

    id = Column(Integer, primary_key=True)
    number = Column(String(19), nullable=False, unique=True)
    kind = Column(String(1), nullable=False)
    student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), index=True)
    student = relationship("Student", passive_deletes=True)
    student_uid = Column(String(32), nullable=False, index=True)
    issued_at = Column(DateTime, nullable=False, default=utcnow)
    issued_by = Column(String(128))
    retired_at = Column(DateTime)
    retired_reason = Column(String(200))

    def __repr__(self) -> str:
        return self.number

    @property
    def number_masked(self) -> str:
        from ..security.masking import mask_registry_no

        return mask_registry_no(self.number)
