"""``run.py rules explain promotion|graduate|complete [--node CODE] [--stage S] [--at ISO]``: the
rules of a school-year business at one node (a division or a school), each with its file:line --
windows, freezes, graduation conditions, the promotion's carry-over switch, the approval chain --
and whether the rules allow it at that moment."""

from __future__ import annotations

import json
from datetime import datetime

import click
from sqlalchemy import select

from . import clock
from .extensions import db
from .policy import Facts, RuleSetInvalid, evaluate, load_dir
from .policy.explain import TOPICS, business_rules
from .policy.exports import WHOLE, export_rules
from .policy.ruleset import level_of_code, parent_codes
from .policy.vocab import FINAL_GRADE, STAGE_ZH


def _codes(code: str | None) -> tuple[tuple[str, ...], str]:
    """The jurisdiction chain of a division or school code, and how to name it."""
    from .models import School
    from .services.policy import rulesets as policy

    if not code:
        return (), "全国基线"
    if len(code) == 10 and code.isdigit():
        school = db.session.scalar(select(School).where(School.code == code))
        if school is None:
            raise click.ClickException(f"no school {code}")
        return policy.codes_of(school), f"{school.name}（{code}）"
    if level_of_code(code) is None:
        raise click.ClickException(f"{code} is neither a 6-digit division nor a 10-digit school code")
    return tuple(parent_codes(code)) + (code,), code


def _ruleset(rules_dir: str | None):
    from .services.policy import rulesets as policy

    try:
        return load_dir(rules_dir) if rules_dir else policy.current(db.session)
    except RuleSetInvalid as exc:
        raise click.ClickException(f"the rule set is invalid:\n{exc}") from None


def explain_exports(code: str | None, rules_dir: str | None, as_json: bool) -> None:
    """``rules explain exports --node CODE``: the export threshold there, each with its file:line."""
    codes, where = _codes(code)
    rules = export_rules(_ruleset(rules_dir).effective(*codes))
    if as_json:
        click.echo(json.dumps({"node": code, **rules}, ensure_ascii=False, indent=2))
        return
    rows = rules["approval_over_rows"]
    click.echo(f"{where} · 导出审批 exports")
    click.echo(f"  超过 {rows['value']} 名须审批  {rows['source']}" if rows else "  人数不限 no row limit")
    for scope in rules["approval_scopes"]:
        click.echo(f"  导出{WHOLE[scope['level']]}须审批  {scope['source']}")
    window = rules["approval_window_hours"]
    if window and window["value"]:
        click.echo(f"  本账号 {window['value']} 小时内已导出的人数一并计入  {window['source']}")


def explain_topic(topic: str, code: str | None, stage: str | None, at: str | None,
                  rules_dir: str | None, as_json: bool) -> None:
    ruleset = _ruleset(rules_dir)
    codes, where = _codes(code)
    when = datetime.fromisoformat(at) if at else clock.now()
    action = TOPICS[topic]
    stages = [stage] if stage or action == "promote" else list(FINAL_GRADE)
    eff = ruleset.effective(*codes)
    out = []
    for s in stages:
        rules = business_rules(eff, action, codes, s, when)
        facts = Facts(action, when, codes, stage=s, status="in_school",
                      grade=FINAL_GRADE.get(s or ""))
        rules["decision"] = evaluate(ruleset, facts).as_dict()
        out.append(rules)
    if as_json:
        click.echo(json.dumps({"node": code, "at": when.isoformat(), "rules": out},
                              ensure_ascii=False, indent=2))
        return
    for rules in out:
        _print(rules, where, when)


def _print(r: dict, where: str, when: datetime) -> None:
    stage = f" · {STAGE_ZH.get(r['stage'], r['stage'])}" if r["stage"] else ""
    d = r["decision"]
    click.echo(f"{where} · {r['label']} ({r['action']}){stage} · {when:%Y-%m-%d %H:%M}: "
               f"{'ALLOWED 可以办理' if d['allowed'] else 'REFUSED 不能办理'}")
    for v in d["violations"]:
        click.echo(f"  ✗ [{v['code']}] {v['message']}  ({v['source'] or 'built-in'})")
    click.echo(f"  办理时间 window ({r['business_label']}):")
    for w in r["windows"] or [{"dates": "不限", "source": "—"}]:
        click.echo(f"    {w['dates']}  {w['source']}")
    click.echo("  暂停办理 freezes:")
    for f in r["freezes"] or [{"dates": "无", "final_grade": False, "reason": None, "source": "—"}]:
        only = "（仅毕业年级学生）" if f["final_grade"] else ""
        click.echo(f"    {f['dates']}{only} {f['reason'] or ''}  {f['source']}")
    if "conditions" in r:
        click.echo(f"  毕业条件 conditions: {r['conditions_text'] or '规则未另设'}")
    if "carry_over" in r:
        c = r["carry_over"]
        click.echo(f"  带着未办结业务升级 carry-over: {'允许' if c['value'] else '不允许（须先办结）'}"
                   f"  {c['source'] or 'built-in'}")
    click.echo("  审批 chain:" + ("" if r["chain"] else " 学校直接办理，无需审批"))
    for n, step in enumerate(r["chain"], start=1):
        click.echo(f"    {n}. {step['label']} ({step['role']}@{step['level']}, {step['days']} 个工作日)"
                   f"  {step['source']}")
