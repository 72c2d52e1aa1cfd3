"""Issue 10, points 2 and 3 through the services: a record under review is not edited behind its
reviewer's back (until the request is returned), a returned request waits in its school's inbox,
who holds a request is named in words, and messages are read or unread per account."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import PDF, account, actor_of, first_class, new_id, registered_in
from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.models import FamilyMember, Notification, Request, Student
from app.services.record import family
from app.services.record import students as student_service
from app.services.requests import holds, messages
from app.services.requests import workflow as svc

NOW = datetime(2026, 9, 15, 10)


def _new_record(name: str) -> tuple[Student, Request]:
    """A new record of 4301020001 (grade 2), its registration review waiting for the school."""
    klass = first_class("4301020001", grade=2)
    student = Student(school_class=klass, name=name, gender="1", birth_date=date(2018, 10, 5),
                      birthplace="430102001000", native_place="湖南长沙", ethnicity="01",
                      nationality="CHN", id_type="1", hmt_status="00", health="1",
                      political_status="14", hukou_nature="2", hukou_location="430102001001",
                      entry_date=date(2025, 9, 1), entry_mode="11", study_mode="1",
                      current_address="湖南省长沙市芙蓉区五一大道1号", mailing_address="湖南省长沙市芙蓉区五一大道1号",
                      home_address="湖南省长沙市芙蓉区五一大道1号", phone="13812345678", postcode="410000",
                      only_child=True, had_preschool=True, left_behind="0", needs_subsidy=False,
                      receives_subsidy=False, orphan=False, martyr_child=False, distance_km=1.5,
                      travel_mode="1", needs_school_bus=False, source="1", migrant_child=False)
    student.id_number = new_id(born=date(2018, 10, 5))
    parent = FamilyMember(name="家长", relation="1", is_guardian=True, id_type="1", phone="13900001111")
    student_service.create(db.session, student, [parent], actor_of("school_registrar"), NOW)
    req = db.session.scalar(select(Request).where(Request.open_student_id == student.id))
    return student, req


def _refused(fn) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn()
    db.session.rollback()
    return caught.value


def test_a_record_under_registration_review_is_edited_only_after_it_is_returned(ctx):
    student, req = _new_record("审核中学生")
    student.name = "背后改名"
    refused = _refused(lambda: student_service.update(db.session, student, actor_of("school_registrar"), NOW))
    problem = next(p for p in refused.problems if p.code == "under_review")
    assert f"#{req.id}" in problem.message and "在校生注册" in problem.message
    assert "芙蓉区育英小学 · 学籍主管领导" in problem.message  # where it is
    assert problem.source == "rules/national.yaml:28"
    db.session.expire_all()
    assert db.session.get(Student, student.id).name == "审核中学生"

    svc.decide(db.session, req.id, actor_of("school_supervisor"), "return", NOW, comment="姓名有误")
    student = db.session.get(Student, student.id)
    student.name = "更正后学生"  # returned: the school corrects it, even a controlled item
    student_service.update(db.session, student, actor_of("school_registrar"), NOW)
    svc.resubmit(db.session, req.id, actor_of("school_registrar"), NOW)
    student = db.session.get(Student, student.id)
    student.name = "又改名"
    assert _refused(lambda: student_service.update(db.session, student, actor_of("school_registrar"),
                                                   NOW)).problems[0].code == "under_review"
    for approver in ("school_supervisor", "county_registrar"):
        svc.decide(db.session, req.id, actor_of(approver), "approve", NOW)
    db.session.expire_all()
    done = db.session.get(Student, student.id)
    assert done.registered and done.name == "更正后学生"


def test_family_members_wait_for_the_reviewer_too(ctx):
    student = registered_in("4301020001")
    registrar = actor_of("school_registrar")
    req = svc.start(db.session, kind="change_field", student=student, actor=registrar, now=NOW,
                    payload={"ethnicity": "06"}, files=[PDF])
    student = db.session.get(Student, student.id)
    added = FamilyMember(student=student, name="祖母", relation="9", is_guardian=False)
    refused = _refused(lambda: family.save_member(db.session, added, registrar, adding=True))
    assert refused.problems[0].code == "under_review" and f"#{req.id}" in str(refused)
    db.session.expire_all()
    member = db.session.get(Student, student.id).members[0]
    member.phone = "13700000000"
    assert _refused(lambda: family.save_member(db.session, member, registrar, adding=False)
                    ).problems[0].code == "under_review"
    member = db.session.get(Student, student.id).members[0]
    assert _refused(lambda: family.prepare_delete(db.session, member, registrar)
                    ).problems[0].code == "under_review"
    svc.cancel(db.session, req.id, registrar, NOW)
    student = db.session.get(Student, student.id)
    family.save_member(db.session, FamilyMember(student=student, name="祖母", relation="9",
                                                is_guardian=False), registrar, adding=True)


def test_the_holder_is_named_by_school_or_bureau_and_role(ctx):
    student = registered_in("4301020001")
    req = svc.start(db.session, kind="change_field", student=student, actor=actor_of("school_registrar"),
                    now=NOW, payload={"ethnicity": "06"}, files=[PDF])
    assert holds.holder_zh(db.session, req) == "芙蓉区育英小学 · 学籍主管领导"
    svc.decide(db.session, req.id, actor_of("school_supervisor"), "approve", NOW)
    req = db.session.get(Request, req.id)
    assert holds.holder_zh(db.session, req) == "芙蓉区教育局 · 学籍管理员"
    svc.decide(db.session, req.id, actor_of("county_registrar"), "approve", NOW)
    assert holds.holder_zh(db.session, db.session.get(Request, req.id)) == ""


def test_a_returned_request_waits_in_its_schools_inbox_until_resubmitted(ctx):
    student = registered_in("4301020001")
    registrar = actor_of("school_registrar")
    req = svc.start(db.session, kind="change_field", student=student, actor=registrar, now=NOW,
                    payload={"ethnicity": "06"}, files=[PDF])
    assert req.id not in [r.id for r in svc.inbox(db.session, registrar)]
    later = datetime(2026, 9, 17, 9)
    svc.decide(db.session, req.id, actor_of("school_supervisor"), "return", later, comment="补材料")
    waiting = {r.id: r for r in svc.inbox(db.session, registrar)}
    assert req.id in waiting and waiting[req.id].status == "returned"
    assert waiting[req.id].step_started_at == later  # arrived when it was returned
    assert req.id not in [r.id for r in svc.inbox(db.session, actor_of("school_supervisor"))]
    svc.resubmit(db.session, req.id, registrar, NOW, files=[PDF])
    assert req.id not in [r.id for r in svc.inbox(db.session, registrar)]
    assert req.id in [r.id for r in svc.inbox(db.session, actor_of("school_supervisor"))]
    svc.cancel(db.session, req.id, registrar, NOW)


def test_messages_are_read_or_unread_for_each_account_of_the_node(ctx):
    account("msg_registrar_b", "school_registrar", school_code="4301020001")
    me, colleague = actor_of("school_supervisor"), actor_of("msg_registrar_b")
    messages.mark_all_read(db.session, me)
    messages.mark_all_read(db.session, colleague)
    assert messages.unread(db.session, me) == 0
    student = registered_in("4301020001")
    req = svc.start(db.session, kind="change_field", student=student, actor=actor_of("school_registrar"),
                    now=NOW, payload={"ethnicity": "06"}, files=[PDF])
    assert messages.unread(db.session, me) == 1 and messages.unread(db.session, colleague) == 1
    assert [m.read for m in messages.listing(db.session, me, 1)] == [False]
    assert messages.mark_read(db.session, me, request_id=req.id) == 1
    assert messages.mark_read(db.session, me, request_id=req.id) == 0  # once only
    assert messages.unread(db.session, me) == 0 and messages.unread(db.session, colleague) == 1
    assert messages.listing(db.session, me, 1)[0].read
    county = actor_of("county_registrar")
    before = messages.unread(db.session, county)
    svc.decide(db.session, req.id, me, "approve", NOW)  # the bureau hears of it, the school does not
    assert messages.unread(db.session, county) == before + 1 and messages.unread(db.session, me) == 0
    assert messages.mark_all_read(db.session, colleague) == 1
    assert messages.unread(db.session, colleague) == 0
    notice = db.session.scalar(select(Notification).where(Notification.node == "bureau:430102")
                               .order_by(Notification.id.desc()))
    assert messages.mark_read(db.session, me, ids=[notice.id]) == 0  # another node's: not mine
    svc.cancel(db.session, req.id, actor_of("school_registrar"), NOW)
