"""Stored monthly reports (月报): the report of one node for one month, generated once by the
``report_monthly`` job (or ``run.py report monthly --store``) and served as stored by the page, its
JSON and REST -- the figures in both languages, the files the page offers, when and by which job it
was made, and the rule set and month-end snapshot it stood on.  Generating it again replaces it."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import deferred, relationship

from .scope import Chain, Via


class MonthlyReport(Model):
    """One node's report of one month, as generated (``data``: {"zh": ..., "en": ...}, each the
    report as ``app.services.reports.plain.as_dict`` gives it in that language)."""

    __tablename__ = "monthly_report"
    __table_args__ = (UniqueConstraint("node_code", "month"),)
    __scope__ = Chain(school="school_id")  # a school's report by its school, a bureau's by its chain

    id = Column(Integer, primary_key=True)
    node_code = Column(String(10), nullable=False)  # 6-digit division or 10-digit school code
    node_level = Column(String(10), nullable=False)
    month = Column(Date, nullable=False)  # the first day of the month reported
    live = Column(Boolean, nullable=False, default=False)  # the month had not ended when generated
    generated_at = Column(DateTime, nullable=False)  # business time of the generation
    generated_by = Column(String(128), nullable=False)  # the account (or "scheduler", "cli")
    job_run_id = Column(Integer, ForeignKey("job_run.id", ondelete="SET NULL"), nullable=True, index=True)
    millis = Column(Integer, nullable=True)  # how long the generation took (both languages), ms
    rule_version = Column(Integer, nullable=True)  # the rule set whose calendar counted deadlines
    snapshot_taken_at = Column(DateTime, nullable=True)  # the month-end snapshot the stock came from
    digest = Column(String(64), nullable=False)  # signing.report_digest of the figures
    data = deferred(Column(JSON, nullable=False))
    school_id = Column(Integer, nullable=True, index=True)
    province_code = Column(String(6), nullable=False, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)

    files = relationship("MonthlyReportFile", back_populates="report", cascade="all, delete-orphan",
                         order_by="MonthlyReportFile.id", lazy="select")


class MonthlyReportFile(Model):
    """One file of a stored report: its xlsx or PDF in Chinese or English, made with it."""

    __tablename__ = "monthly_report_file"
    __table_args__ = (UniqueConstraint("report_id", "kind", "lang"),)
    __scope__ = Via("report_id", "MonthlyReport")

    id = Column(Integer, primary_key=True)
    report_id = Column(Integer, ForeignKey("monthly_report.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(4), nullable=False)  # xlsx / pdf
    lang = Column(String(2), nullable=False)  # zh / en
    name = Column(String(120), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    body = deferred(Column(LargeBinary, nullable=False))

    report = relationship("MonthlyReport", back_populates="files")
