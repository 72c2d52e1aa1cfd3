"""Jobs: long work (imports, admission lists, problem detection, the promotion batch, month-end
snapshots, backups, dormant-account sealing) runs outside the web request, with its progress on a
``job_run`` row that pages, the REST API and the command line read.

Where it runs is ``XUEJI_JOBS``:

* ``worker`` (PostgreSQL, production): ``start`` defers a procrastinate job *in the caller's
  transaction* (procrastinate's own ``procrastinate_defer_jobs_v1``), so the job exists exactly when
  the upload or request that needs it does; ``run.py worker`` (``app.worker``) runs it in its own
  process, so a restart of the web process loses nothing;
* ``thread`` (the SQLite demo): ``launch`` runs it in-process beside the request, as the demo has no
  queue server (two commands stay two commands);
* ``inline`` (tests): ``launch`` runs it before returning.

A running job reports progress through ``Progress`` (done of total, a heartbeat) and stops at its
next report once cancelled; a job is retried by the queue only when it failed on the database
connection (every task here is resumable or idempotent: imports resume from their checkpoint, the
promotion resumes after the schools it has done, a closed month is never taken twice).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ...errors import Conflict, DomainError, NotFound
from ...extensions import db
from ...i18n import english, t
from ...models import JobRun, Jurisdiction, School, XuejiUser
from ...models.base import local_now
from ..common.actors import Actor
from ..common.transaction import transaction, transactional

log = logging.getLogger(__name__)

QUEUE = "xueji"
TASK = "xueji.run"  # the one procrastinate task: run the job_run row named by its argument
STALE = timedelta(minutes=10)  # a running job without a progress report for this long has died
DONE = ("done", "failed", "cancelled")


class Cancelled(Exception):
    """Raised by a progress report once the job has been cancelled."""

    def __init__(self):
        super().__init__(str(t("已取消", "cancelled")))


@dataclass(frozen=True)
class Task:
    kind: str
    label: str
    label_en: str
    fn: object  # fn(session, params, progress, actor, now) -> dict | None (the result; its
    # "summary", if any, is the sentence the job's page shows: ``said(zh, en)``)


TASKS: dict[str, Task] = {}


def task(kind: str, label: str, label_en: str):
    """Register ``fn`` as the job kind ``kind``."""
    def register(fn):
        TASKS[kind] = Task(kind, label, label_en, fn)
        return fn
    return register


def said(zh: str, en: str) -> dict:
    """A job's outcome in both languages (it is shown to whoever reads it, in theirs)."""
    return {"zh": zh, "en": en}


def label(kind: str) -> str:
    found = TASKS.get(kind)
    return str(t(found.label, found.label_en)) if found else kind


# -- starting -------------------------------------------------------------------------------------

def mode() -> str:
    return current_app.config.get("XUEJI_JOBS") or "inline"


def start(session: Session, kind: str, params: dict, actor: Actor, *, now: datetime,
          at: School | Jurisdiction | None = None, subject: str | None = None, defer: bool = True) -> JobRun:
    """A job of ``kind`` for ``params``, queued inside the caller's transaction (``launch`` it
    after the commit).  ``at`` (a school or a jurisdiction) places it for scoping;
    ``defer=False``: the caller runs it itself (a scheduled job inside the worker)."""
    if kind not in TASKS:
        raise NotFound(t(f"未知任务 {kind}", f"unknown job {kind}"))
    run = JobRun(kind=kind, status="queued", params={**params, "now": now.isoformat()}, subject=subject,
                 done=0, cancel_requested=False, attempts=0, queued_at=local_now(),
                 created_by=actor.username, created_by_id=actor.user_id,
                 school_id=at.id if isinstance(at, School) else None,
                 province_code=getattr(at, "province_code", None),
                 city_code=getattr(at, "city_code", None), county_code=getattr(at, "county_code", None))
    session.add(run)
    session.flush()
    if defer and mode() == "worker":
        run.queue_id = session.execute(text(
            "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, "
            "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"),
            {"queue": QUEUE, "task": TASK, "args": json.dumps({"run_id": run.id})}).scalar_one()
    return run


