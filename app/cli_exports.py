"""Commands for exports held for approval (导出审批), attached to the ``export`` group of
``app.cli``: ``export requests``, ``export approve ID``, ``export refuse ID``, ``export download ID OUT``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from . import clock
from .cli_common import acting_as
from .errors import DomainError
from .extensions import db


@click.command("requests")
@click.option("--as", "username", required=True, help="Account whose jurisdiction to list.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def requests_command(username: str, as_json: bool) -> None:
    """The export requests the --as account may see, newest first."""
    from .models import ExportRequest

    who = acting_as(username)
    rows = db.session.scalars(select(ExportRequest).where(who.scope.clause(ExportRequest))
                              .order_by(ExportRequest.id.desc())).all()
    items = [{"id": r.id, "kind": r.kind, "scope": r.scope_code, "rows": r.rows, "by": r.username,
              "status": r.status, "rule": r.rule_source, "decided_by": r.decided_by, "sha256": r.sha256}
             for r in rows]
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=1))
        return
    for i in items:
        click.echo(f"#{i['id']} {i['kind']} {i['scope']} {i['rows']} rows by {i['by']}: {i['status']} ({i['rule']})")


def _decide(request_id: int, username: str, approve: bool, note: str | None) -> None:
    from .services.exchange import export_requests

    try:
        req = export_requests.decide(db.session, acting_as(username), request_id, approve=approve,
                                     now=clock.now(), note=note)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"export request #{req.id} {req.status} by {req.decided_by}")


@click.command("approve")
@click.argument("request_id", type=int)
@click.option("--as", "username", required=True, help="A supervisor of the export's node or one above.")
@click.option("--note", default=None)
@with_appcontext
def approve_command(request_id: int, username: str, note: str | None) -> None:
    """Approve export request ID (never one's own): its requester may then download it."""
    _decide(request_id, username, True, note)


@click.command("refuse")
@click.argument("request_id", type=int)
@click.option("--as", "username", required=True, help="A supervisor of the export's node or one above.")
@click.option("--note", default=None)
@with_appcontext
def refuse_command(request_id: int, username: str, note: str | None) -> None:
    """Refuse export request ID; its file is deleted."""
    _decide(request_id, username, False, note)


@click.command("download")
@click.argument("request_id", type=int)
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--as", "username", required=True, help="The account that asked for the export.")
@with_appcontext
def download_command(request_id: int, out: str, username: str) -> None:
    """Write approved export request ID to OUT (its requester only; logged with the file's sha256)."""
    from .services.exchange import export_requests

    try:
        data, req = export_requests.download(db.session, acting_as(username), request_id, clock.now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    Path(out).write_bytes(data)
    click.echo(f"{req.rows} rows written to {out} (sha256 {req.sha256})")


def attach(group: click.Group) -> None:
    for command in (requests_command, approve_command, refuse_command, download_command):
        group.add_command(command)
