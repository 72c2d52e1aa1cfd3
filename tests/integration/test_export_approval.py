"""导出审批: an export the rules' ``exports`` threshold holds waits for a supervisor of its node or
one above; only then its requester downloads the file, logged with its rows and its sha256."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import is_postgres
from factories import actor_of, school
from sqlalchemy import func, select
from test_concurrency import race

from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.models import AuditEvent, ExportLog, ExportRequest, Student
from app.policy import load_texts, read_dir
from app.services.exchange import export_requests
from app.services.exchange.export_requests import ExportHeld, What

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 9, 15, 10)
SCOPE_RULE, ROWS_RULE = "rules/national.yaml:197", "rules/national.yaml:196"


def _rules(**files):
    """The shipped rule set, with some files' text edited: {name: (old, new)} or {name: text}."""
    texts = read_dir(ROOT / "rules")
    for name, change in files.items():
        name = name.replace("_", ".") if name.endswith("_yaml") else name
        texts[name] = texts[name].replace(*change) if isinstance(change, tuple) else change
    return load_texts(texts)


SHIPPED = _rules()


def _latest_log():
    return db.session.scalars(select(ExportLog).order_by(ExportLog.id.desc())).first()


def _filed(username: str, school_code: str | None = None) -> ExportRequest:
    what = What("students", school(school_code) if school_code else None)
    return export_requests.file(db.session, SHIPPED, actor_of(username), what, NOW)


def test_a_county_export_waits_for_the_county_supervisor_then_its_requester_downloads_it(ctx, tmp_path):
    registrar = actor_of("county_registrar")
    with pytest.raises(ExportHeld) as held:  # no file is written: the rule is named
        export_requests.deliver(db.session, SHIPPED, registrar, What("students"), tmp_path / "county.xlsx")
    assert held.value.status == 409 and not (tmp_path / "county.xlsx").exists()
    assert [(p.code, p.source) for p in held.value.problems] == [("export_scope", SCOPE_RULE)]
    assert "全县（区）" in str(held.value)
    req = _filed("county_registrar")
    in_county = db.session.scalar(select(func.count()).select_from(Student)
                                  .where(Student.county_code == "430102"))
    assert (req.status, req.rows, req.scope_level, req.scope_code) == ("pending", in_county, "county", "430102")
    assert req.rule_source == SCOPE_RULE and req.file_enc and req.file_enc[:2] != b"PK"  # encrypted at rest
    with pytest.raises(Conflict) as waiting:  # nothing to download before the approval
        export_requests.download(db.session, registrar, req.id, NOW)
    assert waiting.value.status == 409 and waiting.value.problems[0].source == SCOPE_RULE
    logs_before = db.session.scalar(select(func.count()).select_from(ExportLog))
    export_requests.decide(db.session, actor_of("county_supervisor"), req.id, approve=True, now=NOW)
    assert (req.status, req.decided_by, req.expires_at) == ("approved", "county_supervisor", NOW + timedelta(days=7))
    with pytest.raises(Forbidden):  # the approved file is its requester's alone
        export_requests.download(db.session, actor_of("county_supervisor"), req.id, NOW)
    data, req = export_requests.download(db.session, registrar, req.id, NOW)
    log = _latest_log()
    assert db.session.scalar(select(func.count()).select_from(ExportLog)) == logs_before + 1
    assert (log.username, log.rows, log.request_id, log.scope_code) == ("county_registrar", in_county, req.id, "430102")
    assert log.sha256 == hashlib.sha256(data).hexdigest() == req.sha256 and data[:2] == b"PK"
    assert req.status == "downloaded"
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "export_request",
                                                                     AuditEvent.entity_id == req.id)))
    assert actions == {"export_requested", "export_approved"}


