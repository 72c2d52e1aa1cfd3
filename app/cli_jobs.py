"""``run.py worker`` (the job worker) and ``run.py jobs list|show|cancel`` (what is queued, running
and done, with a progress bar)."""

from __future__ import annotations

import asyncio
import json
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli_common import acting_as
from .errors import DomainError
from .extensions import db
from .services.operations import job_tasks, jobs
from .worker import build, retry_stalled_jobs


@click.command("worker")
@click.option("--concurrency", default=1, show_default=True, help="Jobs run at once by this worker.")
@click.option("--once", is_flag=True, help="Run what is queued, then stop (tests, cron-less sites).")
@with_appcontext
def worker_command(concurrency: int, once: bool) -> None:
    """Run queued jobs (imports, promotion, reports, ...) and the scheduled ones; PostgreSQL only."""
    try:
        queue = build(current_app._get_current_object())
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"worker: {len(job_tasks.KINDS)} job kinds, queue {jobs.QUEUE!r}, concurrency {concurrency}")

    async def main() -> None:
        async with queue.open_async():
            if retried := await retry_stalled_jobs(queue):
                click.echo(f"{retried} stalled jobs put back in the queue")
            await queue.run_worker_async(queues=[jobs.QUEUE], concurrency=concurrency, wait=not once,
                                         install_signal_handlers=True)

    asyncio.run(main())


@click.group("jobs")
def jobs_group() -> None:
    """Long work: what is queued, running and done."""


def _show(view: dict) -> str:
    total = f"/{view['total']}" if view["total"] else ""
    percent = f" {view['percent']}%" if view["percent"] is not None else ""
    left = f" ~{view['seconds_left']}s left" if view["seconds_left"] else ""
    return (f"#{view['id']} {view['kind']} {view['status']}{' (stalled)' if view['stalled'] else ''} "
            f"{view['done']}{total}{percent}{left} {view['message'] or ''}").rstrip()


@jobs_group.command("list")
@click.option("--as", "username", default=None)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def jobs_list(username, as_json) -> None:
    """The latest jobs the account may see, newest first."""
    views = [jobs.view(r) for r in jobs.recent(db.session, acting_as(username))]
    click.echo(json.dumps(views, ensure_ascii=False) if as_json else "\n".join(_show(v) for v in views))


@jobs_group.command("show")
@click.argument("job_id", type=int)
@click.option("--follow", is_flag=True, help="Draw a progress bar until the job ends.")
@click.option("--as", "username", default=None)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def jobs_show(job_id, follow, username, as_json) -> None:
    """One job; with --follow, its progress bar until it ends (exit 1 unless it is done)."""
    actor = acting_as(username)
    try:
        view = jobs.view(jobs.get(db.session, actor, job_id))
        if follow:
            with click.progressbar(length=view["total"] or 100, label=view["label"]) as bar:
                seen = 0
                while view["status"] in ("queued", "running"):
                    time.sleep(1)
                    db.session.expire_all()
                    view = jobs.view(jobs.get(db.session, actor, job_id))
                    if view["total"]:
                        bar.length = view["total"]
                        bar.update(view["done"] - seen)
                        seen = view["done"]
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(view, ensure_ascii=False) if as_json else _show(view))
    if follow and view["status"] != "done":
        raise SystemExit(1)


@jobs_group.command("cancel")
@click.argument("job_id", type=int)
@click.option("--as", "username", default=None)
@with_appcontext
def jobs_cancel(job_id, username) -> None:
    """Cancel a job: a queued one never runs, a running one stops after its current batch."""
    try:
        run = jobs.cancel(db.session, acting_as(username), job_id)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(_show(jobs.view(run)))
