"""Every large export is a job, and exports cannot be split to dodge approval: a large export no rule
holds is made by a job and stored approved at once (no supervisor, the rule that let it go
recorded), downloaded by its requester with the same sha256 logged; the rows the same account
exported inside the rules' window count with the next export."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

import pytest
from conftest import is_postgres
from factories import actor_of, school
from sqlalchemy import func, select
from test_export_approval import ROWS_RULE, SCOPE_RULE, SHIPPED, _rules

from app.clock import local_now
from app.errors import Conflict, Forbidden
from app.extensions import db
from app.models import AuditEvent, ExportLog, ExportRequest, JobRun, School, Student
from app.services.exchange import export_requests, export_window, exports
from app.services.exchange.export_requests import ExportHeld, What
from app.services.operations import job_tasks, jobs

NOW = datetime(2026, 9, 15, 10)
WINDOW_RULE = "rules/national.yaml:201"
A, B = "4301020002", "4301020003"  # two schools of 芙蓉区 (430102)


def _rows(code: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Student).where(Student.school_id == school(code).id))


def _limited(limit: int):
    return _rules(national_yaml=("approval_over_rows: 1000", f"approval_over_rows: {limit}"))


def _earlier(username: str, code: str, now: datetime = NOW) -> int:
    return export_window.earlier_rows(db.session, actor_of(username), 24, now, this=("school", code, None))


def _made_by_job(username: str, what: What) -> ExportRequest:
    run = job_tasks.export_later(db.session, actor_of(username), what, NOW, held=False)
    jobs.launch(run)  # inline in the tests
    run = db.session.get(JobRun, run.id)
    assert run.status == "done", run.message
    return db.session.get(ExportRequest, run.result["export_request"])


def test_a_large_export_no_rule_holds_is_made_by_a_job_and_downloads_with_its_hash_logged(ctx):
    req = _made_by_job("school_registrar", What("students", school("4301020001")))
    assert (req.needs_approval, req.status, req.decided_by, req.rows) == (False, "approved", None, _rows("4301020001"))
    assert req.rule_source == f"{ROWS_RULE}; {WINDOW_RULE}" and "无需学籍主管领导审批" in req.reason
    assert req.expires_at == NOW + timedelta(days=ctx.config["XUEJI_EXPORT_DOWNLOAD_DAYS"])
    made = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "export_request",
                                                       AuditEvent.entity_id == req.id)).one()
    assert (made.action, made.changes["approval"], made.changes["rule"]) == ("export_made", "not_needed", req.rule_source)
    with pytest.raises(Conflict, match="已批准"):  # nothing for a supervisor to decide
        export_requests.decide(db.session, actor_of("school_supervisor"), req.id, approve=True, now=NOW)
    with pytest.raises(Forbidden):  # the file is its requester's alone
        export_requests.download(db.session, actor_of("school_supervisor"), req.id, NOW)
    data, req = export_requests.download(db.session, actor_of("school_registrar"), req.id, NOW)
    log = db.session.scalars(select(ExportLog).where(ExportLog.request_id == req.id)).one()
    assert data[:2] == b"PK" and log.sha256 == req.sha256 == hashlib.sha256(data).hexdigest()
    assert (log.username, log.rows, log.scope_code) == ("school_registrar", req.rows, "4301020001")


def test_a_job_files_the_export_for_approval_when_the_rules_hold_it_by_the_time_it_runs(ctx):
    req = _made_by_job("county_registrar", What("students"))  # a whole county: approval_scopes
    assert (req.needs_approval, req.status, req.rule_source) == (True, "pending", SCOPE_RULE)
    with pytest.raises(Conflict):
        export_requests.download(db.session, actor_of("county_registrar"), req.id, NOW)


def test_exporting_school_by_school_is_held_once_the_window_passes_the_threshold(ctx, tmp_path):
    registrar, a, b = actor_of("county_registrar"), _rows(A), _rows(B)
    export_requests.deliver(db.session, SHIPPED, registrar, What("students", school(A)), tmp_path / "a.xlsx", NOW)
    earlier = _earlier("county_registrar", B)
    assert earlier >= a > 0
    strict = _limited(earlier + b - 1)
    with pytest.raises(ExportHeld) as held:
        export_requests.deliver(db.session, strict, registrar, What("students", school(B)), tmp_path / "b.xlsx", NOW)
    (problem,) = held.value.problems
    assert (problem.code, problem.source) == ("export_over_rows_in_window", ROWS_RULE)
    assert WINDOW_RULE in str(problem.message) and f"{earlier} 名" in str(problem.message)
    assert not (tmp_path / "b.xlsx").exists()
    assert export_requests.hold(db.session, _limited(earlier + b), registrar, What("students", school(B)), NOW) == ()
    req = export_requests.file(db.session, strict, registrar, What("students", school(B)), NOW)  # filed, citing it
    assert (req.status, req.rule_source) == ("pending", ROWS_RULE) and "24 小时内" in req.reason


def test_the_same_scope_again_counts_once_and_this_scope_is_not_counted_twice(ctx, tmp_path):
    registrar = actor_of("county_registrar")
    export_requests.deliver(db.session, SHIPPED, registrar, What("students", school(A)), tmp_path / "a.xlsx", NOW)
    before = _earlier("county_registrar", B)
    export_requests.deliver(db.session, SHIPPED, registrar, What("students", school(A)), tmp_path / "a2.xlsx", NOW)
    assert _earlier("county_registrar", B) == before  # A again adds nothing
    assert _earlier("county_registrar", A) == before - _rows(A)  # A itself is the export being judged


def test_another_accounts_exports_do_not_fill_this_accounts_window(ctx, tmp_path):
    before = _earlier("city_registrar", B)
    export_requests.deliver(db.session, SHIPPED, actor_of("county_registrar"), What("students", school(A)),
                            tmp_path / "a.xlsx", NOW)
    assert _earlier("city_registrar", B) == before
    assert _earlier("county_registrar", B) >= _rows(A)
    strict = _limited(before + _rows(B))
    assert export_requests.hold(db.session, strict, actor_of("city_registrar"), What("students", school(B)), NOW) == ()


def test_exports_made_by_jobs_count_at_once_and_approved_ones_do_not(ctx):
    before = _earlier("county_registrar", B)
    _made_by_job("county_registrar", What("students", school(A)))  # not downloaded yet: counts already
    with_job = _earlier("county_registrar", B)
    assert with_job >= _rows(A) and with_job >= before
    held = export_requests.file(db.session, _limited(0), actor_of("county_registrar"), What("students", school(A)), NOW)
    export_requests.decide(db.session, actor_of("county_supervisor"), held.id, approve=True, now=NOW)
    export_requests.download(db.session, actor_of("county_registrar"), held.id, NOW)
    assert _earlier("county_registrar", B) == with_job  # the supervisor's approval covered those rows


def test_only_rows_inside_the_window_count(ctx):
    """The log's wall-clock stamps against the wall clock; a window of 0 hours counts nothing."""
    who = actor_of("city_registrar")
    before = _earlier("city_registrar", B)
    base = {"user_id": who.user_id, "username": who.username, "kind": "students", "scope_level": "school",
            "province_code": "430000", "city_code": "430100", "county_code": "430102", "sha256": "0" * 64}
    db.session.add_all([ExportLog(at=local_now() - timedelta(hours=25), scope_code="4301029998", rows=900, **base),
                        ExportLog(at=local_now() - timedelta(hours=1), scope_code="4301029999", rows=7, **base)])
    db.session.flush()  # rolled back after the test
    assert _earlier("city_registrar", B) == before + 7
    assert export_window.earlier_rows(db.session, who, 0, NOW, this=("school", B, None)) == 0


