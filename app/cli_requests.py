"""``run.py requests ...``: the scheduled steps of requests -- submit the queued filings whose window
has opened, escalate overdue steps (强制干预) -- and the queue as a school sees it.  The job worker
runs the first two on a schedule; both are idempotent and safe to run twice at once."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from . import clock
from .cli_common import acting_as
from .extensions import db


@click.group("requests")
def requests_group() -> None:
    """Requests: release queued filings, escalate overdue steps, list the queue."""


@requests_group.command("release-queued")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def release_queued(as_json: bool) -> None:
    """Submit every queued request whose window is open now, re-checked against the rules."""
    from .services.requests import release

    out = release.release(db.session, clock.now())
    if as_json:
        click.echo(json.dumps(out.as_dict()))
        return
    click.echo(f"已提交 {len(out.submitted)} 件，复核未通过 {len(out.failed)} 件，仍在等待 {out.waiting} 件"
               f"（submitted {out.submitted}, failed {out.failed}）")


@requests_group.command("escalate")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def escalate_overdue(as_json: bool) -> None:
    """Escalate every step overdue past the rules' limit to the level above (强制干预)."""
    from .services.requests import escalation

    out = escalation.escalate(db.session, clock.now())
    if as_json:
        click.echo(json.dumps(out.as_dict()))
        return
    click.echo(f"已上报 {len(out.escalated)} 件 {out.escalated}；"
               f"无上级可上报 {len(out.nobody_above)} 件 {out.nobody_above}")


@requests_group.command("queued")
@click.option("--as", "username", default=None, help="Act as this account (its jurisdiction).")
@click.option("--status", type=click.Choice(["queued", "released", "failed", "cancelled"]))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def queued_list(username, status, as_json) -> None:
    """The queued requests an account sees (default: all), the next to open first."""
    from .services.requests import queue

    rows = queue.listing(db.session, acting_as(username), status=status)
    if as_json:
        click.echo(json.dumps([queue.as_dict(r) for r in rows], ensure_ascii=False))
        return
    for r in rows:
        click.echo(f"#{r.id} {r.status:<9} {r.opens_on or '-'} {r.kind:<14} {r.student_name} "
                   f"{r.origin_school.name} {r.problem or ''}")
