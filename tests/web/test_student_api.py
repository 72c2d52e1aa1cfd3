"""The student REST resource: create, read, edit, delete; bad input is a 4xx naming the field."""

from __future__ import annotations

from datetime import date

from factories import bad_checksum, first_class, new_id, register_fully, student_in, student_payload
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, RegistryNumber, School, Student
from app.services.record.registry_numbers import find


def _create(api, headers, **overrides):
    klass = first_class("4301020001")
    payload = student_payload(klass, overrides.pop("id_number", None) or new_id(), **overrides)
    if payload.get("id_type") == "Z":
        payload["id_number"] = None
    return api.post("/api/v1/student/", json=payload, headers=headers), payload


def test_school_registrar_creates_a_student_with_a_temporary_number(ctx, api, token_for):
    r, payload = _create(api, token_for("school_registrar"))
    assert r.status_code == 201, r.get_json()
    student = db.session.get(Student, r.get_json()["id"])
    assert student.registry_no.startswith("L430102" + "20191005")
    assert len(student.registry_no) == 19 and student.registry_kind == "L"
    assert student.id_number == payload["id_number"]
    assert [m.name for m in student.members] == ["测试家长"]
    assert student.name_pinyin == "Ce Shi Xue Sheng"
    history = db.session.scalars(select(RegistryNumber).where(RegistryNumber.student_id == student.id)).all()
    assert [h.number for h in history] == [student.registry_no]


def test_an_invalid_id_number_is_a_422_naming_the_field(ctx, api, token_for):
    klass = first_class("4301020001")
    payload = student_payload(klass, bad_checksum(new_id()))
    r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 422
    fields = {e.get("field") for e in r.get_json()["errors"]}
    assert "id_number" in fields


def test_birth_date_and_gender_must_agree_with_the_id(ctx, api, token_for):
    r, _ = _create(api, token_for("school_registrar"), birth_date="2019-10-06", gender="2")
    assert r.status_code == 422
    fields = {e["field"] for e in r.get_json()["errors"]}
    assert {"birth_date", "gender"} <= fields


def test_every_problem_is_reported_at_once(ctx, api, token_for):
    r, _ = _create(api, token_for("school_registrar"), ethnicity="99", postcode="41000",
                   hukou_location="4301", members=[])
    assert r.status_code == 422
    fields = {e["field"] for e in r.get_json()["errors"]}
    assert {"ethnicity", "postcode", "hukou_location", "members"} <= fields


def test_unknown_or_missing_fields_are_rejected_by_name(ctx, api, token_for):
    r, _ = _create(api, token_for("school_registrar"), registry_no="G123")
    assert r.status_code == 422 and "registry_no" in r.get_json()["message"]
    klass = first_class("4301020001")
    payload = student_payload(klass, new_id())
    del payload["school_class"]
    r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 422 and "school_class" in r.get_json()["message"]


def test_a_duplicate_id_number_is_refused_with_the_existing_record(ctx, api, token_for):
    existing = student_in(county_code="430202", kind="G")
    klass = first_class("4301020001")
    payload = student_payload(klass, existing.id_number, born=existing.birth_date,
                              male=existing.gender == "1")
    r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 422
    assert any(e["code"] == "duplicate_id" for e in r.get_json()["errors"])


def test_a_class_of_another_school_is_refused(ctx, api, token_for):
    other = first_class("4301040001")
    payload = student_payload(other, new_id())
    r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 403
    assert db.session.scalar(select(Student).where(Student.name == "测试学生",
                                                   Student.class_id == other.id)) is None


def test_bureau_roles_cannot_create_students(ctx, api, token_for):
    r, _ = _create(api, token_for("county_registrar"))
    assert r.status_code == 403


def test_a_student_without_a_resident_id_needs_a_family_members_id(ctx, api, token_for):
    r, _ = _create(api, token_for("school_registrar"), id_type="Z", id_number=None)
    assert r.status_code == 422
    assert any(e["code"] == "member_id_required" for e in r.get_json()["errors"])
    parent = new_id(born=date(1990, 3, 3))
    members = [{"name": "家长", "relation": "2", "is_guardian": True, "id_type": "1", "id_number": parent}]
    r, _ = _create(api, token_for("school_registrar"), id_type="Z", id_number=None, members=members)
    assert r.status_code == 201, r.get_json()


def test_put_edits_a_field_and_audits_it_without_personal_values(ctx, api, token_for):
    headers = token_for("school_registrar")
    created, _ = _create(api, headers)
    sid = created.get_json()["id"]
    register_fully(sid)  # no review waits: the school edits it directly
    r = api.put(f"/api/v1/student/{sid}", json={"specialty": "书法", "email": "a@b.cn"},
                headers=headers)
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    student = db.session.get(Student, sid)
    assert (student.specialty, student.email) == ("书法", "a@b.cn")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == sid,
                                                        AuditEvent.action == "update")).one()
    assert event.changes["specialty"] == {"old": None, "new": "书法"}
    assert event.changes["email"] == {"changed": True}
    assert event.rule_version is not None or event.rule_version is None  # set once rules are versioned


