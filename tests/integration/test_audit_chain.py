"""The three logs are hash-chained: what business writes is sealed at commit and verifies; rows
edited, deleted or inserted with SQL are found and the first bad row named; pruning leaves a signed
checkpoint the chain continues from; concurrent sealers make one gap-free chain (PostgreSQL)."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from datetime import datetime, timedelta

import pytest
from conftest import is_postgres
from factories import PDF, actor_of, registered_in
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import AuditCheckpoint, AuditEvent, ExportLog, PersonalDataAccess
from app.security.audit_chain import canonical
from app.services.common.transaction import transaction
from app.services.operations import audit_chain as chain
from app.services.record.personal_data import log_lookup, record_view
from app.services.requests import workflow as requests

NOW = datetime(2026, 9, 15, 10)


class _Undo(Exception):
    pass


@contextlib.contextmanager
def undone(session):
    """One transaction around the block, rolled back at its end: the use cases inside join it,
    and the shared test database is left as it was."""
    with contextlib.suppress(_Undo), transaction(session):
        yield
        raise _Undo


@contextlib.contextmanager
def tampering(session):
    """``undone``, as someone owning the tables: on PostgreSQL they switch the append-only
    triggers off (session_replication_role), then write what they like."""
    with undone(session):
        if is_postgres():
            session.execute(text("SET LOCAL session_replication_role = replica"))
        yield


def sealed(model, n: int = 1) -> list:
    """The ids and seqs of ``n`` rows in the middle of a log's chain."""
    total = db.session.scalar(select(func.count()).select_from(model).where(model.seq.is_not(None)))
    return db.session.execute(select(model.id, model.seq).where(model.seq.is_not(None))
                              .order_by(model.seq).offset(total // 2).limit(n)).all()


def test_what_business_writes_is_sealed_and_verifies(ctx, app, tmp_path):
    student = registered_in("4301020001")
    req = requests.start(db.session, kind="change_field", student=student, now=NOW,
                         actor=actor_of("school_registrar"), payload={"ethnicity": "03"}, files=[PDF])
    for username in ("school_supervisor", "county_registrar"):
        requests.decide(db.session, req.id, actor_of(username), "approve", NOW)
    record_view(db.session, actor_of("school_registrar"), student, ["id_number"], "web")
    result = app.test_cli_runner().invoke(args=["export", "students", str(tmp_path / "out.xlsx"),
                                                "--as", "school_registrar"])
    assert result.exit_code == 0, result.output
    for model in (AuditEvent, PersonalDataAccess, ExportLog):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.seq.is_(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_uid == student.uid, AuditEvent.action == "apply_change_field")) == 1
    assert chain.verify(db.session) == []
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "intact" in verified.output, verified.output


def test_a_bulk_insert_is_sealed_in_id_order_after_the_last_row(ctx):
    last = db.session.scalar(select(func.max(AuditEvent.seq)))
    with transaction(db.session):
        db.session.execute(AuditEvent.__table__.insert(), [
            {"action": "bulk_test", "entity": "test", "summary": f"row {i}"} for i in range(5)])
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.seq).where(AuditEvent.action == "bulk_test")
                              .order_by(AuditEvent.id)).all()
    assert [r.seq for r in rows][-5:] == list(range(last + 1, last + 6))
    assert chain.verify(db.session) == []


def test_an_import_sized_batch_is_sealed_whole_across_the_update_chunks(ctx):
    """More rows than one sealing statement takes (PostgreSQL: 1,000 per UPDATE ... FROM unnest)."""
    last = db.session.scalar(select(func.max(ExportLog.seq))) or 0
    with transaction(db.session):
        db.session.execute(ExportLog.__table__.insert(), [
            {"username": "big_batch", "kind": "students", "scope_level": "school", "rows": i}
            for i in range(2345)])
    seqs = db.session.scalars(select(ExportLog.seq).where(ExportLog.username == "big_batch")
                              .order_by(ExportLog.id)).all()
    assert seqs == list(range(last + 1, last + 2346))
    assert chain.verify(db.session) == []


