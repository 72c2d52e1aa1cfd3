"""Students counted per school and status, kept by the database itself: triggers on ``student``
append signed deltas here (migration 1b2c3d4e5f60), so the landing page sums a few thousand small
rows instead of reading a province's million index entries.

Deltas, never one counter row updated in place: two transactions that change students of one
school never wait for each other.  ``app.services.record.tally`` folds them into one row per
(school, status) and recounts from ``student`` after a bulk load."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, Index, Integer, String

from .scope import Via


class StudentTally(Model):
    """A change of ``n`` students of ``status`` at school ``school_id`` (a whole count, compacted)."""

    __tablename__ = "student_tally"
    __table_args__ = (Index("ix_student_tally_school_status", "school_id", "status"),)
    __scope__ = Via("school_id", "School")  # counted where the school is, as its students are

    id = Column(Integer, primary_key=True)
    school_id = Column(Integer, nullable=False)  # no foreign key: a delta adds no lock on the school
    status = Column(String(20), nullable=False)
    n = Column(Integer, nullable=False)
