"""毕业后跨省就学 through the pages and the REST API (Flask test client, no browser): the receiving
school finds the graduate by the national registry number and files, each party finds it in its
inbox and approves, the receiving school pulls the file, and the record page tells the history."""

from __future__ import annotations

import base64
import io
import re

import pytest
from cross_province_data import JX_BUREAU, RECEIVING, rule_line, student
from factories import PDF, _class_of
from sqlalchemy import func, select

from app.extensions import db
from app.models import Request, Student

PAGE = "/requests/cross-province-in/"
EVIDENCE = [{"filename": "录取通知书.pdf", "content_base64": base64.b64encode(PDF[1]).decode()}]


def _alerts(response) -> list[str]:
    return re.findall(r'alert-danger">\s*([^<]+)', response.get_data(as_text=True))


def test_the_receiving_school_files_approves_through_inboxes_and_pulls(ctx, client_for):
    graduate = student(grade=9)
    client = client_for("school3_registrar")
    menu = client.get("/inbox/").get_data(as_text=True)
    assert PAGE in menu and "毕业后跨省就学" in menu  # the menu offers the page
    html = client.post(PAGE, data={"registry_no": graduate.registry_no}).get_data(as_text=True)
    assert graduate.name in html and graduate.registry_no_masked in html and "毕业" in html
    # only the typed number is echoed back in its box; the card shows it masked, and no ID
    assert html.count(graduate.registry_no) == 1 and html.count(graduate.id_number) == 1
    target = _class_of(RECEIVING, 10)
    assert f'value="{target.id}"' in html and f'value="{_class_of(RECEIVING, 9).id}"' not in html
    r = client.post(PAGE, content_type="multipart/form-data", data={
        "registry_no": graduate.registry_no, "found": str(graduate.id), "confirm": "1",
        "target_class": str(target.id), "evidence": (io.BytesIO(PDF[1]), "录取通知书.pdf")})
    assert r.status_code == 302, _alerts(r)
    rid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    for party, step in (("county_registrar", 0), (JX_BUREAU, 1)):
        decider = client_for(party)
        assert f"/requests/show/{rid}" in decider.get("/inbox/").get_data(as_text=True)
        page = decider.get(f"/requests/show/{rid}").get_data(as_text=True)
        assert "毕业后跨省就学" in page and "enroll_cross_province" not in page
        decider.post(f"/requests/{rid}/decide", data={"verdict": "approve", "step": str(step)})
    db.session.expire_all()
    assert db.session.get(Request, rid).status == "awaiting_pull"
    inbox = client.get("/inbox/").get_data(as_text=True)
    assert f"/requests/show/{rid}" in inbox and "调档转入" in inbox
    assert 'id="pull"' in client.get(f"/requests/show/{rid}").get_data(as_text=True)
    r = client.post(f"/requests/{rid}/pull", follow_redirects=True)
    assert "已调档" in r.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get(Student, graduate.id)
    assert (moved.school.code, moved.grade.number, moved.status) == (RECEIVING, 10, "in_school")
    assert moved.destination.startswith(RECEIVING)
    record = client.get(f"/students/show/{graduate.id}").get_data(as_text=True)
    assert "毕业后跨省就学生效" in record and "调档完成" in record and "去向" in record
    assert "apply_enroll_cross_province" not in record


def test_the_page_refuses_a_graduate_of_the_same_province_and_needs_the_registry_number(ctx, client_for):
    hunan = student(grade=9, school_code="4302020002")
    client = client_for("school3_registrar")
    r = client.post(PAGE, content_type="multipart/form-data", data={
        "registry_no": hunan.registry_no, "found": str(hunan.id), "confirm": "1",
        "target_class": str(_class_of(RECEIVING, 10).id)})
    assert r.status_code == 200 and "招生录取" in r.get_data(as_text=True), _alerts(r)
    assert db.session.scalar(select(func.count()).select_from(Request)
                             .where(Request.student_id == hunan.id)) == 0
    html = client.post(PAGE, data={"id_number": hunan.id_number, "name": hunan.name}).get_data(as_text=True)
    assert 'id="found"' not in html  # the page takes the registry number alone


def test_the_page_is_the_receiving_school_registrars(ctx, client_for):
    assert client_for("county_registrar").get(PAGE).status_code in (302, 403)
    assert client_for("school3_supervisor").get(PAGE).status_code in (302, 403)
    assert client_for("school3_registrar").get(PAGE).status_code == 200


def test_the_api_files_by_registry_number_then_approves_and_pulls(ctx, api, token_for):
    graduate = student(grade=9)
    headers = token_for("school3_registrar")
    body = {"kind": "enroll_cross_province", "target_class_id": _class_of(RECEIVING, 10).id,
            "evidence": EVIDENCE}
    r = api.post("/api/v1/request/", headers=headers,
                 json={**body, "id_number": graduate.id_number, "name": graduate.name})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "registry_no"
    r = api.post("/api/v1/request/", headers=headers, json={**body, "student_id": graduate.id})
    assert r.status_code == 400
    r = api.post("/api/v1/request/", headers=headers, json={**body, "registry_no": graduate.registry_no})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    assert r.get_json()["result"]["kind"] == "enroll_cross_province"
    assert api.post(f"/api/v1/request/{rid}/approve", headers=token_for("county2_registrar"),
                    json={}).status_code == 404  # outside the chain and the jurisdiction
    for party in ("county_registrar", JX_BUREAU):
        inbox = api.get("/api/v1/request/inbox", headers=token_for(party)).get_json()
        assert rid in [x["id"] for x in inbox["result"]]
        assert api.post(f"/api/v1/request/{rid}/approve", headers=token_for(party),
                        json={}).status_code == 200
    r = api.post(f"/api/v1/request/{rid}/pull", headers=headers, json={})
    assert r.status_code == 200 and r.get_json()["result"]["status"] == "done"
    db.session.expire_all()
    assert db.session.get(Student, graduate.id).school.code == RECEIVING


@pytest.fixture
def december(ctx):
    before = ctx.config["XUEJI_FIXED_NOW"]
    ctx.config["XUEJI_FIXED_NOW"] = "2026-12-20T10:00:00"
    yield
    ctx.config["XUEJI_FIXED_NOW"] = before


def test_outside_the_window_the_api_cites_the_rule_file_and_line(ctx, api, token_for, december):
    graduate = student(grade=9)
    r = api.post("/api/v1/request/", headers=token_for("school3_registrar"), json={
        "kind": "enroll_cross_province", "registry_no": graduate.registry_no,
        "target_class_id": _class_of(RECEIVING, 10).id})
    assert r.status_code == 422
    errors = {e["code"]: e for e in r.get_json()["errors"]}
    assert errors["outside_window"]["source"] == rule_line("windows", "cross_province_enrollment", "- {from")
