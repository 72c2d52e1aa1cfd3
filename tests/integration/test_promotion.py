"""The promotion batch (升级): blockers, the rules' window, exact moves, idempotence, undo, resume,
scope, the command line, and (PostgreSQL) two runs at once.

Each test builds a county of its own (two schools, hand-made classes and students), so the counts
are known and the demo county is never touched."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import is_postgres
from factories import account, actor_of, unused_county_code
from sqlalchemy import func, select

from app.errors import Forbidden, NotFound, RuleViolation
from app.extensions import db
from app.models import (
    AuditEvent,
    Grade,
    Jurisdiction,
    PromotionRun,
    Request,
    School,
    SchoolClass,
    Student,
    XuejiUser,
)
from app.models.school import GRADE_NAMES, stage_of_grade
from app.services.common.actors import Actor
from app.services.schoolyear import promotion

PROMOTION_DAY = datetime(2026, 8, 10, 23, 0)
RULES = Path(__file__).resolve().parents[2] / "rules" / "national.yaml"
_serial = itertools.count(1)


def _student(school, grade, klass, name, *, status="in_school", hold_back=False) -> Student:
    st = Student(school=school, grade=grade, school_class=klass, name=name, gender="1",
                 birth_date=date(2015, 3, 1), status=status, registry_kind="L", hold_back=hold_back)
    st.registry_no = f"L{school.code[:6]}20150301{next(_serial):04d}"
    db.session.add(st)
    return st


def build_county(final_in_school: bool = False) -> dict:
    """A county with a primary school (grades 1, 2, 5, 6; classes 一1, 一2, 二1, 五1, 六1) and a
    junior school (grades 7, 8, 9; classes 初一1, 初三1).  Students:
      primary  一1: 3 in school + 1 held back + 1 suspended; 一2: 2; 二1: 2 + 1 held back;
               五1: 2; 六1: 2 graduated (+ 1 in school if ``final_in_school``)
      junior   初一1: 3; 初三1: 2 graduated."""
    county_code = unused_county_code()
    city = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "430100"))
    county = Jurisdiction(code=county_code, name=f"测试区{county_code}", level="county", parent=city)
    db.session.add(county)
    out = {"code": county_code}
    for n, (stages, grade_numbers) in enumerate(((("primary",), (1, 2, 5, 6)),
                                                 (("junior",), (7, 8, 9))), start=1):
        school = School(code=f"{county_code}{n:04d}", name=f"测试学校{county_code}-{n}",
                        stages=",".join(stages), jurisdiction=county)
        db.session.add(school)
        grades = {g: Grade(school=school, stage=stage_of_grade(g), number=g, name=GRADE_NAMES[g])
                  for g in grade_numbers}
        db.session.add_all(grades.values())
        out[f"school{n}"] = school
        out[f"grades{n}"] = grades
    s1, g1 = out["school1"], out["grades1"]
    s2, g2 = out["school2"], out["grades2"]

    def klass(school, grade, number):
        c = SchoolClass(school=school, grade=grade, number=number, name=f"{grade.name}{number}班",
                        entry_year=2026 - grade.number)
        db.session.add(c)
        return c

    c11, c12, c21, c51, c61 = (klass(s1, g1[1], 1), klass(s1, g1[1], 2), klass(s1, g1[2], 1),
                               klass(s1, g1[5], 1), klass(s1, g1[6], 1))
    c71, c91 = klass(s2, g2[7], 1), klass(s2, g2[9], 1)
    out.update(c11=c11, c12=c12, c21=c21, c51=c51, c61=c61, c71=c71, c91=c91)
    for i in range(3):
        _student(s1, g1[1], c11, f"一一{i}")
    out["held1"] = _student(s1, g1[1], c11, "一一留级", hold_back=True)
    out["suspended"] = _student(s1, g1[1], c11, "一一休学", status="suspended")
    for i in range(2):
        _student(s1, g1[1], c12, f"一二{i}")
    for i in range(2):
        _student(s1, g1[2], c21, f"二一{i}")
    out["held2"] = _student(s1, g1[2], c21, "二一留级", hold_back=True)
    for i in range(2):
        _student(s1, g1[5], c51, f"五一{i}")
    for i in range(2):
        _student(s1, g1[6], c61, f"六一{i}", status="graduated")
    if final_in_school:
        out["unfinished"] = _student(s1, g1[6], c61, "六一未毕业")
    for i in range(3):
        _student(s2, g2[7], c71, f"初一{i}")
    for i in range(2):
        _student(s2, g2[9], c91, f"初三{i}", status="graduated")
    db.session.commit()
    account(f"reg_{county_code}", "county_registrar", node=county_code)
    out["actor"] = actor_of(f"reg_{county_code}")
    return out


def state(county: dict) -> dict:
    """Every student's and class's grade, class and hold-back in the county, by id."""
    codes = county["code"]
    students = {i: (g, c, h) for i, g, c, h in db.session.execute(
        select(Student.id, Student.grade_id, Student.class_id, Student.hold_back)
        .where(Student.county_code == codes))}
    classes = dict(db.session.execute(select(SchoolClass.id, SchoolClass.grade_id)
                                      .where(SchoolClass.county_code == codes)).all())
    return {"students": students, "classes": classes}


def grade_number(student_id: int) -> int:
    return db.session.scalar(select(Grade.number).join(Student, Student.grade_id == Grade.id)
                             .where(Student.id == student_id))


def class_grade(class_id: int) -> int:
    return db.session.scalar(select(Grade.number).join(SchoolClass, SchoolClass.grade_id == Grade.id)
                             .where(SchoolClass.id == class_id))


def in_grade(school, number: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Student)
                             .join(Grade, Grade.id == Student.grade_id)
                             .where(Student.school_id == school.id, Grade.number == number,
                                    Student.status == "in_school"))


def test_outside_the_window_is_refused_citing_the_rule(ctx):
    county = build_county()
    with pytest.raises(RuleViolation) as refused:
        promotion.promote(db.session, county["actor"], county["code"], datetime(2026, 9, 15, 10))
    problem = next(p for p in refused.value.problems if p.code == "outside_window")
    path, line = problem.source.rsplit(":", 1)
    assert path.endswith("national.yaml")
    assert "08-10" in RULES.read_text(encoding="utf-8").splitlines()[int(line) - 1]
    assert db.session.scalar(select(func.count()).select_from(PromotionRun)
                             .where(PromotionRun.node_code == county["code"])) == 0


def test_blockers_listed_and_refused_until_cleared(ctx):
    county = build_county(final_in_school=True)
    held = county["held1"]
    req = Request(kind="suspend", status="pending", student=held, student_uid=held.ensure_uid(),
                  student_name=held.name, open_student_id=held.id, requester_name="test",
                  origin_school_id=county["school1"].id, origin_province="430000",
                  origin_city="430100", origin_county=county["code"], chain=[])
    db.session.add(req)
    db.session.commit()
    before = state(county)
    p = promotion.plan(db.session, county["actor"], county["code"], PROMOTION_DAY)
    assert not p.allowed
    assert p.blockers.open_total == 1 and p.blockers.open_requests[0]["id"] == req.id
    assert p.blockers.final_total == 1
    assert p.blockers.final_grades == [{"school": county["school1"].name, "grade": "六年级",
                                        "students": 1}]
    assert {pr.code for pr in p.problems} == {"promotion_blocked"}
    assert p.carry_over is False and p.carry_over_source == "rules/national.yaml:29"
    with pytest.raises(RuleViolation):
        promotion.promote(db.session, county["actor"], county["code"], PROMOTION_DAY)
    assert state(county) == before
    # cleared: the request closes, the last sixth-grader graduates
    req.status, req.open_student_id = "approved", None
    county["unfinished"].status = "graduated"
    db.session.commit()
    assert promotion.plan(db.session, county["actor"], county["code"], PROMOTION_DAY).allowed


def test_run_moves_everybody_once_and_undo_restores_exactly(ctx):
    county = build_county()
    s1, s2, actor = county["school1"], county["school2"], county["actor"]
    before = state(county)
    p = promotion.plan(db.session, actor, county["code"], PROMOTION_DAY)
    assert p.allowed and p.students == 12  # 一: 3 + 2, 二: 2, 五: 2, 初一: 3 (held back stay)
    outcome = promotion.promote(db.session, actor, county["code"], PROMOTION_DAY)
    db.session.expire_all()
    run = outcome.run
    assert (run.status, run.students_moved, run.classes_moved, run.held_back) == ("done", 12, 5, 2)
    assert (outcome.schools_now, outcome.students_now) == (2, 12)
    # grade by grade, exact counts after
    assert [in_grade(s1, n) for n in (1, 2, 3, 5, 6)] == [1, 6, 2, 0, 2]
    assert [in_grade(s2, n) for n in (7, 8, 9)] == [0, 3, 0]
    # classes moved with their students; the final grade's class stayed
    assert [class_grade(county[c].id) for c in ("c11", "c12", "c21", "c51", "c61", "c71", "c91")] \
        == [2, 2, 3, 6, 6, 8, 9]
    # grade 3 and grade 8 rows were missing: created once
    assert db.session.scalar(select(func.count()).select_from(Grade)
                             .where(Grade.school_id == s1.id, Grade.number == 3)) == 1
    # the held back stay in their grade, mark cleared, seated in the class arriving there
    held1, held2 = (db.session.get(Student, county[k].id) for k in ("held1", "held2"))
    assert (grade_number(held1.id), held1.hold_back, held1.class_id) == (1, False, None)
    assert (grade_number(held2.id), held2.hold_back, held2.class_id) == (2, False, county["c11"].id)
    # the suspended student keeps grade 1 (not in school)
    assert grade_number(county["suspended"].id) == 1
    # audited: start, one per school, done
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.username == actor.username).order_by(AuditEvent.id)).all()
    assert actions == ["promote_start", "promote", "promote", "promote"]
    # idempotent: running again moves nobody
    after = state(county)
    again = promotion.promote(db.session, actor, county["code"], PROMOTION_DAY)
    assert again.already and again.students_now == 0 and state(county) == after
    # undo restores every grade, class and mark exactly
    result = promotion.undo(db.session, actor, run.id, PROMOTION_DAY)
    assert result == {"run": run.id, "students_restored": 14, "classes_restored": 5,
                      "students_left": 0, "students_unseated": 0, "grades_emptied": 2}
    assert state(county) == before
    assert db.session.get(PromotionRun, run.id).status == "undone"
    # and the node may be promoted again, with the same result
    rerun = promotion.promote(db.session, actor, county["code"], PROMOTION_DAY)
    assert rerun.run.id != run.id and rerun.students_now == 12
    assert state(county) == after


def test_a_crashed_run_resumes_after_the_schools_done(ctx, monkeypatch):
    county = build_county()
    actor, real = county["actor"], promotion._move
    crash_at = county["school2"].id

    def crashing(session, run_id, school):
        if school.id == crash_at:
            raise RuntimeError("power cut")
        return real(session, run_id, school)

    monkeypatch.setattr(promotion, "_move", crashing)
    with pytest.raises(RuntimeError):
        promotion.promote(db.session, actor, county["code"], PROMOTION_DAY)
    db.session.rollback()
    run = db.session.scalar(select(PromotionRun).where(PromotionRun.node_code == county["code"]))
    assert (run.status, run.students_moved) == ("running", 9)  # school 1 done and committed
    assert in_grade(county["school2"], 7) == 3  # school 2 rolled back: untouched
    monkeypatch.setattr(promotion, "_move", real)
    resumed = promotion.promote(db.session, actor, county["code"], PROMOTION_DAY)
    assert resumed.run.id == run.id and (resumed.schools_now, resumed.students_now) == (1, 3)
    assert (resumed.run.status, resumed.run.students_moved) == ("done", 12)
    assert in_grade(county["school1"], 2) == 6 and in_grade(county["school2"], 8) == 3


def test_scope_and_role(ctx):
    county = build_county()
    with pytest.raises(NotFound):
        promotion.plan(db.session, actor_of("county2_registrar"), county["code"], PROMOTION_DAY)
    with pytest.raises(Forbidden):
        promotion.plan(db.session, actor_of("school_registrar"), county["code"], PROMOTION_DAY)
    with pytest.raises(Forbidden):
        promotion.promote(db.session, actor_of("county_supervisor"), "430102", PROMOTION_DAY)
    # the city's registrar may run its county
    assert promotion.plan(db.session, actor_of("city_registrar"), county["code"], PROMOTION_DAY).allowed
    run = promotion.promote(db.session, county["actor"], county["code"], PROMOTION_DAY).run
    with pytest.raises(NotFound):
        promotion.undo(db.session, actor_of("county2_registrar"), run.id, PROMOTION_DAY)


def test_cli_dry_run_and_refusal(ctx):
    county = build_county()
    runner = ctx.test_cli_runner()
    out = runner.invoke(args=["year", "promote", "--node", county["code"], "--dry-run",
                              "--as", f"reg_{county['code']}"])
    assert out.exit_code == 1, out.output  # the fixed test clock (15 September) is outside
    assert "不能执行" in out.output and "national.yaml:" in out.output
    assert "合计待升级 12 名学生" in out.output
    out = runner.invoke(args=["year", "promote", "--node", county["code"],
                              "--as", "county2_registrar"])
    assert out.exit_code == 1 and "不在本辖区" in out.output


@pytest.mark.skipif(not is_postgres(), reason="two concurrent runs need PostgreSQL")
def test_two_runs_at_once_move_nobody_twice(app, ctx):
    county = build_county()
    before = {i: grade_number(i) for i in state(county)["students"]}
    actor = county["actor"]
    barrier, errors, outcomes = threading.Barrier(2), [], []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                me = Actor.of(db.session.get(XuejiUser, actor.user_id))
                outcomes.append(promotion.promote(db.session, me, county["code"], PROMOTION_DAY))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    db.session.expire_all()
    after = {i: grade_number(i) for i in before}
    moved = {i for i in before if after[i] != before[i]}
    assert len(moved) == 12
    assert all(after[i] == before[i] + 1 for i in moved)
    assert sum(o.students_now for o in outcomes) == 12
    runs = db.session.scalars(select(PromotionRun).where(PromotionRun.node_code == county["code"])).all()
    assert len(runs) == 1 and runs[0].status == "done" and runs[0].students_moved == 12




def test_page_shows_blockers_and_runs_for_the_bureau_registrar(ctx, client_for, monkeypatch):
    county = build_county(final_in_school=True)
    code = county["code"]
    web = client_for(f"reg_{code}")
    page = web.get(f"/year/promote/?node={code}").get_data(as_text=True)
    assert "学年升级" in page and "六一" not in page  # counts, not names, for the final grades
    assert "毕业年级仍在校" in page and county["school1"].name in page
    assert "rules/national.yaml:" in page and 'id="promote"' not in page  # refused: no button
    refused = web.post("/year/promote/run", data={"node": code}, follow_redirects=True)
    assert refused.status_code == 200 and "不在其内" in refused.get_data(as_text=True)
    # cleared, on promotion day: the button runs it
    county["unfinished"].status = "graduated"
    db.session.commit()
    monkeypatch.setattr("app.views.schoolyear.now", lambda: PROMOTION_DAY)
    assert 'id="promote"' in web.get(f"/year/promote/?node={code}").get_data(as_text=True)
    done = web.post("/year/promote/run", data={"node": code}, follow_redirects=True)
    assert "12 名学生升级" in done.get_data(as_text=True)
    assert in_grade(county["school2"], 8) == 3
    # a bureau supervisor reads it without buttons; a school account may not open it
    page = client_for("city_supervisor").get(f"/year/promote/?node={code}").get_data(as_text=True)
    assert "已完成" in page and "撤销</button>" not in page and 'id="promote"' not in page
    assert client_for("school_registrar").get(f"/year/promote/?node={code}").status_code in (302, 403)
    # another county's registrar: not in its jurisdiction
    other = client_for("county2_registrar").get(f"/year/promote/?node={code}").get_data(as_text=True)
    assert "不在本辖区" in other and county["school1"].name not in other


def test_rules_explain_cites_the_window_and_the_carry_over_switch(ctx):
    out = ctx.test_cli_runner().invoke(args=["rules", "explain", "--school", "4301020001",
                                             "--action", "promote", "--at", "2026-09-15T10:00",
                                             "--json"])
    decision = json.loads(out.output)
    assert decision["allowed"] is False
    window = next(v for v in decision["violations"] if v["code"] == "outside_window")
    line = int(window["source"].rsplit(":", 1)[1])
    assert "08-10" in RULES.read_text(encoding="utf-8").splitlines()[line - 1]
    assert any("rules/national.yaml:29" in n and "升级前须办结" in n for n in decision["notes"])
    out = ctx.test_cli_runner().invoke(args=["rules", "explain", "--school", "4301020001",
                                             "--action", "promote", "--at", "2026-08-10T23:00",
                                             "--json"])
    assert json.loads(out.output)["allowed"] is True


def test_undo_leaves_alone_who_left_since_the_run_and_keeps_the_grade_rows(ctx):
    """Undo restores only the students still on record (在籍) at the school the run promoted: one
    transferred out, one dropped out and one graduated since stay as they are now, counted in
    ``students_left``; a newcomer seated in a class the undo moves back loses the seat (not the
    grade); the grade rows the run created stay, emptied of classes and students."""
    county = build_county()
    s1, s2, actor = county["school1"], county["school2"], county["actor"]
    before = state(county)
    run = promotion.promote(db.session, actor, county["code"], PROMOTION_DAY).run
    db.session.expire_all()
    in_c11 = db.session.scalars(select(Student).where(
        Student.class_id == county["c11"].id, Student.status == "in_school",
        Student.hold_back.is_(False)).order_by(Student.id)).all()
    gone, dropped = in_c11[0], in_c11[1]  # both moved up to grade 2 by the run
    gone.school, gone.grade, gone.school_class = s2, county["grades2"][7], None  # transferred out
    dropped.status = "dropout"
    fifth = db.session.scalars(select(Student).where(Student.class_id == county["c51"].id)
                               .order_by(Student.id)).first()
    fifth.status, fifth.graduated_at = "graduated", PROMOTION_DAY  # now in grade 6: graduated
    arrived = _student(s1, db.session.get(Grade, in_c11[2].grade_id), county["c11"], "新转入")
    db.session.commit()
    after_run = {i: (grade_number(i), db.session.get(Student, i).class_id)
                 for i in (gone.id, dropped.id, fifth.id)}
    grade3 = db.session.scalar(select(Grade.id).where(Grade.school_id == s1.id, Grade.number == 3))

    result = promotion.undo(db.session, actor, run.id, PROMOTION_DAY)
    assert result == {"run": run.id, "students_restored": 11, "classes_restored": 5,
                      "students_left": 3, "students_unseated": 1, "grades_emptied": 2}
    db.session.expire_all()
    # those who left: exactly as they were, never put back into the class they left
    assert {i: (grade_number(i), db.session.get(Student, i).class_id) for i in after_run} == after_run
    assert db.session.get(Student, gone.id).school_id == s2.id
    assert (db.session.get(Student, dropped.id).status, db.session.get(Student, fifth.id).status) \
        == ("dropout", "graduated")
    # everybody else is back as before the run
    now_state = state(county)
    kept_back = {gone.id, dropped.id, fifth.id, arrived.id}
    assert {i: v for i, v in now_state["students"].items() if i not in kept_back} == \
        {i: v for i, v in before["students"].items() if i not in kept_back}
    assert now_state["classes"] == before["classes"]
    # the newcomer keeps their grade but not the seat in a class now of grade 1
    newcomer = db.session.get(Student, arrived.id)
    assert (grade_number(newcomer.id), newcomer.class_id) == (2, None)
    # the grade row the run created stays, without classes or students
    assert db.session.get(Grade, grade3) is not None
    assert db.session.scalar(select(func.count()).select_from(SchoolClass)
                             .where(SchoolClass.grade_id == grade3)) == 0
    assert db.session.scalar(select(func.count()).select_from(Student)
                             .where(Student.grade_id == grade3)) == 0
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "promote_undo", AuditEvent.entity_id == run.id)).one()
    assert event.changes["students_left"] == 3 and "3 名学生已离校" in event.summary
