"""Commands for signed reports, attached to the ``report`` group of ``app.cli_reports``:
``report verify FILE``, ``report sign``, ``report export-signed``, ``report keys`` and
``report rotate-key``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from . import clock
from .cli_common import acting_as
from .errors import DomainError
from .extensions import db


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def verify_command(file: str, as_json: bool) -> None:
    """Whether FILE (a report's .xlsx or .pdf) is unaltered and who signed it; exit 1 if altered
    or unsigned."""
    from .services.reports.signing import verify_file

    verdict = verify_file(Path(file).read_bytes())
    if as_json:
        click.echo(json.dumps(verdict.as_dict(), ensure_ascii=False, indent=1))
    else:
        click.echo(verdict.message)
        for change in verdict.changes:
            click.echo(f"  {change}")
    sys.exit(0 if verdict.ok else 1)


@click.command("sign")
@click.option("--node", "node_code", required=True, help="The report's node: division or school code.")
@click.option("--month", required=True, help="YYYY-MM, a past month.")
@click.option("--as", "username", required=True, help="The node's supervisor.")
@with_appcontext
def sign_command(node_code: str, month: str, username: str) -> None:
    """Sign the month's report of a node off (签发), as its supervisor."""
    from .services.reports.signing import sign_off

    try:
        row = sign_off(db.session, acting_as(username), node_code=node_code, month=month, now=clock.now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{row.node_code} {row.month:%Y-%m} signed off by {row.signer} at {row.signed_at} "
               f"(key {row.key_id}, digest {row.digest[:16]})")


@click.command("export-signed")
@click.option("--node", "node_code", required=True)
@click.option("--month", required=True, help="YYYY-MM, a signed-off month.")
@click.option("--as", "username", required=True, help="An account that may read the report.")
@click.option("--xlsx", type=click.Path(dir_okay=False), default=None)
@click.option("--pdf", type=click.Path(dir_okay=False), default=None)
@with_appcontext
def export_signed_command(node_code, month, username, xlsx, pdf) -> None:
    """Write the signed .xlsx and/or PDF of a signed-off month's report."""
    from .services.reports.signing import signed_export

    if not xlsx and not pdf:
        raise click.UsageError("pass --xlsx FILE and/or --pdf FILE")
    who = acting_as(username)
    for kind, target in (("xlsx", xlsx), ("pdf", pdf)):
        if target:
            try:
                data, _ = signed_export(db.session, who, node_code=node_code, month=month, kind=kind,
                                        now=clock.now())
            except DomainError as exc:
                raise click.ClickException(str(exc)) from None
            Path(target).write_bytes(data)
            click.echo(f"signed {kind} written to {target}")


@click.command("keys")
@click.option("--node", "node_code", default=None, help="One node's keys only.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def keys_command(node_code: str | None, as_json: bool) -> None:
    """The published public signing keys (Ed25519), with their validity periods."""
    from .services.reports.signing import published_keys

    keys = [k.as_dict() for k in published_keys(node_code)]
    if as_json:
        click.echo(json.dumps(keys, indent=1))
        return
    for k in keys:
        click.echo(f"{k['node']:<10} {k['key_id']:<14} {k['fingerprint']}  {k['valid_from']} → "
                   f"{k['valid_until'] or 'in use'}  {k['public_key']}")


@click.command("rotate-key")
@click.option("--node", "node_code", required=True)
@with_appcontext
def rotate_key_command(node_code: str) -> None:
    """Retire a node's signing key and start a new one; old files still verify."""
    from .services.common.actors import Actor
    from .services.reports.signing import rotate_key

    try:
        old, new = rotate_key(db.session, node_code=node_code, actor=Actor.system("cli:report rotate-key"),
                              now=clock.now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"node": node_code, "retired": old, "active": new}))


SIGNING_COMMANDS = (verify_command, sign_command, export_signed_command, keys_command, rotate_key_command)


def attach(group: click.Group) -> click.Group:
    """Add the signing commands to the ``report`` group."""
    for command in SIGNING_COMMANDS:
        group.add_command(command)
    return group
