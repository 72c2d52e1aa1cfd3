"""Sign-offs (签发) of monthly reports: the responsible supervisor of a node signs the month's report
off once; the row records who, when, with which key, and the digest of the figures signed."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, Integer, String, Text, UniqueConstraint, event

from .scope import Chain


class ReportSignoff(Model):
    """One signed monthly report: node and month, signer, time, key id, digest and signature.
    Never changed or deleted: a month is signed off once."""

    __tablename__ = "report_signoff"
    __table_args__ = (UniqueConstraint("node_code", "month"),)
    # the report's node in clear: a school's report by its school, a bureau's by its chain
    __scope__ = Chain(school="school_id")

    id = Column(Integer, primary_key=True)
    node_code = Column(String(10), nullable=False)  # 6-digit division or 10-digit school code
    node_level = Column(String(10), nullable=False)
    month = Column(Date, nullable=False)  # the first day of the month reported
    signer = Column(String(128), nullable=False)  # the supervisor's username
    signer_id = Column(Integer, nullable=True)
    signed_at = Column(DateTime, nullable=False)  # business time (app.clock)
    key_id = Column(String(20), nullable=False)
    digest = Column(String(64), nullable=False)  # SHA-256 of the report's canonical figures
    signature = Column(Text, nullable=False)  # Ed25519 over node, month, signer, time, digest
    school_id = Column(Integer, nullable=True, index=True)
    province_code = Column(String(6), nullable=False, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)


def _refuse(mapper, connection, target) -> None:
    from .events import AppendOnly

    raise AppendOnly("report_signoff is append-only: a signed report stays signed")


for _name in ("before_update", "before_delete"):
    if not event.contains(ReportSignoff, _name, _refuse):
        event.listen(ReportSignoff, _name, _refuse)
