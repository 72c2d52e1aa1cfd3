"""Requests end to end through the services: every chain in order, wrong parties refused, return and
resubmit, rejection, cancellation, transfers (same county, across counties, across provinces)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import PDF, _class_of, account, actor_of, new_id, registered_in, school
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.models import Grade, Jurisdiction, Notification, Request, RequestStep, School, SchoolClass, Student
from app.services.requests import workflow as svc

NOW = datetime(2026, 9, 15, 10)


def approve(req_id: int, *usernames: str, now: datetime = NOW) -> Request:
    for username in usernames:
        svc.decide(db.session, req_id, actor_of(username), "approve", now)
    db.session.expire_all()
    return db.session.get(Request, req_id)


def test_a_key_field_change_waits_for_the_last_approval(ctx):
    student = registered_in("4301020001")
    old = student.name
    req = svc.start(db.session, kind="change_field", student=student, actor=actor_of("school_registrar"),
                    now=NOW, payload={"name": "新名字"}, files=[PDF])
    assert [(s["role"], s["node"]) for s in req.chain] == [
        ("supervisor", f"school:{student.school_id}"), ("registrar", "bureau:430102")]
    assert req.summary == "关键信息变更申请：姓名" and "新名字" not in (req.summary or "")
    approve(req.id, "school_supervisor")
    db.session.expire_all()
    assert db.session.get(Student, student.id).name == old  # not yet
    req = approve(req.id, "county_registrar")
    assert req.status == "done" and req.open_student_id is None
    assert db.session.get(Student, student.id).name == "新名字"
    actions = [s.action for s in req.steps]
    assert actions == ["submit", "approve", "approve"]


def test_a_wrong_party_and_the_requester_are_refused(ctx):
    student = registered_in("4301020001")
    req = svc.start(db.session, kind="change_field", student=student, actor=actor_of("school_registrar"),
                    now=NOW, payload={"ethnicity": "15"}, files=[PDF])
    with pytest.raises(Forbidden):  # the county is the second step, not the first
        svc.decide(db.session, req.id, actor_of("county_registrar"), "approve", NOW)
    with pytest.raises(Forbidden):
        svc.decide(db.session, req.id, actor_of("prov_supervisor"), "approve", NOW)
    svc.cancel(db.session, req.id, actor_of("school_registrar"), NOW)


def test_nobody_approves_their_own_request_even_holding_two_roles(ctx):
    from flask_appbuilder.security.sqla.models import Role

    from app.models import XuejiUser

    both = account("both_roles", "school_registrar", school_code="4301020001")
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "both_roles"))
    user.roles.append(db.session.scalar(select(Role).where(Role.name == "school_supervisor")))
    db.session.commit()
    both = actor_of("both_roles")
    student = registered_in("4301020001")
    req = svc.start(db.session, kind="change_field", student=student, actor=both, now=NOW,
                    payload={"ethnicity": "06"}, files=[PDF])
    with pytest.raises(Forbidden) as caught:
        svc.decide(db.session, req.id, both, "approve", NOW)
    assert "own" in str(caught.value) or "自己" in str(caught.value)
    svc.cancel(db.session, req.id, both, NOW)


def test_return_then_resubmit_runs_the_same_chain_again(ctx):
    student = registered_in("4301020001")
    registrar = actor_of("school_registrar")
    req = svc.start(db.session, kind="change_field", student=student, actor=registrar, now=NOW,
                    payload={"hukou_location": "430102001009"}, files=[PDF])
    with pytest.raises(ValidationFailed):  # a return needs its reason
        svc.decide(db.session, req.id, actor_of("school_supervisor"), "return", NOW)
    svc.decide(db.session, req.id, actor_of("school_supervisor"), "return", NOW, comment="户口页不清晰")
    db.session.expire_all()
    req = db.session.get(Request, req.id)
    assert req.status == "returned" and req.open_student_id == student.id
    assert req.holder_node == f"school:{student.school_id}"
    svc.resubmit(db.session, req.id, registrar, NOW, payload={"hukou_location": "430102001008"},
                 files=[PDF])
    req = approve(req.id, "school_supervisor", "county_registrar")
    assert req.status == "done" and req.round == 2
    assert db.session.get(Student, student.id).hukou_location == "430102001008"


def test_a_rejected_request_is_closed_and_changes_nothing(ctx):
    student = registered_in("4301020001")
    before = student.hukou_nature
    req = svc.start(db.session, kind="change_field", student=student, actor=actor_of("school_registrar"),
                    now=NOW, payload={"hukou_nature": "1" if before == "2" else "2"}, files=[PDF])
    approve(req.id, "school_supervisor")
    svc.decide(db.session, req.id, actor_of("county_registrar"), "reject", NOW, comment="无依据")
    db.session.expire_all()
    req = db.session.get(Request, req.id)
    assert (req.status, req.open_student_id) == ("rejected", None)
    assert db.session.get(Student, student.id).hukou_nature == before
    with pytest.raises(Conflict):
        svc.decide(db.session, req.id, actor_of("county_registrar"), "approve", NOW)


def test_one_open_request_per_student(ctx):
    student = registered_in("4301020001")
    registrar = actor_of("school_registrar")
    req = svc.start(db.session, kind="change_field", student=student, actor=registrar, now=NOW,
                    payload={"ethnicity": "03"}, files=[PDF])
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="suspend", student=student, actor=registrar, now=NOW,
                  reason="疾病", files=[PDF])
    assert any(p.code == "business_in_progress" for p in caught.value.problems)
    svc.cancel(db.session, req.id, registrar, NOW)


def test_identity_changes_run_the_duplicate_check_and_need_evidence(ctx):
    student = registered_in("4301020001")
    other = registered_in("4301020002")
    registrar = actor_of("school_registrar")
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="change_field", student=student, actor=registrar, now=NOW,
                  payload={"id_number": other.id_number, "birth_date": other.birth_date.isoformat(),
                           "gender": other.gender}, files=[PDF])
    assert "duplicate_id" in {p.code for p in caught.value.problems}
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="change_field", student=student, actor=registrar, now=NOW,
                  payload={"ethnicity": "03"})
    assert {p.code for p in caught.value.problems} == {"evidence_required"}
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="change_field", student=student, actor=registrar, now=NOW,
                  payload={"specialty": "绘画"}, files=[PDF])
    assert {p.code for p in caught.value.problems} == {"not_controlled"}


def test_suspension_and_resumption_move_the_status(ctx):
    student = registered_in("4301020001")
    registrar = actor_of("school_registrar")
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="suspend", student=student, actor=registrar, now=NOW,
                  reason="旅游", files=[PDF])
    assert {p.code for p in caught.value.problems} == {"reason"}
    req = svc.start(db.session, kind="suspend", student=student, actor=registrar, now=NOW,
                    reason="疾病", files=[PDF])
    # Furong adds a step for its bureau's supervisor after Hunan's chain
    assert [(s["role"], s["node"]) for s in req.chain][-1] == ("supervisor", "bureau:430102")
    req = approve(req.id, "school_supervisor", "county_registrar", "county_supervisor")
    assert db.session.get(Student, student.id).status == "suspended"
    back = svc.start(db.session, kind="resume", student=db.session.get(Student, student.id),
                     actor=registrar, now=NOW, files=[PDF])
    approve(back.id, "school_supervisor")
    assert db.session.get(Student, student.id).status == "in_school"


def test_a_student_who_is_not_in_school_cannot_be_transferred(ctx):
    student = registered_in("4301020001")
    student.status = "dropout"
    db.session.commit()
    receiving = account("recv_reg_b", "school_registrar", school_code="4301040001")
    klass = next(c for c in school("4301040001").classes if c.grade_id and c.grade.number == student.grade.number)
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="transfer", student=student, actor=receiving, now=NOW,
                  target_class=klass, files=[PDF])
    assert "status_not_allowed" in {p.code for p in caught.value.problems}


def test_a_same_county_transfer_goes_sending_school_then_the_common_bureau(ctx):
    student = registered_in("4301020002", grade=7)
    receiving = account("recv_reg_c", "school_registrar", school_code="4301020003")
    account("send_sup_c", "school_supervisor", school_code="4301020002")
    target = _class_of("4301020003", 7)
    req = svc.start(db.session, kind="transfer", student=student, actor=receiving, now=NOW,
                    target_class=target, files=[PDF])
    assert req.variant == "same_county"
    assert [(s["role"], s["node"]) for s in req.chain] == [
        ("supervisor", f"school:{student.school_id}"), ("registrar", "bureau:430102")]
    req = approve(req.id, "send_sup_c", "county_registrar")
    moved = db.session.get(Student, student.id)
    assert req.status == "done" and moved.school_id == target.school_id and moved.class_id == target.id
    assert moved.county_code == "430102" and moved.registry_no == student.registry_no
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.request_id == req.id)) >= 3


def test_a_transfer_across_counties_needs_four_parties_in_order(ctx):
    student = registered_in("4301040002", grade=7)
    receiving = account("recv_reg_c", "school_registrar", school_code="4301020003")
    account("send_sup_y", "school_supervisor", school_code="4301040002")
    account("yuelu_reg", "county_registrar", node="430104")
    req = svc.start(db.session, kind="transfer", student=student, actor=receiving, now=NOW,
                    target_class=_class_of("4301020003", 7), files=[PDF])
    assert [s["node"] for s in req.chain] == ["bureau:430102", f"school:{student.school_id}", "bureau:430104"]
    with pytest.raises(Forbidden):  # the sending school cannot go before the receiving bureau
        svc.decide(db.session, req.id, actor_of("send_sup_y"), "approve", NOW)
    req = approve(req.id, "county_registrar", "send_sup_y")
    assert db.session.get(Student, student.id).school_id == student.school_id  # still the sender's
    req = approve(req.id, "yuelu_reg")
    assert req.status == "done"
    assert db.session.get(Student, student.id).school.code == "4301020003"


def _guangdong_student() -> Student:
    """A student in another province (440000 / 440100 / 440103), with its bureau's accounts."""
    gd = db.session.scalar(select(School).where(School.code == "4401030001"))
    if gd is None:
        prov = Jurisdiction(code="440000", name="广东省", level="province")
        city = Jurisdiction(code="440100", name="广州市", level="city", parent=prov)
        county = Jurisdiction(code="440103", name="荔湾区", level="county", parent=city)
        gd = School(code="4401030001", name="荔湾区示范中学", stages="junior", kind="ordinary",
                    ownership="public", jurisdiction=county)
        grade = Grade(school=gd, stage="junior", number=7, name="初一")
        klass = SchoolClass(school=gd, grade=grade, number=1, name="2026级初一1班", entry_year=2026)
        db.session.add_all([prov, city, county, gd, grade, klass])
        db.session.flush()
        s = Student(school=gd, grade=grade, school_class=klass, name="粤生", gender="1",
                    birth_date=date(2013, 10, 1), status="in_school", registry_kind="G",
                    registered=True)
        s.id_type = "1"
        s.id_number = new_id("440103", date(2013, 10, 1))
        s.registry_no = "G" + s.id_number
        db.session.add(s)
        db.session.commit()
        account("gd_sup", "school_supervisor", school_code="4401030001")
        account("gd_reg", "county_registrar", node="440103")
    return db.session.scalar(select(Student).where(Student.name == "粤生"))


