"""Enrollment plans (招生计划): a bureau's registrar sets each school's plan for a school year and
entry grade (the new classes with their names and caps, and the planned seats) and applies it,
which creates the grade and the classes the admission import fills (a school's change requests
are in ``plan_changes``).

Setting a plan and asking for a change are gated by the rules' ``enrollment_plan`` window; a
class's cap never exceeds the rules' cap for the stage (the refusal cites the rule's file:line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, Problem, ValidationFailed
from ...i18n import t
from ...models import (
    AuditEvent,
    EnrollmentPlan,
    EnrollmentPlanClass,
    School,
)
from ...models.enrollment import ENTRY_GRADES
from ...models.school import GRADE_NAMES
from ...policy.vocab import STAGE_ZH
from ..common.actors import Actor
from ..common.transaction import transaction
from ..policy.rulesets import effective_for, facts, require

SET, CHANGE = "plan_enrollment", "change_enrollment_plan"  # the engine's actions (window enrollment_plan)
MAX_CLASSES = 60


@dataclass(frozen=True)
class PlannedClass:
    name: str
    cap: int


def default_names(year: int, grade: int, count: int) -> list[str]:
    """Class names as the demo's: 2027级一年级1班 ... (stable when the class moves up)."""
    return [f"{year}级{GRADE_NAMES[grade]}{n}班" for n in range(1, count + 1)]


def entry_grades(school: School) -> dict[int, str]:
    """The entry grades a school plans, by the stages it teaches: {1: "primary", 7: "junior", ...}."""
    return {g: s for s, g in ENTRY_GRADES.items() if s in school.stage_list}


# -- who, where --------------------------------------------------------------------------------

def require_bureau_registrar(actor: Actor) -> None:
    """Plans are set, applied and decided by a bureau's registrar (the system from the CLI)."""
    if actor.is_system:
        return
    actor.require("EnrollmentPlan", "edit")
    if actor.scope.level not in ("province", "city", "county"):
        raise Forbidden(t("招生计划由学校的主管教育部门学籍管理员核定",
                          "a bureau's registrar sets enrollment plans"))


def school_in_scope(session: Session, actor: Actor, code: str) -> School:
    """The school ``code`` inside the actor's jurisdiction, else NotFound."""
    code = (code or "").strip()
    return actor.find(session, School, t("学校不存在或不在本辖区", "no such school in your jurisdiction"),
                      School.code == code, field="school")


def plan_in_scope(session: Session, actor: Actor, plan_id, *, lock: bool = False) -> EnrollmentPlan:
    return actor.fetch(session, EnrollmentPlan, whole(plan_id, "plan"),
                       t("招生计划不存在或不在本辖区", "no such enrollment plan in your jurisdiction"),
                       field="plan", lock=lock)


def find_plan(session: Session, actor: Actor, school_code: str, year: int, grade: int
              ) -> EnrollmentPlan | None:
    """The plan of a school in the actor's jurisdiction for a year and grade, None if none yet."""
    school = school_in_scope(session, actor, school_code)
    return session.scalar(select(EnrollmentPlan).where(
        EnrollmentPlan.school_id == school.id, EnrollmentPlan.school_year == int(year),
        EnrollmentPlan.grade == int(grade)))


