"""Every large export is a job, through the pages: above XUEJI_EXPORT_INLINE_ROWS an export no rule
holds redirects to its job's page, which links the download once done; the file downloads from
the export request's path with its sha256 logged.  Small exports stay immediate.  Same for 确认表."""

from __future__ import annotations

import hashlib

from factories import school
from sqlalchemy import func, select

from app.extensions import db
from app.models import ExportLog, ExportRequest, JobRun, Student

SCHOOL = "4301020001"


def _students() -> int:
    return db.session.scalar(select(func.count()).select_from(Student).where(Student.school_id == school(SCHOOL).id))


def _job_of(response) -> JobRun:
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"], response.status_code
    return db.session.get(JobRun, int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1]))


def _downloaded(client, job: JobRun, magic: bytes) -> ExportRequest:
    assert (job.kind, job.status) == ("export_make", "done")
    req_id = job.result["export_request"]
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f'id="download-export" href="/exports/requests/download/{req_id}"' in page
    r = client.get(f"/exports/requests/download/{req_id}")
    assert r.status_code == 200 and r.data.startswith(magic)
    db.session.expire_all()
    req = db.session.get(ExportRequest, req_id)
    log = db.session.scalars(select(ExportLog).where(ExportLog.request_id == req_id)).one()
    assert log.sha256 == req.sha256 == hashlib.sha256(r.data).hexdigest() and log.rows == req.rows
    return req


def test_a_large_export_becomes_a_job_whose_page_links_the_download(app, ctx, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_EXPORT_INLINE_ROWS", _students() - 1)
    registrar = client_for("school_registrar")
    job = _job_of(registrar.get("/imports/export/students"))
    req = _downloaded(registrar, job, b"PK")
    assert (req.needs_approval, req.username, req.rows) == (False, "school_registrar", _students())
    page = registrar.get(f"/exports/requests/show/{req.id}").get_data(as_text=True)
    assert "无需审批" in page and "rules/national.yaml:196" in page
    other = client_for("school_supervisor")  # sees the job, but the file is not theirs
    assert 'id="download-export"' not in other.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert other.get(f"/exports/requests/download/{req.id}").status_code == 403


def test_an_export_up_to_the_inline_size_is_made_in_the_request(app, ctx, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_EXPORT_INLINE_ROWS", _students())
    jobs_before = db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.kind == "export_make"))
    r = client_for("school_registrar").get("/imports/export/students")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    log = db.session.scalars(select(ExportLog).order_by(ExportLog.id.desc())).first()
    assert (log.username, log.request_id, log.sha256) == ("school_registrar", None, hashlib.sha256(r.data).hexdigest())
    assert db.session.scalar(select(func.count()).select_from(JobRun)
                             .where(JobRun.kind == "export_make")) == jobs_before


def test_a_held_export_stays_a_request_for_approval_whatever_its_size(app, ctx, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_EXPORT_INLINE_ROWS", 1)
    r = client_for("county_registrar").get("/imports/export/students")
    assert r.status_code == 409 and "rules/national.yaml:197" in r.get_data(as_text=True)


def test_large_confirmation_forms_are_made_by_a_job_as_xlsx_and_pdf(app, ctx, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_EXPORT_INLINE_ROWS", 1)
    monkeypatch.setitem(app.config, "XUEJI_FIXED_NOW", "2026-10-20T10:00:00")  # the verification window
    registrar = client_for("school_registrar")
    xlsx = _downloaded(registrar, _job_of(registrar.get(f"/imports/export/confirmation?school={SCHOOL}")), b"PK")
    pdf = _downloaded(registrar, _job_of(registrar.get(f"/imports/export/confirmation?school={SCHOOL}&format=pdf")),
                      b"%PDF")
    assert (xlsx.kind, pdf.kind, pdf.content_type) == ("confirmation_xlsx", "confirmation_pdf", "application/pdf")


def test_confirmation_forms_outside_their_window_start_no_job(app, ctx, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_EXPORT_INLINE_ROWS", 1)
    before = db.session.scalar(select(func.max(JobRun.id)))
    r = client_for("school_registrar").get(f"/imports/export/confirmation?school={SCHOOL}", follow_redirects=True)
    assert "数据质量核查" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.max(JobRun.id))) == before
