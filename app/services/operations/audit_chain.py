"""The logs' hash chains: verify them (`run.py audit verify`), adopt the rows written before the
chain existed (`run.py init`), and prune what is past retention behind a signed checkpoint
(`run.py audit prune`)."""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, false, func, insert, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ...errors import Conflict, DomainError
from ...i18n import t
from ...models import AuditCheckpoint, Jurisdiction
from ...models.base import keyring
from ...security.audit_chain import GENESIS, LOGS, audit_key, head, row_mac, seal_where
from ...security.signing_keys import KeyStore, SigningKeyError
from ..common.transaction import transaction
from ..reports.signing import key_store
from . import audit_anchor

MIN_RETENTION_DAYS = 180
CHECKPOINT_LABEL = b"xueji audit checkpoint v1\n"
_BATCH = 5000  # rows fetched per round trip while streaming a log


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a log: which row (or checkpoint), and what."""

    log: str
    id: int | None
    seq: int | None
    problem: str  # edited / deleted / inserted / checkpoint / pruned
    detail: str

    def __str__(self) -> str:
        return f"{self.log} id={self.id} seq={self.seq}: {self.problem}: {self.detail}"

    def as_dict(self) -> dict:
        return {**asdict(self), "detail": str(self.detail)}


# -- checkpoints ----------------------------------------------------------------------------------

def checkpoint_message(cp: Mapping) -> bytes:
    """What a checkpoint's signature covers: every column but its id and the signature."""
    fields = {name: cp[name] for name in ("log", "seq", "mac", "pruned", "node", "kid")}
    fields["at"] = cp["at"].isoformat()
    return CHECKPOINT_LABEL + json.dumps(fields, sort_keys=True).encode("ascii")


def _checkpoint_fails(store: KeyStore, cp) -> str | None:
    try:
        key = store.find(cp.node, cp.kid)
    except SigningKeyError as exc:
        return t(f"无法读取签名密钥：{exc}", f"cannot read the signing key: {exc}")
    if key is None:
        return t(f"签名密钥 {cp.kid} 未公布", f"signing key {cp.kid} is not published")
    try:
        signature = base64.b64decode(cp.signature, validate=True)
    except ValueError:
        signature = b""
    if not key.valid_at(cp.at) or not key.verify(signature, checkpoint_message(cp._mapping)):
        return t("检查点签名无效：被伪造或改动", "the checkpoint's signature fails: forged or altered")
    return None


def _start(conn: Connection, store: KeyStore, log: str) -> tuple[int, str, list[Finding]]:
    """Where checking a log begins: after its latest checkpoint (checked), else at the first row."""
    table = AuditCheckpoint.__table__
    cp = conn.execute(select(table).where(table.c.log == log).order_by(table.c.seq.desc())
                      .limit(1)).first()
    if cp is None:
        return 0, GENESIS, []
    failure = _checkpoint_fails(store, cp)
    found = [Finding(f"audit_checkpoint:{log}", cp.id, cp.seq, "checkpoint", failure)] if failure else []
    return cp.seq, cp.mac, found


# -- verifying ------------------------------------------------------------------------------------

def _walk(conn: Connection, key: bytes, log: str, seq: int, prev: str) -> Iterator[Finding]:
    table, floor = LOGS[log], seq
    rows = conn.execute(select(table).where(table.c.seq.is_not(None)).order_by(table.c.seq)
                        .execution_options(yield_per=_BATCH)).mappings()
    for row in rows:
        if row["seq"] <= floor:
            yield Finding(log, row["id"], row["seq"], "pruned", t(
                "序号不在检查点之后：应已清理，或被直接写入", "at or before the checkpoint: pruned rows reappeared"))
            continue
        if row["seq"] != seq + 1:
            yield Finding(log, row["id"], row["seq"], "deleted", t(
                f"缺少序号 {seq + 1}–{row['seq'] - 1}：其前的记录被删除",
                f"seq {seq + 1}-{row['seq'] - 1} missing: rows before it were deleted"))
        elif not _equal(row_mac(key, log, prev, row), row["mac"]):
            yield Finding(log, row["id"], row["seq"], "edited", t(
                "校验码不符：记录被改动，或校验码被伪造", "mac does not match: the row was edited or its mac forged"))
        seq, prev = row["seq"], row["mac"] or ""


def _equal(a: str, b: str | None) -> bool:
    return hmac.compare_digest(a.encode(), (b or "").encode())


def _unsealed(conn: Connection, log: str) -> Iterator[Finding]:
    """A committed row is sealed by its own transaction: one without a seq bypassed the app."""
    table = LOGS[log]
    for row in conn.execute(select(table.c.id).where(table.c.seq.is_(None)).order_by(table.c.id)
                            .execution_options(yield_per=_BATCH)):
        yield Finding(log, row.id, None, "inserted", t(
            "未加入链：直接写入数据库", "not in the chain: inserted directly into the database"))


def verify_log(conn: Connection, key: bytes, store: KeyStore, log: str) -> list[Finding]:
    """Everything wrong with one log, in chain order (the first is the first bad row)."""
    seq, prev, found = _start(conn, store, log)
    return found + list(_walk(conn, key, log, seq, prev)) + list(_unsealed(conn, log))


