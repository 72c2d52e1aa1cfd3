"""The monthly report as a job: ``report_monthly`` generates a node's month once -- both languages,
its xlsx and PDF -- and stores it; the page, its JSON and REST serve the stored report without
computing anything, or offer to generate it; it is scoped like the report; generating again
replaces it; on the 1st the worker closes the month, then queues every bureau's report."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from factories import actor_of, stored_report
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import JobRun, Jurisdiction, MonthlyReport, MonthlyReportFile
from app.services.common.actors import Actor
from app.services.reports import monthly, plain, signing, stored
from app.services.reports.catalogue import CATALOGUE

NOW = datetime(2026, 9, 15, 10)
COUNTY, SCHOOL = "430102", "4301020001"


def _forget(node: str, month: str) -> None:
    """No stored report of the node's month (the seeded database is shared by the session)."""
    first = date.fromisoformat(f"{month}-01")
    db.session.execute(delete(MonthlyReport).where(MonthlyReport.node_code == node, MonthlyReport.month == first))
    db.session.commit()


def _row(node: str, month: str) -> MonthlyReport | None:
    db.session.expire_all()
    first = date.fromisoformat(f"{month}-01")
    return db.session.scalar(select(MonthlyReport).where(MonthlyReport.node_code == node,
                                                         MonthlyReport.month == first))


def _plain(value):
    """JSON values as stored (a Decimal or a tuple reads back as a number or a list)."""
    return json.loads(json.dumps(value, default=float))


@pytest.fixture
def no_computing(monkeypatch):
    """The report's computation raises: whatever answers, answers without it."""
    def refuse(*args, **kwargs):
        raise AssertionError("the monthly report was computed")
    monkeypatch.setattr(monthly, "compute", refuse)


def test_the_job_stores_the_report_with_the_same_figures_a_direct_computation_gives(ctx):
    _forget(COUNTY, "2026-07")
    run = stored_report(COUNTY, "2026-07", "county_registrar")
    row = _row(COUNTY, "2026-07")
    assert (run.kind, run.created_by, run.county_code) == ("report_monthly", "county_registrar", COUNTY)
    assert (row.job_run_id, row.generated_by, row.generated_at, row.live) == (run.id, "county_registrar", NOW, False)
    assert row.snapshot_taken_at is not None and row.rule_version is not None and row.millis >= 0
    assert run.result["monthly_report"] == row.id and "2026-07 月报已生成" in run.message
    direct = monthly.compute(db.session, actor_of("county_supervisor"), COUNTY, "2026-07", now=NOW)
    kept = plain.as_dict(stored.report_of(db.session, row, "zh"))
    live = _plain(plain.as_dict(direct))
    assert kept["figures"] == live["figures"] and kept["children"] == live["children"]
    assert kept["trend"] == live["trend"] and row.digest == signing.report_digest(direct)
    assert sum(f["value"] or 0 for f in kept["figures"]) > 0  # figures, not an empty shell
    english = row.data["en"]
    assert [f["name"] for f in english["figures"]] == [i.name_en for i in CATALOGUE]
    assert [f["value"] for f in english["figures"]] == [f["value"] for f in kept["figures"]]
    files = {(f.kind, f.lang): f for f in row.files}
    assert set(files) == {("xlsx", "zh"), ("pdf", "zh"), ("xlsx", "en"), ("pdf", "en")}
    assert files["xlsx", "zh"].body[:2] == b"PK" and files["pdf", "en"].body[:5] == b"%PDF-"
    assert files["pdf", "zh"].size == len(files["pdf", "zh"].body)


