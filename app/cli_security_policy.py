"""The ``security-policy`` commands: the settings in force and where each comes from; a province
security administrator changes one (the same service, bounds and audit row as the page)."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from . import clock
from .cli_common import acting_as
from .errors import DomainError
from .extensions import db


@click.group("security-policy")
def security_policy_group() -> None:
    """The security policy (安全策略): lockout, password age, dormancy, second factor, sessions."""


@security_policy_group.command("show")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def security_policy_show(as_json: bool) -> None:
    """Every setting in force, its configured default, its bounds and who set it when."""
    from .services.organisation.security_policy import rows

    shown = rows(db.session, current_app.config)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in shown], ensure_ascii=False, indent=1))
        return
    for r in shown:
        source = f"set by {r.source['by']} at {r.source['at']}" if r.source else "configured default"
        click.echo(f"{r.name} = {r.value}  ({source}; default {r.default}; allowed {r.bounds})")


@security_policy_group.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--as", "secadmin", required=True, help="The province security administrator.")
@with_appcontext
def security_policy_set(key: str, value: str, secadmin: str) -> None:
    """Set KEY to VALUE ('' for the configured default); refused outside its bounds."""
    from .services.organisation.security_policy import change

    if secadmin in ("", None):
        raise click.ClickException("--as names a security administrator")
    try:
        changed = change(db.session, acting_as(secadmin), {key: value}, current_app.config, clock.now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{key}: {changed[key]['old']} -> {changed[key]['new']}" if changed else f"{key}: unchanged")