def whole(value, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(t("须为整数", "must be a whole number"), field) from None


# -- what a plan may hold ----------------------------------------------------------------------

def _classes(raw) -> list[PlannedClass]:
    out = []
    for item in raw or []:
        if isinstance(item, PlannedClass):
            out.append(item)
            continue
        if not isinstance(item, dict):
            raise ValidationFailed(t("班级须写为 {name, cap}", "each class is {name, cap}"), "classes")
        cap = item.get("cap")
        if isinstance(cap, bool) or not isinstance(cap, int):
            cap = whole(cap, "classes")
        out.append(PlannedClass(str(item.get("name") or "").strip(), cap))
    return out


def check(session: Session, school: School, year, grade, classes, seats) -> tuple[str, list[PlannedClass], int]:
    """The stage, the classes and the seats of a plan, or ValidationFailed naming every problem
    (a cap above the rules' cap names the rule's file:line)."""
    year, grade, seats = whole(year, "school_year"), whole(grade, "grade"), whole(seats, "seats")
    planned, problems = _classes(classes), []
    grades = entry_grades(school)
    if not 2000 <= year <= 2100:
        problems.append(Problem(t("学年须为 2000 至 2100 之间的年份", "the school year is a year"),
                                "school_year"))
    if grade not in grades:
        problems.append(Problem(t(f"{school.name}不招收{GRADE_NAMES.get(grade, grade)}新生（入学年级："
                                  f"{'、'.join(GRADE_NAMES[g] for g in grades) or '无'}）",
                                  f"{school.name} does not enroll into grade {grade}"), "grade"))
    if not planned or len(planned) > MAX_CLASSES:
        problems.append(Problem(t(f"须计划 1 至 {MAX_CLASSES} 个新班", f"plan 1 to {MAX_CLASSES} classes"),
                                "classes"))
    problems += _class_problems(session, school, grades.get(grade), planned)
    if seats < 0 or seats > sum(max(c.cap, 0) for c in planned):
        problems.append(Problem(t(f"计划招生人数 {seats} 须在 0 至各班班额之和"
                                  f"（{sum(max(c.cap, 0) for c in planned)}）之间",
                                  "the seats must lie between 0 and the classes' caps together"),
                                "seats"))
    if problems:
        raise ValidationFailed(problems)
    return grades[grade], planned, seats


def _class_problems(session: Session, school: School, stage: str | None,
                    planned: list[PlannedClass]) -> list[Problem]:
    out, seen = [], set()
    rule = effective_for(session, school).caps.get(stage) if stage else None
    for n, c in enumerate(planned, start=1):
        if not c.name or len(c.name) > 40:
            out.append(Problem(t(f"第 {n} 个班：班级名称须为 1 至 40 个字", f"class {n}: name of 1-40 characters"),
                               "classes"))
        elif c.name in seen:
            out.append(Problem(t(f"班级名称“{c.name}”重复", f"class name {c.name} twice"), "classes"))
        seen.add(c.name)
        if c.cap <= 0:
            out.append(Problem(t(f"{c.name or n}：班额须大于 0", f"{c.name}: the cap must be above 0"),
                               "classes"))
        elif rule is not None and c.cap > rule.value:
            out.append(Problem(t(f"{c.name}：班额 {c.cap} 人超过{STAGE_ZH[stage]}班额上限 {rule.value} 人",
                                 f"{c.name}: cap {c.cap} exceeds the {stage} class cap {rule.value}"),
                               "classes", "class_cap", str(rule.source)))
    return out


def gate(session: Session, action: str, school: School, stage: str, now: datetime) -> int | None:
    """The rules' decision (the enrollment_plan window), or RuleViolation citing its file:line."""
    return require(session, facts(action, now, school, stage=stage)).rule_version


# -- setting ------------------------------------------------------------------------------------

def set_plan(session: Session, actor: Actor, *, school_code: str, school_year, grade, classes,
             seats, now: datetime) -> EnrollmentPlan:
    """Create or replace a school's plan for a year and entry grade (a bureau's registrar, inside
    the rules' window).  Classes already created keep their names and may not be dropped."""
    require_bureau_registrar(actor)
    try:
        return _set_plan(session, actor, school_code, school_year, grade, classes, seats, now)
    except IntegrityError:  # the same plan created by someone else at this very moment
        raise Conflict(t("该计划刚被他人核定，请刷新后再改", "someone else set this plan just now; reload"),
                       "plan") from None


def _set_plan(session, actor, school_code, school_year, grade, classes, seats, now) -> EnrollmentPlan:
    with transaction(session):
        school = school_in_scope(session, actor, school_code)
        stage, planned, seats = check(session, school, school_year, grade, classes, seats)
        version = gate(session, SET, school, stage, now)
        plan = session.scalar(select(EnrollmentPlan).where(
            EnrollmentPlan.school_id == school.id, EnrollmentPlan.school_year == int(school_year),
            EnrollmentPlan.grade == int(grade)).with_for_update())
        before = plan_state(plan) if plan else None
        if plan is None:
            plan = EnrollmentPlan(school=school, school_id=school.id, school_year=int(school_year),
                                  grade=int(grade), stage=stage, seats=seats, version=1,
                                  set_by=actor.username, set_at=now, rule_version=version)
            plan.copy_chain_from(school)
            session.add(plan)
        else:
            plan.version, plan.set_by, plan.set_at = plan.version + 1, actor.username, now
            plan.seats, plan.rule_version = seats, version
        replace_classes(plan, planned)
        session.flush()
        audit(session, actor, "plan_set", plan, plan_items(before, plan),
              f"核定{school.name}{plan.school_year}年{GRADE_NAMES[plan.grade]}招生计划："
              f"{len(planned)} 个班、{seats} 人", version)
    return plan


def replace_classes(plan: EnrollmentPlan, planned: list[PlannedClass]) -> None:
    """The plan's classes become ``planned`` by number; a created class stays, under its name."""
    old = {c.number: c for c in plan.classes}
    for number, c in old.items():
        if c.class_id is None:
            continue
        if number > len(planned) or planned[number - 1].name != c.name:
            raise Conflict(t(f"“{c.name}”已按计划建班，不能从计划中删除或改名",
                             f"{c.name} has been created: it stays in the plan under its name"),
                           "classes")
    for number, wanted in enumerate(planned, start=1):
        row = old.pop(number, None)
        if row is None:
            plan.classes.append(EnrollmentPlanClass(number=number, name=wanted.name, cap=wanted.cap))
        else:
            row.name, row.cap = wanted.name, wanted.cap
    for row in old.values():
        plan.classes.remove(row)


# -- reading ------------------------------------------------------------------------------------

def plans(session: Session, actor: Actor, *, school_year: int | None = None,
          school_code: str | None = None) -> list[EnrollmentPlan]:
    """The plans the actor sees (a school: its own), by school code and grade."""
    actor.require("EnrollmentPlan", "read")
    q = (select(EnrollmentPlan).join(School, School.id == EnrollmentPlan.school_id)
         .where(actor.scope.clause(EnrollmentPlan)))
    if school_year is not None:
        q = q.where(EnrollmentPlan.school_year == school_year)
    if school_code:
        q = q.where(School.code == school_code.strip())
    return list(session.scalars(q.order_by(EnrollmentPlan.school_year.desc(), School.code,
                                           EnrollmentPlan.grade, EnrollmentPlan.id)))


def get_plan(session: Session, actor: Actor, plan_id) -> EnrollmentPlan:
    actor.require("EnrollmentPlan", "read")
    return plan_in_scope(session, actor, plan_id)


def schools_below(session: Session, actor: Actor) -> list[School]:
    """The schools a bureau plans for (those teaching a stage with an entry grade), by code."""
    return [s for s in session.scalars(select(School).where(actor.scope.clause(School))
                                       .order_by(School.code)) if entry_grades(s)]


def plan_dict(plan: EnrollmentPlan) -> dict:
    return {"id": plan.id, "school_id": plan.school_id, "school_year": plan.school_year,
            "grade": plan.grade, "stage": plan.stage, "seats": plan.seats, "version": plan.version,
            "classes": [{"number": c.number, "name": c.name, "cap": c.cap, "class_id": c.class_id}
                        for c in plan.classes],
            "set_by": plan.set_by, "set_at": iso(plan.set_at), "applied_at": iso(plan.applied_at)}


def iso(value) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def classes_text(classes) -> str:
    """Planned classes as a person reads them: 2027级一年级1班（40人）、..."""
    pairs = [(c["name"], c["cap"]) if isinstance(c, dict) else (c.name, c.cap) for c in classes]
    return "、".join(f"{name}（{cap}人）" for name, cap in pairs)


def plan_state(plan: EnrollmentPlan) -> dict:
    return {"plan_classes": classes_text(plan.classes), "seats": plan.seats}


def plan_items(before: dict | None, plan: EnrollmentPlan) -> dict:
    """An audit row's items for a plan set or changed: its classes and seats, before and after."""
    out: dict = {"school_year": {"new": plan.school_year},
                 "entry_grade": {"new": GRADE_NAMES[plan.grade]}}
    for item, value in plan_state(plan).items():
        out[item] = {"new": value} if before is None else {"old": before[item], "new": value}
    return out


def audit(session: Session, actor: Actor, action: str, plan: EnrollmentPlan, changes: dict,
           summary: str, rule_version: int | None) -> None:
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                           entity="enrollment_plan", entity_id=plan.id, school_id=plan.school_id,
                           changes=changes, summary=summary[:300], rule_version=rule_version))


def plan_year(now: datetime) -> int:
    """The school year plans are made for now: this September until August's end, then the next."""
    return now.year if now.month <= 8 else now.year + 1


def parse_specs(items) -> list[dict]:
    """Classes written as text, one per item or line: ``名称:班额`` (``:``, ``：`` or ``,``)."""
    out = []
    for line in (x.strip() for item in items or [] for x in str(item).splitlines()):
        if not line:
            continue
        name, sep, cap = line.replace("：", ":").replace("，", ",").replace(",", ":").rpartition(":")
        if not sep:
            raise ValidationFailed(t(f"“{line}”：每行写“班级名称:班额”", f"{line}: write NAME:CAP"),
                                   "classes")
        out.append({"name": name.strip(), "cap": whole(cap.strip(), "classes")})
    return out