def test_the_page_json_api_and_files_serve_the_stored_report_without_computing(ctx, client_for, token_for, api,
                                                                               no_computing):
    stored_report_ready = _row(COUNTY, "2026-07") or pytest.fail("the test above stores it")
    client = client_for("county_supervisor")
    html = client.get(f"/reports/monthly?node={COUNTY}&month=2026-07").get_data(as_text=True)
    assert 'id="report-figures"' in html and 'id="generated-at">2026-09-15 10:00<' in html
    assert all(i.name_zh in html and i.definition_zh in html for i in CATALOGUE)
    assert f'href="/jobs/{stored_report_ready.job_run_id}"' in html and 'id="regenerate"' in html
    data = client.get(f"/reports/monthly.json?node={COUNTY}&month=2026-07").get_json()
    assert data["stored"]["job"] == stored_report_ready.job_run_id and data["node"]["code"] == COUNTY
    body = api.get(f"/api/v1/report/monthly?node={COUNTY}&month=2026-07", headers=token_for("county_registrar"))
    assert body.status_code == 200 and body.get_json()["figures"] == data["figures"]
    english = client.get(f"/reports/monthly.json?node={COUNTY}&month=2026-07",
                         headers={"Accept-Language": "en"}).get_json()
    pdf = client.get(f"/reports/monthly/file?node={COUNTY}&month=2026-07&format=pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-" and pdf.mimetype == "application/pdf"
    assert english["figures"][0]["value"] == data["figures"][0]["value"]


def test_with_none_stored_the_page_offers_to_generate_and_json_and_api_say_404(ctx, client_for, token_for, api,
                                                                              no_computing):
    _forget(SCHOOL, "2026-06")
    client = client_for("school_registrar")
    html = client.get(f"/reports/monthly?node={SCHOOL}&month=2026-06").get_data(as_text=True)
    assert 'id="report-not-generated"' in html and 'id="generate"' in html and 'id="report-figures"' not in html
    answer = client.get(f"/reports/monthly.json?node={SCHOOL}&month=2026-06")
    assert answer.status_code == 404 and answer.get_json()["generate"] == "/reports/monthly/generate"
    assert answer.get_json()["errors"][0]["field"] == "month"
    rest = api.get(f"/api/v1/report/monthly?node={SCHOOL}&month=2026-06", headers=token_for("school_registrar"))
    assert rest.status_code == 404 and rest.get_json()["generate"] == "/api/v1/report/monthly"
    assert client.get(f"/reports/monthly/file?node={SCHOOL}&month=2026-06&format=xlsx").status_code == 404


def test_the_generate_button_queues_the_job_and_leads_to_its_page_then_the_report(ctx, client_for):
    _forget(SCHOOL, "2026-06")
    client = client_for("school_registrar")
    answer = client.post("/reports/monthly/generate", data={"node": SCHOOL, "month": "2026-06"})
    assert answer.status_code == 302 and answer.location.startswith("/jobs/")
    job = client.get(answer.location).get_data(as_text=True)
    assert "月报生成" in job and f'href="/reports/monthly?node={SCHOOL}&amp;month=2026-06"' in job
    row = _row(SCHOOL, "2026-06")
    assert row.school_id is not None and row.generated_by == "school_registrar"
    assert f"/jobs/{row.job_run_id}" == answer.location
    html = client.get(f"/reports/monthly?node={SCHOOL}&month=2026-06").get_data(as_text=True)
    assert 'id="report-figures"' in html and 'id="generate"' not in html


def test_the_api_queues_the_generation_with_202_and_the_job(ctx, token_for, api):
    _forget("430202", "2026-05")
    answer = api.post("/api/v1/report/monthly", json={"node": "430202", "month": "2026-05"},
                      headers=token_for("county2_supervisor"))
    assert answer.status_code == 202, answer.get_json()
    job = answer.get_json()["job"]
    assert (job["kind"], job["status"]) == ("report_monthly", "done")
    assert answer.get_json()["job_url"] == f"/api/v1/job/{job['id']}"
    assert _row("430202", "2026-05").job_run_id == job["id"]
    bad = api.post("/api/v1/report/monthly", json={"node": "430202"}, headers=token_for("county2_supervisor"))
    assert bad.status_code == 400 and "month" in bad.get_data(as_text=True)


def test_another_county_sees_nothing_of_a_stored_report_nor_its_job(ctx, client_for, token_for, api):
    row = _row(COUNTY, "2026-07") or pytest.fail("stored by the first test")
    other = client_for("county2_supervisor")
    for url in (f"/reports/monthly?node={COUNTY}&month=2026-07", f"/reports/monthly.json?node={COUNTY}&month=2026-07",
                f"/reports/monthly/file?node={COUNTY}&month=2026-07&format=pdf", f"/jobs/{row.job_run_id}"):
        assert other.get(url).status_code == 404, url
    assert other.post("/reports/monthly/generate", data={"node": COUNTY, "month": "2026-07"}).status_code == 404
    rest = api.get(f"/api/v1/report/monthly?node={COUNTY}&month=2026-07", headers=token_for("county2_supervisor"))
    assert rest.status_code == 404
    node = stored.nodes.find(db.session, COUNTY)
    assert stored.find(db.session, actor_of("county2_supervisor"), node, row.month) is None
    assert stored.find(db.session, actor_of("county_registrar"), node, row.month).id == row.id
    # a system administrator reads no report, so generates none
    assert client_for("county_admin").post("/reports/monthly/generate",
                                           data={"node": COUNTY, "month": "2026-07"}).status_code == 403


def test_generating_again_replaces_the_stored_report_and_its_files(ctx):
    _forget("430202", "2026-04")
    first = stored_report("430202", "2026-04", "county2_supervisor")
    before = _row("430202", "2026-04")
    ids = (before.id, {f.sha256 for f in before.files})
    again = stored_report("430202", "2026-04", now=datetime(2026, 9, 20, 8))
    after = _row("430202", "2026-04")
    assert after.id == ids[0] and {f.sha256 for f in after.files}.isdisjoint(ids[1]) and len(after.files) == 4
    assert (after.job_run_id, after.generated_by, after.generated_at) == (again.id, "tests", datetime(2026, 9, 20, 8))
    assert first.id != again.id
    count = db.session.scalar(select(func.count()).select_from(MonthlyReport).where(
        MonthlyReport.node_code == "430202", MonthlyReport.month == date(2026, 4, 1)))
    files = db.session.scalar(select(func.count()).select_from(MonthlyReportFile).where(
        MonthlyReportFile.report_id == after.id))
    assert (count, files) == (1, 4)


def test_a_report_generated_mid_month_is_marked_stale_once_the_month_has_ended(app, ctx, client_for):
    _forget("430202", "2026-09")
    stored_report("430202", "2026-09")
    assert _row("430202", "2026-09").live is True
    client = client_for("county2_registrar")
    assert 'id="report-stale"' not in client.get("/reports/monthly?node=430202&month=2026-09").get_data(as_text=True)
    pinned = app.config["XUEJI_FIXED_NOW"]
    app.config["XUEJI_FIXED_NOW"] = "2026-10-02T09:00:00"
    try:
        html = client.get("/reports/monthly?node=430202&month=2026-09").get_data(as_text=True)
    finally:
        app.config["XUEJI_FIXED_NOW"] = pinned
    assert 'id="report-stale"' in html and 'id="signoff-form"' not in html


def test_signing_off_and_the_signed_file_use_the_stored_report_without_computing(ctx, monkeypatch):
    _forget("430202", "2025-10")
    stored_report("430202", "2025-10")
    monkeypatch.setattr(monthly, "compute", lambda *a, **k: pytest.fail("computed"))
    supervisor = actor_of("county2_supervisor")
    row = signing.signoff_of(db.session, "430202", date(2025, 10, 1)) or signing.sign_off(
        db.session, supervisor, node_code="430202", month="2025-10", now=NOW)
    assert row.digest == _row("430202", "2025-10").digest
    data, name = signing.signed_export(db.session, supervisor, node_code="430202", month="2025-10", kind="pdf", now=NOW)
    verdict = signing.verify_file(data)
    assert verdict.ok and verdict.node == "430202" and name.endswith("已签发.pdf")


def test_on_the_first_the_month_is_closed_then_every_bureau_report_is_queued(ctx):
    from app.worker import month_end_jobs

    before = db.session.scalar(select(func.max(JobRun.id))) or 0
    queued = month_end_jobs()  # the business clock says 2026-09-15: last month is 2026-08
    db.session.expire_all()
    close = db.session.scalar(select(JobRun).where(JobRun.id > before, JobRun.kind == "report_close"))
    assert close is not None and close.status == "done" and close.params["month"] == "2026-08"
    bureaus = db.session.scalars(select(Jurisdiction.code).order_by(Jurisdiction.code)).all()
    runs = [db.session.get(JobRun, pk) for pk in queued]
    assert [r.params["node"] for r in runs] == bureaus and len(bureaus) >= 4
    assert all(r.id > close.id and r.kind == "report_monthly" and r.created_by == "scheduler" for r in runs)
    assert all(r.status == "done" for r in runs), [(r.params, r.message) for r in runs]  # inline here
    for code in bureaus:
        assert _row(code, "2026-08").job_run_id in queued, code


def test_the_command_stores_a_report_and_queues_the_generation(app, ctx):
    _forget("430202", "2026-03")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["report", "monthly", "--node", "430202", "--month", "2026-03", "--store"])
    assert result.exit_code == 0, result.output
    row = _row("430202", "2026-03")
    assert (row.generated_by, row.job_run_id, len(row.files)) == ("cli", None, 4)
    queued = runner.invoke(args=["report", "generate", "--node", "430202", "--month", "2026-03"])
    assert queued.exit_code == 0 and "report:430202:2026-03: done" in queued.output, queued.output
    assert _row("430202", "2026-03").job_run_id is not None
    refused = runner.invoke(args=["report", "generate", "--node", "430202", "--month", "2026-03",
                                  "--as", "county_supervisor"])
    assert refused.exit_code == 1 and "430202" in refused.output
    assert runner.invoke(args=["report", "generate", "--month", "2026-03"]).exit_code == 2


def test_a_stored_report_reads_back_as_the_report_it_was(ctx):
    report = monthly.compute(db.session, Actor.system("t"), COUNTY, "2026-07", now=NOW)
    again = plain.report_of(_plain(plain.as_dict(report)))
    assert _plain(plain.as_dict(again)) == _plain(plain.as_dict(report))
    assert again.figure("students_on_record").change == report.figure("students_on_record").change