def test_a_cross_province_transfer_is_pulled_after_the_approvals_and_cancellable_before(ctx):
    student = _guangdong_student()
    receiving = account("recv_reg_c", "school_registrar", school_code="4301020003")
    target = _class_of("4301020003", 7)
    req = svc.start(db.session, kind="transfer", student=student, actor=receiving, now=NOW,
                    target_class=target, files=[PDF])
    assert req.variant == "cross_province"
    req = approve(req.id, "county_registrar", "gd_sup", "gd_reg")
    assert req.status == "awaiting_pull"
    assert db.session.get(Student, student.id).school.code == "4401030001"  # not until the pull
    svc.cancel(db.session, req.id, receiving, NOW, comment="家长改变主意")
    db.session.expire_all()
    assert db.session.get(Request, req.id).status == "cancelled"
    again = svc.start(db.session, kind="transfer", student=db.session.get(Student, student.id),
                      actor=receiving, now=NOW, target_class=target, files=[PDF])
    approve(again.id, "county_registrar", "gd_sup", "gd_reg")
    svc.pull(db.session, again.id, receiving, NOW)
    db.session.expire_all()
    moved = db.session.get(Student, student.id)
    assert moved.school.code == "4301020003" and moved.province_code == "430000"
    assert db.session.get(Request, again.id).status == "done"


