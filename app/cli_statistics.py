"""``report statistics --node CODE [--xlsx F] [--as USERNAME] [--json]``: the school statistics
table (学校统计表) of a node, attached to the ``report`` group (``attach``)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from . import clock
from .cli_common import acting_as
from .errors import DomainError
from .extensions import db


@click.command("statistics")
@click.option("--node", "node_code", required=True,
              help="6-digit division code or 10-digit school code.")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False), help="Write the table as .xlsx here.")
@click.option("--as", "username", default=None,
              help="Account to act as: only its own node and below (default: the system, every node).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@with_appcontext
def statistics_command(node_code: str, xlsx: str | None, username: str | None, as_json: bool) -> None:
    """Print the school statistics table of NODE: one row per child node (per grade for a school),
    and the total; with --xlsx also write it as a workbook."""
    from .documents import statistics_xlsx
    from .services.reports.statistics import school_statistics

    try:
        stats = school_statistics(db.session, acting_as(username), node_code, clock.now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if xlsx:
        statistics_xlsx.write(stats, Path(xlsx))
    if as_json:
        click.echo(json.dumps(stats.as_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(f"{stats.node_code} {stats.node_name}  {stats.as_of:%Y-%m-%d %H:%M}")
    click.echo("\t".join(["代码", str(stats.row_label)] +
                         [f"{c.group}·{c.label}" if c.group else c.label for c in stats.columns]))
    for row in (*stats.rows, stats.total):
        click.echo("\t".join([row.code, row.name, *map(str, row.values)]))
    if xlsx:
        click.echo(f"written to {xlsx}")


STATISTICS_COMMANDS = (statistics_command,)


def attach(group: click.Group) -> click.Group:
    """Add ``statistics`` to the ``report`` group."""
    for command in STATISTICS_COMMANDS:
        group.add_command(command)
    return group


@click.group("report")
def report_group() -> None:
    """Reports (stand-in until app.cli_reports defines the group)."""


attach(report_group)
