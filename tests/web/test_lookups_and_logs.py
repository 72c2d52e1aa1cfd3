"""Look-ups that leak nothing, every full view logged, every account change audited (issue 8, points
2 and 3), and the request API's input types: each hole as it was found, as a regression case."""

from __future__ import annotations

import base64
import io
import json
import random
from datetime import datetime

import pytest
from factories import (
    PDF,
    _class_of,
    account,
    actor_of,
    first_class,
    new_id,
    registered_in,
    school,
    student_payload,
)
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import func, select
from workbooks import student_row, write

from app.extensions import db
from app.models import AuditEvent, FamilyMember, Jurisdiction, PersonalDataAccess, Request, Student, XuejiUser
from app.services.exchange import imports

EVIDENCE = [{"filename": "转学证明.pdf", "content_base64": base64.b64encode(PDF[1]).decode()}]
NOW = datetime(2026, 9, 15, 10)


def _outsider() -> str:
    """A school registrar of another county (岳麓区) than the demo's students of 芙蓉区."""
    account("yl_reg_t", "school_registrar", school_code="4301040002")
    return "yl_reg_t"


def _logs(username: str, *, student_id: int | None = None, channel: str | None = None) -> list:
    db.session.expire_all()
    query = select(PersonalDataAccess).where(PersonalDataAccess.username == username)
    if student_id is not None:
        query = query.where(PersonalDataAccess.student_id == student_id)
    if channel is not None:
        query = query.where(PersonalDataAccess.channel == channel)
    return db.session.scalars(query).all()


def _open_request(student_id: int) -> Request | None:
    db.session.expire_all()
    return db.session.scalar(select(Request).where(Request.open_student_id == student_id))


def _errors(response) -> dict:
    return {e.get("field"): e for e in response.get_json().get("errors", [])}


def _names(response, field: str) -> bool:
    """A 4xx names the field: in its errors, or (the app-wide input guard) in its message."""
    return field in _errors(response) or field in str(response.get_json().get("message"))


# -- point 2: a transfer is filed only after the exact look-up -------------------------------------

def test_a_transfer_by_raw_student_id_is_refused_naming_the_field(ctx, api, token_for):
    student = registered_in("4301020002", grade=7)
    headers = token_for(_outsider())
    r = api.post("/api/v1/request/", headers=headers, json={
        "kind": "transfer", "student_id": student.id, "evidence": EVIDENCE,
        "target_class_id": _class_of("4301040002", 7).id})
    assert r.status_code == 400, r.get_json()
    assert "student_id" in _errors(r)
    assert student.name not in r.get_data(as_text=True)
    assert _open_request(student.id) is None  # her own school can still file for her


def test_a_transfer_is_filed_with_the_registry_number_and_the_look_up_is_logged(ctx, api, token_for):
    student = registered_in("4301020002", grade=7)
    user = _outsider()
    headers = token_for(user)
    r = api.post("/api/v1/request/", headers=headers, json={
        "kind": "transfer", "registry_no": student.registry_no, "evidence": EVIDENCE,
        "target_class_id": _class_of("4301040002", 7).id})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    assert _open_request(student.id).id == rid
    assert _logs(user, student_id=student.id, channel="lookup")
    assert api.post(f"/api/v1/request/{rid}/cancel", headers=headers, json={}).status_code == 200


def test_a_transfer_by_id_number_needs_the_matching_name(ctx, api, token_for):
    student = registered_in("4301020002", grade=7)
    headers = token_for(_outsider())
    body = {"kind": "transfer", "id_number": student.id_number, "evidence": EVIDENCE,
            "target_class_id": _class_of("4301040002", 7).id}
    r = api.post("/api/v1/request/", headers=headers, json={**body, "name": student.name + "甲"})
    assert r.status_code == 404 and student.name not in r.get_data(as_text=True)
    r = api.post("/api/v1/request/", headers=headers, json={**body, "name": student.name})
    assert r.status_code == 201, r.get_json()
    assert api.post(f"/api/v1/request/{r.get_json()['id']}/cancel", headers=headers,
                    json={}).status_code == 200


