"""The job worker (``run.py worker``): procrastinate's worker over the queue in PostgreSQL, running
each queued ``job_run`` in this process with the Flask application's context, and the scheduled jobs:

* the month-end snapshot of the month just ended, on the 1st at 01:00 (the monthly reports);
* a backup every night at 02:00 (``run.py backup``'s, into XUEJI_BACKUP_DIR, keeping XUEJI_BACKUP_KEEP);
* problem-record detection every night at 02:30;
* accounts unused for six months (XUEJI_DORMANT_DAYS) sealed, and approved exports past their
  expiry wiped, every night at 03:00;
* stalled jobs retried every minute: a job whose worker stopped sending heartbeats (killed, the
  machine restarted) goes back to the queue and resumes -- every job kind is resumable or idempotent.

The web process never runs long work itself on PostgreSQL: it only defers jobs (in the transaction
that needs them) and reads their progress.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import procrastinate
from sqlalchemy.exc import OperationalError

from . import clock
from .extensions import db
from .services.common.actors import Actor
from .services.common.transaction import transaction
from .services.operations import job_tasks, jobs

log = logging.getLogger(__name__)

# queued by the web process, retried only when the database connection failed (the job resumes)
RETRY = procrastinate.RetryStrategy(max_attempts=5, wait=10, retry_exceptions={OperationalError})


def conninfo(url: str) -> str:
    """psycopg's connection string for a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def build(flask_app) -> procrastinate.App:
    """The procrastinate application of ``flask_app``'s database, with the tasks and schedules."""
    log.info("job kinds: %s", ", ".join(job_tasks.KINDS))
    url = flask_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        raise RuntimeError("the job worker needs PostgreSQL; on SQLite the demo runs jobs in-process")
    queue = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))

    def in_app(fn, *args):
        with flask_app.app_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()

    @queue.task(name=jobs.TASK, queue=jobs.QUEUE, retry=RETRY)
    def run_job(run_id: int) -> None:
        status = in_app(jobs.execute, run_id)
        log.info("job %s: %s", run_id, status)

    def scheduled(kind: str, params: dict) -> None:
        def work():
            with transaction(db.session):  # shown with the others, run here and now
                run = jobs.start(db.session, kind, params, Actor.system("scheduler"), now=clock.now(),
                                 subject="scheduled", defer=False)
            jobs.execute(run.id)
        in_app(work)

    @queue.periodic(cron="0 1 1 * *", periodic_id="month_end")
    @queue.task(name="xueji.month_end", queue=jobs.QUEUE, queueing_lock="month_end")
    def month_end(timestamp: int) -> None:
        last_month = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
        scheduled("report_close", {"month": f"{last_month:%Y-%m}"})

    @queue.periodic(cron="0 2 * * *", periodic_id="backup")
    @queue.task(name="xueji.backup", queue=jobs.QUEUE, queueing_lock="backup")
    def nightly_backup(timestamp: int) -> None:
        scheduled("backup", {})

    @queue.periodic(cron="30 2 * * *", periodic_id="problems")
    @queue.task(name="xueji.problems", queue=jobs.QUEUE, queueing_lock="problems")
    def nightly_problems(timestamp: int) -> None:
        scheduled("problems_detect", {})

    @queue.periodic(cron="0 3 * * *", periodic_id="dormant")
    @queue.task(name="xueji.dormant", queue=jobs.QUEUE, queueing_lock="dormant")
    def dormant_accounts(timestamp: int) -> None:
        scheduled("seal_dormant", {})
        scheduled("export_expiry", {})

    @queue.periodic(cron="* * * * *", periodic_id="stalled")
    @queue.task(name="xueji.stalled", queue=jobs.QUEUE, queueing_lock="stalled")
    async def retry_stalled(timestamp: int) -> None:
        await retry_stalled_jobs(queue)

    return queue


async def retry_stalled_jobs(queue: procrastinate.App, seconds: float = 30) -> int:
    """Put back in the queue the jobs of workers silent for ``seconds`` (dead); returns how many."""
    stalled = list(await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds))
    for job in stalled:
        log.warning("retrying stalled job %s (%s)", job.id, job.task_name)
        await queue.job_manager.retry_job(job)
    return len(stalled)
