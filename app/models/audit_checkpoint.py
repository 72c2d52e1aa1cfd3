"""Where a hash-chained log was pruned: the last pruned row's seq and mac, signed (Ed25519)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Column, DateTime, Integer, String, UniqueConstraint


class AuditCheckpoint(Model):
    """A log's chain continues after ``seq`` from ``mac``; ``signature`` (by the key ``kid`` of the
    node ``node``, app/security/signing_keys.py) covers every other column."""

    __tablename__ = "audit_checkpoint"
    __table_args__ = (UniqueConstraint("log", "seq"),)

    id = Column(Integer, primary_key=True)
    log = Column(String(40), nullable=False)  # audit_event / personal_data_access / export_log
    seq = Column(BigInteger, nullable=False)  # the last pruned row
    mac = Column(String(64), nullable=False)
    pruned = Column(Integer, nullable=False)  # rows this prune deleted
    at = Column(DateTime, nullable=False)
    node = Column(String(10), nullable=False)
    kid = Column(String(40), nullable=False)
    signature = Column(String(100), nullable=False)  # base64 of 64 bytes