def test_the_transfer_page_files_only_the_student_it_showed(ctx, client_for):
    shown = registered_in("4301020002", grade=7)
    other = db.session.scalars(select(Student).where(
        Student.school_id == shown.school_id, Student.id != shown.id, Student.registered.is_(True),
        Student.status == "in_school", Student.grade_id == shown.grade_id)).first()
    user = _outsider()
    client = client_for(user)
    page = client.post("/requests/transfer-in", data={"registry_no": shown.registry_no})
    assert f'value="{shown.id}"' in page.get_data(as_text=True)
    assert _logs(user, student_id=shown.id, channel="lookup")
    # the confirmation carries the card it confirms: another number typed meanwhile files nothing
    r = client.post("/requests/transfer-in", content_type="multipart/form-data", data={
        "registry_no": other.registry_no, "found": str(shown.id), "confirm": "1",
        "target_class": str(_class_of("4301040002", 7).id),
        "evidence": (io.BytesIO(PDF[1]), "转学证明.pdf")})
    assert r.status_code == 200
    assert _open_request(other.id) is None and _open_request(shown.id) is None
    assert _logs(user, student_id=other.id, channel="lookup")


def test_a_request_cannot_name_another_schools_class(ctx, api, token_for):
    student = registered_in("4301020001")
    r = api.post("/api/v1/request/", headers=token_for("school_registrar"), json={
        "kind": "suspend", "student_id": student.id, "reason": "因病",
        "target_class_id": first_class("4301040001").id, "evidence": EVIDENCE})
    assert r.status_code == 404 and "target_class_id" in _errors(r)
    assert _open_request(student.id) is None


def test_another_jurisdictions_student_is_not_found_for_any_other_kind(ctx, api, token_for):
    student = registered_in("4301020001")
    r = api.post("/api/v1/request/", headers=token_for(_outsider()), json={
        "kind": "suspend", "student_id": student.id, "reason": "因病", "evidence": EVIDENCE})
    assert r.status_code == 404 and student.name not in r.get_data(as_text=True)


def test_another_jurisdictions_student_gets_no_family_member_by_id(ctx, api, token_for):
    student = registered_in("4301020001")
    r = api.post("/api/v1/family_member/", headers=token_for(_outsider()), json={
        "student_id": student.id, "name": "冒名家长", "relation": "1", "is_guardian": True})
    assert r.status_code == 404 and student.name not in r.get_data(as_text=True)
    db.session.expire_all()
    assert "冒名家长" not in {m.name for m in db.session.get(Student, student.id).members}


# -- point 2: a duplicate ID says nothing of a record outside the asker's jurisdiction --------------

def _says_nothing_of(text: str, other: Student) -> None:
    for secret in (other.name, other.school.name, other.school.code, other.registry_no,
                   other.registry_no_masked):
        assert secret not in text


def test_a_duplicate_id_outside_the_jurisdiction_says_only_registered_elsewhere(ctx, api, token_for):
    other = registered_in("4301020002", grade=7)
    user = _outsider()
    payload = student_payload(_class_of("4301040002", 7), other.id_number, born=other.birth_date,
                              male=other.gender == "1", name="冒名者")
    r = api.post("/api/v1/student/", json=payload, headers=token_for(user))
    assert r.status_code == 422
    problem = _errors(r)["id_number"]
    assert problem["code"] == "duplicate_id" and "其他" in problem["message"]
    _says_nothing_of(r.get_data(as_text=True), other)
    # refused and rolled back, the look-up is still on record
    assert _logs(user, student_id=other.id, channel="dup")


def test_a_duplicate_id_inside_the_jurisdiction_names_the_record(ctx, api, token_for):
    other = registered_in("4301020001")
    payload = student_payload(first_class("4301020001"), other.id_number, born=other.birth_date,
                              male=other.gender == "1")
    r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 422
    assert other.school.name in _errors(r)["id_number"]["message"]


def test_a_change_to_another_jurisdictions_id_says_nothing_of_it(ctx, api, token_for):
    mine = registered_in("4301020001")
    other = registered_in("4301040002", grade=7)
    r = api.post("/api/v1/request/", headers=token_for("school_registrar"), json={
        "kind": "change_field", "student_id": mine.id, "payload": {"id_number": other.id_number},
        "evidence": EVIDENCE})
    assert r.status_code == 422
    assert _errors(r)["id_number"]["code"] == "duplicate_id"
    _says_nothing_of(r.get_data(as_text=True), other)
    assert _logs("school_registrar", student_id=other.id, channel="dup")
    assert _open_request(mine.id) is None


def test_an_imported_row_with_another_schools_id_says_nothing_of_it(ctx, tmp_path):
    other = registered_in("4301020002", grade=7)
    user = _outsider()
    klass = _class_of("4301040002", 7)
    row = student_row(random.Random(808), "4301040002", klass.name, 7, 2026, set(), area="430104")
    row.update({"身份证件号": other.id_number, "出生日期": other.birth_date.isoformat(),
                "性别": "男" if other.gender == "1" else "女"})
    data = write(tmp_path / "dup.xlsx", [row]).read_bytes()
    job = imports.upload(db.session, school=school("4301040002"), actor=actor_of(user),
                         filename="dup.xlsx", data=data)
    job = imports.dry_run(db.session, job, NOW)
    messages = [p["message"] for p in job.problems if p["code"] == "duplicate_id"]
    assert messages and "其他" in messages[0]
    _says_nothing_of(json.dumps(job.problems, ensure_ascii=False), other)
    assert _logs(user, student_id=other.id, channel="dup")


