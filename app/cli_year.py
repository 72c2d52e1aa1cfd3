"""``run.py year ...``: the school year's batches (graduation, promotion, enrollment).  Other
modules attach their commands with an ``attach(group)`` function (``app.cli_year_graduation``)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from .cli_common import acting_as, attach_modules


@click.group("year")
def year_group() -> None:
    """The school year: graduation, promotion, enrollment."""


@year_group.command("promote")
@click.option("--node", "node_code", required=True, help="The bureau's 6-digit division code.")
@click.option("--dry-run", is_flag=True, help="Only list the blockers and what would move.")
@click.option("--undo", "undo_run", default=None, help="Undo this run (its number).")
@click.option("--as", "username", default=None, help="Act as this account (its jurisdiction).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def promote_command(node_code, dry_run, undo_run, username, as_json) -> None:
    """The promotion batch (升级) of a node: every in-school student up one grade with the class."""
    from . import clock
    from .errors import DomainError
    from .extensions import db
    from .services.schoolyear import promotion

    actor = acting_as(username)
    now = clock.now()
    try:
        if undo_run is not None:
            out = promotion.undo(db.session, actor, undo_run, now)
            _emit(out, as_json, f"已撤销升级批次 {out['run']}：恢复 {out['students_restored']} 名学生、"
                                f"{out['classes_restored']} 个班；升级后已离校的 {out['students_left']} "
                                f"名学生未恢复，{out['students_unseated']} 名新转入学生移出所在班级")
            return
        if dry_run:
            p = promotion.plan(db.session, actor, node_code, now)
            if as_json:
                click.echo(json.dumps(p.as_dict(), ensure_ascii=False))
            else:
                _print_plan(p)
            if not p.allowed:
                raise SystemExit(1)
            return
        outcome = promotion.promote(db.session, actor, node_code, now)
    except DomainError as exc:
        if as_json:
            click.echo(json.dumps(exc.as_json(), ensure_ascii=False))
            raise SystemExit(1) from None
        raise click.ClickException(str(exc)) from None
    run = outcome.run
    if outcome.already:
        text = f"升级批次 {run.id} 已于 {run.finished_at:%Y-%m-%d %H:%M} 完成，本次未移动任何学生"
    else:
        text = (f"升级批次 {run.id}（{run.node_code}，{run.school_year}学年）{_STATUS[run.status]}："
                f"本次 {outcome.schools_now} 所学校、{outcome.students_now} 名学生；"
                f"合计升级 {run.students_moved} 名学生、{run.classes_moved} 个班，"
                f"{run.held_back} 名留级学生留在原年级")
    _emit({**promotion.run_dict(run), "already": outcome.already,
           "schools_now": outcome.schools_now, "students_now": outcome.students_now},
          as_json, text)


_STATUS = {"running": "进行中", "done": "已完成", "undone": "已撤销"}


def _emit(data: dict, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


def _print_plan(p) -> None:
    click.echo(f"{p.node_name}（{p.node_code}）{p.school_year}学年升级预览："
               f"{'可以执行' if p.allowed else '不能执行'}")
    for problem in p.problems:
        where = f"（{problem.source}）" if getattr(problem, "source", None) else ""
        click.echo(f"  ✗ {problem.message}{where}")
    b = p.blockers
    if b.open_total:
        click.echo(f"未办结业务 {b.open_total} 件：")
        for r in b.open_requests:
            click.echo(f"  #{r['id']} {r['school']} {r['student']} {r['kind']}")
    if b.final_total:
        click.echo(f"毕业年级仍在校 {b.final_total} 人（毕业未办完）：")
        for r in b.final_grades:
            click.echo(f"  {r['school']} {r['grade']}：{r['students']} 人")
    if b.any and p.carry_over:
        click.echo(f"规则允许带着以上情况升级（{p.carry_over_source}）")
    for s in p.schools:
        state = "已升级" if s["done"] else f"升级 {s['students']} 名学生、{s['classes']} 个班，留级 {s['held_back']} 名"
        click.echo(f"  {s['code']} {s['name']}：{state}")
    click.echo(f"合计待升级 {p.students} 名学生")


attach_modules(year_group, "app.cli_year_plan")
attach_modules(year_group, "app.cli_year_graduation", "app.cli_year_admissions")
