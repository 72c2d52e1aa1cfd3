"""``run.py campaign open|close|progress|list``: data-quality verification campaigns (数据质量核查)."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import with_appcontext

from . import clock
from .cli_common import acting_as
from .errors import DomainError
from .extensions import db

AS_HELP = "Account to act as: only its own node and below (default: the system, every node)."


def _acting(username: str | None):

    return acting_as(username)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date such as 2026-10-08") from None


@click.group("campaign")
def campaign_group() -> None:
    """Data-quality verification campaigns (数据质量核查): open, close, progress."""


@campaign_group.command("open")
@click.option("--region", required=True, help="6-digit division code: the province, a city or a county.")
@click.option("--from", "starts_on", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "ends_on", required=True, help="Last day, YYYY-MM-DD.")
@click.option("--name", default=None, help="What users read (default: the region's name).")
@click.option("--as", "username", default=None, help=AS_HELP)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def open_command(region, starts_on, ends_on, name, username, as_json) -> None:
    """Open a campaign for REGION from --from to --to: the schools there may print, mark and
    upload their confirmation forms meanwhile."""
    from .services.quality import campaigns

    try:
        row = campaigns.open_campaign(db.session, _acting(username), region=region, starts_on=_day(starts_on),
                                      ends_on=_day(ends_on), name=name, now=clock.now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    _print_one(row, as_json)


@campaign_group.command("close")
@click.argument("campaign_id", type=int)
@click.option("--as", "username", default=None, help=AS_HELP)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def close_command(campaign_id, username, as_json) -> None:
    """Close campaign CAMPAIGN_ID: marking and uploading stop at once."""
    from .services.quality import campaigns

    try:
        row = campaigns.close_campaign(db.session, _acting(username), campaign_id, clock.now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    _print_one(row, as_json)


@campaign_group.command("list")
@click.option("--as", "username", default=None, help=AS_HELP)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(username, as_json) -> None:
    """Every campaign the account sees, newest first."""
    from .services.quality import campaigns

    try:
        rows = campaigns.visible(db.session, _acting(username))
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([_plain(r) for r in rows], ensure_ascii=False, indent=1))
        return
    for row in rows:
        _print_one(row, False)


@campaign_group.command("progress")
@click.argument("campaign_id", type=int)
@click.option("--node", "node_code", default=None,
              help="6-digit division or 10-digit school code (default: the account's node or the region).")
@click.option("--as", "username", default=None, help=AS_HELP)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def progress_command(campaign_id, node_code, username, as_json) -> None:
    """Forms issued, returned and entered per child of NODE, the total, and the lagging schools."""
    from .services.quality import progress

    try:
        table = progress.progress(db.session, _acting(username), campaign_id, clock.now(), node_code)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(table.as_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(f"#{table.campaign_id} {table.campaign}  {table.node_code} {table.node_name}")
    click.echo("代码\t名称\t学生数\t已发放\t已收回\t有更正\t已录入\t已上传\t录入比例")
    for row in table.rows:
        click.echo(_line(row.code, row.name, row.counts))
    click.echo(_line(table.node_code, "合计", table.total))
    if table.lagging:
        click.echo("进度落后的学校：")
        for row in table.lagging:
            click.echo(_line(row.code, row.name, row.counts))


def _line(code, name, c) -> str:
    return "\t".join([code, name, *map(str, (c.students, c.issued, c.returned, c.corrected, c.entered,
                                             c.scanned)), f"{c.entered_share:.1%}"])


def _plain(row) -> dict:
    from .services.quality import campaigns

    return {"id": row.id, "name": row.name, "region": row.region_code, "starts_on": str(row.starts_on),
            "ends_on": str(row.ends_on), "status": row.status,
            "state": campaigns.state(row, clock.today())}


def _print_one(row, as_json: bool) -> None:
    from .services.quality import campaigns

    if as_json:
        click.echo(json.dumps(_plain(row), ensure_ascii=False, indent=1))
    else:
        click.echo(f"#{row.id} {row.name} {row.region_code} {row.starts_on}—{row.ends_on} "
                   f"{campaigns.STATE_ZH[campaigns.state(row, clock.today())]}")
