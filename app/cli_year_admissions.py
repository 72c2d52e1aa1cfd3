"""``run.py year admit --school CODE FILE [--dry-run] [--valid-only] [--as USER] [--json]``: an
admission list (录取名单) checked and committed (attached to the ``year`` group by ``attach``)."""

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


@click.command("admit")
@click.option("--school", "school_code", required=True, help="10-digit school code.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
@click.option("--valid-only", is_flag=True, help="Commit the valid rows even if others have problems.")
@click.option("--as", "username", default=None, help="Account to act as (default: the system).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def admit_command(school_code, file, dry_run, valid_only, username, as_json) -> None:
    """Admit the students of an admission list: new records, pulled records, duplicate admissions.
    Exit 1 when the file or a row is refused."""
    from .cli import _school
    from .services.schoolyear import admissions

    school = _school(school_code)
    try:
        job = admissions.run(db.session, school=school, actor=acting_as(username), filename=file.name,
                             data=file.read_bytes(), now=clock.now(), dry=dry_run, valid_only=valid_only)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    out = {"job": job.id, "status": job.status, "rows": job.rows_total, "valid": job.rows_valid,
           "invalid": job.rows_invalid, "created": job.created, "pulled": job.updated,
           "unchanged": job.unchanged, "message": job.message, "review": job.request_id,
           "problems": job.problems or []}
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        click.echo(f"录取名单 {file.name}（{school.name}）：{_STATUS.get(job.status, job.status)}；"
                   f"共 {job.rows_total} 行，正确 {job.rows_valid} 行，有问题 {job.rows_invalid} 行")
        if job.message:
            click.echo(f"  {job.message}")
        for p in job.problems or []:
            click.echo(f"  第 {p['row']} 行 {p['column']}：{p['message']}")
    if job.status in ("refused", "failed") or (job.rows_invalid and not valid_only):
        sys.exit(1)


_STATUS = {"checked": "已检查（未写入）", "done": "已录取", "refused": "已拒绝", "failed": "中断"}


def attach(group: click.Group) -> None:
    group.add_command(admit_command)
