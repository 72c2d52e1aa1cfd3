"""Family members of a student: their own rows, one or more, at least one guardian."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from ..security.masking import mask_id_number, mask_phone
from ..text import normalize_id, normalize_text
from .base import RowUidMixin, encrypted
from .scope import Via


class FamilyMember(RowUidMixin, Model):
    """成员: a parent, grandparent, sibling or other relative."""

    __tablename__ = "family_member"
    __table_args__ = (UniqueConstraint("student_id", "seq", name="uq_member_student_seq"),)
    __scope__ = Via("student_id", "Student")

    id = Column(Integer, primary_key=True)
    # no index of its own: uq_member_student_seq (student_id, seq) serves every look-up by student
    student_id = Column(Integer, ForeignKey("student.id", ondelete="CASCADE"), nullable=False)
    student = relationship("Student", back_populates="members")
    seq = Column(Integer, nullable=False, default=1)
    name = Column(String(50), nullable=False)
    relation = Column(String(2), nullable=False)
    relation_note = Column(String(50))
    current_address_enc = Column(Text)
    hukou_location = Column(String(200))
    phone_enc = Column(Text)
    is_guardian = Column(Boolean, nullable=False, default=True)
    id_type = Column(String(1))
    id_number_enc = Column(Text)
    id_blind = Column(String(64), index=True)  # siblings share parents: not unique
    ethnicity = Column(String(2))
    employer = Column(String(100))
    job_title = Column(String(50))

    id_number = encrypted("id_number_enc", blind="id_blind", normalize=normalize_id)
    current_address = encrypted("current_address_enc")
    phone = encrypted("phone_enc", normalize=normalize_text)

    def __repr__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def school_id(self) -> int | None:
        return self.student.school_id if self.student else None
