"""导出审批 through the pages: a county export waits (409 naming the rule), is filed, approved by the
county supervisor with the form's CSRF token, and downloaded by its requester, logged with its hash."""

from __future__ import annotations

import hashlib

from conftest import PASSWORD, form_token
from sqlalchemy import select

from app.extensions import db
from app.models import ExportLog, ExportRequest, JobRun

RULE = "rules/national.yaml:197"


def _signed_in(app, username: str):
    client = app.test_client()
    r = client.post("/login/", data={"username": username, "password": PASSWORD,
                                     "csrf_token": form_token(client.get("/login/").get_data(as_text=True))})
    assert r.status_code == 302
    return client


def _status(app, req_id: int) -> str:
    with app.app_context():
        return db.session.get(ExportRequest, req_id).status


def test_a_county_export_is_held_approved_on_its_page_and_downloaded_by_its_requester(csrf_app):
    registrar = _signed_in(csrf_app, "county_registrar")
    r = registrar.get("/imports/export/students")
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and RULE in page and "全县（区）" in page and 'id="file-export-request"' in page
    r = registrar.post("/exports/requests/file", data={"kind": "students", "school": "",
                                                       "csrf_token": form_token(page)})
    assert r.status_code == 302, r.get_data(as_text=True)
    req_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with csrf_app.app_context():  # the job that made the file links its request
        job = db.session.scalar(select(JobRun).where(JobRun.kind == "export_file").order_by(JobRun.id.desc()))
    assert f'href="/exports/requests/show/{req_id}"' in registrar.get(f"/jobs/{job.id}").get_data(as_text=True)
    r = registrar.get(f"/exports/requests/download/{req_id}")
    assert r.status_code == 409 and RULE in r.get_data(as_text=True) and "尚待" in r.get_data(as_text=True)

    other = _signed_in(csrf_app, "county2_supervisor")  # another county: not there at all
    assert other.get(f"/exports/requests/show/{req_id}").status_code == 404
    assert f"/exports/requests/show/{req_id}\"" not in other.get("/exports/requests/list/").get_data(as_text=True)
    token = form_token(other.get("/imports/export/students").get_data(as_text=True))  # its own held page
    assert other.post(f"/exports/requests/approve/{req_id}", data={"csrf_token": token}).status_code == 404
    assert _status(csrf_app, req_id) == "pending"

    supervisor = _signed_in(csrf_app, "county_supervisor")
    assert f"/exports/requests/show/{req_id}\"" in supervisor.get("/exports/requests/list/").get_data(as_text=True)
    page = supervisor.get(f"/exports/requests/show/{req_id}").get_data(as_text=True)
    assert 'id="approve-export"' in page and RULE in page
    assert supervisor.post(f"/exports/requests/approve/{req_id}").status_code == 400  # no token
    assert _status(csrf_app, req_id) == "pending"
    r = supervisor.post(f"/exports/requests/approve/{req_id}", data={"csrf_token": form_token(page)})
    assert r.status_code == 302 and _status(csrf_app, req_id) == "approved"
    assert supervisor.get(f"/exports/requests/download/{req_id}").status_code == 403  # not the requester

    assert 'id="download-export"' in registrar.get(f"/exports/requests/show/{req_id}").get_data(as_text=True)
    r = registrar.get(f"/exports/requests/download/{req_id}")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    with csrf_app.app_context():
        log = db.session.scalars(select(ExportLog).where(ExportLog.request_id == req_id)).one()
        req = db.session.get(ExportRequest, req_id)
        assert (log.username, log.rows) == ("county_registrar", req.rows)
        assert log.sha256 == req.sha256 == hashlib.sha256(r.data).hexdigest()


def test_a_requester_cannot_approve_from_the_page(csrf_app):
    supervisor = _signed_in(csrf_app, "county_supervisor")
    token = form_token(supervisor.get("/imports/export/students").get_data(as_text=True))
    r = supervisor.post("/exports/requests/file", data={"kind": "students", "csrf_token": token})
    req_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = supervisor.get(f"/exports/requests/show/{req_id}").get_data(as_text=True)
    assert 'id="approve-export"' not in page
    r = supervisor.post(f"/exports/requests/approve/{req_id}", data={"csrf_token": token},
                        follow_redirects=True)
    assert "不能审批自己的导出申请" in r.get_data(as_text=True) and _status(csrf_app, req_id) == "pending"


def test_a_small_school_export_is_downloaded_at_once(csrf_app):
    r = _signed_in(csrf_app, "school_registrar").get("/imports/export/students")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    with csrf_app.app_context():
        log = db.session.scalars(select(ExportLog).order_by(ExportLog.id.desc())).first()
        assert (log.username, log.sha256) == ("school_registrar", hashlib.sha256(r.data).hexdigest())