# -- point 3: every full view logged ----------------------------------------------------------------

def test_a_change_requests_page_logs_the_id_numbers_it_shows(ctx, api, client_for, token_for):
    student = registered_in("4301020001")
    new = new_id(born=student.birth_date, male=student.gender == "1")
    headers = token_for("school_registrar")
    r = api.post("/api/v1/request/", headers=headers, json={
        "kind": "change_field", "student_id": student.id, "payload": {"id_number": new},
        "evidence": EVIDENCE})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    assert new not in r.get_data(as_text=True)  # the API answer carries no values
    before = len(_logs("school_supervisor", student_id=student.id, channel="request"))
    page = client_for("school_supervisor").get(f"/requests/show/{rid}").get_data(as_text=True)
    assert new in page and student.id_number in page
    logged = _logs("school_supervisor", student_id=student.id, channel="request")
    assert len(logged) == before + 1 and "id_number" in logged[-1].fields
    api.post(f"/api/v1/request/{rid}/cancel", headers=headers, json={})


def test_a_family_members_page_and_api_log_the_full_view(ctx, api, client_for, token_for):
    member = db.session.scalars(select(FamilyMember).join(Student).where(
        Student.school_id == school("4301020001").id, FamilyMember.phone_enc.is_not(None))
        .order_by(FamilyMember.id)).first()
    page = client_for("school_registrar").get(f"/family/show/{member.id}")
    assert page.status_code == 200 and member.phone in page.get_data(as_text=True)
    web = _logs("school_registrar", student_id=member.student_id, channel="web")
    assert web and "member.phone" in web[-1].fields
    r = api.get(f"/api/v1/family_member/{member.id}", headers=token_for("school_registrar"))
    assert r.status_code == 200 and r.get_json()["result"]["phone"] == member.phone
    assert _logs("school_registrar", student_id=member.student_id, channel="api")


def test_a_family_member_is_masked_for_whoever_may_not_see_it(ctx, monkeypatch, client_for):
    from app.services.record import personal_data

    member = db.session.scalars(select(FamilyMember).join(Student).where(
        Student.school_id == school("4301020001").id, FamilyMember.phone_enc.is_not(None))
        .order_by(FamilyMember.id)).first()
    client = client_for("school_registrar")
    before = len(_logs("school_registrar", student_id=member.student_id))
    monkeypatch.setattr(personal_data, "may_see", lambda who: False)
    html = client.get(f"/family/show/{member.id}").get_data(as_text=True)
    assert member.phone not in html and member.phone_masked in html
    assert len(_logs("school_registrar", student_id=member.student_id)) == before


def test_an_import_report_download_is_logged_naming_the_job(ctx, client_for, tmp_path):
    klass = first_class("4301020001", 3)
    rows = [student_row(random.Random(909), "4301020001", klass.name, 3, 2026, set())]
    data = write(tmp_path / "report.xlsx", rows).read_bytes()
    job = imports.dry_run(db.session, imports.upload(
        db.session, school=school("4301020001"), actor=actor_of("school_registrar"),
        filename="report.xlsx", data=data), NOW)
    r = client_for("school_registrar").get(f"/imports/job/{job.id}/report")
    assert r.status_code == 200
    logged = db.session.scalars(select(PersonalDataAccess).where(
        PersonalDataAccess.import_job_id == job.id)).all()
    assert [(x.username, x.channel, x.student_id) for x in logged] == [("school_registrar", "report", None)]
    seen = select(PersonalDataAccess.id).where(PersonalDataAccess.id == logged[0].id)
    assert db.session.scalar(seen.where(actor_of("school_supervisor").scope.clause(PersonalDataAccess)))
    account("yl_sup_t", "county_supervisor", node="430104")
    assert db.session.scalar(seen.where(actor_of("yl_sup_t").scope.clause(PersonalDataAccess))) is None


# -- point 3: every account change audited --------------------------------------------------------

def _role_id(name: str) -> int:
    return db.session.scalar(select(Role.id).where(Role.name == name))


