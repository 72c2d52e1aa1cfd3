"""The hash chain of the three logs (audit_event, personal_data_access, export_log).

Every log row is inserted with its transaction's token in ``txn`` (a column default, so ORM
objects, bulk executemany and COPY all carry it).  When that transaction commits, the engine's
``commit`` hook seals its rows, oldest id first: ``seq`` the next number of the log and ``mac``
HMAC-SHA256 under the audit key of the previous row's mac and this row's values.  Sealers take
turns (an advisory lock on PostgreSQL; SQLite has one writer anyway), held from sealing to commit.

The audit key is derived from the blind-index key (HKDF with its own label): it never sits in the
database, so rows rewritten with database access alone cannot be given a valid mac.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Table, bindparam, event, select, text, update
from sqlalchemy.engine import Connection, Engine

from ..models.audit import TXN_TOKEN, AuditEvent, ExportLog, PersonalDataAccess
from ..models.audit_checkpoint import AuditCheckpoint
from .crypto import Keyring

LOGS: dict[str, Table] = {m.__tablename__: m.__table__
                          for m in (AuditEvent, PersonalDataAccess, ExportLog)}
# pg_advisory_xact_lock's key: one sealer at a time ("XJAU")
SEAL_LOCK = 0x584A4155
GENESIS = ""  # the "previous mac" of a log's first row
_SEAL_CHUNK = 1000  # rows per UPDATE ... FROM unnest(...) on PostgreSQL
_KEYS: WeakKeyDictionary[Engine, bytes] = WeakKeyDictionary()  # each app's engine, its key


def audit_key(ring: Keyring) -> bytes:
    """The chain's HMAC key: HKDF-SHA256 of the blind-index key, labelled for this use only."""
    return ring.derived(b"xueji audit chain v1")


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} into the audit chain")


def canonical(row: Mapping[str, Any]) -> bytes:
    """A row's values as the mac covers them: every non-null column but ``mac``, keys sorted (so a
    nullable column added later leaves older rows' macs valid)."""
    values = {k: v for k, v in row.items() if v is not None and k != "mac"}
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_plain).encode("utf-8")


def row_mac(key: bytes, log: str, prev: str, row: Mapping[str, Any]) -> str:
    """The mac of one row of ``log`` that follows the row whose mac is ``prev``."""
    message = b"\n".join((log.encode("ascii"), prev.encode("utf-8"), canonical(row)))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def head(conn: Connection, log: str) -> tuple[int, str]:
    """The last sealed (seq, mac) of a log: its newest row, else its newest checkpoint."""
    table = LOGS[log]
    last = conn.execute(select(table.c.seq, table.c.mac).where(table.c.seq.is_not(None))
                        .order_by(table.c.seq.desc()).limit(1)).first()
    if last is None:
        cp = AuditCheckpoint.__table__
        last = conn.execute(select(cp.c.seq, cp.c.mac).where(cp.c.log == log)
                            .order_by(cp.c.seq.desc()).limit(1)).first()
    return (last.seq, last.mac) if last is not None else (0, GENESIS)


def chained(key: bytes, log: str, start: tuple[int, str], rows) -> Iterator[dict]:
    """(id, seq, mac) for ``rows`` (mappings, oldest first) appended after ``start``."""
    seq, prev = start
    for row in rows:
        seq += 1
        prev = row_mac(key, log, prev, {**row, "seq": seq})
        yield {"_id": row["id"], "_seq": seq, "_mac": prev}


def seal_where(conn: Connection, key: bytes, criterion) -> int:
    """Seal, in every log, the unsealed rows ``criterion(table)`` picks; returns how many."""
    pending = {}
    for log, table in LOGS.items():
        rows = conn.execute(select(table).where(table.c.seq.is_(None), criterion(table))
                            .order_by(table.c.id)).mappings().all()
        if rows:
            pending[log] = rows
    if not pending:
        return 0
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
    for log, rows in pending.items():
        _write_seals(conn, LOGS[log], list(chained(key, log, head(conn, log), rows)))
    return sum(len(rows) for rows in pending.values())


def _write_seals(conn: Connection, table: Table, seals: list[dict]) -> None:
    """Set each row's seq and mac: on PostgreSQL one UPDATE ... FROM unnest(three arrays) per
    _SEAL_CHUNK rows (an import's log rows sealed in a few statements while the sealers' lock is
    held, three parameters each, nothing for SQLAlchemy to compile per row), elsewhere an
    executemany."""
    if conn.dialect.name != "postgresql":
        conn.execute(update(table).where(table.c.id == bindparam("_id"))
                     .values(seq=bindparam("_seq"), mac=bindparam("_mac")), seals)
        return
    statement = text(f"UPDATE {table.name} SET seq = sealed.seq, mac = sealed.mac "
                     "FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:macs AS text[])) "
                     f"AS sealed (id, seq, mac) WHERE {table.name}.id = sealed.id")
    for start in range(0, len(seals), _SEAL_CHUNK):
        chunk = seals[start:start + _SEAL_CHUNK]
        conn.execute(statement, {"ids": [s["_id"] for s in chunk], "seqs": [s["_seq"] for s in chunk],
                                 "macs": [s["_mac"] for s in chunk]})


def seal_ahead(conn: Connection, log: str) -> tuple[int, str]:
    """Take the sealers' lock (held to commit) and read the log's head: where rows sealed before
    they are inserted (``presealed``) go on from (PostgreSQL)."""
    if conn.dialect.name != "postgresql":
        raise ValueError("rows are sealed before insertion on PostgreSQL only")
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
    return head(conn, log)


def presealed(conn: Connection, log: str, rows: list[dict], start: tuple[int, str]) -> None:
    """Rows about to be inserted in bulk (PostgreSQL), sealed before they are: each given its seq
    and mac now (set in the rows given), after ``start`` -- the head ``seal_ahead`` read with the
    sealers' lock, held to commit -- and no token, so the commit has no row to read back and
    rewrite.  Each row must hold every value the database will hold for it, its id included: the
    mac covers what verification reads back.  No statement: it may run while a COPY is under way."""
    for row in rows:
        row["txn"] = None
    for row, link in zip(rows, list(chained(_KEYS[conn.engine], log, start, rows))):
        row["seq"], row["mac"] = link["_seq"], link["_mac"]


def _seal_on_commit(conn: Connection) -> None:
    """The commit hook: seal this transaction's log rows, if it inserted any."""
    token = conn.info.get(TXN_TOKEN)
    if token is not None:
        seal_where(conn, _KEYS[conn.engine], lambda table: table.c.txn == token)
        conn.info.pop(TXN_TOKEN, None)


def _forget_token(conn: Connection) -> None:
    conn.info.pop(TXN_TOKEN, None)


def install(engine: Engine, ring: Keyring) -> None:
    """Seal at every commit of ``engine``; a rolled-back transaction's token is forgotten."""
    _KEYS[engine] = audit_key(ring)
    for name, hook in (("commit", _seal_on_commit), ("rollback", _forget_token)):
        if not event.contains(engine, name, hook):
            event.listen(engine, name, hook)
