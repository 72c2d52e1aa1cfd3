"""毕业后跨省就学 through the services: another province's graduate is received by a Hunan school,
three parties approve in order, the receiving school pulls the file, and the one record moves on
with its destination filled; outside the window, a student still in school, a graduate of the
same province and a party outside the chain are refused."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import is_postgres
from cross_province_data import JX_BUREAU, JX_SUPERVISOR, NOW, RECEIVING, rule_line, student
from factories import PDF, _class_of, account, actor_of
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Request, RequestStep, Student
from app.services.record import timeline
from app.services.requests import workflow as svc

RECEIVER = "school3_registrar"


def _file(graduate, klass=None, now=NOW, receiver=RECEIVER) -> Request:
    return svc.start(db.session, kind="enroll_cross_province", student=graduate,
                     actor=actor_of(receiver), now=now, target_class=klass or _class_of(RECEIVING, 10),
                     files=[PDF])


def _approve(rid: int, *usernames: str) -> Request:
    for username in usernames:
        svc.decide(db.session, rid, actor_of(username), "approve", NOW)
    db.session.expire_all()
    return db.session.get(Request, rid)


def _codes(caught) -> dict:
    return {p.code: p for p in caught.value.problems}


def test_three_parties_approve_then_the_receiving_school_pulls_the_one_record(ctx):
    graduate = student(grade=9)
    blind, old_school = graduate.id_blind, graduate.school_id
    req = _file(graduate)
    assert [(s["role"], s["level"], s["node"]) for s in req.chain] == [
        ("registrar", "own_bureau", "bureau:430102"), ("registrar", "other_bureau", "bureau:360102")]
    first = rule_line("actions", "enroll_cross_province", "- {role")
    path, line = first.rsplit(":", 1)
    assert [s["source"] for s in req.chain] == [first, f"{path}:{int(line) + 1}"]
    assert req.id in [r.id for r in svc.inbox(db.session, actor_of("county_registrar"))]
    with pytest.raises(Forbidden):  # the graduating school's bureau decides second, not first
        svc.decide(db.session, req.id, actor_of(JX_BUREAU), "approve", NOW)
    req = _approve(req.id, "county_registrar")
    assert req.id in [r.id for r in svc.inbox(db.session, actor_of(JX_BUREAU))]
    req = _approve(req.id, JX_BUREAU)
    assert req.status == "awaiting_pull"
    assert req.id in [r.id for r in svc.inbox(db.session, actor_of(RECEIVER))]  # the pull waits
    assert db.session.get(Student, graduate.id).school_id == old_school  # not until the pull

    svc.pull(db.session, req.id, actor_of(RECEIVER), NOW)
    db.session.expire_all()
    moved = db.session.get(Student, graduate.id)
    assert (moved.school.code, moved.grade.number, moved.grade.stage, moved.status) == (
        RECEIVING, 10, "senior", "in_school")
    assert moved.province_code == "430000" and moved.registered is True
    assert moved.destination.startswith(RECEIVING) and "湘江中学" in moved.destination
    assert moved.registry_no == "G" + moved.id_number  # one number, for life
    entry_year = _class_of(RECEIVING, 10).entry_year or 2026
    assert moved.entry_date == date(entry_year, 9, 1)  # with the cohort of the entry grade
    assert db.session.scalar(select(func.count()).select_from(Student)
                             .where(Student.id_blind == blind)) == 1
    assert db.session.get(Request, req.id).status == "done"
    assert db.session.scalar(select(func.count()).select_from(Request).where(  # no second review
        Request.student_id == graduate.id, Request.kind.like("register%"))) == 0
    history = timeline.for_student(db.session, moved)
    words = [e.action for e in history]
    assert words[-2:] == ["调档完成", "毕业后跨省就学生效"]
    effect = history[-1].changes
    assert "去向" in effect and effect["去向"]["new"].startswith(RECEIVING)
    assert effect["学籍状态"]["new"] != effect["学籍状态"]["old"]
    with pytest.raises(Conflict):  # pulled once
        svc.pull(db.session, req.id, actor_of(RECEIVER), NOW)


def test_a_primary_graduate_enters_grade_seven_and_not_another_grade(ctx):
    graduate = student(grade=6)
    with pytest.raises(ValidationFailed) as caught:
        _file(graduate, _class_of("4301020002", 8), receiver="school2_registrar")
    assert caught.value.problems[0].field == "target_class"
    req = _file(graduate, _class_of("4301020002", 7), receiver="school2_registrar")
    _approve(req.id, "county_registrar", JX_BUREAU)
    svc.pull(db.session, req.id, actor_of("school2_registrar"), NOW)
    db.session.expire_all()
    moved = db.session.get(Student, graduate.id)
    assert (moved.school.code, moved.grade.number, moved.status) == ("4301020002", 7, "in_school")


@pytest.mark.parametrize("when", [datetime(2026, 12, 15, 9), datetime(2026, 6, 1, 9)],
                         ids=["closed-15-december", "closed-in-june"])
def test_outside_the_window_it_is_refused_citing_the_window(ctx, when):
    with pytest.raises(ValidationFailed) as caught:
        _file(student(grade=9), now=when)
    refusal = _codes(caught)["outside_window"]
    assert refusal.source == rule_line("windows", "cross_province_enrollment", "- {from")
    assert "毕业后跨省就学" in refusal.message


def test_a_student_still_in_school_is_refused_citing_the_status_rule(ctx):
    with pytest.raises(ValidationFailed) as caught:
        _file(student(grade=9, status="in_school"))
    refusal = _codes(caught)["status_not_allowed"]
    assert refusal.source == rule_line("actions", "enroll_cross_province", "requires_status")


def test_a_graduate_of_the_same_province_is_ordinary_admission(ctx):
    graduate = student(grade=9, school_code="4302020002")  # 荷塘区向阳初级中学, also Hunan
    with pytest.raises(ValidationFailed) as caught:
        _file(graduate)
    assert set(_codes(caught)) == {"same_province"}
    assert db.session.scalar(select(Request.id).where(Request.student_id == graduate.id)) is None


def test_only_a_final_grade_graduate_of_a_compulsory_stage_goes_on(ctx):
    with pytest.raises(ValidationFailed) as caught:
        _file(student(grade=8, status="graduated"))
    assert _codes(caught)["grade"].field == "student"


def test_only_the_chain_decides_and_nobody_outside_it_sees_the_request(ctx):
    req = _file(student(grade=9))
    with pytest.raises(Forbidden):  # the graduating school sees it, but is not in the chain
        svc.decide(db.session, req.id, actor_of(JX_SUPERVISOR), "approve", NOW)
    with pytest.raises(NotFound):  # another county of Hunan does not see it at all
        svc.decide(db.session, req.id, actor_of("county2_registrar"), "approve", NOW)
    with pytest.raises(Forbidden):  # nor does the filing school approve its own request
        svc.decide(db.session, req.id, actor_of("school3_supervisor"), "approve", NOW)
    req = _approve(req.id, "county_registrar", JX_BUREAU)
    with pytest.raises(Forbidden):  # only the receiving school pulls
        svc.pull(db.session, req.id, actor_of(JX_SUPERVISOR), NOW)
    svc.cancel(db.session, req.id, actor_of(RECEIVER), NOW, comment="学生改报他校")
    db.session.expire_all()
    assert db.session.get(Request, req.id).status == "cancelled"


def test_a_second_school_cannot_file_while_the_first_request_is_open(ctx):
    graduate = student(grade=9)
    first = _file(graduate)
    other = account("ht_senior_reg", "school_registrar", school_code="4302020003")
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="enroll_cross_province", student=db.session.get(Student, graduate.id),
                  actor=other, now=NOW, target_class=_class_of("4302020003", 10), files=[PDF])
    assert set(_codes(caught)) == {"business_in_progress"}
    svc.cancel(db.session, first.id, actor_of(RECEIVER), NOW)
    second = svc.start(db.session, kind="enroll_cross_province",
                       student=db.session.get(Student, graduate.id), actor=other, now=NOW,
                       target_class=_class_of("4302020003", 10), files=[PDF])
    assert second.chain[0]["node"] == "bureau:430202"
    svc.cancel(db.session, second.id, other, NOW)


@pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")
def test_two_simultaneous_pulls_move_the_record_once(app, ctx):
    from test_concurrency import race

    graduate = student(grade=9)
    req = _file(graduate)
    _approve(req.id, "county_registrar", JX_BUREAU)
    results = race(app, lambda i: svc.pull(db.session, req.id, actor_of(RECEIVER), NOW).status, 2)
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    db.session.expire_all()
    pulls = db.session.scalar(select(func.count()).select_from(RequestStep).where(
        RequestStep.request_id == req.id, RequestStep.action == "pull"))
    assert pulls == 1 and db.session.get(Student, graduate.id).school.code == RECEIVING