def launch(run: JobRun) -> None:
    """After the commit that queued ``run``: in the demo and the tests, run it in-process (the
    worker picks it up by itself)."""
    how = mode()
    if how == "worker":
        return
    if how == "inline":
        execute(run.id)
        return
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            execute(run.id)
            _tidy()

    threading.Thread(target=work, daemon=True, name=f"job-{run.id}").start()


def _tidy() -> None:
    """What the worker's periodic tasks would do, in a process without a worker (the demo): after
    each job, the student tally's deltas folded (an import or a promotion adds one or two a record;
    the home page sums them).  SQLite busy with another writer: the next job folds them."""
    from ..record import tally

    try:
        tally.compact(db.session)
    except OperationalError as exc:
        log.warning("student tally not compacted after the job: %s", exc)


# -- running --------------------------------------------------------------------------------------

class Progress:
    """What a running job reports: ``progress(done, total)``; raises Cancelled once cancelled.

    On PostgreSQL each report is its own short transaction on its own connection, so the page sees
    it at once and a cancel (another connection updating the same row) never waits for the job's
    work to commit; SQLite has one writer, so there it rides on the job's own transaction."""

    def __init__(self, session: Session, run_id: int):
        self.session, self.run_id = session, run_id

    def __call__(self, done: int, total: int | None = None) -> None:
        values = {"done": done, "heartbeat_at": local_now()}
        if total is not None:
            values["total"] = total
        report = (update(JobRun).where(JobRun.id == self.run_id).values(**values)
                  .returning(JobRun.cancel_requested))
        if self.session.get_bind().dialect.name == "postgresql":
            with db.engine.begin() as own:
                cancelled = own.execute(report).scalar()
        else:
            cancelled = self.session.execute(report.execution_options(synchronize_session=False)).scalar()
        if cancelled:
            raise Cancelled


def _actor(session: Session, run: JobRun) -> Actor:
    user = session.get(XuejiUser, run.created_by_id) if run.created_by_id else None
    return Actor.of(user) if user is not None else Actor.system(run.created_by)


def _finish(session: Session, run_id: int, status: str, *, message=None, result=None) -> None:
    with transaction(session):
        run = session.get(JobRun, run_id)
        run.status, run.finished_at, run.heartbeat_at = status, local_now(), local_now()
        run.message = None if message is None else str(message)[:500]
        if result is not None:
            run.result = result
        if status == "done" and run.total is not None:
            run.done = run.total


def execute(run_id: int, session: Session | None = None) -> str:
    """Run the job ``run_id`` (the worker's task; ``launch`` in the demo and tests).  A finished or
    cancelled job is left alone, so a job delivered twice runs once.  Returns the final status."""
    session = session or db.session
    with transaction(session):
        run = session.scalar(select(JobRun).where(JobRun.id == run_id).with_for_update())
        if run is None or run.status in DONE:
            return run.status if run else "missing"
        if run.cancel_requested:
            run.status, run.finished_at = "cancelled", local_now()
            return "cancelled"
        run.status, run.attempts = "running", run.attempts + 1
        run.started_at = run.started_at or local_now()
        run.heartbeat_at = local_now()
        kind, params = run.kind, dict(run.params or {})
        actor = _actor(session, run)
    now = datetime.fromisoformat(params.pop("now"))
    try:
        result = TASKS[kind].fn(session, params, Progress(session, run_id), actor, now)
    except Cancelled:
        session.rollback()
        _finish(session, run_id, "cancelled", message=t("已取消", "cancelled"))
        return "cancelled"
    except DomainError as exc:
        session.rollback()
        _finish(session, run_id, "failed", message="；".join(str(p.message) for p in exc.problems) or str(exc))
        return "failed"
    except OperationalError:  # the database went away: the queue retries it (the task resumes)
        session.rollback()
        with transaction(session):
            session.execute(update(JobRun).where(JobRun.id == run_id).values(status="queued"))
        raise
    except Exception as exc:
        session.rollback()
        log.exception("job %s (%s) failed", run_id, kind)
        _finish(session, run_id, "failed", message=t(f"内部错误：{type(exc).__name__}",
                                                     f"internal error: {type(exc).__name__}"))
        return "failed"
    summary = (result or {}).get("summary")
    _finish(session, run_id, "done", result=result, message=summary["zh"] if summary else None)
    return "done"


