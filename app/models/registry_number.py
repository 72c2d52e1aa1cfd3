"""Every registry number ever issued: never reused, history kept when a student's number changes."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from ..security.masking import mask_registry_no
from ..text import normalize_id
from .base import RowUidMixin, encrypted, local_now
from .scope import Via


class RegistryNumber(RowUidMixin, Model):
    """One issued 学籍号 (encrypted); the unique blind index is what makes numbers never reused."""

    __tablename__ = "registry_number"
    __scope__ = Via("student_id", "Student")  # a deleted student's numbers are in no account's scope

    id = Column(Integer, primary_key=True)
    number_enc = Column(Text, nullable=False)
    number_blind = Column(String(64), nullable=False, unique=True)
    # blind index of a J number's prefix (letter, area, birth date): counts the sequence in use
    series = Column(String(64), nullable=True, index=True)
    kind = Column(String(1), nullable=False)
    student_id = Column(Integer, ForeignKey("student.id", ondelete="SET NULL"), index=True)
    student = relationship("Student", passive_deletes=True)
    student_uid = Column(String(32), nullable=False, index=True)
    issued_at = Column(DateTime, nullable=False, default=local_now)
    issued_by = Column(String(128))
    retired_at = Column(DateTime)
    retired_reason = Column(String(200))

    number = encrypted("number_enc", blind="number_blind", purpose="registry_no",
                       normalize=normalize_id)

    def __repr__(self) -> str:
        return self.number_masked

    @property
    def number_masked(self) -> str:
        return mask_registry_no(self.number)
