"""Anchors kept outside the database show what the chain alone cannot: the newest rows deleted, a
log emptied and begun again; a forged anchor is named; rows pruned behind a signed checkpoint are
not missing; PostgreSQL deletes log rows only behind a checkpoint, whatever the session sets."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from conftest import is_postgres
from sqlalchemy import func, select, text
from test_audit_chain import tampering, undone, views

from app.extensions import db
from app.models import PersonalDataAccess
from app.services.operations import audit_chain as chain


@pytest.fixture
def anchors(app, tmp_path):
    """A directory of anchors, and signing keys, of this test's own (a key another test made
    for a prune months ahead would sign nothing now)."""
    folder = tmp_path / "anchors"
    kept = {k: app.config.get(k) for k in ("XUEJI_AUDIT_ANCHOR_DIR", "XUEJI_SIGNING_KEY_DIR")}
    app.config.update(XUEJI_AUDIT_ANCHOR_DIR=str(folder), XUEJI_SIGNING_KEY_DIR=str(tmp_path / "keys"))
    stores = app.extensions.pop("xueji_signing_keys", None)
    yield folder
    app.config.update(kept)
    app.extensions.pop("xueji_signing_keys", None)
    if stores is not None:
        app.extensions["xueji_signing_keys"] = stores


def _head() -> int:
    return db.session.scalar(select(func.max(PersonalDataAccess.seq)))


def test_the_newest_rows_deleted_after_an_anchor_are_found(ctx, anchors):
    views(3)
    entry = chain.anchor(db.session, now=datetime.now())
    seq = entry["heads"]["personal_data_access"]["seq"]
    assert seq == _head() and chain.verify(db.session) == []
    with tampering(db.session):  # the chain alone is whole: it simply ends two rows earlier
        db.session.execute(text("DELETE FROM personal_data_access WHERE seq > :s"), {"s": seq - 2})
        findings = chain.verify(db.session)
    assert [(f.log, f.id, f.seq, f.problem) for f in findings] == [
        ("personal_data_access", None, seq, "deleted")]
    assert f"{seq - 2}" in str(findings[0].detail) and entry["at"] in str(findings[0].detail)
    assert chain.verify(db.session) == []  # undone


def test_a_log_emptied_and_begun_again_is_found_and_never_adopted(ctx, anchors):
    views(2)
    chain.anchor(db.session, now=datetime.now())
    with tampering(db.session):
        db.session.execute(text("DELETE FROM audit_checkpoint WHERE log = 'personal_data_access'"))
        db.session.execute(text("DELETE FROM personal_data_access"))
        db.session.execute(text("INSERT INTO personal_data_access (at, username, import_job_id, channel, "
                                "fields) VALUES (:at, 'ghost', 1, 'web', 'id_number')"), {"at": datetime.now()})
        assert chain.adopt_unchained(db.session) == 0  # `init` does not launder the new log
        findings = chain.verify(db.session)
    assert [(f.log, f.problem) for f in findings] == [("personal_data_access", "inserted"),
                                                      ("personal_data_access", "deleted")]


def test_a_forged_anchor_is_named_and_the_one_before_it_still_counts(ctx, anchors):
    views(1)
    now = datetime.now()
    chain.anchor(db.session, now=now)
    chain.anchor(db.session, now=now)
    path = anchors / f"anchors-{now:%Y-%m}.jsonl"
    lines = path.read_text().splitlines()
    forged = json.loads(lines[1])
    forged["heads"]["personal_data_access"]["seq"] += 1000  # to make a deletion up
    path.write_text("\n".join([lines[0], json.dumps(forged), "not an anchor"]) + "\n")
    findings = chain.verify(db.session)
    assert [(f.log, f.problem) for f in findings] == [(f"audit_anchor:{path.name}:3", "anchor"),
                                                      (f"audit_anchor:{path.name}:2", "anchor")]
    assert "签名无效" in str(findings[1].detail)


def test_rows_pruned_behind_a_signed_checkpoint_are_not_missing(ctx, anchors):
    views(1)
    chain.anchor(db.session, now=datetime.now())
    latest = db.session.scalar(select(func.max(PersonalDataAccess.at)))
    with undone(db.session):
        counts = chain.prune(db.session, now=latest + timedelta(days=chain.MIN_RETENTION_DAYS, seconds=1))
        assert counts["personal_data_access"] > 0 and _head() is None
        assert chain.verify(db.session) == []


def test_the_commands_anchor_and_verify(ctx, app, anchors):
    views(1)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    assert f"personal_data_access: seq {_head()}" in result.output
    assert len(next(anchors.glob("anchors-*.jsonl")).read_text().splitlines()) == 1
    with tampering(db.session):
        db.session.execute(text("DELETE FROM personal_data_access WHERE seq = :s"), {"s": _head()})
        result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "deleted" in result.output, result.output


@pytest.mark.skipif(not is_postgres(), reason="the worker's queue lives in PostgreSQL")
def test_the_worker_anchors_every_five_minutes(app, ctx, anchors):
    from app.worker import build

    queue = build(app)
    queue.tasks["xueji.audit_anchor"](timestamp=0)
    (line,) = next(anchors.glob("anchors-*.jsonl")).read_text().splitlines()
    assert json.loads(line)["heads"]["personal_data_access"]["seq"] == (_head() or 0)


@pytest.mark.skipif(not is_postgres(), reason="the append-only triggers are PostgreSQL's")
@pytest.mark.parametrize("statement", [
    "DELETE FROM personal_data_access WHERE seq = (SELECT max(seq) FROM personal_data_access)",
    "TRUNCATE personal_data_access"])
def test_no_session_setting_lets_a_row_go_without_a_checkpoint(ctx, statement):
    from sqlalchemy.exc import ProgrammingError

    views(1)
    with undone(db.session), pytest.raises(ProgrammingError, match="append-only"):
        db.session.execute(text("SELECT set_config('xueji.audit_prune', 'on', true)"))
        db.session.execute(text(statement))
