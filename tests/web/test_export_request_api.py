"""导出审批 over REST (/api/v1/export_request/), JWT only and scoped like the pages: a held export is
filed by a job and waits; a supervisor of its node approves it (another county's sees nothing);
only the requester downloads it, logged with its sha256; an export no rule holds is made approved
at once.  Lists show one's own requests (a supervisor's: every one it may decide), refuse unknown
filter columns and operators, and a browser session is not a token."""

from __future__ import annotations

import hashlib

from conftest import PASSWORD
from sqlalchemy import select

from app.extensions import db
from app.models import ExportLog, ExportRequest

URL = "/api/v1/export_request/"


def _filed(api, headers, **body) -> dict:
    r = api.post(URL, json=body, headers=headers)
    assert r.status_code == 202, r.get_json()
    return r.get_json()


def _status(app, req_id: int) -> str:
    with app.app_context():
        return db.session.get(ExportRequest, req_id).status


def test_a_held_export_is_filed_approved_by_its_supervisor_and_downloaded_by_its_requester(app, api, token_for):
    registrar, supervisor = token_for("county_registrar"), token_for("county_supervisor")
    answer = _filed(api, registrar, kind="students")
    req_id = answer["export_request"]
    assert answer["job"]["kind"] == "export_file" and answer["job_url"] == f"/api/v1/job/{answer['job']['id']}"
    assert [(h["code"], h["source"]) for h in answer["held"]] == [("export_scope", "rules/national.yaml:197")]
    r = api.get(f"{URL}{req_id}/download", headers=registrar)
    assert r.status_code == 409 and r.get_json()["errors"][0]["source"] == "rules/national.yaml:197"

    other = token_for("county2_supervisor")  # another county: not there at all
    assert api.get(f"{URL}{req_id}", headers=other).status_code == 404
    assert api.post(f"{URL}{req_id}/approve", json={}, headers=other).status_code == 404
    assert req_id not in [row["id"] for row in api.get(URL, headers=other).get_json()["result"]]
    assert api.post(f"{URL}{req_id}/approve", json={}, headers=registrar).status_code == 403  # no decide
    assert _status(app, req_id) == "pending"

    listed = api.get(f"{URL}?q=(filters:!((col:status,opr:eq,value:pending)))", headers=supervisor).get_json()
    assert req_id in listed["ids"] and {row["status"] for row in listed["result"]} == {"pending"}
    r = api.post(f"{URL}{req_id}/approve", json={"note": "同意"}, headers=supervisor)
    assert r.status_code == 200 and r.get_json()["result"]["status"] == "approved", r.get_json()
    assert r.get_json()["result"]["decided_by"] == "county_supervisor"
    assert api.get(f"{URL}{req_id}/download", headers=supervisor).status_code == 403  # not the requester
    r = api.get(f"{URL}{req_id}/download", headers=registrar)
    assert r.status_code == 200 and r.data[:2] == b"PK"
    with app.app_context():
        log = db.session.scalars(select(ExportLog).where(ExportLog.request_id == req_id)).one()
        assert log.sha256 == r.headers["X-Content-SHA256"] == hashlib.sha256(r.data).hexdigest()
        assert log.username == "county_registrar"


def test_an_export_no_rule_holds_is_made_approved_at_once(app, api, token_for):
    registrar = token_for("school_registrar")
    answer = _filed(api, registrar, kind="students", school="4301020001")
    assert answer["held"] == [] and answer["job"]["kind"] == "export_make"
    row = api.get(f"{URL}{answer['export_request']}", headers=registrar).get_json()["result"]
    assert (row["needs_approval"], row["status"], row["decided_by"]) == (False, "approved", None)
    assert row["rule_source"].startswith("rules/national.yaml:196")
    r = api.get(f"{URL}{answer['export_request']}/download", headers=registrar)
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == row["sha256"]


def test_a_registrar_lists_only_its_own_requests_and_a_supervisor_may_not_decide_its_own(app, api, token_for):
    county_req = _filed(api, token_for("county_registrar"), kind="students")["export_request"]
    city = token_for("city_registrar")  # the county's request is inside its jurisdiction, not its own
    assert api.get(f"{URL}{county_req}", headers=city).status_code == 404
    rows = api.get(URL, headers=city).get_json()["result"]
    assert {row["username"] for row in rows} <= {"city_registrar"}
    supervisor = token_for("county_supervisor")
    own = _filed(api, supervisor, kind="students")["export_request"]
    r = api.post(f"{URL}{own}/approve", json={}, headers=supervisor)
    assert r.status_code == 403 and _status(app, own) == "pending"
    assert county_req in [row["id"] for row in api.get(f"{URL}?q=(page_size:100)", headers=supervisor)
                          .get_json()["result"]]


def test_bad_bodies_filters_and_verdicts_are_4xx_naming_what(api, token_for):
    headers = token_for("county_registrar")
    for body, field in [({}, "kind"), ({"kind": "everything"}, "kind"), ({"kind": "students", "x": 1}, "x"),
                        ({"kind": "students", "class_id": "1"}, "class_id")]:
        r = api.post(URL, json=body, headers=headers)
        assert r.status_code == 400 and field in str(r.get_json()), (body, r.get_json())
    r = api.post(URL, json={"kind": "students", "school": "4302020001"}, headers=headers)  # another county's
    assert r.status_code == 404 and r.get_json()["errors"][0]["field"] == "school"
    r = api.post(URL, json={"kind": "students", "school": "4301020001", "class_id": 999999}, headers=headers)
    assert r.status_code == 404 and r.get_json()["errors"][0]["field"] == "class_id"
    r = api.post(URL, json={"kind": "confirmation_pdf"}, headers=headers)
    assert r.status_code == 404 and r.get_json()["errors"][0]["field"] == "school"
    r = api.get(f"{URL}?q=(filters:!((col:status,opr:nope,value:pending)))", headers=headers)
    assert r.status_code == 400 and "nope" in r.get_json()["message"]
    r = api.get(f"{URL}?q=(filters:!((col:file_enc,opr:eq,value:x)))", headers=headers)
    assert r.status_code == 400 and "file_enc" in r.get_json()["message"]
    assert api.post(f"{URL}1/maybe", json={}, headers=token_for("county_supervisor")).status_code == 404


def test_administrators_export_nothing_and_a_browser_session_is_no_token(app, api, token_for):
    r = api.post(URL, json={"kind": "students", "school": "4301020001"}, headers=token_for("county_admin"))
    assert r.status_code in (401, 403)
    browser = app.test_client()
    browser.post("/login/", data={"username": "county_registrar", "password": PASSWORD})
    assert browser.get(URL).status_code == 401
    assert browser.post(URL, json={"kind": "students"}).status_code in (400, 401)
