"""The job worker (``run.py worker``): procrastinate's worker over the queue in PostgreSQL, running
each queued ``job_run`` in this process with the Flask application's context, and the scheduled jobs:

* the month-end snapshot of the month just ended, on the 1st at 01:00, then that month's report of
  every bureau node (province, cities, counties) queued, one ``report_monthly`` job per node, which
  the workers then generate and store (the page serves the stored report);
* a backup every night at 02:00 (``run.py backup``'s, into XUEJI_BACKUP_DIR, keeping XUEJI_BACKUP_KEEP);
* problem-record detection every night at 02:30;
* accounts unused for six months (XUEJI_DORMANT_DAYS) sealed, and approved exports past their
  expiry wiped, every night at 03:00;
* the students' per-school tally (the landing page's counts) compacted every five minutes;
* stalled jobs retried every minute: a job whose worker stopped sending heartbeats (killed, the
  machine restarted) goes back to the queue and resumes -- every job kind is resumable or idempotent.

The web process never runs long work itself on PostgreSQL: it only defers jobs (in the transaction
that needs them) and reads their progress.
"""

from __future__ import annotations

import logging

import procrastinate
from sqlalchemy.exc import OperationalError

from . import clock
from .extensions import db
from .services.common.actors import Actor
from .services.common.transaction import transaction
from .services.operations import audit_chain, job_tasks, jobs
from .services.record import tally
from .services.reports import stored
from .services.reports.window import previous_month

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
        in_app(run_scheduled, kind, params)

    @queue.periodic(cron="0 1 1 * *", periodic_id="month_end")
    @queue.task(name="xueji.month_end", queue=jobs.QUEUE, queueing_lock="month_end")
    def month_end(timestamp: int) -> None:
        in_app(month_end_jobs)

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

    @queue.periodic(cron="*/5 * * * *", periodic_id="audit_anchor")
    @queue.task(name="xueji.audit_anchor", queue=jobs.QUEUE, queueing_lock="audit_anchor")
    def audit_anchor(timestamp: int) -> None:  # too frequent for a job_run row: the log shows it
        in_app(lambda: audit_chain.anchor(db.session, now=clock.local_now()))

    @queue.periodic(cron="*/5 * * * *", periodic_id="tally")
    @queue.task(name="xueji.tally", queue=jobs.QUEUE, queueing_lock="tally")
    def tally_compact(timestamp: int) -> None:  # frequent and cheap: the log shows it
        folded = in_app(lambda: tally.compact(db.session))
        log.info("student tally: %s deltas folded into %s rows", folded.deltas, folded.rows)

    @queue.periodic(cron="* * * * *", periodic_id="stalled")
    @queue.task(name="xueji.stalled", queue=jobs.QUEUE, queueing_lock="stalled")
    async def retry_stalled(timestamp: int) -> None:
        await retry_stalled_jobs(queue)

    return queue


def run_scheduled(kind: str, params: dict) -> str:
    """A scheduled job, shown with the others and run here and now; its final status."""
    with transaction(db.session):
        run = jobs.start(db.session, kind, params, Actor.system("scheduler"), now=clock.now(),
                         subject="scheduled", defer=False)
    return jobs.execute(run.id)


def month_end_jobs() -> list[int]:
    """On the 1st: last month's snapshot, then -- once it is taken -- last month's report of every
    bureau node queued, one job per node (each node's staff see and can rerun their own; a failure
    stays one node's; several workers share them).  The queued jobs' ids."""
    last_month = f"{previous_month(clock.today().replace(day=1)):%Y-%m}"
    if run_scheduled("report_close", {"month": last_month}) != "done":
        log.error("month-end snapshot of %s failed: its reports are not queued", last_month)
        return []
    runs = stored.queue_month(db.session, last_month, now=clock.now())
    for run in runs:
        jobs.launch(run)  # the workers take them (in-process where there is no queue)
    return [run.id for run in runs]


async def retry_stalled_jobs(queue: procrastinate.App, seconds: float = 30) -> int:
    """Put back in the queue the jobs of workers silent for ``seconds`` (dead); returns how many."""
    stalled = list(await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds))
    for job in stalled:
        log.warning("retrying stalled job %s (%s)", job.id, job.task_name)
        await queue.job_manager.retry_job(job)
    return len(stalled)
