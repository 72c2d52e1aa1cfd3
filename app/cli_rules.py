"""`python run.py rules ...`: check rule files, explain a decision, activate a rule set, its history."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from . import clock
from .extensions import db
from .policy import ACTIONS, STAGES, Facts, RuleSetInvalid, evaluate, load_dir, read_dir


@click.group("rules")
def rules_group() -> None:
    """Policy rule files (rules/*.yaml)."""


@rules_group.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def rules_check(directory: str | None, as_json: bool) -> None:
    """Validate every rule file of DIRECTORY (default: rules/); exits non-zero on any problem."""
    from config import Config

    directory = directory or Config.RULES_DIR
    try:
        ruleset = load_dir(directory)
    except RuleSetInvalid as exc:
        if as_json:
            click.echo(json.dumps({"valid": False, "problems": [p.as_dict() | {"text": str(p)}
                                                                 for p in exc.problems]},
                                  ensure_ascii=False, indent=2))
        else:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(exc.problems)} problem(s); the rule set is refused", err=True)
        sys.exit(1)
    files = [f.name for f in ruleset.files]
    if as_json:
        click.echo(json.dumps({"valid": True, "files": files, "digest": ruleset.digest}))
    else:
        click.echo(f"OK: {len(files)} file(s) valid: {', '.join(files)}")


def _facts_help() -> str:
    return "Action: " + ", ".join(ACTIONS)


@rules_group.command("explain", help="Print the decision the rules make for a case.\n\n"
                     "With TOPIC (promotion, graduate, complete): the rules of that school-year "
                     "business at --node (or --school): windows, freezes, conditions, the "
                     "carry-over switch and the chain, each with its file:line; exports: which exports "
                     "need a supervisor's approval there.\n\n" + _facts_help())
@click.argument("topic", required=False, type=click.Choice(["promotion", "graduate", "complete", "exports"]))
@click.option("--node", "node_code", help="TOPIC: a 6-digit division or 10-digit school code.")
@click.option("--school", "school_code", help="10-digit school code.")
@click.option("--action", type=click.Choice(list(ACTIONS)))
@click.option("--stage", type=click.Choice(list(STAGES)), help="Default: the school's first stage.")
@click.option("--at", "at", help="ISO date-time (default: now, or XUEJI_FIXED_NOW).")
@click.option("--status", default="in_school", show_default=True)
@click.option("--field", "fields", multiple=True, help="Changed field (edit_field); repeatable.")
@click.option("--class-size", type=int, help="Students already in the target class.")
@click.option("--birth-date", help="ISO date (register_new: the entry-age rule).")
@click.option("--registry-kind", type=click.Choice(["L", "G", "J"]))
@click.option("--variant", type=click.Choice(["same_county", "same_city", "cross_province"]))
@click.option("--phase", type=click.Choice(["start", "step"]), default="start", show_default=True)
@click.option("--open-request", type=click.Choice(["pending", "returned", "awaiting_pull"]),
              help="edit_field: the status of a request open on the student (under review).")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False),
              help="Evaluate a draft rule directory instead of the rules in force.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rules_explain(topic, node_code, school_code, action, stage, at, status, fields, class_size,
                  birth_date, registry_kind, variant, phase, open_request, rules_dir, as_json) -> None:
    from .models import School
    from .services.policy import rulesets as policy

    if topic == "exports":
        from .cli_rules_year import explain_exports

        explain_exports(node_code or school_code, rules_dir, as_json)
        return
    if topic is not None:
        from .cli_rules_year import explain_topic

        explain_topic(topic, node_code or school_code, stage, at, rules_dir, as_json)
        return
    if not school_code or not action:
        raise click.UsageError("--school and --action are needed (or a TOPIC)")
    school = db.session.scalar(select(School).where(School.code == school_code))
    if school is None:
        raise click.ClickException(f"no school {school_code}")
    try:
        ruleset = load_dir(rules_dir) if rules_dir else policy.current(db.session)
    except RuleSetInvalid as exc:
        raise click.ClickException(f"the rule set is invalid:\n{exc}") from None
    when = datetime.fromisoformat(at) if at else clock.now()
    facts = Facts(action=action, at=when, codes=policy.codes_of(school),
                  stage=stage or school.stage_list[0], status=status, phase=phase,
                  changed_fields=tuple(fields), class_size=class_size,
                  birth_date=date.fromisoformat(birth_date) if birth_date else None,
                  registry_kind=registry_kind, variant=variant, open_request=open_request)
    decision = evaluate(ruleset, facts)
    waiting = _waiting(ruleset, facts, decision)
    if as_json:
        click.echo(json.dumps(decision.as_dict() | waiting, ensure_ascii=False, indent=2))
        return
    click.echo(f"{school.name} ({school.code}) · {ACTIONS[action][0]} ({action}) · {when:%Y-%m-%d %H:%M}"
               f" · rule set {'v%s' % ruleset.version if ruleset.version else rules_dir or 'files'}")
    click.echo("ALLOWED" if decision.allowed else "REFUSED")
    for v in decision.violations:
        click.echo(f"  ✗ [{v.code}] {v.message}  ({v.source or 'built-in'})")
    for note in decision.notes:
        click.echo(f"  · {note}")
    for n, step in enumerate(decision.approval_chain, start=1):
        click.echo(f"  {n}. {step.label} ({step.role}@{step.level}, {step.days} 个工作日)  {step.source}")
    _echo_waiting(waiting)


def _waiting(ruleset, facts, decision) -> dict:
    """Whether a refused filing may queue for its window, and how overdue steps escalate."""
    from .policy.deferral import escalation_for, queue_option, queue_policy, window_lines

    eff = ruleset.effective(*facts.codes)
    rule = escalation_for(eff, facts.action)
    return {"queue": queue_policy(eff, facts.action).as_dict()
            | {"windows": list(window_lines(eff, facts.action, facts.codes))}
            | {"now": queue_option(ruleset, facts, decision).as_dict()},
            "escalation": rule.as_dict() if rule else None}


def _echo_waiting(waiting: dict) -> None:
    queue, now, rule = waiting["queue"], waiting["queue"]["now"], waiting["escalation"]
    if not queue["applies"]:
        click.echo("  排队 queue: 不适用（该业务没有办理时间限制）")
    elif not queue["allowed"]:
        click.echo(f"  排队 queue: 不允许  {queue['source']}")
    else:
        where = ", ".join(queue["windows"]) + (f"; {queue['source']}" if queue["source"] else "")
        state = (f"可以排队，{now['opens_on']} 开放时自动提交" if now["possible"]
                 else f"此刻不需要或不能排队：{now['reason']}")
        click.echo(f"  排队 queue: 窗口关闭时可排队等待（{state}）  {where}")
    if rule is None:
        click.echo("  强制干预 escalation: 无")
    else:
        click.echo(f"  强制干预 escalation: {rule['label']}（after_days={rule['after_days']}, "
                   f"to={rule['to']}）  {rule['source']}")


@rules_group.command("activate")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--note", default=None, help="Why (kept in the history).")
@with_appcontext
def rules_activate(directory: str | None, note: str | None) -> None:
    """Make the files of DIRECTORY (default: rules/) the rules in force, as a new version."""
    from .services.policy import rulesets as policy

    directory = directory or current_app.config["RULES_DIR"]
    try:
        row = policy.activate(db.session, read_dir(directory), by="cli", note=note)
    except RuleSetInvalid as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("the rule set is refused; the rules in force stay in force")
    click.echo("unchanged: these files are already in force" if row is None
               else f"rule set v{row.id} is in force ({', '.join(row.changed or [])})")


@rules_group.command("history")
@with_appcontext
def rules_history() -> None:
    """Every activated rule-set version: who, when, which files changed."""
    from .models import RuleSetVersion

    for row in db.session.scalars(select(RuleSetVersion).order_by(RuleSetVersion.id.desc())):
        click.echo(f"v{row.id}  {row.created_at:%Y-%m-%d %H:%M}  {row.created_by:<20} "
                   f"{', '.join(row.changed or [])}  {row.note or ''}")