def test_a_look_up_kept_after_a_rollback_is_sealed_on_its_own_connection(ctx):
    """personal_data.log_lookup writes through the engine, outside the session: sealed all the same."""
    student = registered_in("4301020001")
    log_lookup(db.session, actor_of("county2_registrar"), student, ["id_number"], "lookup")
    db.session.rollback()
    row = db.session.execute(select(PersonalDataAccess.seq, PersonalDataAccess.username)
                             .order_by(PersonalDataAccess.id.desc()).limit(1)).one()
    assert row.username == "county2_registrar" and row.seq is not None
    assert chain.verify(db.session) == []


def test_an_edited_row_is_named(ctx):
    (victim,) = sealed(AuditEvent)
    with tampering(db.session):
        db.session.execute(text("UPDATE audit_event SET summary = 'nothing happened' WHERE id = :id"),
                           {"id": victim.id})
        first = chain.verify(db.session)[0]
    assert (first.log, first.id, first.seq, first.problem) == ("audit_event", victim.id, victim.seq, "edited")
    assert chain.verify(db.session) == []  # undone


def views(n: int) -> None:
    """``n`` personal-data views, each logged by its own use case."""
    student = registered_in("4301020001")
    for _ in range(n):
        record_view(db.session, actor_of("school_registrar"), student, ["id_number"], "web")


def test_a_deleted_middle_row_is_found_at_the_gap(ctx):
    views(4)
    victim, after = sealed(PersonalDataAccess, 2)
    with tampering(db.session):
        db.session.execute(text("DELETE FROM personal_data_access WHERE id = :id"), {"id": victim.id})
        findings = chain.verify(db.session)
    assert [(f.log, f.id, f.seq, f.problem) for f in findings] == [
        ("personal_data_access", after.id, after.seq, "deleted")]
    assert f"{victim.seq}" in str(findings[0].detail)


def test_a_row_inserted_directly_is_found(ctx, app):
    with tampering(db.session):
        db.session.execute(text("INSERT INTO export_log (at, username, kind, scope_level, rows) "
                                "VALUES (:at, 'ghost', 'students', 'school', 1)"), {"at": NOW})
        ghost = db.session.scalar(select(func.max(ExportLog.id)))
        findings = chain.verify(db.session)
    assert [(f.log, f.id, f.seq, f.problem) for f in findings] == [("export_log", ghost, None, "inserted")]


def test_an_edit_with_a_recomputed_plain_hash_is_found(ctx):
    (victim,) = sealed(AuditEvent)
    with tampering(db.session):
        prev = db.session.scalar(select(AuditEvent.mac).where(AuditEvent.seq == victim.seq - 1))
        db.session.execute(text("UPDATE audit_event SET summary = 'forged' WHERE id = :id"), {"id": victim.id})
        row = db.session.execute(select(AuditEvent.__table__).where(AuditEvent.id == victim.id)).mappings().one()
        forged = hashlib.sha256(prev.encode() + canonical(row)).hexdigest()
        db.session.execute(text("UPDATE audit_event SET mac = :mac WHERE id = :id"), {"mac": forged, "id": victim.id})
        first = chain.verify(db.session)[0]
    assert (first.id, first.seq, first.problem) == (victim.id, victim.seq, "edited")


def test_the_verify_command_names_the_first_bad_row_and_fails(ctx, app):
    (victim,) = sealed(AuditEvent)
    with tampering(db.session):
        db.session.execute(text("UPDATE audit_event SET username = 'someone' WHERE id = :id"), {"id": victim.id})
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"first: audit_event id={victim.id} seq={victim.seq}: edited" in result.output


def _prune_after_half(model) -> tuple[datetime, int]:
    """A prune time at which the older half of ``model``'s chain is past retention: 180 days
    after the newest of that half."""
    (middle,) = sealed(model)
    at = db.session.scalar(select(func.max(model.at)).where(model.seq <= middle.seq))
    return at + timedelta(days=chain.MIN_RETENTION_DAYS, seconds=1), middle.seq


