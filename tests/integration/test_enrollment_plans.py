"""Enrollment plans (招生计划): caps within the rules (refusals cite file:line), the rules' window,
applying once, change requests approved and rejected, scope, the command line, and (PostgreSQL)
two decisions at once.

Each test builds a county of its own under 长沙市 (a primary school and a junior+senior school,
no grades yet), so counts are known and the demo county is never touched."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

import pytest
from conftest import is_postgres
from factories import account, actor_of, unused_county_code
from sqlalchemy import func, select

from app.errors import Conflict, DomainError, Forbidden, NotFound, RuleViolation, ValidationFailed
from app.extensions import db
from app.models import (
    AuditEvent,
    EnrollmentPlan,
    EnrollmentPlanChange,
    Grade,
    Jurisdiction,
    School,
    SchoolClass,
)
from app.services.schoolyear import plan_apply, plan_changes, plans, promotion

RULES = Path(__file__).resolve().parents[2] / "rules"
PLANNING = datetime(2027, 5, 10, 10, 0)  # inside the enrollment_plan window (03-01 to 08-31)
PROMOTION_DAY = datetime(2027, 8, 10, 23, 0)
AFTER = datetime(2027, 8, 20, 10, 0)
LATE = datetime(2027, 9, 15, 10, 0)  # outside it


def rule_line(name: str, needle: str, after: str | None = None) -> str:
    """``rules/<name>:<line>`` of the first line holding ``needle`` (below ``after``, if given)."""
    lines = (RULES / name).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    n = next(i for i in range(start, len(lines)) if needle in lines[i])
    return f"rules/{name}:{n + 1}"


def build_county() -> dict:
    code = unused_county_code()
    city = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "430100"))
    county = Jurisdiction(code=code, name=f"计划区{code}", level="county", parent=city)
    db.session.add(county)
    primary = School(code=f"{code}0001", name=f"计划小学{code}", stages="primary", jurisdiction=county)
    high = School(code=f"{code}0002", name=f"计划中学{code}", stages="junior,senior",
                  jurisdiction=county)
    db.session.add_all([primary, high])
    db.session.commit()
    account(f"preg_{code}", "county_registrar", node=code)
    account(f"preg2_{code}", "county_registrar", node=code)
    account(f"psup_{code}", "county_supervisor", node=code)
    account(f"psch_{code}", "school_registrar", school_code=primary.code)
    account(f"psch2_{code}", "school_registrar", school_code=high.code)
    return {"code": code, "primary": primary.code, "high": high.code,
            "bureau": actor_of(f"preg_{code}"), "bureau2": actor_of(f"preg2_{code}"),
            "supervisor": actor_of(f"psup_{code}"), "school": actor_of(f"psch_{code}"),
            "school2": actor_of(f"psch2_{code}")}


def classes(*caps: int, prefix: str = "2027级一年级") -> list[dict]:
    return [{"name": f"{prefix}{n}班", "cap": cap} for n, cap in enumerate(caps, start=1)]


def set_primary(c: dict, caps=(40, 40), seats=80, now=PLANNING):
    return plans.set_plan(db.session, c["bureau"], school_code=c["primary"], school_year=2027,
                          grade=1, classes=classes(*caps), seats=seats, now=now)


def promote(c: dict) -> None:
    promotion.promote(db.session, c["bureau"], c["code"], PROMOTION_DAY)


def class_count(school_code: str) -> int:
    return db.session.scalar(select(func.count()).select_from(SchoolClass).join(School)
                             .where(School.code == school_code))


# -- what a plan may hold -------------------------------------------------------------------------

def test_a_cap_above_the_rules_cap_is_refused_citing_the_rule_line(ctx):
    c = build_county()
    with pytest.raises(ValidationFailed) as refused:
        set_primary(c, caps=(45, 46), seats=80)
    [problem] = [p for p in refused.value.problems if p.code == "class_cap"]
    assert "2027级一年级2班" in str(problem.message) and "45" in str(problem.message)
    assert problem.source == rule_line("430000.yaml", "primary: {cap: 45}")
    assert db.session.scalar(select(func.count()).select_from(EnrollmentPlan)
                             .join(School).where(School.code == c["primary"])) == 0
    # 芙蓉区 lowers primary classes to 40: its own file's line is cited
    with pytest.raises(ValidationFailed) as furong:
        plans.set_plan(db.session, actor_of("county_registrar"), school_code="4301020001",
                       school_year=2027, grade=1, classes=classes(41), seats=41, now=PLANNING)
    assert [p.source for p in furong.value.problems if p.code == "class_cap"] == [
        rule_line("430102.yaml", "primary: {cap: 40}")]
    # the junior cap (50, locked by the province) holds for grade 7
    with pytest.raises(ValidationFailed) as junior:
        plans.set_plan(db.session, c["bureau"], school_code=c["high"], school_year=2027, grade=7,
                       classes=classes(51, prefix="2027级初一"), seats=50, now=PLANNING)
    assert [p.source for p in junior.value.problems if p.code == "class_cap"] == [
        rule_line("430000.yaml", "junior: {cap: 50")]


def test_a_school_plans_only_the_entry_grades_of_its_stages_and_seats_fit_the_caps(ctx):
    c = build_county()
    with pytest.raises(ValidationFailed) as wrong:
        plans.set_plan(db.session, c["bureau"], school_code=c["primary"], school_year=2027,
                       grade=7, classes=classes(40), seats=40, now=PLANNING)
    assert [p.field for p in wrong.value.problems] == ["grade"]
    with pytest.raises(ValidationFailed) as seats:
        set_primary(c, caps=(40, 40), seats=81)
    assert [p.field for p in seats.value.problems] == ["seats"]
    with pytest.raises(ValidationFailed) as twice:
        plans.set_plan(db.session, c["bureau"], school_code=c["primary"], school_year=2027,
                       grade=1, classes=[{"name": "甲班", "cap": 30}, {"name": "甲班", "cap": 30}],
                       seats=50, now=PLANNING)
    assert "重复" in str(twice.value)
    # a junior+senior school plans grades 7 and 10
    for grade, prefix in ((7, "2027级初一"), (10, "2027级高一")):
        plan = plans.set_plan(db.session, c["bureau"], school_code=c["high"], school_year=2027,
                              grade=grade, classes=classes(50, 48, prefix=prefix), seats=95,
                              now=PLANNING)
        assert plan.stage == {7: "junior", 10: "senior"}[grade] and len(plan.classes) == 2


def test_setting_again_replaces_the_plan_and_is_audited(ctx):
    c = build_county()
    plan = set_primary(c)
    again = set_primary(c, caps=(40, 38, 36), seats=100)
    assert again.id == plan.id and again.version == 2
    assert [(k.number, k.cap) for k in again.classes] == [(1, 40), (2, 38), (3, 36)]
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "enrollment_plan", AuditEvent.entity_id == plan.id,
        AuditEvent.action == "plan_set").order_by(AuditEvent.id)).all()
    assert len(events) == 2 and events[1].changes["seats"] == {"old": 80, "new": 100}
    assert events[1].changes["plan_classes"]["new"] == \
        "2027级一年级1班（40人）、2027级一年级2班（38人）、2027级一年级3班（36人）"
    assert events[1].school_id == plan.school_id and events[1].rule_version is not None


# -- the rules' window ---------------------------------------------------------------------------

def test_outside_the_window_setting_and_asking_are_refused_citing_file_line(ctx):
    c = build_county()
    window = rule_line("national.yaml", "{from:", after="enrollment_plan:")
    with pytest.raises(RuleViolation) as late:
        set_primary(c, now=LATE)
    assert [(p.code, p.source) for p in late.value.problems] == [("outside_window", window)]
    assert "03-01" in str(late.value) and "08-31" in str(late.value)
    plan = set_primary(c)
    with pytest.raises(RuleViolation) as asked:
        plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(40, 40, 40),
                                    seats=100, reason="新建小区入学人数增加", now=LATE)
    assert [p.source for p in asked.value.problems] == [window]


def test_rules_explain_shows_the_plan_window(ctx):
    out = ctx.test_cli_runner().invoke(args=["rules", "explain", "--school", "4301020001",
                                             "--action", "plan_enrollment", "--at",
                                             "2027-09-15T10:00", "--json"])
    decision = json.loads(out.output)
    assert decision["allowed"] is False
    assert [v["source"] for v in decision["violations"]] == [
        rule_line("national.yaml", "{from:", after="enrollment_plan:")]


# -- applying ------------------------------------------------------------------------------------

def test_apply_creates_the_grade_and_classes_exactly_once(ctx):
    c = build_county()
    plan = set_primary(c)
    with pytest.raises(Conflict) as early:
        plan_apply.apply_plan(db.session, c["bureau"], plan.id, AFTER)
    assert "升级" in str(early.value) and class_count(c["primary"]) == 0
    promote(c)
    first = plan_apply.apply_plan(db.session, c["bureau"], plan.id, AFTER)
    assert first["classes_created"] == 2 and first["grade_created"] and not first["already"]
    school = db.session.scalar(select(School).where(School.code == c["primary"]))
    grade = db.session.scalar(select(Grade).where(Grade.school_id == school.id, Grade.number == 1))
    made = db.session.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id)
                              .order_by(SchoolClass.number)).all()
    assert [(k.name, k.grade_id, k.entry_year, k.county_code) for k in made] == [
        ("2027级一年级1班", grade.id, 2027, c["code"]), ("2027级一年级2班", grade.id, 2027, c["code"])]
    again = plan_apply.apply_plan(db.session, c["bureau"], plan.id, AFTER)
    assert again == {**again, "classes_created": 0, "grade_created": False, "already": True}
    assert class_count(c["primary"]) == 2
    assert db.session.scalar(select(func.count()).select_from(Grade).where(
        Grade.school_id == school.id)) == 1
    linked = db.session.get(EnrollmentPlan, plan.id)
    assert sorted(k.class_id for k in linked.classes) == sorted(k.id for k in made)
    assert plan_apply.planned_caps(db.session, [k.id for k in made]) == {k.id: 40 for k in made}
    applies = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "plan_apply", AuditEvent.entity_id == plan.id))
    assert applies == 1
    # a created class stays in the plan under its name
    with pytest.raises(Conflict):
        set_primary(c, caps=(40,), seats=40, now=AFTER)


def test_a_school_opened_after_its_countys_promotion_may_apply_at_once(ctx):
    c = build_county()
    promote(c)
    county = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == c["code"]))
    late = School(code=f"{c['code']}0003", name=f"新开小学{c['code']}", stages="primary",
                  jurisdiction=county)
    db.session.add(late)
    db.session.commit()
    plan = plans.set_plan(db.session, c["bureau"], school_code=late.code, school_year=2027,
                          grade=1, classes=classes(40), seats=40, now=AFTER)
    assert plan_apply.apply_plan(db.session, c["bureau"], plan.id, AFTER)["classes_created"] == 1
    # but not for a year its county has not been promoted into
    plan = plans.set_plan(db.session, c["bureau"], school_code=late.code, school_year=2028,
                          grade=1, classes=classes(40, prefix="2028级一年级"), seats=40, now=AFTER)
    with pytest.raises(Conflict):
        plan_apply.apply_plan(db.session, c["bureau"], plan.id, AFTER)


# -- change requests -----------------------------------------------------------------------------

def test_an_approved_change_updates_the_plan_and_apply_adds_only_the_new_class(ctx):
    c = build_county()
    plan = set_primary(c)
    promote(c)
    plan_apply.apply_plan(db.session, c["bureau"], plan.id, AFTER)
    change = plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(40, 40, 35),
                                         seats=110, reason="新建小区入学人数增加", now=AFTER)
    assert change.status == "pending" and change.requested_by == c["school"].username
    decided = plan_changes.decide_change(db.session, c["bureau"], change.id, "approve", AFTER)
    assert decided.status == "approved" and decided.decided_by == c["bureau"].username
    fresh = db.session.get(EnrollmentPlan, plan.id)
    assert fresh.seats == 110 and fresh.version == 2
    assert [(k.name, k.cap) for k in fresh.classes][-1] == ("2027级一年级3班", 35)
    out = plan_apply.apply_plan(db.session, c["bureau"], plan.id, AFTER)
    assert out["classes_created"] == 1 and class_count(c["primary"]) == 3
    with pytest.raises(Conflict):  # decided once
        plan_changes.decide_change(db.session, c["bureau2"], change.id, "reject", AFTER, comment="再议")
    actions = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity == "enrollment_plan", AuditEvent.entity_id == plan.id)))
    assert {"plan_change_request", "plan_change_approved", "plan_set", "plan_apply"} <= actions


def test_a_rejected_change_leaves_the_plan_and_needs_a_comment(ctx):
    c = build_county()
    plan = set_primary(c)
    with pytest.raises(ValidationFailed):
        plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(40, 40),
                                    seats=70, reason="  ", now=PLANNING)
    change = plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(30, 30),
                                         seats=60, reason="生源减少", now=PLANNING)
    with pytest.raises(Conflict):  # one open request per plan
        plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(30),
                                    seats=30, reason="再减", now=PLANNING)
    with pytest.raises(ValidationFailed):
        plan_changes.decide_change(db.session, c["bureau"], change.id, "reject", PLANNING)
    decided = plan_changes.decide_change(db.session, c["bureau"], change.id, "reject", PLANNING,
                                         comment="生源预测不支持减班")
    assert decided.status == "rejected" and decided.open_key is None
    fresh = db.session.get(EnrollmentPlan, plan.id)
    assert fresh.seats == 80 and fresh.version == 1 and [k.cap for k in fresh.classes] == [40, 40]
    # a school cannot ask for caps above the rules either
    with pytest.raises(ValidationFailed) as over:
        plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(46), seats=40,
                                    reason="大班", now=PLANNING)
    assert [p.source for p in over.value.problems] == [rule_line("430000.yaml", "primary: {cap: 45}")]


def test_a_change_asked_before_the_bureau_edited_the_plan_cannot_be_approved(ctx):
    c = build_county()
    plan = set_primary(c)
    change = plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(40, 40, 40),
                                         seats=120, reason="扩班", now=PLANNING)
    set_primary(c, caps=(40, 40), seats=75)
    with pytest.raises(Conflict):
        plan_changes.decide_change(db.session, c["bureau"], change.id, "approve", PLANNING)
    db.session.expire_all()
    assert db.session.get(EnrollmentPlanChange, change.id).status == "pending"
    assert db.session.get(EnrollmentPlan, plan.id).seats == 75


# -- scope ---------------------------------------------------------------------------------------

def test_each_account_sees_and_acts_only_inside_its_jurisdiction(ctx):
    c = build_county()
    plan = set_primary(c)
    other = actor_of("county2_registrar")  # 荷塘区, another city
    assert plan.id not in [p.id for p in plans.plans(db.session, other, school_year=2027)]
    with pytest.raises(NotFound):
        plans.get_plan(db.session, other, plan.id)
    with pytest.raises(NotFound):
        plans.set_plan(db.session, other, school_code=c["primary"], school_year=2027, grade=1,
                       classes=classes(40), seats=40, now=PLANNING)
    with pytest.raises(NotFound):
        plan_apply.apply_plan(db.session, other, plan.id, AFTER)
    # the school cannot set its own plan; the county's supervisor neither
    for who in (c["school"], c["supervisor"]):
        with pytest.raises(Forbidden):
            set_primary({**c, "bureau": who})
    # a school sees only its own plans and asks only for its own
    assert [p.id for p in plans.plans(db.session, c["school"], school_year=2027)] == [plan.id]
    assert plans.plans(db.session, c["school2"], school_year=2027) == []
    with pytest.raises(NotFound):
        plan_changes.request_change(db.session, c["school2"], plan.id, classes=classes(40), seats=40,
                                    reason="x", now=PLANNING)
    change = plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(40), seats=40,
                                         reason="减班", now=PLANNING)
    with pytest.raises(Forbidden):  # a school never decides, its own request least of all
        plan_changes.decide_change(db.session, c["school"], change.id, "approve", PLANNING)
    with pytest.raises(NotFound):
        plan_changes.decide_change(db.session, other, change.id, "approve", PLANNING)
    assert change.id not in [x.id for x in plan_changes.changes(db.session, other)]
    # the city above the county decides it
    assert plan_changes.decide_change(db.session, actor_of("city_registrar"), change.id, "approve",
                                      PLANNING).status == "approved"


# -- the command line ----------------------------------------------------------------------------

def test_cli_sets_shows_and_applies(ctx, monkeypatch):
    c = build_county()
    runner = ctx.test_cli_runner()
    monkeypatch.setitem(ctx.config, "XUEJI_FIXED_NOW", "2027-05-10T10:00:00")
    out = runner.invoke(args=["year", "plan", "set", "--school", c["primary"], "--year", "2027",
                              "--grade", "1", "--class", "2027级一年级1班:40", "--class",
                              "2027级一年级2班：38", "--seats", "78", "--as", f"preg_{c['code']}"])
    assert out.exit_code == 0, out.output
    assert "2 个班" in out.output and "78 人" in out.output
    out = runner.invoke(args=["year", "plan", "set", "--school", c["primary"], "--year", "2027",
                              "--grade", "1", "--classes", "2", "--cap", "46", "--seats", "80",
                              "--as", f"preg_{c['code']}"])
    assert out.exit_code == 1 and rule_line("430000.yaml", "primary: {cap: 45}") in out.output
    out = runner.invoke(args=["year", "plan", "show", "--year", "2027", "--json",
                              "--as", f"psch_{c['code']}"])
    shown = json.loads(out.output)
    assert [len(p["classes"]) for p in shown["plans"]] == [2]
    monkeypatch.setitem(ctx.config, "XUEJI_FIXED_NOW", "2027-08-10T23:00:00")
    assert runner.invoke(args=["year", "promote", "--node", c["code"]]).exit_code == 0
    monkeypatch.setitem(ctx.config, "XUEJI_FIXED_NOW", "2027-08-20T10:00:00")
    apply = ["year", "plan", "apply", "--school", c["primary"], "--year", "2027", "--grade", "1",
             "--json", "--as", f"preg_{c['code']}"]
    assert json.loads(runner.invoke(args=apply).output)["classes_created"] == 2
    assert json.loads(runner.invoke(args=apply).output)["classes_created"] == 0
    out = runner.invoke(args=[*apply[:-3], "--as", "county2_registrar"])
    assert out.exit_code == 1 and "不在本辖区" in out.output


# -- concurrency (PostgreSQL) ----------------------------------------------------------------------

def _race(app, work, n: int) -> list:
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        with app.app_context():
            try:
                barrier.wait()
                results[i] = ("ok", work(i))
            except DomainError as exc:
                db.session.rollback()
                results[i] = ("refused", exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    return results


@pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")
def test_two_approvals_at_once_decide_once(app, ctx):
    c = build_county()
    plan = set_primary(c)
    change = plan_changes.request_change(db.session, c["school"], plan.id, classes=classes(40, 40, 40),
                                         seats=120, reason="扩班", now=PLANNING)
    deciders, change_id = [f"preg_{c['code']}", f"preg2_{c['code']}"], change.id  # ids, not rows:
    results = _race(app, lambda i: plan_changes.decide_change(  # each thread has its own session
        db.session, actor_of(deciders[i]), change_id, "approve", PLANNING).status, 2)
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    db.session.expire_all()
    fresh = db.session.get(EnrollmentPlan, plan.id)
    assert fresh.version == 2 and len(fresh.classes) == 3
    assert db.session.get(EnrollmentPlanChange, change_id).status == "approved"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "plan_change_approved", AuditEvent.entity_id == plan.id)) == 1


@pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")
def test_two_applies_at_once_create_the_classes_once(app, ctx):
    c = build_county()
    plan_id = set_primary(c, caps=(40, 40, 40), seats=120).id
    promote(c)
    results = _race(app, lambda i: plan_apply.apply_plan(
        db.session, actor_of(f"preg_{c['code']}"), plan_id, AFTER)["classes_created"], 4)
    assert sorted(r[1] for r in results if r[0] == "ok") == [0, 0, 0, 3]
    db.session.expire_all()
    assert class_count(c["primary"]) == 3
