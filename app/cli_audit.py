"""The ``audit`` commands: ``audit verify`` checks the logs' hash chains, ``audit prune`` deletes
what is past retention behind signed checkpoints."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from . import clock
from .errors import DomainError
from .extensions import db

SHOWN = 20  # findings printed one per line; --json gives them all


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident logs (operations, personal-data views, exports)."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_verify(as_json: bool) -> None:
    """Recompute every log's chain from its latest checkpoint; name the first bad row of each;
    exit 1 if any row was edited, deleted or inserted directly."""
    from .services.operations.audit_chain import verify

    findings = verify(db.session)
    if as_json:
        click.echo(json.dumps({"ok": not findings, "findings": [f.as_dict() for f in findings]},
                              ensure_ascii=False, indent=1))
    elif not findings:
        click.echo("audit chains intact: audit_event, personal_data_access, export_log")
    else:
        click.echo(f"audit chains broken: {len(findings)} problem(s); first: {findings[0]}")
        for finding in findings[1:SHOWN]:
            click.echo(f"  {finding}")
    sys.exit(1 if findings else 0)


@audit_group.command("prune")
@with_appcontext
def audit_prune() -> None:
    """Delete log rows older than XUEJI_AUDIT_RETENTION_DAYS (at least 180), after checking them,
    behind a checkpoint signed with the province's key."""
    from .services.operations.audit_chain import prune

    try:
        counts = prune(db.session, now=clock.local_now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(", ".join(f"{log}: {n} pruned" for log, n in counts.items()))


@audit_group.command("anchor")
@with_appcontext
def audit_anchor() -> None:
    """Sign every log's head and append it to XUEJI_AUDIT_ANCHOR_DIR (the worker does so every five
    minutes): `audit verify` then sees the newest rows deleted, or a log begun again."""
    from .services.operations.audit_anchor import anchor_dir
    from .services.operations.audit_chain import anchor

    try:
        entry = anchor(db.session, now=clock.local_now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    heads = ", ".join(f"{log}: seq {h['seq']}" for log, h in entry["heads"].items())
    click.echo(f"anchored at {entry['at']} in {anchor_dir(current_app.config)}: {heads}")
