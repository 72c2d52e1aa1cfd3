"""An export held for approval (导出审批): made when asked for, kept encrypted, downloadable by its
requester once a supervisor of its node or one above approves."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, Integer, LargeBinary, String, true
from sqlalchemy.orm import deferred

from .base import RowUidMixin, local_now
from .scope import Chain

EXPORT_STATUSES = ("pending", "approved", "refused", "downloaded", "expired")


class ExportRequest(RowUidMixin, Model):
    """Who asked to export which scope (school or jurisdiction chain), how many rows, the rule that
    held it, the decision, and the file: its bytes encrypted under the app keyring with the row's
    uid as associated data, wiped once refused, used up or expired."""

    __tablename__ = "export_request"
    __scope__ = Chain(school="school_id")  # scoped like the data it holds
    __table_args__ = (CheckConstraint("status IN ('pending', 'approved', 'refused', 'downloaded', "
                                      "'expired')", name="status"),)

    id = Column(Integer, primary_key=True)
    kind = Column(String(30), nullable=False)  # students / confirmation_xlsx / confirmation_pdf
    user_id = Column(Integer, nullable=True, index=True)  # the requester
    username = Column(String(128), nullable=False)
    requested_at = Column(DateTime, nullable=False, default=local_now)
    scope_level = Column(String(10), nullable=False)
    scope_code = Column(String(10), nullable=True)
    province_code = Column(String(6), nullable=True, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)
    school_id = Column(Integer, nullable=True, index=True)
    class_id = Column(Integer, nullable=True)  # a class's confirmation forms
    rows = Column(Integer, nullable=False)
    reason = Column(String(300), nullable=False)  # why it waits, in words
    rule_source = Column(String(200), nullable=False)  # rules/<file>.yaml:<line>[; ...]
    # False: an export no rule holds, too large to make inside a web request, made by a job and
    # approved at once (``reason``/``rule_source`` then say why no approval was needed)
    needs_approval = Column(Boolean, nullable=False, default=True, server_default=true())
    rule_version = Column(Integer, nullable=True)
    status = Column(String(12), nullable=False, default="pending", index=True)
    decided_by = Column(String(128), nullable=True)
    decided_by_id = Column(Integer, nullable=True)
    decided_at = Column(DateTime, nullable=True)
    note = Column(String(300), nullable=True)  # the decider's comment
    expires_at = Column(DateTime, nullable=True)  # downloads close then (set on approval)
    downloads = Column(Integer, nullable=False, default=0)
    filename = Column(String(200), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    file_enc = deferred(Column(LargeBinary, nullable=True))  # loaded only to download: lists stay light