def _account_form(username: str, role: str, *, school_code: str | None = None,
                  node: str | None = None, password: str | None = "Strong#Pass2026",
                  active: bool = True) -> dict:
    data = {"username": username, "first_name": "测", "last_name": "试", "email": f"{username}@x.cn",
            "roles": str(_role_id(role))}
    if active:
        data["active"] = "y"
    if password:
        data.update(password=password, conf_password=password)
    if school_code:
        data["school"] = str(school(school_code).id)
    if node:
        node_id = db.session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == node))
        data["jurisdiction"] = str(node_id)
    return data


def _account_events(user_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "account",
                                                       AuditEvent.entity_id == user_id)
                              .order_by(AuditEvent.id)).all()


def _user(username: str) -> XuejiUser:
    db.session.expire_all()
    return db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))


def test_creating_editing_resetting_and_deactivating_an_account_are_audited(ctx, client_for):
    admin = client_for("county_admin")
    r = admin.post("/users/add", data=_account_form("aud_reg", "school_registrar", school_code="4301020002"))
    assert r.status_code == 302
    user = _user("aud_reg")
    created = _account_events(user.id)
    assert [(e.action, e.username) for e in created] == [("create", "county_admin"),
                                                         ("approval_requested", "county_admin")]
    assert created[0].changes["roles"] == {"new": ["school_registrar"]}
    assert created[0].changes["binding"] == {"new": "school:4301020002"}
    assert created[0].school_id == user.school_id

    edit = _account_form("aud_reg", "school_supervisor", school_code="4301020002", password=None,
                         active=False)
    assert admin.post(f"/users/edit/{user.id}", data=edit).status_code == 302
    changed, withdrawn = _account_events(user.id)[-2:]  # a disabled account has nothing to approve
    assert (changed.action, withdrawn.action) == ("deactivate", "approval_withdrawn")
    assert changed.changes["roles"] == {"old": ["school_registrar"], "new": ["school_supervisor"]}
    assert changed.changes["active"] == {"old": True, "new": False}

    r = admin.post(f"/resetpassword/form?pk={user.id}",
                   data={"password": "Another#Pass2026", "conf_password": "Another#Pass2026"})
    assert r.status_code in (200, 302)
    reset = _account_events(user.id)[-1]
    assert reset.action == "reset_password" and reset.username == "county_admin"
    every = json.dumps([e.changes for e in _account_events(user.id)], ensure_ascii=False)
    assert "Pass2026" not in every and _user("aud_reg").password not in every


def test_choosing_ones_own_password_is_audited_and_the_json_login_needs_no_provider(ctx, app, client_for):
    admin = client_for("county_admin")
    assert admin.post("/users/add", data=_account_form("own_pw", "school_registrar",
                                                       school_code="4301020002")).status_code == 302
    from conftest import login

    approve = ["users", "approve", "own_pw", "--as", "county_secadmin"]  # it reads students: approved first
    assert app.test_cli_runner().invoke(args=approve).exit_code == 0
    me = login(app.test_client(), "own_pw", "Strong#Pass2026")
    r = me.post("/resetmypassword/form", data={"password": "Mine#Pass20261", "conf_password": "Mine#Pass20261"})
    assert r.status_code in (200, 302)
    changed = _account_events(_user("own_pw").id)[-1]
    assert (changed.action, changed.username) == ("change_password", "own_pw")
    assert "Mine#Pass" not in json.dumps(changed.changes or {}) + (changed.summary or "")
    token = app.test_client().post("/api/v1/security/login",
                                   json={"username": "own_pw", "password": "Mine#Pass20261"})
    assert token.status_code == 200 and "access_token" in token.get_json()


def test_a_bureau_accounts_audit_rows_are_seen_by_its_bureau_only(ctx, client_for):
    admin = client_for("county_admin")
    admin.post("/users/add", data=_account_form("aud_cty", "county_registrar", node="430102"))
    user = _user("aud_cty")
    event = _account_events(user.id)[0]
    assert event.school_id is None and event.county_code == "430102"
    seen = select(AuditEvent.id).where(AuditEvent.id == event.id)
    for who in ("county_admin", "county_supervisor", "city_admin"):
        assert db.session.scalar(seen.where(actor_of(who).scope.clause(AuditEvent))) == event.id
    account("yl_adm_t", "county_sysadmin", node="430104")
    assert db.session.scalar(seen.where(actor_of("yl_adm_t").scope.clause(AuditEvent))) is None
    assert db.session.scalar(seen.where(actor_of("school_admin").scope.clause(AuditEvent))) is None
    listing = client_for("county_auditor").get("/audit-log/list/?_flt_0_entity=account").get_data(as_text=True)
    assert "aud_cty" in listing or str(user.id) in listing


