"""Facts in, decision out: is the action allowed, every reason it is not, and who must approve.

The engine never reads the clock or a database: callers gather the facts (the time included).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from ..fields import STUDENT_FIELD_BY_NAME
from .ruleset import Effective, RuleSet, Sourced
from .schema import Range
from .vocab import (
    ACTION_SWITCH,
    ACTIONS,
    BUSINESSES,
    CAMPAIGN_SWITCHES,
    FINAL_GRADE,
    LEVEL_ZH,
    ROLE_ZH,
    STAGE_ZH,
    STEP_LEVEL_ZH,
)

# actions a problem record may still take (the ones that resolve it)
PROBLEM_RECORD_MAY = frozenset({"change_field", "delete_record", "edit_field"})
# actions refused while other business is in progress (national error code 2002)
EXCLUSIVE = frozenset({"transfer", "suspend", "resume", "repeat", "skip", "dropout", "withdraw",
                       "expel", "abroad", "death", "graduate", "complete", "change_field",
                       "enroll_cross_province"})


@dataclass(frozen=True)
class Facts:
    """Everything the engine may know about one proposed action."""

    action: str
    at: datetime
    codes: tuple[str, ...] = ()  # the school's jurisdiction chain: province, city, county codes
    stage: str | None = None
    status: str | None = None
    phase: str = "start"  # start: a new request; step: approving one already started
    actor_role: str | None = None  # registrar / supervisor / sysadmin
    actor_level: str | None = None  # province / city / county / school
    changed_fields: tuple[str, ...] = ()
    class_size: int | None = None  # students already in the target class
    adding: int = 1
    registry_kind: str | None = None  # L / G / J
    problem_record: bool = False
    business_in_progress: bool = False
    birth_date: date | None = None
    grade: int | None = None
    variant: str | None = None  # transfers: same_county / same_city / cross_province
    registered: bool = True  # before registration review ends, the school may still correct items
    open_request: str | None = None  # status of the request open on the student (pending, returned...)
    open_request_ref: str = ""  # how users name that request: number, kind, where it stands
    campaign: str = ""  # the open data-quality campaign covering the school, as users name it


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    source: str | None = None
    field: str | None = None

    def as_dict(self) -> dict:
        out = {"code": self.code, "message": self.message, "source": self.source}
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass(frozen=True)
class ChainStep:
    role: str
    level: str
    days: int
    source: str

    @property
    def label(self) -> str:
        return f"{STEP_LEVEL_ZH[self.level]}{ROLE_ZH[self.role]}"

    def as_dict(self) -> dict:
        return {"role": self.role, "level": self.level, "days": self.days, "source": self.source,
                "label": self.label}


@dataclass(frozen=True)
class Decision:
    action: str
    allowed: bool
    violations: tuple[Violation, ...] = ()
    approval_chain: tuple[ChainStep, ...] = ()
    rule_version: int | None = None
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {"action": self.action, "allowed": self.allowed,
                "violations": [v.as_dict() for v in self.violations],
                "approval_chain": [s.as_dict() for s in self.approval_chain],
                "rule_version": self.rule_version, "notes": list(self.notes)}


def evaluate(ruleset: RuleSet, facts: Facts) -> Decision:
    """The decision for ``facts`` under ``ruleset``: every violation at once, and the chain."""
    if facts.action not in ACTIONS:
        v = Violation("unknown_action", f"未知业务 {facts.action!r}")
        return Decision(facts.action, False, (v,), rule_version=ruleset.version)
    eff = ruleset.effective(*facts.codes)
    violations: list[Violation] = []
    notes: list[str] = []
    for check in (_stage, _status, _switch, _formal_delete, _controlled, _class_cap):
        violations += check(eff, facts)
    violations += _under_review(eff, facts, notes)
    if facts.phase == "start":
        violations += _window(eff, facts)
    violations = _campaign(facts, violations, notes)
    exception = _entry_age(eff, facts, violations, notes)
    _carry_over(eff, facts, notes)
    _conditions_note(eff, facts, notes)
    # an exception path replaces the usual chain; the lower levels' extra steps still apply
    chain = exception + _extra(eff, facts) if exception else _chain(eff, facts)
    return Decision(facts.action, not violations, tuple(violations), tuple(chain),
                    ruleset.version, tuple(notes))


# -- checks: each returns the violations it finds --------------------------------------------

def _stage(eff: Effective, f: Facts) -> list[Violation]:
    action = eff.actions.get(f.action)
    if action is None or f.stage is None:
        return []
    rule = action.allowed.get(f.stage)
    if rule is not None and rule.value is False:
        return [Violation("stage_not_allowed", f"{STAGE_ZH[f.stage]}阶段不允许办理"
                                               f"{ACTIONS[f.action][0]}", str(rule.source))]
    return []


def _status(eff: Effective, f: Facts) -> list[Violation]:
    out = []
    action = eff.actions.get(f.action)
    need = action.requires_status if action else None
    if need is not None and f.status is not None and f.status not in need.value:
        out.append(Violation("status_not_allowed", f"学生当前学籍状态不能办理{ACTIONS[f.action][0]}"
                                                   f"（须为 {', '.join(need.value)}）", str(need.source)))
    if f.problem_record and f.action not in PROBLEM_RECORD_MAY:
        out.append(Violation("problem_record", "问题学籍不能办理其他业务，须先处理问题学籍（2003）"))
    if f.business_in_progress and f.action in EXCLUSIVE and f.phase == "start":
        out.append(Violation("business_in_progress", "该学生有在办业务，须办结后再申请（2002）"))
    return out


def _switch(eff: Effective, f: Facts) -> list[Violation]:
    name = ACTION_SWITCH.get(f.action)
    if name is None or name == "delete_formal_record" or (f.campaign and name in CAMPAIGN_SWITCHES):
        return []  # (an open campaign turns its switches on: see _campaign)
    switch = eff.switches.get(name)
    if switch is not None and switch.value is False:
        return [Violation("switch_off", f"{ACTIONS[f.action][0]}功能未开放", str(switch.source))]
    return []


def _formal_delete(eff: Effective, f: Facts) -> list[Violation]:
    if f.action != "delete_record" or f.registry_kind not in ("G", "J"):
        return []
    switch = eff.switches.get("delete_formal_record")
    if switch is None or switch.value is False:
        where = str(switch.source) if switch else None
        return [Violation("formal_record_delete", "已有正式学籍号的学籍不能删除，须经省级核准", where)]
    return []


def _controlled(eff: Effective, f: Facts) -> list[Violation]:
    if f.action != "edit_field" or not f.registered:
        return []
    return [Violation("controlled_field", f"“{_header(name)}”是受控字段，不能直接修改，"
                                          "请通过“申请变更”办理", str(eff.controlled[name]), name)
            for name in f.changed_fields if name in eff.controlled]


def _under_review(eff: Effective, f: Facts, notes: list[str]) -> list[Violation]:
    """A record whose request waits for a decision is not edited behind the reviewer's back: the
    reviewer returns it, and the returned record is corrected (unless a province switches it on)."""
    if f.action != "edit_field" or f.open_request in (None, "returned"):
        return []
    switch = eff.switches.get("edit_under_review")
    if switch is not None and switch.value is True:
        notes.append(f"审批期间允许直接修改学籍（{switch.source}）")
        return []
    which = f"（{f.open_request_ref}）" if f.open_request_ref else ""
    return [Violation("under_review", f"该学生有正在审批的业务{which}，审批期间不能直接修改学籍；"
                                      "如需更正，请审批人退回后再修改",
                      str(switch.source) if switch else None)]


def _header(name: str) -> str:
    spec = STUDENT_FIELD_BY_NAME.get(name)
    return spec.header if spec else name


def _class_cap(eff: Effective, f: Facts) -> list[Violation]:
    if f.class_size is None or f.stage is None:
        return []
    cap = eff.caps.get(f.stage)
    if cap is None or f.class_size + f.adding <= cap.value:
        return []
    return [Violation("class_full", f"班级已满：{STAGE_ZH[f.stage]}班额上限 {cap.value} 人，"
                                    f"现有 {f.class_size} 人", str(cap.source), "school_class")]


def _applies(r: Range, codes: tuple[str, ...]) -> bool:
    return not r.regions or any(c.startswith(region) for region in r.regions for c in codes if c)


def _inside(r: Range, day: date) -> bool:
    if r.yearly:
        md = f"{day.month:02d}-{day.day:02d}"  # as strftime("%m-%d"), a fraction of its cost
        return r.start <= md <= r.end
    return r.start <= day <= r.end


def _dates(r: Range) -> str:
    return f"每年 {r.start} 至 {r.end}" if r.yearly else f"{r.start} 至 {r.end}"


def _window(eff: Effective, f: Facts) -> list[Violation]:
    business = ACTIONS[f.action][1]
    if business is None:
        return []
    day = f.at.date()
    out = []
    opened_by_campaign = f.campaign and ACTION_SWITCH.get(f.action) in CAMPAIGN_SWITCHES
    for layer in [] if opened_by_campaign else eff.windows.get(business, []):
        ranges = [s for s in layer if _applies(s.value, f.codes)]
        if ranges and not any(_inside(s.value, day) for s in ranges):
            opened = "；".join(_dates(s.value) for s in ranges)
            out.append(Violation("outside_window", f"{BUSINESSES[business]}办理时间为 {opened}，"
                                                   f"{day} 不在其内", str(ranges[0].source)))
    for s in eff.freezes.get(business, []):
        if _applies(s.value, f.codes) and _inside(s.value, day) and _graduating_if(s.value, f):
            why = f"（{s.value.reason}）" if s.value.reason else ""
            out.append(Violation("frozen", f"{BUSINESSES[business]}暂停办理：{_dates(s.value)}{why}；"
                                           "此前已发起的业务可以继续办结", str(s.source)))
    return out


def _campaign(f: Facts, violations: list[Violation], notes: list[str]) -> list[Violation]:
    """数据质量核查: an open campaign covering the school stands for the switch and the window of
    its businesses; without one, a refusal by either says so (the rule file's line stays cited)."""
    if ACTION_SWITCH.get(f.action) not in CAMPAIGN_SWITCHES:
        return violations
    if f.campaign:
        notes.append(f"{f.campaign}进行中：本校可办理{ACTIONS[f.action][0]}")
        return violations
    return [replace(v, message=f"{v.message}；本校不在进行中的数据质量核查活动范围内")
            if v.code in ("switch_off", "outside_window") else v for v in violations]


def _graduating_if(r: Range, f: Facts) -> bool:
    """A freeze for graduating students holds only for a student of a stage's final grade."""
    return not r.final_grade or (f.grade is not None and FINAL_GRADE.get(f.stage) == f.grade)


def _entry_age(eff: Effective, f: Facts, violations: list[Violation],
               notes: list[str]) -> list[ChainStep]:
    rule = eff.switches.get("entry_age")
    if f.action != "register_new" or rule is None or f.birth_date is None or f.phase != "start":
        return []
    age, cutoff = rule.value.age, rule.value.cutoff
    month, day = (int(x) for x in cutoff.split("-"))
    deadline = date(school_year_start(f.at), month, day)
    born = f.birth_date
    if (born.year + age, born.month, born.day) <= (deadline.year, deadline.month, deadline.day):
        return []
    if rule.value.exception_chain:
        notes.append(f"未满 {age} 周岁（截止 {deadline}），按例外程序审批")
        return [ChainStep(s.role, s.level, s.days, str(rule.source))
                for s in rule.value.exception_chain]
    violations.append(Violation("entry_age", f"小学一年级新生须在 {deadline} 前年满 {age} 周岁",
                                str(rule.source), "birth_date"))
    return []


def _carry_over(eff: Effective, f: Facts, notes: list[str]) -> None:
    """升级: whether open business and an unfinished graduation block the batch or are carried over."""
    if f.action != "promote":
        return
    switch = eff.switches.get("promotion_carry_over")
    where = f"（{switch.source}）" if switch else ""
    if switch is not None and switch.value is True:
        notes.append(f"规则允许带着未办结的业务和未毕业的毕业年级学生升级{where}")
    else:
        notes.append(f"升级前须办结辖区内学生的在办业务并完成毕业，否则拒绝执行{where}")


def graduation_conditions(eff: Effective, stage: str | None) -> dict[str, str]:
    """毕业条件 of a stage: {record item a graduate must have: the rule's file:line}."""
    action = eff.actions.get("graduate")
    if action is None or stage is None:
        return {}
    return {name: str(source) for name, source in action.conditions.get(stage, {}).items()}


def conditions_text(required: dict[str, str]) -> str:
    """The conditions as one line: each item's header, then where each was required."""
    items = "、".join(_header(n) for n in required)
    return f"须有 {items}（{'，'.join(dict.fromkeys(required.values()))}）"


def _conditions_note(eff: Effective, f: Facts, notes: list[str]) -> None:
    if f.action not in ("graduate", "complete"):
        return
    required = graduation_conditions(eff, f.stage)
    stage = STAGE_ZH.get(f.stage or "", "")
    if required:
        notes.append(f"{stage}毕业条件：{conditions_text(required)}；不满足者不能毕业，可办理结业")
    elif f.action == "graduate":
        notes.append(f"{stage}毕业条件：规则未另设（在校、无在办业务、非问题学籍即可毕业）")


def school_year_start(at: datetime) -> int:
    """The year the school year of ``at`` begins (registration from July counts for September)."""
    return at.year if at.month >= 7 else at.year - 1


def _steps(steps: tuple[Sourced, ...] | None) -> list[ChainStep]:
    return [ChainStep(s.value.role, s.value.level, s.value.days, str(s.source))
            for s in steps or ()]


def _chain(eff: Effective, f: Facts) -> list[ChainStep]:
    action = eff.actions.get(f.action)
    if action is None:
        return []
    base = (action.variants.get(f.variant) if f.variant else None) \
        or (action.stage_chain.get(f.stage) if f.stage else None) or action.chain
    return _steps(base) + _extra(eff, f)


def _extra(eff: Effective, f: Facts) -> list[ChainStep]:
    action = eff.actions.get(f.action)
    return _steps(tuple(action.extra)) if action else []


def level_label(level: str) -> str:
    return LEVEL_ZH.get(level, level)
