"""Graduation (毕业) of a school's final-grade cohort: per-student results, one UPDATE for compulsory
stages, a bureau review for senior secondary, the window, scope, the frozen record, the rollback
request, the destination hook, the command and the page.  Every test puts back what it changed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from factories import PDF, actor_of, records_put_back, school
from sqlalchemy import select, update

from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Grade, Graduation, Request, Student
from app.services.common.actors import Actor
from app.services.reports import monthly
from app.services.requests import workflow as svc
from app.services.schoolyear import graduation

IN_WINDOW = datetime(2026, 7, 1, 10)  # graduation window 05-01..07-30
HUNAN = Path(__file__).resolve().parents[2] / "rules" / "430000.yaml"
# the demo province's senior graduation conditions: the line that lists the required items
CONDITIONS = "rules/430000.yaml:" + str(next(
    n for n, line in enumerate(HUNAN.read_text(encoding="utf-8").splitlines(), start=1)
    if "required_fields:" in line))
PRIMARY = "4302020001"  # 荷塘区星光小学: county2_school_registrar
SENIOR = "4301020003"  # 长沙市湘江中学 (junior, senior): school3_registrar


def _final(code: str, number: int) -> list[Student]:
    s = school(code)
    return db.session.scalars(select(Student).join(Grade, Student.grade_id == Grade.id).where(
        Student.school_id == s.id, Grade.number == number).order_by(Student.id)).all()


@pytest.fixture
def restore(ctx):
    """Put every final-grade record of the schools used back as it was, and close what was opened."""
    finals = [st for code, number in ((PRIMARY, 6), (SENIOR, 9), (SENIOR, 12)) for st in _final(code, number)]
    with records_put_back(finals, "status", "graduated_at", "problem", "destination", "id_blind",
                          "id_number_enc", "entry_date", "school_id", "grade_id", "class_id",
                          "province_code", "city_code", "county_code") as kept:
        yield kept


def _cohort_ids(code, number) -> set[int]:
    return {st.id for st in _final(code, number) if st.status == "in_school"}


def test_a_primary_cohort_graduates_in_one_action_except_those_kept_back(restore):
    registrar = actor_of("county2_school_registrar")
    cohort = sorted(_cohort_ids(PRIMARY, 6))
    baseline = graduation.cohort(db.session, registrar, school(PRIMARY).id, IN_WINDOW)
    free = sorted(c.student_id for c in baseline.candidates if c.can)
    assert {c.student_id for c in baseline.candidates} == set(cohort) and len(free) >= 3
    problem_id, busy_id = free[0], free[1]
    db.session.execute(update(Student).where(Student.id == problem_id).values(problem=True))
    db.session.commit()
    busy = db.session.get(Student, busy_id)
    svc.start(db.session, kind="change_field", student=busy, actor=registrar, now=datetime(2026, 6, 15, 10),
              payload={"name": "改名字"}, files=[PDF])

    dry = graduation.graduate(db.session, registrar, school(PRIMARY).id, IN_WINDOW, dry_run=True)
    assert dry.refused == [] and dry.graduated == 0
    assert len(dry.candidates) == len(cohort) and len(dry.eligible) == len(free) - 2
    why = {c.student_id: c.reasons for c in dry.candidates}
    assert why[problem_id] == ["问题学籍，须先处理"]
    assert why[busy_id] == ["有在办业务：关键信息变更申请"]
    db.session.expire_all()
    assert db.session.scalar(select(Student.status).where(Student.id == free[2])) == "in_school"

    done = graduation.graduate(db.session, registrar, school(PRIMARY).id, IN_WINDOW)
    assert done.graduated == len(free) - 2 and done.reviews == 0
    db.session.expire_all()
    rows = {st.id: (st.status, st.graduated_at) for st in _final(PRIMARY, 6) if st.id in cohort}
    assert rows[problem_id] == ("in_school", None) and rows[busy_id] == ("in_school", None)
    assert {v for k, v in rows.items() if k in free[2:]} == {("graduated", IN_WINDOW)}
    assert {v for k, v in rows.items() if k not in free} <= {("in_school", None)}

    # frozen: a graduated record takes no new request but the rollback
    graduate = db.session.get(Student, free[2])
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="suspend", student=graduate, actor=registrar, now=IN_WINDOW,
                  reason="疾病", files=[PDF])
    assert "status_not_allowed" in {p.code for p in caught.value.problems}
    # a second run graduates nobody twice
    again = graduation.graduate(db.session, registrar, school(PRIMARY).id, IN_WINDOW)
    assert again.graduated == 0 and len(again.candidates) == len(cohort) - len(free) + 2


def test_outside_the_window_the_rules_refuse_the_cohort_citing_file_and_line(restore):
    registrar = actor_of("county2_school_registrar")
    before = _cohort_ids(PRIMARY, 6)
    outcome = graduation.graduate(db.session, registrar, school(PRIMARY).id, datetime(2026, 9, 15, 10))
    assert outcome.graduated == 0 and outcome.eligible == []
    assert [p.code for p in outcome.refused] == ["outside_window"]
    assert outcome.refused[0].source.startswith("rules/national.yaml:")
    db.session.expire_all()
    assert _cohort_ids(PRIMARY, 6) == before


def test_only_the_school_itself_graduates_and_nobody_sees_another_school(restore):
    with pytest.raises(NotFound):  # another county's school is not there
        graduation.cohort(db.session, actor_of("school_registrar"), school(PRIMARY).id, IN_WINDOW)
    with pytest.raises(Forbidden):  # its bureau sees it but does not graduate for it
        graduation.graduate(db.session, actor_of("county2_registrar"), school(PRIMARY).id, IN_WINDOW)
    db.session.rollback()
    assert graduation.cohort(db.session, Actor.system("t"), school(PRIMARY).id, IN_WINDOW).candidates


def test_senior_secondary_goes_to_the_bureau_and_needs_its_items(restore):
    registrar = actor_of("school3_registrar")
    seniors = sorted(_cohort_ids(SENIOR, 12))
    juniors = _cohort_ids(SENIOR, 9)
    if not seniors:
        pytest.skip("the demo school has no senior final grade")
    lacking = seniors[0]
    db.session.execute(update(Student).where(Student.id == lacking).values(id_number_enc=None))
    db.session.commit()
    outcome = graduation.graduate(db.session, registrar, school(SENIOR).id, IN_WINDOW)
    why = {c.student_id: c.reasons for c in outcome.candidates}
    assert why[lacking] == [f"毕业条件不满足，缺少：身份证件号（{CONDITIONS}）"]
    assert outcome.reviews == len(seniors) - 1 and outcome.graduated == len(juniors)
    db.session.expire_all()
    reviewed = db.session.scalars(select(Request).where(
        Request.kind == "graduate", Request.student_id.in_(seniors), Request.status == "pending")).all()
    assert len(reviewed) == len(seniors) - 1
    assert all(db.session.get(Student, r.student_id).status == "in_school" for r in reviewed)
    req = reviewed[0]
    for approver in ("school3_supervisor", "county_registrar"):
        svc.decide(db.session, req.id, actor_of(approver), "approve", IN_WINDOW)
    db.session.expire_all()
    student = db.session.get(Student, req.student_id)
    assert (student.status, student.graduated_at) == ("graduated", IN_WINDOW)


def test_the_bureau_approval_checks_the_senior_conditions_again(restore):
    """An item emptied after the review was opened stops the bureau's approval, naming the rule;
    nothing changes until the item is back."""
    seniors = sorted(_cohort_ids(SENIOR, 12))
    if len(seniors) < 2:
        pytest.skip("the demo school has too few senior final-grade students")
    graduation.graduate(db.session, actor_of("school3_registrar"), school(SENIOR).id, IN_WINDOW)
    req = db.session.scalar(select(Request).where(Request.kind == "graduate", Request.status == "pending",
                                                  Request.student_id.in_(seniors)).order_by(Request.id))
    svc.decide(db.session, req.id, actor_of("school3_supervisor"), "approve", IN_WINDOW)
    kept = db.session.get(Student, req.student_id).id_number_enc
    db.session.execute(update(Student).where(Student.id == req.student_id).values(id_number_enc=None))
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        svc.decide(db.session, req.id, actor_of("county_registrar"), "approve", IN_WINDOW)
    assert [(p.code, p.source) for p in caught.value.problems] == [("conditions_not_met", CONDITIONS)]
    assert "身份证件号" in caught.value.problems[0].message
    db.session.rollback()
    assert db.session.get(Student, req.student_id).status == "in_school"
    assert db.session.scalar(select(Graduation.id).where(Graduation.student_id == req.student_id)) is None
    db.session.execute(update(Student).where(Student.id == req.student_id).values(id_number_enc=kept))
    db.session.commit()
    svc.decide(db.session, req.id, actor_of("county_registrar"), "approve", IN_WINDOW)
    db.session.expire_all()
    assert db.session.get(Student, req.student_id).status == "graduated"
    assert db.session.scalar(select(Graduation.stage).where(Graduation.student_id == req.student_id)) == "senior"


def test_a_mistaken_graduation_is_rolled_back_by_an_approved_request(restore):
    registrar = actor_of("county2_school_registrar")
    graduation.graduate(db.session, registrar, school(PRIMARY).id, IN_WINDOW)
    db.session.expire_all()
    graduate = next(st for st in _final(PRIMARY, 6) if st.status == "graduated")
    req = svc.start(db.session, kind="revoke_graduation", student=graduate, actor=registrar,
                    now=IN_WINDOW, reason="误操作")
    assert [(s["role"], s["node"]) for s in req.chain] == [
        ("supervisor", f"school:{graduate.school_id}"), ("registrar", "bureau:430202")]
    svc.decide(db.session, req.id, actor_of("county2_school_supervisor"), "approve", IN_WINDOW)
    db.session.expire_all()
    assert db.session.get(Student, graduate.id).status == "graduated"  # not yet
    svc.decide(db.session, req.id, actor_of("county2_registrar"), "approve", IN_WINDOW)
    db.session.expire_all()
    back = db.session.get(Student, graduate.id)
    assert (back.status, back.graduated_at) == ("in_school", None)


def _graduations_in(month: str, node: str = "430202", now=datetime(2026, 9, 10, 10)) -> tuple:
    report = monthly.compute(db.session, Actor.system("t"), node, month, now=now, trend=False)
    figure = report.figure("graduations")
    return figure.value, [tuple(r) for r in figure.table.rows]


def test_reports_count_a_graduation_where_it_happened_whatever_the_record_does_later(restore):
    """The graduation row keeps school, stage and day: a graduate pulled into another county's
    junior school still counts as this county's July primary graduate, and a rollback in August
    leaves July's report as it was but takes the graduate out of August's."""
    registrar = actor_of("county2_school_registrar")
    before = _graduations_in("2026-07")[0]
    done = graduation.graduate(db.session, registrar, school(PRIMARY).id, IN_WINDOW)
    assert done.graduated >= 2
    rows = db.session.scalars(select(Graduation).where(Graduation.at == IN_WINDOW)
                              .order_by(Graduation.student_id)).all()
    assert len(rows) == done.graduated
    assert {(g.school_id, g.county_code, g.stage, g.grade_number, g.status, g.revoked_at) for g in rows} == {
        (school(PRIMARY).id, "430202", "primary", 6, "graduated", None)}
    assert _graduations_in("2026-07") == (before + done.graduated, [("小学", before + done.graduated)])

    pulled, revoked = rows[0].student_id, rows[1].student_id
    seventh = db.session.scalar(select(Grade).where(Grade.school_id == school(SENIOR).id, Grade.number == 7))
    senior = school(SENIOR)
    db.session.execute(update(Student).where(Student.id == pulled).values(
        school_id=senior.id, grade_id=seventh.id, class_id=None, status="in_school",
        province_code=senior.province_code, city_code=senior.city_code, county_code=senior.county_code))
    db.session.commit()
    req = svc.start(db.session, kind="revoke_graduation", student=db.session.get(Student, revoked),
                    actor=registrar, now=datetime(2026, 8, 3, 10), reason="误操作")
    svc.decide(db.session, req.id, actor_of("county2_school_supervisor"), "approve", datetime(2026, 8, 3, 11))
    svc.decide(db.session, req.id, actor_of("county2_registrar"), "approve", datetime(2026, 8, 4, 10))
    db.session.expire_all()
    assert db.session.scalar(select(Graduation.revoked_at).where(Graduation.student_id == revoked)) \
        == datetime(2026, 8, 4, 10)
    assert _graduations_in("2026-07") == (before + done.graduated, [("小学", before + done.graduated)])
    assert _graduations_in("2026-07", node=school(SENIOR).county_code)[0] == 0  # not moved with the record
    # a report of July run before the rollback and after it agree; the rollback is not a graduation
    assert _graduations_in("2026-08")[0] == 0


def test_the_destination_fills_in_when_the_same_person_is_enrolled_elsewhere(restore):
    registrar = actor_of("county2_school_registrar")
    graduation.graduate(db.session, registrar, school(PRIMARY).id, IN_WINDOW)
    db.session.expire_all()
    graduate = next(st for st in _final(PRIMARY, 6) if st.status == "graduated")
    other = next(st for st in _final(SENIOR, 9) if st.id_blind)
    db.session.execute(update(Student).where(Student.id == graduate.id).values(id_blind=other.id_blind))
    filled = graduation.fill_destination(db.session, other)
    assert filled == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Student, graduate.id).destination == f"{SENIOR} 长沙市湘江中学"
    assert graduation.fill_destination(db.session, other) == 0  # filled once


def test_the_command_lists_the_cohort_and_refuses_outside_the_window(app, restore):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["year", "graduate", "--school", PRIMARY, "--dry-run",
                                 "--as", "county2_school_registrar", "--json"])
    assert result.exit_code == 1, result.output  # pinned 2026-09-15: outside the window
    assert '"outside_window"' in result.output and "rules/national.yaml:" in result.output
    result = runner.invoke(args=["year", "graduate", "--school", PRIMARY, "--dry-run",
                                 "--as", "school_registrar"])
    assert result.exit_code != 0 and "学校不存在" in result.output


def test_the_page_shows_the_cohort_to_its_school_only(client_for, restore):
    page = client_for("county2_school_registrar").get("/year/graduate/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "毕业办理" in text and 'id="cohort"' in text and "2026-09-15 不在其内" in text
    assert 'id="graduate-form"' not in text  # outside the window nobody can graduate
    assert client_for("county2_supervisor").get("/year/graduate/").status_code in (302, 403, 404)
    posted = client_for("county2_school_registrar").post("/year/graduate/run")
    assert posted.status_code in (302, 400)


def test_rules_explain_the_senior_review_and_the_rollback(app):
    runner = app.test_cli_runner()
    senior = runner.invoke(args=["rules", "explain", "--school", SENIOR, "--action", "graduate",
                                 "--stage", "senior", "--at", "2026-07-01T10:00:00"])
    assert senior.exit_code == 0, senior.output
    assert "own_bureau" in senior.output or "主管教育部门" in senior.output
    rollback = runner.invoke(args=["rules", "explain", "--school", SENIOR, "--action",
                                   "revoke_graduation", "--at", "2026-07-01T10:00:00"])
    assert "rules/national.yaml" in rollback.output and "主管教育部门" in rollback.output


def test_from_1_july_a_graduating_student_starts_no_new_business(restore):
    from app.services.policy import rulesets as policy

    s = school(PRIMARY)
    graduating = policy.decide(db.session, policy.facts("suspend", datetime(2026, 7, 2, 10), s,
                                                        stage="primary", grade=6, status="in_school"))
    frozen = [v for v in graduating.violations if v.code == "frozen"]
    assert len(frozen) == 1 and frozen[0].source.startswith("rules/national.yaml:")
    assert "毕业年级学生7月1日起不再办理新业务" in frozen[0].message
    for grade, at in ((5, datetime(2026, 7, 2, 10)), (6, datetime(2026, 6, 30, 10))):
        other = policy.decide(db.session, policy.facts("suspend", at, s, stage="primary", grade=grade,
                                                       status="in_school"))
        assert "frozen" not in {v.code for v in other.violations}
    # through a filing: the sixth-grader's suspension is refused, citing the freeze
    student = next(st for st in _final(PRIMARY, 6) if st.status == "in_school")
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="suspend", student=student, actor=actor_of("county2_school_registrar"),
                  now=datetime(2026, 7, 2, 10), reason="疾病", files=[PDF])
    assert "frozen" in {p.code for p in caught.value.problems}


def test_on_the_page_the_school_graduates_all_who_can_in_one_action(app, client_for, restore, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_FIXED_NOW", "2026-07-01T10:00:00")
    client = client_for("county2_school_registrar")
    before = graduation.cohort(db.session, actor_of("county2_school_registrar"), school(PRIMARY).id,
                               IN_WINDOW)
    able = {c.student_id for c in before.candidates if c.can}
    page = client.get("/year/graduate/").get_data(as_text=True)
    assert 'id="graduate-form"' in page and "不在其内" not in page
    posted = client.post("/year/graduate/run", follow_redirects=True)
    assert posted.status_code == 200
    assert f"已毕业 {len(able)} 人" in posted.get_data(as_text=True)
    db.session.expire_all()
    assert {st.id for st in _final(PRIMARY, 6) if st.status == "graduated"} == able