def test_prune_leaves_a_signed_checkpoint_the_chain_verifies_from(ctx, app):
    now, middle = _prune_after_half(AuditEvent)
    with undone(db.session):
        counts = chain.prune(db.session, now=now)
        cp = db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.log == "audit_event")).one()
        assert counts["audit_event"] == cp.pruned >= middle and cp.seq >= middle
        assert db.session.scalar(select(func.min(AuditEvent.seq))) == cp.seq + 1
        assert chain.verify(db.session) == []
        cp_id = cp.id
        db.session.execute(text("UPDATE audit_checkpoint SET seq = seq + 1 WHERE id = :id"), {"id": cp_id})
        findings = chain.verify(db.session)
    assert findings[0].problem == "checkpoint" and findings[0].id == cp_id


def test_prune_refuses_a_chain_that_fails_and_a_short_retention(ctx, app):
    from app.errors import Conflict, DomainError

    views(4)
    now, _ = _prune_after_half(PersonalDataAccess)
    (victim,) = sealed(PersonalDataAccess)
    with tampering(db.session):
        db.session.execute(text("DELETE FROM personal_data_access WHERE id = :id"), {"id": victim.id})
        with pytest.raises(Conflict, match="personal_data_access"):
            chain.prune(db.session, now=now + timedelta(days=400))
    app.config["XUEJI_AUDIT_RETENTION_DAYS"] = 90
    try:
        with pytest.raises(DomainError, match="180"):
            chain.prune(db.session, now=now)
    finally:
        app.config["XUEJI_AUDIT_RETENTION_DAYS"] = 180


@pytest.mark.skipif(not is_postgres(), reason="SQLite has one writer at a time: nothing to race")
def test_concurrent_sealers_make_one_gap_free_chain(app):
    before = _count_sealed(app)
    ready = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with app.app_context():
                db.session.execute(PersonalDataAccess.__table__.insert(), [
                    {"username": f"racer{n}", "import_job_id": 1, "channel": "web", "fields": "x"}
                    for _ in range(50)])
                ready.wait(timeout=10)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 -- reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        seqs = db.session.scalars(select(PersonalDataAccess.seq).where(
            PersonalDataAccess.username.in_(["racer0", "racer1"])).order_by(PersonalDataAccess.seq)).all()
        assert seqs == list(range(before + 1, before + 101))
        assert chain.verify(db.session) == []
        db.session.remove()


def _count_sealed(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(PersonalDataAccess.seq))) or 0


def test_init_adopts_the_rows_written_before_the_chain_and_nothing_after(tmp_path):
    """An older database's log rows begin the chain once; a row slipped in later is not adopted."""
    from flask_migrate import upgrade

    from app import create_app
    from config import TestConfig

    old = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}",
                     INSTANCE_DIR=str(tmp_path))
    insert = text("INSERT INTO audit_event (at, action, entity) VALUES (:at, 'old', 'test')")
    with old.app_context():
        directory = old.extensions["migrate"].directory
        upgrade(directory=directory, revision="f1a2b3c4d5e6")  # the one before the chain
        db.session.execute(insert, [{"at": NOW}] * 3)
        db.session.commit()
        upgrade(directory=directory)
        assert [f.problem for f in chain.verify(db.session)] == ["inserted"] * 3
        assert chain.adopt_unchained(db.session) == 3
        assert chain.verify(db.session) == []
        db.session.execute(insert, {"at": NOW})
        db.session.commit()
        assert chain.adopt_unchained(db.session) == 0
        assert [(f.problem, f.id) for f in chain.verify(db.session)] == [("inserted", 4)]
        db.session.remove()


@pytest.mark.skipif(not is_postgres(), reason="the append-only triggers are PostgreSQL's")
@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET summary = 'x' WHERE seq = (SELECT max(seq) FROM audit_event)",
    "DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)",
    "TRUNCATE export_log"])
def test_postgresql_itself_refuses_to_rewrite_a_sealed_log(ctx, statement):
    from sqlalchemy.exc import ProgrammingError

    with undone(db.session), pytest.raises(ProgrammingError, match="append-only|sealed"):
        db.session.execute(text(statement))
