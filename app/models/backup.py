"""Backup runs: one row per `backup` (good or failed), so the health endpoint and the monthly report
can tell the age of the last good backup without reading the backup directory."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Text

BACKUP_STATUSES = ("ok", "failed")


class BackupRun(Model):
    """One backup: the file written (its path; its manifest lies beside it), its SHA-256 and size,
    when it started and finished (wall clock), ``ok`` or ``failed`` with the reason."""

    __tablename__ = "backup_run"
    __table_args__ = (Index("ix_backup_run_status_finished_at", "status", "finished_at"),)

    id = Column(Integer, primary_key=True)
    file = Column(String(1000), nullable=False)  # the path written
    sha256 = Column(String(64), nullable=True)  # none when the backup failed before a file existed
    size = Column(BigInteger, nullable=True)
    started_at = Column(DateTime, nullable=False)
    finished_at = Column(DateTime, nullable=False)
    status = Column(String(10), nullable=False)  # one of BACKUP_STATUSES
    message = Column(Text, nullable=True)
