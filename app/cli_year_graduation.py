"""``run.py year graduate --school CODE [--dry-run] [--as USER]``: graduate a school's final-grade
cohort (attached to the ``year`` group by ``attach``, as ``app.cli_statistics`` is to ``report``)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from . import clock
from .cli_common import acting_as
from .errors import DomainError
from .extensions import db


@click.command("graduate")
@click.option("--school", "school_code", required=True, help="10-digit school code.")
@click.option("--dry-run", is_flag=True, help="List who can graduate and who cannot, write nothing.")
@click.option("--as", "username", default=None, help="Account to act as (default: the system).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def graduate_command(school_code, dry_run, username, as_json) -> None:
    """Graduate every final-grade student of the school who can (毕业); senior secondary students
    go to the bureau for review.  Exit 1 when the rules refuse it or nobody can graduate."""
    from .cli import _school
    from .services.schoolyear import graduation

    school = _school(school_code)
    actor = acting_as(username)
    try:
        outcome = graduation.graduate(db.session, actor, school.id, clock.now(), dry_run=dry_run)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=1, default=str))
    else:
        _print(outcome)
    if outcome.refused:
        sys.exit(1)


def _print(outcome) -> None:
    click.echo(f"{outcome.school_name}（{outcome.school_code}）毕业"
               f"{'（试运行，未写入）' if outcome.dry_run else ''}")
    for p in outcome.refused:
        click.echo(f"  不予办理：{p.message}（{p.source or ''}）")
    click.echo(f"  可毕业 {len(outcome.eligible)} 人，暂不能毕业 "
               f"{sum(1 for c in outcome.candidates if not c.can)} 人；"
               f"已毕业 {outcome.graduated} 人，报主管教育部门审核 {outcome.reviews} 人")
    for c in outcome.candidates:
        if not c.can:
            click.echo(f"  {c.class_name or ''} {c.name}：{'；'.join(c.reasons)}")


@click.command("complete")
@click.option("--school", "school_code", required=True, help="10-digit school code.")
@click.option("--student", "student_ids", type=int, multiple=True,
              help="Student id (repeatable; default: everyone kept back only by the conditions).")
@click.option("--dry-run", is_flag=True, help="Say who would be completed, write nothing.")
@click.option("--as", "username", default=None, help="Account to act as (default: the system).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def complete_command(school_code, student_ids, dry_run, username, as_json) -> None:
    """Mark completed (结业) the final-grade students who do not meet the graduation conditions;
    one result per student.  Exit 1 when the rules refuse it."""
    from .cli import _school
    from .services.schoolyear import completion

    school = _school(school_code)
    try:
        outcome = completion.complete(db.session, acting_as(username), school.id, clock.now(),
                                      student_ids=list(student_ids) or None, dry_run=dry_run)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(f"{outcome.school_name}（{outcome.school_code}）结业"
                   f"{'（试运行，未写入）' if outcome.dry_run else ''}：结业 {outcome.completed} 人")
        for p in outcome.refused:
            click.echo(f"  不予办理：{p.message}（{p.source or ''}）")
        for r in outcome.results:
            click.echo(f"  {r['student_id']} {r['name'] or ''}：{r['reason']}")
    if outcome.refused:
        sys.exit(1)


def attach(group: click.Group) -> None:
    group.add_command(graduate_command)
    group.add_command(complete_command)