def test_the_inbox_lists_what_waits_for_the_account_oldest_first(ctx):
    registrar = actor_of("school_registrar")
    first = svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                      actor=registrar, now=datetime(2026, 9, 14, 9), payload={"ethnicity": "08"},
                      files=[PDF])
    second = svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                       actor=registrar, now=datetime(2026, 9, 15, 9), payload={"ethnicity": "09"},
                       files=[PDF])
    ids = [r.id for r in svc.inbox(db.session, actor_of("school_supervisor"))]
    assert ids.index(first.id) < ids.index(second.id)
    assert second.id not in [r.id for r in svc.inbox(db.session, actor_of("county_registrar"))]
    for req in (first, second):
        svc.cancel(db.session, req.id, registrar, NOW)


def test_a_deadline_counts_working_days(ctx):
    friday = datetime(2026, 9, 18, 10)
    req = svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                    actor=actor_of("school_registrar"), now=friday, payload={"ethnicity": "10"},
                    files=[PDF])
    assert req.chain[0]["days"] == 5 and req.due_on == date(2026, 9, 25)
    svc.cancel(db.session, req.id, actor_of("school_registrar"), NOW)


def test_a_request_keeps_the_chain_of_the_rule_version_it_started_under(ctx):
    from app.services.policy import rulesets as policy

    registrar = actor_of("school_registrar")
    req = svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                    actor=registrar, now=NOW, payload={"ethnicity": "11"}, files=[PDF])
    started_under = req.rule_version
    texts = policy.current_texts(db.session)
    county = texts["430102.yaml"]
    extra = ("\n  change_field:\n    extra_steps:\n"
             "      - {role: supervisor, level: own_bureau, days: 5}\n")
    try:
        policy.activate(db.session, {**texts, "430102.yaml": county + extra}, by="test")
        req = approve(req.id, "school_supervisor", "county_registrar")
        assert req.status == "done" and len(req.chain) == 2 and req.rule_version == started_under
        newer = svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                          actor=registrar, now=NOW, payload={"ethnicity": "12"}, files=[PDF])
        assert len(newer.chain) == 3 and newer.rule_version > started_under
        svc.cancel(db.session, newer.id, registrar, NOW)
    finally:
        policy.activate(db.session, {**policy.current_texts(db.session), "430102.yaml": county},
                        by="test", note="restore")


def test_twenty_identical_clicks_make_one_step(ctx):
    req = svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                    actor=actor_of("school_registrar"), now=NOW, payload={"ethnicity": "13"},
                    files=[PDF])
    supervisor = actor_of("school_supervisor")
    for _ in range(20):
        try:
            svc.decide(db.session, req.id, supervisor, "approve", NOW, expected_step=0)
        except (Conflict, Forbidden):
            pass
    count = db.session.scalar(select(func.count()).select_from(RequestStep).where(
        RequestStep.request_id == req.id, RequestStep.action == "approve"))
    assert count == 1
    svc.cancel(db.session, req.id, actor_of("school_registrar"), NOW)