def test_nobody_approves_their_own_export_and_a_higher_supervisor_may(ctx):
    req = _filed("county_supervisor")
    with pytest.raises(Forbidden, match="自己"):
        export_requests.decide(db.session, actor_of("county_supervisor"), req.id, approve=True, now=NOW)
    assert db.session.get(ExportRequest, req.id).status == "pending"
    with pytest.raises(Forbidden):  # a registrar decides nothing
        export_requests.decide(db.session, actor_of("county_registrar"), req.id, approve=True, now=NOW)
    export_requests.decide(db.session, actor_of("city_supervisor"), req.id, approve=True, now=NOW)
    assert db.session.get(ExportRequest, req.id).decided_by == "city_supervisor"
    with pytest.raises(Conflict, match="已批准，不能再审批"):  # one decision
        export_requests.decide(db.session, actor_of("prov_supervisor"), req.id, approve=False, now=NOW)


def test_a_supervisor_of_another_county_neither_sees_nor_approves_it(ctx):
    req = _filed("county_registrar")
    other = actor_of("county2_supervisor")
    assert db.session.scalar(select(ExportRequest).where(ExportRequest.id == req.id,
                                                         other.scope.clause(ExportRequest))) is None
    with pytest.raises(NotFound):
        export_requests.decide(db.session, other, req.id, approve=True, now=NOW)
    with pytest.raises(NotFound):  # nor does a school's supervisor reach a county's export
        export_requests.decide(db.session, actor_of("school_supervisor"), req.id, approve=True, now=NOW)
    assert db.session.get(ExportRequest, req.id).status == "pending"


def test_a_refused_export_keeps_no_file(ctx):
    req = _filed("county_registrar")
    export_requests.decide(db.session, actor_of("county_supervisor"), req.id, approve=False, now=NOW, note="范围过大")
    assert (req.status, req.file_enc, req.note) == ("refused", None, "范围过大")
    with pytest.raises(Conflict, match="county_supervisor"):
        export_requests.download(db.session, actor_of("county_registrar"), req.id, NOW)


def test_downloads_are_limited_in_number_and_time(ctx):
    registrar = actor_of("county_registrar")
    req = _filed("county_registrar")
    export_requests.decide(db.session, actor_of("county_supervisor"), req.id, approve=True, now=NOW)
    for _ in range(ctx.config["XUEJI_EXPORT_DOWNLOADS"]):
        export_requests.download(db.session, registrar, req.id, NOW)
    assert db.session.get(ExportRequest, req.id).file_enc is None  # used up: wiped
    with pytest.raises(Conflict):
        export_requests.download(db.session, registrar, req.id, NOW)
    late = _filed("county_registrar")
    export_requests.decide(db.session, actor_of("county_supervisor"), late.id, approve=True, now=NOW)
    with pytest.raises(Conflict, match="过期"):
        export_requests.download(db.session, registrar, late.id, NOW + timedelta(days=8))
    late = db.session.get(ExportRequest, late.id)
    assert (late.status, late.file_enc) == ("expired", None)


@pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")
def test_six_supervisors_deciding_at_once_make_one_decision(app, ctx):
    req_id = _filed("county_registrar").id
    people = ["county_supervisor", "city_supervisor", "prov_supervisor"] * 2
    deciders = [actor_of(name) for name in people]
    results = race(app, lambda i: export_requests.decide(db.session, deciders[i], req_id,
                                                         approve=i % 2 == 0, now=NOW).status, len(people))
    assert sorted(r[0] for r in results) == ["ok"] + ["refused"] * (len(people) - 1), results
    db.session.expire_all()
    decisions = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity == "export_request", AuditEvent.entity_id == req_id,
        AuditEvent.action.in_(("export_approved", "export_refused"))))
    assert decisions == 1


def test_a_small_school_export_is_immediate_and_logged_with_its_hash(ctx, tmp_path):
    target = tmp_path / "school.xlsx"
    count = export_requests.deliver(db.session, SHIPPED, actor_of("school_registrar"),
                                    What("students", school("4301020001")), target)
    log = _latest_log()
    assert (log.username, log.rows, log.scope_level, log.request_id) == ("school_registrar", count, "school", None)
    assert count > 0 and log.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()


