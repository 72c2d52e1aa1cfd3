"""No write path bypasses the rules: forms, the API and the services all ask the engine first."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from factories import first_class, new_id, register_fully, seated_class, student_in, student_payload
from sqlalchemy import func, select
from test_student_form import form_data

from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.models import AuditEvent, RuleSetVersion, SchoolClass, Student
from app.services.common.actors import Actor
from app.services.policy import rulesets as policy
from app.services.record import students as student_service


@contextmanager
def clock(app, iso: str):
    before = app.config["XUEJI_FIXED_NOW"]
    app.config["XUEJI_FIXED_NOW"] = iso
    try:
        yield
    finally:
        app.config["XUEJI_FIXED_NOW"] = before


def _registrar() -> Actor:
    from app.models import XuejiUser

    return Actor.of(db.session.scalar(select(XuejiUser).where(XuejiUser.username == "school_registrar")))


def test_a_controlled_field_cannot_be_edited_on_the_form(ctx, client_for):
    client = client_for("school_registrar")
    payload = student_payload(first_class("4301020001", grade=2), new_id(born=date(2018, 10, 5)),
                              born=date(2018, 10, 5), name="受控字段学生")
    assert client.post("/students/add", data=form_data(payload)).status_code == 302
    student = db.session.scalar(select(Student).where(Student.name == "受控字段学生"))
    student = register_fully(student.id)  # controlled items bind once the record is registered
    edit = {k: v for k, v in form_data(payload).items() if not k.startswith("m1_")}
    edit["name"] = "改过的名字"
    html = client.post(f"/students/edit/{student.id}", data=edit).get_data(as_text=True)
    assert "受控字段" in html and "申请变更" in html and "rules/national.yaml:" in html
    db.session.expire_all()
    assert db.session.get(Student, student.id).name == "受控字段学生"


def test_the_service_refuses_a_controlled_edit_whoever_calls_it(ctx):
    student = student_in(school_code="4301020001", kind="G")
    student.hukou_location = "430102099001"
    with pytest.raises(ValidationFailed) as caught:
        student_service.prepare_update(db.session, student, _registrar(), datetime(2026, 9, 15))
    problem = caught.value.problems[0]
    assert (problem.code, problem.field) == ("controlled_field", "hukou_location")
    assert problem.source.startswith("rules/430000.yaml:")


def _full_class() -> SchoolClass:
    return seated_class("满员测试班", 2, 40, date(2018, 10, 1))


def test_the_last_seat_is_refused_with_the_effective_cap_and_its_source(ctx, api, token_for):
    klass = _full_class()
    payload = student_payload(klass, new_id(born=date(2018, 10, 5)), born=date(2018, 10, 5))
    r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 422
    error = next(e for e in r.get_json()["errors"] if e["code"] == "class_full")
    assert "40" in error["message"] and error["source"].startswith("rules/430102.yaml:")
    assert error["field"] == "school_class"
    assert policy.seated(db.session, klass.id, lock=False) == 40


def test_moving_a_student_into_a_full_class_is_refused(ctx, api, token_for):
    klass = _full_class()
    headers = token_for("school_registrar")
    payload = student_payload(first_class("4301020001", grade=2), new_id(born=date(2018, 10, 5)),
                              born=date(2018, 10, 5))
    sid = api.post("/api/v1/student/", json=payload, headers=headers).get_json()["id"]
    r = api.put(f"/api/v1/student/{sid}", json={"school_class": klass.id}, headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "class_full"


def test_registration_outside_its_window_is_refused_with_the_dates(app, ctx, api, token_for):
    payload = student_payload(first_class("4301020001", grade=2), new_id(born=date(2018, 10, 5)),
                              born=date(2018, 10, 5))
    with clock(app, "2026-12-24T10:00:00"):  # Hunan's window is open, Furong's has closed
        r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 422
    windows = [e for e in r.get_json()["errors"] if e["code"] == "outside_window"]
    assert len(windows) == 1 and "02-15 至 12-20" in windows[0]["message"]
    assert windows[0]["source"] == "rules/430102.yaml:17"
    with clock(app, "2026-07-20T10:00:00"):  # the province's summer closure applies as well
        r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    sources = {e["source"] for e in r.get_json()["errors"] if e["code"] == "outside_window"}
    assert sources == {"rules/430000.yaml:32"}


def test_deleting_a_formal_record_is_refused_by_the_provinces_switch(ctx):
    student = student_in(school_code="4301020001", kind="G")
    with pytest.raises(Forbidden) as caught:
        student_service.prepare_delete(db.session, student, _registrar(), datetime(2026, 9, 15))
    assert caught.value.problems[0].code == "formal_record_delete"
    assert caught.value.problems[0].source.startswith("rules/430000.yaml:")


def test_each_recorded_decision_keeps_its_rule_version(ctx, api, token_for):
    payload = student_payload(first_class("4301020001", grade=2), new_id(born=date(2018, 10, 5)),
                              born=date(2018, 10, 5))
    sid = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar")).get_json()["id"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == sid)).first() or \
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "create")
                           .order_by(AuditEvent.id.desc())).first()
    latest = db.session.scalar(select(func.max(RuleSetVersion.id)))
    assert event.rule_version == latest


# -- the policy page ----------------------------------------------------------------------------

def _cap_text(text: str, cap: int) -> str:
    return text.replace("primary: {cap: 40}", f"primary: {{cap: {cap}}}")


def test_the_policy_page_shows_values_with_their_sources(ctx, client_for):
    html = client_for("county_registrar").get("/policy/").get_data(as_text=True)
    assert "rules/430102.yaml:" in html and "rules/national.yaml:" in html
    assert client_for("county_registrar").get("/policy/?node=430202").status_code == 404
    assert client_for("county_registrar").get("/policy/edit/").status_code == 403
    assert client_for("school_admin").get("/policy/edit/").status_code == 403


def test_a_broken_file_is_refused_with_file_and_line_and_the_rules_stay(ctx, client_for):
    client = client_for("county_admin")
    before = db.session.scalar(select(func.max(RuleSetVersion.id)))
    broken = "level: county\ncode: \"430102\"\nclass_caps:\n  primary: {cap: 99}\n"
    html = client.post("/policy/preview/", data={"text": broken}).get_data(as_text=True)
    assert "rules/430102.yaml:4: class_caps.primary.cap: cap 99 is above 45" in html
    r = client.post("/policy/activate/", data={"text": broken}, follow_redirects=True)
    assert "rules/430102.yaml:4" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.max(RuleSetVersion.id))) == before


def test_an_edit_is_previewed_as_a_diff_then_activated_as_a_new_version(app, ctx, client_for):
    client = client_for("county_admin")
    texts = policy.current_texts(db.session)
    original = texts["430102.yaml"]
    html = client.post("/policy/preview/", data={"text": _cap_text(original, 38)}).get_data(as_text=True)
    assert "-  primary: {cap: 40}" in html and "+  primary: {cap: 38}" in html
    try:
        r = client.post("/policy/activate/", data={"text": _cap_text(original, 38), "note": "小班"})
        assert r.status_code == 302
        row = db.session.scalars(select(RuleSetVersion).order_by(RuleSetVersion.id.desc())).first()
        assert (row.created_by, row.changed, row.note) == ("county_admin", ["430102.yaml"], "小班")
        eff = policy.current(db.session).effective("430000", "430100", "430102")
        assert eff.caps["primary"].value == 38
        history = client.get("/policy/history/").get_data(as_text=True)
        assert f"v{row.id}" in history and "county_admin" in history
    finally:
        policy.activate(db.session, {**policy.current_texts(db.session), "430102.yaml": original},
                        by="test", note="restore")
    assert policy.current(db.session).effective("430000", "430100", "430102").caps["primary"].value == 40


def test_rules_explain_prints_the_decision_as_json(app):
    result = app.test_cli_runner().invoke(args=[
        "rules", "explain", "--school", "4301020001", "--action", "transfer",
        "--at", "2026-07-20T10:00", "--json"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["allowed"] is False
    assert {v["code"] for v in decision["violations"]} == {"outside_window", "frozen"}
    assert all(v["source"].startswith("rules/") for v in decision["violations"])
    assert [s["level"] for s in decision["approval_chain"]] == ["own_bureau", "other_school", "other_bureau"]


def test_rules_check_exits_non_zero_on_a_broken_directory(app, tmp_path):
    (tmp_path / "national.yaml").write_text("level: national\nclass_caps:\n  primary: {cap: '45'}\n")
    result = app.test_cli_runner().invoke(args=["rules", "check", str(tmp_path), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["valid"] is False and report["problems"][0]["line"] == 3
