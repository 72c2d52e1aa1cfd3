"""``run.py year plan set|show|apply|request|decide``: enrollment plans (招生计划) from the command
line (attached to the ``year`` group by ``attach``).

    year plan set --school CODE --year 2027 --grade 1 --class 2027级一年级1班:40 ... --seats 80 --as U
    year plan show [--school CODE] [--year 2027] [--as U] [--json]
    year plan apply --school CODE --year 2027 --grade 1 --as U
"""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from . import clock
from .cli_common import acting_as
from .errors import DomainError
from .extensions import db

_AS = click.option("--as", "username", default=None, help="Act as this account (default: the system).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("plan")
def plan_group() -> None:
    """Enrollment plans (招生计划): set, show, apply; a school's change request and its decision."""


def _fail(exc: DomainError, as_json: bool):
    if as_json:
        click.echo(json.dumps(exc.as_json(), ensure_ascii=False))
        raise SystemExit(1)
    raise click.ClickException(str(exc))


def _show(plan) -> str:
    from .models.school import GRADE_NAMES

    classes = "、".join(f"{c.name}（{c.cap}人）" for c in plan.classes)
    done = f"，{plan.applied_at:%Y-%m-%d} 已建班" if plan.applied_at else "，未建班"
    return (f"#{plan.id} {plan.school.code} {plan.school.name} {plan.school_year}年"
            f"{GRADE_NAMES[plan.grade]}：{len(plan.classes)} 个班（{classes}），计划招生 {plan.seats} 人{done}")


@plan_group.command("set")
@click.option("--school", "school_code", required=True, help="10-digit school code.")
@click.option("--year", "school_year", required=True, type=int, help="The September of the intake.")
@click.option("--grade", required=True, type=click.Choice(["1", "7", "10"]), help="Entry grade.")
@click.option("--class", "specs", multiple=True, help="NAME:CAP, once per class.")
@click.option("--classes", "count", type=int, default=None, help="Or: this many classes named as usual ...")
@click.option("--cap", type=int, default=None, help="... each with this cap.")
@click.option("--seats", required=True, type=int, help="Planned seats (计划招生人数).")
@_AS
@_JSON
@with_appcontext
def set_command(school_code, school_year, grade, specs, count, cap, seats, username, as_json) -> None:
    """Set (or replace) a school's plan for a year and entry grade; exit 1 when refused."""
    from .services.schoolyear import plans

    try:
        classes = plans.parse_specs(specs)
        if not classes and count:
            classes = [{"name": n, "cap": cap or 0}
                       for n in plans.default_names(school_year, int(grade), count)]
        plan = plans.set_plan(db.session, acting_as(username), school_code=school_code,
                              school_year=school_year, grade=grade, classes=classes, seats=seats,
                              now=clock.now())
    except DomainError as exc:
        _fail(exc, as_json)
    click.echo(json.dumps(plans.plan_dict(plan), ensure_ascii=False) if as_json else _show(plan))


@plan_group.command("show")
@click.option("--school", "school_code", default=None, help="Only this school.")
@click.option("--year", "school_year", type=int, default=None, help="Only this intake year.")
@_AS
@_JSON
@with_appcontext
def show_command(school_code, school_year, username, as_json) -> None:
    """The plans (and change requests) the account sees."""
    from .services.schoolyear import plan_changes, plans

    actor = acting_as(username)
    try:
        rows = plans.plans(db.session, actor, school_year=school_year, school_code=school_code)
        asked = [c for c in plan_changes.changes(db.session, actor, school_year=school_year)
                 if not school_code or c.school.code == school_code]
    except DomainError as exc:
        _fail(exc, as_json)
    if as_json:
        click.echo(json.dumps({"plans": [plans.plan_dict(p) for p in rows],
                               "changes": [plan_changes.change_dict(c) for c in asked]}, ensure_ascii=False))
        return
    for plan in rows:
        click.echo(_show(plan))
    for c in asked:
        click.echo(f"  变更申请 #{c.id}（{c.school.name}，{c.status}）：{c.reason}")
    if not rows:
        click.echo("没有招生计划")


@plan_group.command("apply")
@click.option("--school", "school_code", required=True)
@click.option("--year", "school_year", required=True, type=int)
@click.option("--grade", required=True, type=click.Choice(["1", "7", "10"]))
@_AS
@_JSON
@with_appcontext
def apply_command(school_code, school_year, grade, username, as_json) -> None:
    """Create the plan's grade and classes (again: nothing more)."""
    from .errors import NotFound
    from .services.schoolyear import plan_apply, plans

    actor = acting_as(username)
    try:
        plan = plans.find_plan(db.session, actor, school_code, school_year, int(grade))
        if plan is None:
            raise NotFound("没有该年该年级的招生计划", "plan")
        out = plan_apply.apply_plan(db.session, actor, plan.id, clock.now())
    except DomainError as exc:
        _fail(exc, as_json)
    click.echo(json.dumps(out, ensure_ascii=False) if as_json else
               f"招生计划 #{out['plan']}：新建 {out['classes_created']} 个班"
               f"{'，新建年级' if out['grade_created'] else ''}{'（此前已建，未重复创建）' if out['already'] else ''}")


@plan_group.command("request")
@click.option("--plan", "plan_id", required=True, type=int)
@click.option("--class", "specs", multiple=True, required=True, help="NAME:CAP, once per class.")
@click.option("--seats", required=True, type=int)
@click.option("--reason", required=True)
@_AS
@_JSON
@with_appcontext
def request_command(plan_id, specs, seats, reason, username, as_json) -> None:
    """A school asks its bureau to change its plan."""
    from .services.schoolyear import plan_changes, plans

    try:
        change = plan_changes.request_change(db.session, acting_as(username), plan_id,
                                             classes=plans.parse_specs(specs), seats=seats, reason=reason,
                                             now=clock.now())
    except DomainError as exc:
        _fail(exc, as_json)
    click.echo(json.dumps(plan_changes.change_dict(change), ensure_ascii=False) if as_json
               else f"变更申请 #{change.id} 已提交")


@plan_group.command("decide")
@click.option("--change", "change_id", required=True, type=int)
@click.option("--verdict", required=True, type=click.Choice(["approve", "reject"]))
@click.option("--comment", default=None)
@_AS
@_JSON
@with_appcontext
def decide_command(change_id, verdict, comment, username, as_json) -> None:
    """The bureau approves or rejects a change request (once)."""
    from .services.schoolyear import plan_changes

    try:
        change = plan_changes.decide_change(db.session, acting_as(username), change_id, verdict,
                                            clock.now(), comment=comment)
    except DomainError as exc:
        _fail(exc, as_json)
    click.echo(json.dumps(plan_changes.change_dict(change), ensure_ascii=False) if as_json
               else f"变更申请 #{change.id}：{'已同意' if change.status == 'approved' else '不同意'}")


def attach(group: click.Group) -> None:
    group.add_command(plan_group)