def test_put_of_a_controlled_field_is_refused_with_the_rules_source(ctx, api, token_for):
    headers = token_for("school_registrar")
    created, _ = _create(api, headers)
    sid = created.get_json()["id"]
    register_fully(sid)
    r = api.put(f"/api/v1/student/{sid}", json={"name": "改名", "phone": "13700001234"},
                headers=headers)
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.get_json()["errors"]}
    assert errors["name"]["code"] == "controlled_field"
    assert errors["name"]["source"].startswith("rules/national.yaml:")
    assert errors["phone"]["source"].startswith("rules/430102.yaml:")  # the county controls phones
    assert "申请变更" in errors["name"]["message"]
    db.session.expire_all()
    assert db.session.get(Student, sid).name == "测试学生"


def test_put_cannot_move_a_student_into_another_schools_class(ctx, api, token_for):
    headers = token_for("school_registrar")
    created, _ = _create(api, headers)
    sid = created.get_json()["id"]
    other = first_class("4301040001")
    r = api.put(f"/api/v1/student/{sid}", json={"school_class": other.id}, headers=headers)
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["field"] == "school_class"


def test_a_temporary_record_can_be_deleted_but_its_number_is_never_reused(ctx, api, token_for):
    headers = token_for("school_registrar")
    created, _ = _create(api, headers)
    sid = created.get_json()["id"]
    number = db.session.get(Student, sid).registry_no
    assert api.delete(f"/api/v1/student/{sid}", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(Student, sid) is None
    kept = find(db.session, number)
    assert kept.retired_reason == "record deleted" and kept.student_id is None


def test_a_record_with_a_formal_number_cannot_be_deleted_by_the_school(ctx, api, token_for):
    own = student_in(school_code="4301020001", kind="G")
    r = api.delete(f"/api/v1/student/{own.id}", headers=token_for("school_registrar"))
    assert r.status_code == 403
    assert db.session.get(Student, own.id) is not None


def test_school_api_is_scoped_and_named_school(ctx, api, token_for):
    r = api.get("/api/v1/school/?q=(page_size:100)", headers=token_for("county_registrar"))
    assert r.status_code == 200
    shown = {s["code"] for s in r.get_json()["result"]}
    in_county = set(db.session.scalars(select(School.code).where(School.county_code == "430102")))
    assert {"4301020001", "4301020002", "4301020003"} <= shown  # the demo's schools of 芙蓉区
    assert shown == in_county  # (other tests may add schools to the county; none from elsewhere)


def test_the_api_rejects_cookie_sessions_without_a_token(ctx, client_for):
    client = client_for("school_registrar")
    assert client.get("/api/v1/student/").status_code == 401


def test_family_members_are_written_through_the_api_with_their_personal_items(ctx, api, token_for):
    headers = token_for("school_registrar")
    created, _ = _create(api, headers)
    sid = created.get_json()["id"]
    register_fully(sid)  # no review waits: the school edits its family directly
    parent = new_id(born=date(1988, 5, 6), male=False)
    r = api.post("/api/v1/family_member/", headers=headers, json={
        "student_id": sid, "name": "母亲甲", "relation": "2", "is_guardian": True, "id_type": "1",
        "id_number": parent, "phone": "13911112222", "current_address": "湖南省长沙市某路2号"})
    assert r.status_code == 201, r.get_json()
    from app.models import FamilyMember

    member = db.session.get(FamilyMember, r.get_json()["id"])
    assert (member.id_number, member.phone, member.seq) == (parent, "13911112222", 2)
    from app.models import AuditEvent

    added = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "add_member",
                                                       AuditEvent.entity_id == member.id))
    assert added is not None and added.entity == "family_member"  # named by its id, not only by uid
    r = api.put(f"/api/v1/family_member/{member.id}", headers=headers, json={"phone": "13933334444"})
    assert r.status_code == 200
    db.session.expire_all()
    assert db.session.get(FamilyMember, member.id).phone == "13933334444"
    foreign = student_in(county_code="430202")
    r = api.post("/api/v1/family_member/", headers=headers, json={
        "student_id": foreign.id, "name": "外人", "relation": "9", "is_guardian": False})
    assert r.status_code == 404


def test_a_returnee_registration_follows_its_own_switch(ctx, api, token_for):
    r, _ = _create(api, token_for("school_registrar"), registration="returnee")
    assert r.status_code == 422  # Furong switched returnee registration off
    error = next(e for e in r.get_json()["errors"] if e["code"] == "switch_off")
    assert error["source"].startswith("rules/430102.yaml:")