def test_one_class_after_another_adds_up(ctx):
    registrar, where = actor_of("school_registrar"), school("4301020001")
    first, second = sorted(where.classes, key=lambda c: c.id)[:2]
    export_requests.deliver(db.session, SHIPPED, registrar, What("confirmation_xlsx", where, first.id),
                            io.BytesIO(), NOW)
    log = db.session.scalars(select(ExportLog).order_by(ExportLog.id.desc())).first()
    assert (log.scope_level, log.class_id) == ("class", first.id)
    counted = export_window.earlier_rows(db.session, registrar, 24, NOW, this=("class", where.code, second.id))
    assert counted >= log.rows
    assert counted - export_window.earlier_rows(db.session, registrar, 24, NOW,
                                                this=("class", where.code, first.id)) == log.rows


def test_rules_explain_shows_the_window_with_its_line(app, ctx):
    import json

    result = app.test_cli_runner().invoke(args=["rules", "explain", "exports", "--node", "430102", "--json"])
    assert json.loads(result.output)["approval_window_hours"] == {"value": 24, "source": WINDOW_RULE}
    result = app.test_cli_runner().invoke(args=["rules", "explain", "exports", "--node", "430102"])
    assert "24 小时" in result.output and WINDOW_RULE in result.output


def test_the_command_line_still_writes_a_large_export_itself(app, ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_EXPORT_INLINE_ROWS", 1)
    out = tmp_path / "s.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "students", str(out), "--school", "4301020001"])
    assert result.exit_code == 0 and out.read_bytes()[:2] == b"PK", result.output
    log = db.session.scalars(select(ExportLog).order_by(ExportLog.id.desc())).first()
    assert log.sha256 == hashlib.sha256(out.read_bytes()).hexdigest() and log.request_id is None
    assert exports.count(db.session, actor_of("school_registrar"), school("4301020001")) == log.rows


@pytest.mark.skipif(not is_postgres(), reason="the lock is PostgreSQL's (SQLite has one writer)")
def test_two_exports_of_one_account_at_one_instant_are_judged_one_after_the_other(app, ctx, monkeypatch):
    """Each alone is under the threshold, together they are over it: the second waits for the
    first's commit, counts its rows and is held for approval. A download the same account asks for
    meanwhile is refused at once (a page does not hang behind a job); another account's is not."""
    import threading

    from sqlalchemy import text

    account = "city_registrar"
    exported = set(db.session.scalars(select(ExportLog.scope_code).where(ExportLog.username == account))) | set(
        db.session.scalars(select(ExportRequest.scope_code).where(ExportRequest.username == account)))
    codes = db.session.scalars(select(School.code).where(School.county_code == "430102").order_by(School.code))
    first, second = [code for code in codes if code not in exported and _rows(code)][:2]
    earlier = _earlier(account, first)
    assert earlier == _earlier(account, second)  # neither school exported by this account yet
    rules = _limited(earlier + max(_rows(first), _rows(second)))  # each alone passes, both do not
    db.session.commit()

    release, outcome, made = threading.Event(), {}, []
    real_write = exports.write

    def write(*args, **kwargs):
        if threading.current_thread().name == "first":
            release.wait(30)  # the first holds its transaction (and the lock) until the test lets go
        return real_write(*args, **kwargs)

    monkeypatch.setattr(exports, "write", write)

    def export(code: str) -> None:
        with app.app_context():
            try:
                req = export_requests.make(db.session, rules, actor_of(account), What("students", school(code)), NOW)
                made.append(req.id)
                outcome[code] = (req.needs_approval, req.status)
            finally:
                db.session.remove()

    def locks(*, granted: bool) -> int:
        """This account's export locks held (granted) or waited for."""
        db.session.rollback()
        return db.session.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = :granted "
            "AND classid = CAST(:k AS oid) AND objid = CAST(hashtext(:who) AS oid)"),
            {"granted": granted, "k": export_window.EXPORT_LOCK, "who": account})

    def until(holds) -> None:
        for _ in range(100):
            if holds():
                return
            threading.Event().wait(0.1)

    def waiting() -> int:
        return locks(granted=False)

    threads = [threading.Thread(target=export, args=(code,), name=name)
               for name, code in (("first", first), ("second", second))]
    try:
        threads[0].start()
        until(lambda: locks(granted=True))  # the first holds the lock (its write waits)
        threads[1].start()
        until(waiting)
        assert waiting() == 1  # the second export waits for the first
        with pytest.raises(Conflict, match="另一个导出正在生成"):
            export_requests.deliver(db.session, rules, actor_of(account), What("students", school(first)),
                                    io.BytesIO(), NOW)
        db.session.rollback()
        export_requests.deliver(db.session, SHIPPED, actor_of("school_registrar"),
                                What("students", school("4301020001")), io.BytesIO(), NOW)  # another account
        db.session.rollback()
    finally:
        release.set()
        for thread in threads:
            thread.join(30)
    assert outcome == {first: (False, "approved"), second: (True, "pending")}
    db.session.query(ExportRequest).filter(ExportRequest.id.in_(made)).delete()  # the shared window
    db.session.commit()
