"""An import's bulk writes: on PostgreSQL the caller's own work runs while the database takes a
COPY's rows in (the rows that name the new records, the log rows' seals), and what it does there
is part of the same transaction -- a failure in it leaves no row."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from conftest import is_postgres
from sqlalchemy import create_engine, delete, func, select, text

from app.extensions import db
from app.models import AuditEvent, RegistryNumber
from app.models.base import keyring
from app.services.common.transaction import transaction
from app.services.exchange.import_cells import enc
from app.services.exchange.import_writes import LogRows, bulk_insert
from app.services.operations import audit_chain as chain

NOW = datetime(2026, 9, 15, 10)


def _numbers(tag: str, n: int) -> list[dict]:
    """Registry-number rows of no record, told apart by ``issued_by``, encrypted and indexed as the
    import makes them (the tests of key rotation read every stored value); the test deletes them."""
    ring, rows = keyring(), []
    for _ in range(n):
        uid, number = uuid.uuid4().hex, f"L999999{uuid.uuid4().int % 10**12:012d}"
        rows.append({"uid": uid, "number_enc": enc(ring, "registry_number", "number_enc", uid, number),
                     "number_blind": ring.blind_index("registry_no", number), "kind": "L",
                     "student_uid": "0" * 32, "issued_at": NOW, "issued_by": tag})
    return rows


@pytest.fixture
def numbers_deleted(ctx):
    yield
    with transaction(db.session):
        db.session.execute(delete(RegistryNumber).where(RegistryNumber.issued_by.in_(("overlap", "undone"))))


def _count(tag: str) -> int:
    return db.session.scalar(select(func.count()).where(RegistryNumber.issued_by == tag))


def _events(tag: str, n: int) -> list[dict]:
    return [{"at": NOW, "username": tag, "action": "import", "entity": "student", "summary": f"row {i}"}
            for i in range(n)]


@pytest.mark.skipif(not is_postgres(), reason="COPY and rows sealed before they go in are PostgreSQL's")
def test_the_callers_work_runs_while_the_copy_is_under_way_and_the_log_rows_sealed_then_verify(ctx, numbers_deleted):
    seen = []
    with transaction(db.session):
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        log = LogRows(db.session, AuditEvent.__table__, _events("overlap", 300))
        log.ready()  # ids and the log's head before the COPY: sealing them is the client's alone

        def meanwhile():
            log.seal()
            other = create_engine(db.engine.url)
            try:
                with other.connect() as look:
                    seen.append(look.execute(text("SELECT state, query FROM pg_stat_activity WHERE pid = :p"),
                                             {"p": pid}).one())
            finally:
                other.dispose()

        bulk_insert(db.session, RegistryNumber.__table__, _numbers("overlap", 3000), meanwhile=meanwhile)
        log.insert()
    (state, query), = seen  # the session's connection was in its COPY then
    assert state == "active" and query.startswith("COPY ")
    assert _count("overlap") == 3000
    seqs = db.session.scalars(select(AuditEvent.seq).where(AuditEvent.username == "overlap")
                              .order_by(AuditEvent.id)).all()
    assert len(seqs) == 300 and seqs == list(range(seqs[0], seqs[0] + 300))
    assert chain.verify(db.session) == []


def test_a_failure_in_the_callers_work_leaves_no_row(ctx, numbers_deleted):
    def meanwhile():
        raise RuntimeError("the caller's work failed")

    with pytest.raises(RuntimeError), transaction(db.session):
        bulk_insert(db.session, RegistryNumber.__table__, _numbers("undone", 500), meanwhile=meanwhile)
    assert _count("undone") == 0
