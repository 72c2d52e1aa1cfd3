"""``run.py report ...``: the monthly report (月报) of a node, printed in Chinese or as JSON, optionally
written as xlsx and PDF, and stored (``--store``) for the page; ``report generate`` queues the
``report_monthly`` jobs that store reports; ``report close`` takes a month's end-of-month snapshot.  The signing and the
school statistics commands attach themselves to this group (``app.cli_report_verify``,
``app.cli_statistics``)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from . import clock
from .cli_common import acting_as, attach_modules
from .errors import DomainError
from .extensions import db


def _last_month() -> str:
    from .services.reports.window import previous_month

    return f"{previous_month(clock.today().replace(day=1)):%Y-%m}"


def _write(kind: str, report, path: str) -> None:
    """Write ``report`` with ``app.documents.report_<kind>`` (the files' writers), if installed."""
    try:
        writer = importlib.import_module(f"app.documents.report_{kind}")
    except ImportError:
        raise click.ClickException(f"this installation cannot write {kind} reports") from None
    writer.write(report, Path(path))
    click.echo(f"written to {path}")


def _number(value) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _change(value) -> str:
    if value is None:
        return "—"
    return f"+{_number(value)}" if value > 0 else _number(value)


def _print(report) -> None:
    state = "实时" if report.live else f"截至 {report.as_of:%Y-%m-%d %H:%M}"
    click.echo(f"{report.node_name}（{report.node_code}）{report.period} 月报  {state}  "
               f"{'已签发' if report.status == 'signed' else '草稿'}")
    if report.snapshot_taken_at:
        click.echo(f"在籍与账号数取自 {report.snapshot_taken_at:%Y-%m-%d %H:%M} 的月末快照")
    for f in report.figures:
        flag = f"  ⚠ {f.flag_note}" if f.flagged else ""
        unit = f" {f.unit}" if f.value is not None else ""
        click.echo(f"{f.name}：{_number(f.value)}{unit}（上月 {_number(f.previous)}，"
                   f"变化 {_change(f.change)}）{flag}")
    if report.children:
        click.echo("下级单位：")
        for c in report.children:
            click.echo(f"  {c.code} {c.name}：在籍 {_number(c.values.get('students_on_record'))}，"
                       f"办结率 {_number(c.values.get('completion_share'))}%")


@click.group("report")
def report_group() -> None:
    """Reports: the monthly report, month-end snapshots, signatures, school statistics."""


@report_group.command("monthly")
@click.option("--node", "node_code", default=None,
              help="6-digit division code or 10-digit school code (default: the --as account's node).")
@click.option("--month", default=None, help="YYYY-MM (default: last month).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--as", "username", default=None,
              help="Account to act as: only its own node and below (default: the system, every node).")
@click.option("--xlsx", type=click.Path(dir_okay=False), help="Also write the report as .xlsx here.")
@click.option("--pdf", type=click.Path(dir_okay=False), help="Also write the report as PDF here.")
@click.option("--store", is_flag=True,
              help="Also store it (both languages and its files) as the page serves it, replacing the stored one.")
@with_appcontext
def monthly_command(node_code, month, as_json, username, xlsx, pdf, store) -> None:
    """Print the monthly report of NODE for MONTH, as of the month's end (computed here and now)."""
    from .services.reports import monthly, plain, stored

    if not node_code and not username:
        raise click.UsageError("pass --node CODE, or --as USERNAME for that account's own node")
    who, chosen = acting_as(username), month or _last_month()
    try:
        if store:
            row = stored.generate(db.session, who, node_code or stored.asked(db.session, who, None, chosen,
                                                                             clock.now())[0].code,
                                  chosen, now=clock.now(), by="cli" if who.is_system else f"cli:{who.username}")
            report = stored.report_of(db.session, row, "zh")
        else:
            report = monthly.compute(db.session, who, node_code, chosen, now=clock.now())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(plain.as_dict(report), ensure_ascii=False, indent=1, default=str))
    else:
        _print(report)
    for kind, path in (("xlsx", xlsx), ("pdf", pdf)):
        if path:
            _write(kind, report, path)


@report_group.command("generate")
@click.option("--node", "node_codes", multiple=True, help="Node code (repeatable).")
@click.option("--all-bureaus", is_flag=True, help="Every bureau node: province, cities, counties.")
@click.option("--month", default=None, help="YYYY-MM (default: last month).")
@click.option("--as", "username", default=None, help="Account to act as (default: the system).")
@with_appcontext
def generate_command(node_codes, all_bureaus, month, username) -> None:
    """Queue the report_monthly jobs that generate and store reports (as the page's button and the
    1st of the month do).  Without a job worker (SQLite) they run here, one after another."""
    from .services.operations import jobs
    from .services.reports import stored

    if bool(node_codes) == all_bureaus:
        raise click.UsageError("pass --node CODE (one or more), or --all-bureaus")
    chosen, who = month or _last_month(), acting_as(username)
    try:
        runs = (stored.queue_month(db.session, chosen, now=clock.now(), actor=who) if all_bureaus else
                [stored.queue(db.session, who, code, chosen, now=clock.now()) for code in node_codes])
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    for run in runs:
        status = "queued" if jobs.mode() == "worker" else jobs.execute(run.id)
        click.echo(f"job {run.id} {run.subject}: {status}")


@report_group.command("close")
@click.option("--month", default=None, help="YYYY-MM (default: last month).")
@with_appcontext
def close_command(month) -> None:
    """Take MONTH's end-of-month snapshot (students on record, accounts), once: a month closed
    before keeps the snapshot it has."""
    from .services.reports import snapshot

    chosen = month or _last_month()
    try:
        row = snapshot.close_month(db.session, chosen, now=clock.now(), by="cli")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{row.month:%Y-%m} 月末快照：{row.taken_at:%Y-%m-%d %H:%M} 由 {row.taken_by} 取得")


attach_modules(report_group, "app.cli_report_verify", "app.cli_statistics")  # signing, statistics
