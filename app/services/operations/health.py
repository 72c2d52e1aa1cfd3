"""The service's health, for a load balancer or a monitor: is the database reachable, is a job
worker alive, how many jobs wait, how old is the last good backup.  Figures only: no personal data,
no account names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ...models.base import local_now
from ..common.transaction import transaction
from . import backups, jobs

WORKER_SILENT_SECONDS = 60  # procrastinate's workers beat every 10 s
BACKUP_OLD_HOURS = 26  # a nightly backup a little late is still fine


def _worker(session: Session, mode: str) -> dict:
    if mode != "worker":  # the demo runs jobs in-process: the web process is the worker
        return {"mode": mode, "alive": True}
    try:
        with transaction(session):
            age = session.scalar(text("SELECT EXTRACT(EPOCH FROM now() - max(last_heartbeat)) "
                                      "FROM procrastinate_workers"))
    except SQLAlchemyError:  # no queue here (a worker configured on SQLite): no worker either
        age = None
    return {"mode": mode, "alive": age is not None and float(age) < WORKER_SILENT_SECONDS,
            "heartbeat_age_s": None if age is None else round(float(age))}


def check(session: Session, mode: str, now: datetime | None = None) -> tuple[bool, dict]:
    """(healthy, the figures).  Healthy: the database answers and, with a queue, a worker is alive."""
    now = now or local_now()
    try:
        with transaction(session):
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False, {"status": "down", "database": False}
    worker = _worker(session, mode)
    last = backups.last_good_backup(session)
    age = None if last is None else round((now - last).total_seconds() / 3600, 1)
    healthy = worker["alive"]
    return healthy, {"status": "ok" if healthy else "degraded", "database": True, "worker": worker,
                     "queue_depth": jobs.queue_depth(session), "last_backup_age_h": age,
                     "backup_overdue": age is None or age > BACKUP_OLD_HOURS}
