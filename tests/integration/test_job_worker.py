"""Jobs: an upload's check runs as a job with its progress on a page; a job is cancelled before or
while it runs; on PostgreSQL the job is deferred in the upload's own transaction and run by a real
``run.py worker`` process after the web process that queued it is gone, and a job whose worker died
is put back in the queue and finishes."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import is_postgres
from factories import actor_of, school
from sqlalchemy import func, select, text, update
from workbooks import student_row

from app.errors import Conflict
from app.extensions import db
from app.models import ImportJob, JobRun
from app.services.common.actors import Actor
from app.services.common.transaction import transaction
from app.services.operations import jobs

ROOT = Path(__file__).resolve().parents[2]
SCHOOL = "4301020001"  # school_registrar's
NOW = datetime(2026, 9, 15, 10)


def _workbook(n: int, seed: int) -> bytes:
    from openpyxl import Workbook

    from app.documents.columns import COLUMNS

    rng, used = random.Random(seed), set()
    klass = next(c for c in sorted(school(SCHOOL).classes, key=lambda c: c.id) if c.grade.number == 3)
    book = Workbook()
    sheet = book.active
    headers = [c.header for c in COLUMNS]
    sheet.append(headers)
    for _ in range(n):
        row = student_row(rng, SCHOOL, klass.name, 3, 2026, used)
        sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(web, n: int, seed: int) -> ImportJob:
    response = web.post("/imports/upload", data={"file": (io.BytesIO(_workbook(n, seed)), f"job-{seed}.xlsx")},
                        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    return db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()).limit(1))


def _run_of(job: ImportJob) -> JobRun:
    return db.session.scalar(select(JobRun).where(JobRun.subject == f"import_job:{job.id}")
                             .order_by(JobRun.id.desc()).limit(1))


def test_an_upload_is_checked_by_a_job_whose_page_shows_its_progress(ctx, client_for):
    web = client_for("school_registrar")
    job = _upload(web, 4, seed=8101)
    run = _run_of(job)
    assert (job.status, job.rows_total, job.rows_valid) == ("checked", 4, 4)
    assert (run.kind, run.status, run.done, run.created_by) == ("import_check", "done", 4, "school_registrar")
    assert run.result["rows_total"] == 4 and run.school_id == school(SCHOOL).id
    progress = web.get(f"/jobs/{run.id}/progress").get_json()
    assert (progress["status"], progress["percent"], progress["done"]) == ("done", 100.0, 4)
    assert f'href="/jobs/{run.id}"' in web.get(f"/imports/job/{job.id}").get_data(as_text=True)
    page = web.get(f"/jobs/{run.id}").get_data(as_text=True)
    assert "导入检查" in page and "100" in page and 'id="cancel"' not in page
    assert f'href="/jobs/{run.id}"' in web.get("/jobs/").get_data(as_text=True)
    # another school's registrar does not see it; a supervisor of the school does, and cannot cancel
    assert client_for("county2_school_registrar").get(f"/jobs/{run.id}/progress").status_code == 404
    assert client_for("school_supervisor").get(f"/jobs/{run.id}").status_code == 200
    assert client_for("school_supervisor").post(f"/jobs/{run.id}/cancel").status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(JobRun, run.id).cancel_requested is False


def test_a_queued_job_cancelled_never_runs(ctx, client_for):
    registrar = actor_of("school_registrar")
    with transaction(db.session):
        run = jobs.start(db.session, "problems_detect", {}, registrar, now=NOW, at=school(SCHOOL))
    web = client_for("school_registrar")
    assert web.post(f"/jobs/{run.id}/cancel").status_code == 302
    db.session.expire_all()
    assert (run.status, run.cancel_requested) == ("cancelled", True)
    assert jobs.execute(run.id) == "cancelled"
    db.session.expire_all()
    assert (run.status, run.attempts, run.started_at) == ("cancelled", 0, None)
    with pytest.raises(Conflict):  # an ended job is not cancelled again
        jobs.cancel(db.session, registrar, run.id)


calls: list[int] = []


@jobs.task("test_counting", "测试计数", "Test counting")
def _counting(session, params, progress, actor, now):
    """Five steps; after the second the job is cancelled as the page would (another transaction)."""
    for step in range(5):
        calls.append(step)
        progress(step, 5)
        if step == 1:
            with db.engine.begin() as other:
                other.execute(update(JobRun).where(JobRun.id == params["me"]).values(cancel_requested=True))
    return {"steps": 5}


@pytest.mark.skipif(not is_postgres(), reason="a second connection during the job's transaction")
def test_a_running_job_stops_at_its_next_progress_report(ctx):
    with transaction(db.session):
        run = jobs.start(db.session, "test_counting", {}, Actor.system("t"), now=NOW)
        run.params = {**run.params, "me": run.id}
    calls.clear()
    assert jobs.execute(run.id) == "cancelled"
    db.session.expire_all()
    assert calls == [0, 1, 2] and (run.status, run.result) == ("cancelled", None)
    assert run.message == "已取消"


# -- the real worker (PostgreSQL) -----------------------------------------------------------------

def _worker(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "XUEJI_ENV": "test"}
    return subprocess.run([sys.executable, "run.py", "worker", "--once", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _queued(run_id: int) -> list[tuple]:
    return db.session.execute(text(
        "SELECT status::text, task_name FROM procrastinate_jobs WHERE args->>'run_id' = :r"),
        {"r": str(run_id)}).all()


@pytest.mark.skipif(not is_postgres(), reason="the queue lives in PostgreSQL")
def test_the_worker_runs_the_check_deferred_with_the_upload_after_the_web_process_is_gone(app, ctx, client_for,
                                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_JOBS", "worker")
    web = client_for("school_registrar")
    job = _upload(web, 6, seed=8102)
    run = _run_of(job)
    assert (job.status, run.status) == ("uploaded", "queued") and run.queue_id is not None
    assert 'id="cancel-job"' in web.get(f"/imports/job/{job.id}").get_data(as_text=True)
    assert _queued(run.id) == [("todo", jobs.TASK)]  # committed with the upload, in its transaction
    assert web.get(f"/jobs/{run.id}/progress").get_json()["status"] == "queued"
    del web  # the web process is gone: nothing in it runs the job

    done = _worker()
    assert done.returncode == 0, done.stderr[-2000:]
    db.session.expire_all()
    run, job = db.session.get(JobRun, run.id), db.session.get(ImportJob, job.id)
    assert (run.status, run.done, run.attempts) == ("done", 6, 1)
    assert (job.status, job.rows_total, job.rows_valid) == ("checked", 6, 6)
    assert _queued(run.id) == [("succeeded", jobs.TASK)]


@pytest.mark.skipif(not is_postgres(), reason="the queue lives in PostgreSQL")
def test_a_job_is_deferred_only_if_its_transaction_commits(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_JOBS", "worker")
    before = db.session.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    with pytest.raises(RuntimeError), transaction(db.session):
        jobs.start(db.session, "problems_detect", {}, Actor.system("t"), now=NOW)
        raise RuntimeError("the upload failed after the job was queued")
    assert db.session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == before
    assert db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.kind == "problems_detect",
                                                                            JobRun.created_by == "t")) == 0


@pytest.mark.skipif(not is_postgres(), reason="the queue lives in PostgreSQL")
def test_a_job_whose_worker_died_goes_back_to_the_queue_and_finishes(app, ctx, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_JOBS", "worker")
    job = _upload(client_for("school_registrar"), 3, seed=8103)
    run = _run_of(job)
    # a worker took it and died: its heartbeat stopped an hour ago, the job stayed 'doing'
    dead = db.session.scalar(text("INSERT INTO procrastinate_workers (last_heartbeat) "
                                  "VALUES (now() - interval '1 hour') RETURNING id"))
    db.session.execute(text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :j"),
                       {"w": dead, "j": run.queue_id})
    db.session.execute(update(JobRun).where(JobRun.id == run.id).values(
        status="running", attempts=1, started_at=NOW, heartbeat_at=NOW - timedelta(hours=1)))
    db.session.commit()
    assert jobs.view(db.session.get(JobRun, run.id))["stalled"]

    done = _worker()
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1 stalled jobs put back in the queue" in done.stdout
    db.session.expire_all()
    assert (db.session.get(JobRun, run.id).status, db.session.get(JobRun, run.id).attempts) == ("done", 2)
    assert db.session.get(ImportJob, job.id).status == "checked"


def test_the_worker_refuses_sqlite_with_a_clear_message(app):
    if is_postgres():
        pytest.skip("the worker's own database is PostgreSQL here")
    result = subprocess.run([sys.executable, "run.py", "worker", "--once"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False,
                            env={**os.environ, "XUEJI_ENV": "test", "TEST_DATABASE_URL": ""})
    assert result.returncode != 0 and "needs PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr  # a message, not a stack trace


@pytest.mark.skipif(not is_postgres(), reason="the queue lives in PostgreSQL")
def test_the_worker_schedules_the_nightly_and_monthly_jobs_and_a_scheduled_job_leaves_its_row(app, ctx):
    from app.worker import build

    queue = build(app)
    crons = {key[1]: p.cron for key, p in queue.periodic_registry.periodic_tasks.items()}
    assert crons == {"month_end": "0 1 1 * *", "backup": "0 2 * * *", "problems": "30 2 * * *",
                     "dormant": "0 3 * * *", "audit_anchor": "*/5 * * * *", "tally": "*/5 * * * *",
                     "stalled": "* * * * *"}
    before = db.session.scalar(select(func.max(JobRun.id))) or 0
    queue.tasks["xueji.problems"](timestamp=0)  # what the scheduler runs at 02:30
    db.session.expire_all()
    run = db.session.scalar(select(JobRun).where(JobRun.id > before, JobRun.kind == "problems_detect"))
    assert (run.status, run.created_by, run.subject, run.queue_id) == ("done", "scheduler", "scheduled", None)
    assert set(run.result) == {"opened", "closed", "open", "summary"} and run.message == run.result["summary"]["zh"]