def verify(session: Session) -> list[Finding]:
    """Check every log's chain from its latest checkpoint, then against the newest anchor kept
    outside the database (its newest rows deleted, or the log begun again); nothing is written."""
    conn, key, store = session.connection(), audit_key(keyring()), key_store()
    chains = [f for log in LOGS for f in verify_log(conn, key, store, log)]
    return chains + audit_anchor.check(conn, audit_anchor.anchor_dir(current_app.config), store, Finding)


# -- adopting the rows of before the chain --------------------------------------------------------

def adopt_unchained(session: Session) -> int:
    """Seal, into a log whose chain has not begun (no sealed row, no checkpoint), the rows it
    already holds: those written before the chain existed.  Run by ``init`` after upgrading."""
    conn = session.connection()
    anchored = audit_anchor.anchored_seqs(audit_anchor.anchor_dir(current_app.config), key_store())
    with transaction(session):  # a log an anchor saw begun was emptied since: never adopted
        empty = {log for log in LOGS if head(conn, log) == (0, GENESIS) and not anchored[log]}
        return seal_where(conn, audit_key(keyring()),
                          lambda table: true() if table.name in empty else false())


# -- pruning --------------------------------------------------------------------------------------

def retention_days() -> int:
    """XUEJI_AUDIT_RETENTION_DAYS, refused below the 180 days the rules require."""
    days = int(current_app.config.get("XUEJI_AUDIT_RETENTION_DAYS") or MIN_RETENTION_DAYS)
    if days < MIN_RETENTION_DAYS:
        raise DomainError(t(f"日志至少保留 {MIN_RETENTION_DAYS} 天，设置为 {days} 天",
                            f"logs are kept at least {MIN_RETENTION_DAYS} days, not {days}"),
                          field="XUEJI_AUDIT_RETENTION_DAYS")
    return days


def _last_prunable(conn: Connection, log: str, cutoff: datetime) -> int:
    """The highest seq such that it and every row before it are older than ``cutoff``."""
    table = LOGS[log]
    first_kept = conn.execute(select(func.min(table.c.seq)).where(table.c.at >= cutoff)).scalar()
    if first_kept is not None:
        return first_kept - 1
    return conn.execute(select(func.max(table.c.seq))).scalar() or 0


def _signing_node(session: Session) -> str:
    code = session.scalar(select(Jurisdiction.code).where(Jurisdiction.level == "province")
                          .order_by(Jurisdiction.id).limit(1))
    if code is None:
        raise Conflict(t("没有省级节点，无法签署检查点", "no province to sign the checkpoint"))
    return code


def _checkpoint(session: Session, log: str, seq: int, mac: str, pruned: int, now: datetime) -> dict:
    try:
        key = key_store().active(_signing_node(session), now)
    except SigningKeyError as exc:
        raise Conflict(str(exc)) from None
    row = {"log": log, "seq": seq, "mac": mac, "pruned": pruned, "at": now, "node": key.node,
           "kid": key.kid}
    signature = key.sign(checkpoint_message(row))
    return {**row, "signature": base64.b64encode(signature).decode("ascii")}


def _prune_log(session: Session, key: bytes, log: str, cutoff: datetime, now: datetime) -> int:
    conn, table = session.connection(), LOGS[log]
    upto = _last_prunable(conn, log, cutoff)
    start = conn.execute(select(func.max(AuditCheckpoint.seq)).where(AuditCheckpoint.log == log)).scalar()
    if upto <= (start or 0):
        return 0
    bad = [f for f in verify_log(conn, key, key_store(), log) if f.seq is None or f.seq <= upto]
    if bad:  # pruning must not launder tampering into a signed checkpoint
        raise Conflict(t(f"{log} 链校验失败，未清理：{bad[0]}", f"{log} fails verification, nothing pruned: {bad[0]}"))
    mac = conn.execute(select(table.c.mac).where(table.c.seq == upto)).scalar_one()
    pruned = conn.execute(select(func.count()).select_from(table).where(table.c.seq <= upto)).scalar_one()
    # the checkpoint first: PostgreSQL's trigger deletes only rows a checkpoint covers
    conn.execute(insert(AuditCheckpoint.__table__), _checkpoint(session, log, upto, mac, pruned, now))
    conn.execute(delete(table).where(table.c.seq <= upto))
    return pruned


def prune(session: Session, *, now: datetime) -> dict[str, int]:
    """Delete every log's rows older than the retention, behind a signed checkpoint per log; one
    transaction.  Returns the rows deleted per log."""
    cutoff, key = now - timedelta(days=retention_days()), audit_key(keyring())
    with transaction(session):
        return {log: _prune_log(session, key, log, cutoff, now) for log in LOGS}


def anchor(session: Session, *, now: datetime) -> dict:
    """Witness every log's head outside the database (audit_anchor); returns the anchor."""
    with transaction(session):
        return audit_anchor.take(session, now, _signing_node(session))