def test_the_threshold_follows_the_rule_file(ctx, tmp_path):
    registrar, own = actor_of("school_registrar"), What("students", school("4301020001"))
    assert export_requests.hold(db.session, SHIPPED, registrar, own) == ()
    strict = _rules(national_yaml=("approval_over_rows: 1000", "approval_over_rows: 5"))
    reasons = export_requests.hold(db.session, strict, registrar, own)
    assert [(v.code, v.source) for v in reasons] == [("export_over_rows", ROWS_RULE)]
    with pytest.raises(ExportHeld, match="超过 5 名"):
        export_requests.deliver(db.session, strict, registrar, own, tmp_path / "x.xlsx")
    county = "430102.yaml"  # a county tightens for itself: its own file and line
    tighter = _rules(**{county: read_dir(ROOT / "rules")[county] + "\nexports: {approval_over_rows: 5}\n"})
    assert export_requests.hold(db.session, tighter, registrar, own)[0].source.startswith("rules/430102.yaml:")
    assert export_requests.hold(db.session, tighter, actor_of("county2_school_registrar"),
                                What("students", school("4302020001"))) == ()
    loose = _rules(national_yaml=("approval_scopes: [province, city, county]", "approval_scopes: [province]"))
    target = tmp_path / "county.xlsx"
    export_requests.deliver(db.session, loose, actor_of("county_registrar"), What("students"), target)
    assert target.exists() and _latest_log().scope_code == "430102"


def test_one_class_is_not_judged_as_its_whole_school(ctx):
    """A county holding every whole-school export still lets one class's forms through."""
    county = "430102.yaml"
    whole_schools = _rules(**{county: read_dir(ROOT / "rules")[county]
                              + "\nexports: {approval_scopes: [province, city, county, school]}\n"})
    registrar, where = actor_of("school_registrar"), school("4301020001")
    klass = next(c for c in sorted(where.classes, key=lambda c: c.id))
    assert [v.code for v in export_requests.hold(db.session, whole_schools, registrar,
                                                 What("confirmation_xlsx", where))] == ["export_scope"]
    assert export_requests.hold(db.session, whole_schools, registrar, What("confirmation_xlsx", where, klass.id)) == ()


@pytest.mark.parametrize("username", ["school_admin", "county_admin", "county_secadmin", "county_auditor"])
def test_no_administrator_or_auditor_exports_students_by_any_door(app, ctx, tmp_path, username):
    """Separation of duties: accounts, security and audit roles read no student, so they export
    none -- not through the service, not through the command line."""
    target = tmp_path / "x.xlsx"
    with pytest.raises(Forbidden):
        export_requests.deliver(db.session, SHIPPED, actor_of(username), What("students", school("4301020001")), target)
    with pytest.raises(Forbidden):
        _filed(username)
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["export", "students", str(target), "--school", "4301020001",
                                                "--as", username])
    assert result.exit_code != 0 and not target.exists(), result.output


def test_the_command_line_files_approves_and_downloads(app, ctx, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export", "students", str(tmp_path / "c.xlsx"), "--as", "county_registrar"])
    assert result.exit_code == 3 and SCOPE_RULE in result.output and not (tmp_path / "c.xlsx").exists()
    req_id = db.session.scalar(select(func.max(ExportRequest.id)))
    result = runner.invoke(args=["export", "approve", str(req_id), "--as", "county_registrar"])
    assert result.exit_code == 1, result.output
    result = runner.invoke(args=["export", "approve", str(req_id), "--as", "county_supervisor"])
    assert result.exit_code == 0 and "approved" in result.output, result.output
    out = tmp_path / "approved.xlsx"
    result = runner.invoke(args=["export", "download", str(req_id), str(out), "--as", "county_registrar"])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() in result.output


def test_rules_explain_names_the_export_threshold_with_its_lines(app, ctx):
    import json

    result = app.test_cli_runner().invoke(args=["rules", "explain", "exports", "--node", "430102", "--json"])
    assert result.exit_code == 0, result.output
    rules = json.loads(result.output)
    assert rules["approval_over_rows"] == {"value": 1000, "source": ROWS_RULE}
    assert {s["level"]: s["source"] for s in rules["approval_scopes"]} == dict.fromkeys(
        ("province", "city", "county"), SCOPE_RULE)