def test_the_command_line_audits_the_accounts_it_creates(app, ctx):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "cli_aud", "--role", "county_registrar", "--node", "430104",
        "--password", "Strong#Pass2026"])
    assert result.exit_code == 0, result.output
    events = _account_events(_user("cli_aud").id)
    assert [e.action for e in events] == ["create"] and events[0].county_code == "430104"


def test_a_new_students_audit_row_carries_its_id(ctx, api, token_for):
    payload = student_payload(first_class("4301020001"), new_id())
    r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]
    db.session.expire_all()
    rows = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "student", AuditEvent.entity_uid == db.session.get(Student, sid).uid)).all()
    assert {e.action for e in rows} == {"create", "request_submit"}  # the registration review starts
    assert {e.entity_id for e in rows} == {sid}


# -- the request API's input types --------------------------------------------------------------

def _sid() -> int:
    return registered_in("4301020001").id


BAD_BODIES = [
    pytest.param(lambda: {"kind": "suspend", "student_id": {"id": 1}}, "student_id", id="student-id-object"),
    pytest.param(lambda: {"kind": "change_field", "student_id": _sid(), "payload": "x"}, "payload",
                 id="payload-string"),
    pytest.param(lambda: {"kind": "suspend", "student_id": 2 ** 70}, "student_id", id="huge-integer"),
    pytest.param(lambda: {"kind": "transfer", "id_number": 430102201910050011, "name": "甲"}, "id_number",
                 id="numeric-id-number"),
    pytest.param(lambda: {"kind": "skip", "student_id": _sid(), "target_class_id": "3"}, "target_class_id",
                 id="class-id-string"),
    pytest.param(lambda: {"kind": ["suspend"], "student_id": _sid()}, "kind", id="kind-list"),
    pytest.param(lambda: {"kind": "suspend", "student_id": _sid(), "evidence": {"a": 1}}, "evidence",
                 id="evidence-object"),
    pytest.param(lambda: {"kind": "suspend", "student_id": _sid(), "reason": ["因病"]}, "reason",
                 id="reason-list"),
    pytest.param(lambda: {"kind": "suspend", "student_id": True}, "student_id", id="student-id-bool"),
    pytest.param(lambda: {"kind": "suspend", "student_id": _sid(), "surprise": 1}, "surprise",
                 id="unknown-key"),
]


@pytest.mark.parametrize("body, field", BAD_BODIES)
def test_a_wrongly_typed_filing_is_a_400_naming_the_field(ctx, api, token_for, body, field):
    r = api.post("/api/v1/request/", headers=token_for("school_registrar"), json=body())
    assert r.status_code == 400, r.get_data(as_text=True)
    assert _names(r, field)


@pytest.mark.parametrize("body", [[1, 2], "text", 7, None])
def test_a_body_that_is_not_an_object_is_a_400(ctx, api, token_for, body):
    r = api.post("/api/v1/request/", headers=token_for("school_registrar"), data=json.dumps(body),
                 content_type="application/json")
    assert r.status_code == 400


@pytest.mark.parametrize("verdict, body, field", [
    ("approve", {"comment": ["ok"]}, "comment"),
    ("reject", {"comment": {"a": 1}}, "comment"),
    ("approve", {"expected_step": "zero"}, "expected_step"),
    ("approve", {"expected_step": 2 ** 70}, "expected_step"),
    ("resubmit", {"payload": "x"}, "payload"),
    ("resubmit", {"payload": [1]}, "payload"),
    ("cancel", {"comment": 5}, "comment"),
])
def test_a_wrongly_typed_decision_is_a_400_naming_the_field(ctx, api, token_for, verdict, body, field):
    rid = db.session.scalar(select(func.max(Request.id)))
    r = api.post(f"/api/v1/request/{rid}/{verdict}", headers=token_for("school_registrar"), json=body)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert _names(r, field)


def test_a_decision_body_that_is_not_an_object_is_a_400(ctx, api, token_for):
    rid = db.session.scalar(select(func.max(Request.id)))
    r = api.post(f"/api/v1/request/{rid}/approve", headers=token_for("school_registrar"), data="[1]",
                 content_type="application/json")
    assert r.status_code == 400


def test_a_students_page_is_masked_for_whoever_may_not_see_it(ctx, monkeypatch, client_for):
    from app.services.record import personal_data

    student = registered_in("4301020001")
    client = client_for("school_registrar")
    before = len(_logs("school_registrar", student_id=student.id))
    monkeypatch.setattr(personal_data, "may_see", lambda who: False)
    page = client.get(f"/students/show/{student.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert student.id_number not in html and student.id_number_masked in html
    assert student.phone not in html
    assert len(_logs("school_registrar", student_id=student.id)) == before