# -- reading and cancelling -----------------------------------------------------------------------

def get(session: Session, actor: Actor, run_id: int) -> JobRun:
    return actor.fetch(session, JobRun, run_id, t("任务不存在或不在管辖范围内", "no such job in your jurisdiction"))


def stalled(run: JobRun, now: datetime | None = None) -> bool:
    """Running, but nothing heard from it for STALE: its worker died (the queue retries it)."""
    last = run.heartbeat_at or run.started_at
    return run.status == "running" and last is not None and last < (now or local_now()) - STALE


def view(run: JobRun, now: datetime | None = None) -> dict:
    """The job as pages, the API and the command line show it: percent and time left included."""
    now = now or local_now()
    percent = None
    if run.total:
        percent = round(100 * min(run.done, run.total) / run.total, 1)
    elif run.status == "done":
        percent = 100.0
    left = None
    if run.status == "running" and run.started_at and run.total and 0 < run.done < run.total:
        spent = (now - run.started_at).total_seconds()
        left = round(spent * (run.total - run.done) / run.done)
    summary = (run.result or {}).get("summary") if isinstance(run.result, dict) else None
    message = summary["en" if english() else "zh"] if isinstance(summary, dict) else run.message
    return {"id": run.id, "kind": run.kind, "label": label(run.kind), "status": run.status,
            "stalled": stalled(run, now), "done": run.done, "total": run.total, "percent": percent,
            "seconds_left": left, "message": message, "result": run.result, "subject": run.subject,
            "cancel_requested": run.cancel_requested, "attempts": run.attempts,
            "queued_at": run.queued_at.isoformat(timespec="seconds"),
            "started_at": run.started_at.isoformat(timespec="seconds") if run.started_at else None,
            "finished_at": run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
            "created_by": run.created_by}


def latest(session: Session, actor: Actor, subject: str) -> JobRun | None:
    """The newest job working on ``subject`` (e.g. import_job:12) the actor may see."""
    return session.scalar(select(JobRun).where(JobRun.subject == subject, actor.scope.clause(JobRun))
                          .order_by(JobRun.id.desc()).limit(1))


def recent(session: Session, actor: Actor, limit: int = 50) -> list[JobRun]:
    return list(session.scalars(newest_first(actor).limit(limit)))


def newest_first(actor: Actor):
    """The jobs the actor may see, newest first (by id: a stable order to page through)."""
    return select(JobRun).where(actor.scope.clause(JobRun)).order_by(JobRun.id.desc())


@transactional
def cancel(session: Session, actor: Actor, run_id: int) -> JobRun:
    """Cancel a job: one not started never runs; a running one stops at its next progress report
    (its current batch rolls back; what earlier batches committed stays, as a resumable import's
    does).  Only its starter or an account above it in the same jurisdiction may cancel."""
    run = get(session, actor, run_id)
    if run.status in DONE:
        raise Conflict(t(f"任务已结束（{run.status}），不能取消", f"the job has ended ({run.status})"))
    if not actor.is_system and run.created_by_id != actor.user_id and actor.school_id is not None:
        raise Conflict(t("只能取消本人发起的任务", "only the account that started it may cancel a school's job"))
    run.cancel_requested = True
    if run.status == "queued":
        run.status, run.finished_at = "cancelled", local_now()
    return run


def queue_depth(session: Session) -> int:
    """Jobs waiting to run (queued, not yet taken by a worker)."""
    return session.scalar(select(func.count()).select_from(JobRun).where(JobRun.status == "queued")) or 0
