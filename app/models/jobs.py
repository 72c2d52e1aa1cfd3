"""Long work as jobs (导入、核查、升级、月报、备份 …): what was asked, by whom, where, and how far it got.

The queue itself is procrastinate's (its tables in PostgreSQL, the job deferred in the same
transaction as the row here); this row is what pages, the REST API and the command line show: the
progress (done of total, so percent and time left), the outcome, and a cancel flag the running job
checks between its batches."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, Integer, String

from .base import local_now
from .scope import Chain


class JobRun(Model):
    """One job: queued -> running -> done / failed / cancelled."""

    __tablename__ = "job_run"
    __scope__ = Chain(school="school_id")  # a school's job by its school, a bureau's by its chain

    id = Column(Integer, primary_key=True)
    kind = Column(String(40), nullable=False, index=True)
    status = Column(String(12), nullable=False, default="queued", index=True)
    params = Column(JSON, nullable=True)  # what the task needs (ids, node, month, the business clock)
    subject = Column(String(60), nullable=True)  # what it works on, e.g. import_job:12
    done = Column(Integer, nullable=False, default=0)
    total = Column(Integer, nullable=True)  # unknown until the job has counted its work
    message = Column(String(500), nullable=True)
    result = Column(JSON, nullable=True)
    cancel_requested = Column(Boolean, nullable=False, default=False)
    attempts = Column(Integer, nullable=False, default=0)
    queue_id = Column(BigInteger, nullable=True)  # procrastinate's job id (PostgreSQL)
    queued_at = Column(DateTime, nullable=False, default=local_now)
    started_at = Column(DateTime, nullable=True)
    heartbeat_at = Column(DateTime, nullable=True)  # the last progress report
    finished_at = Column(DateTime, nullable=True)
    created_by = Column(String(128), nullable=False)
    created_by_id = Column(Integer, nullable=True)
    school_id = Column(Integer, nullable=True, index=True)
    province_code = Column(String(6), nullable=True, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)


def ours(_obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object``: procrastinate's queue tables belong to its own schema SQL
    (applied by the jobs migration), not to these models."""
    return not (type_ == "table" and reflected and compare_to is None and name.startswith("procrastinate_"))


def ours_on(dialect: str):
    """``ours`` for a database of ``dialect``: an index the models make on another dialect only
    (``Index(...).ddl_if(dialect=...)``) is not expected there."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        if type_ == "index" and only and only != dialect:
            return False
        return ours(obj, name, type_, reflected, compare_to)
    return include
