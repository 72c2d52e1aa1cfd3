"""Data-quality verification (数据质量核查): the campaigns a province opens for a region and a date
range, and per student the confirmation form's marks (issued, returned, entered) and its scan."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .base import RowUidMixin, local_now
from .school import SchoolScopedMixin, ScopedMixin
from .scope import Chain


class QualityCampaign(ScopedMixin, Model):
    """One campaign: the region it covers (a division code), its dates, open or closed.  Its chain
    is its region's, so the bureaus above the region see it under their own jurisdiction."""

    __tablename__ = "quality_campaign"
    __table_args__ = (CheckConstraint("status in ('open', 'closed')", name="status"),
                      CheckConstraint("starts_on <= ends_on", name="dates"))
    __scope__ = Chain(school=None)

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    jurisdiction_id = Column(Integer, ForeignKey("jurisdiction.id"), nullable=False, index=True)
    jurisdiction = relationship("Jurisdiction")
    region_code = Column(String(6), nullable=False, index=True)  # 430000 / 430100 / 430102
    starts_on = Column(Date, nullable=False)
    ends_on = Column(Date, nullable=False)
    status = Column(String(10), nullable=False, default="open")
    note = Column(String(300))
    opened_by = Column(String(128), nullable=False)
    opened_at = Column(DateTime, nullable=False, default=local_now)
    closed_by = Column(String(128))
    closed_at = Column(DateTime)

    def refresh_chain(self) -> None:
        if self.jurisdiction is not None:
            self.copy_chain_from(self.jurisdiction)

    def __repr__(self) -> str:
        return f"#{self.id} {self.name}"


class QualityForm(RowUidMixin, SchoolScopedMixin, Model):
    """One student's confirmation form in one campaign: when it was issued, returned (with or
    without corrections) and entered, and the scan of the signed form (encrypted, bound to the row)."""

    __tablename__ = "quality_form"
    __table_args__ = (UniqueConstraint("campaign_id", "student_id", name="uq_quality_form_student"),)

    id = Column(Integer, primary_key=True)
    campaign_id = Column(Integer, ForeignKey("quality_campaign.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    campaign = relationship("QualityCampaign")
    student_id = Column(Integer, ForeignKey("student.id", ondelete="CASCADE"), nullable=False, index=True)
    student = relationship("Student")
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school = relationship("School")
    issued_at = Column(DateTime)
    issued_by = Column(String(128))
    returned_at = Column(DateTime)
    returned_by = Column(String(128))
    corrected = Column(Boolean)  # returned with corrections (None until returned)
    entered_at = Column(DateTime)
    entered_by = Column(String(128))
    scan_enc = Column(LargeBinary)
    scan_type = Column(String(20))
    scan_size = Column(Integer)
    scan_sha256 = Column(String(64))
    scan_at = Column(DateTime)
    scan_by = Column(String(128))
