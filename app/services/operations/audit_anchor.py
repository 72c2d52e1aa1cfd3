"""Anchors: the logs' heads witnessed outside the database.

A hash chain shows a row edited, inserted or deleted in its middle, but not its newest rows deleted
(the chain simply ends earlier), nor a whole log emptied and begun again.  So every few minutes the
worker (and `run.py audit anchor`) writes each log's head -- its last seq and mac -- as one line of
JSON, signed with the province's Ed25519 key, to files in ``XUEJI_AUDIT_ANCHOR_DIR`` (by default
``<instance>/audit-anchors``; in production a directory the database's owners cannot write, e.g. a
mount of the log host), and to the JSON log.  `audit verify` then checks that the row the newest
anchor saw is still there with the same mac: what was deleted or rewritten after an anchor is
found; only the rows written since the newest anchor could go unseen.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...i18n import t
from ...models import AuditCheckpoint
from ...security.audit_chain import LOGS, head
from ...security.signing_keys import KeyStore, SigningKeyError
from ..reports.signing import key_store

LABEL = b"xueji audit anchor v1\n"
log = logging.getLogger(__name__)


def anchor_dir(config: Any) -> Path:
    """XUEJI_AUDIT_ANCHOR_DIR, or ``<instance dir>/audit-anchors``."""
    return Path(config.get("XUEJI_AUDIT_ANCHOR_DIR") or Path(config["INSTANCE_DIR"]) / "audit-anchors")


def message(entry: dict) -> bytes:
    """What an anchor's signature covers: everything in it but the signature."""
    fields = {k: entry[k] for k in ("at", "heads", "node", "kid")}
    return LABEL + json.dumps(fields, sort_keys=True).encode("ascii")


def take(session: Session, now: datetime, signing_node: str) -> dict:
    """Sign every log's head now and append it to this month's anchor file (written through to
    the disk) and to the log; returns the anchor."""
    conn = session.connection()
    heads = {name: dict(zip(("seq", "mac"), head(conn, name), strict=True)) for name in LOGS}
    try:
        key = key_store().active(signing_node, now)
    except SigningKeyError as exc:
        raise Conflict(str(exc)) from None
    entry = {"at": now.isoformat(), "heads": heads, "node": key.node, "kid": key.kid}
    entry["signature"] = base64.b64encode(key.sign(message(entry))).decode("ascii")
    folder = anchor_dir(current_app.config)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"anchors-{now:%Y-%m}.jsonl", "a", encoding="ascii") as out:
        out.write(json.dumps(entry, sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())
    log.info("audit anchor %s", json.dumps(entry, sort_keys=True))
    return entry


def _lines_newest_first(folder: Path) -> Iterator[tuple[str, str]]:
    """(``file:line``, text) of every anchor, newest first."""
    for path in sorted(folder.glob("anchors-*.jsonl"), reverse=True):
        lines = path.read_text(encoding="ascii", errors="replace").splitlines()
        for number in range(len(lines), 0, -1):
            if lines[number - 1].strip():
                yield f"{path.name}:{number}", lines[number - 1]


def _fails(store: KeyStore, entry: dict) -> str | None:
    try:
        key = store.find(entry["node"], entry["kid"])
        signature = base64.b64decode(entry["signature"], validate=True)
        at = datetime.fromisoformat(entry["at"])
        signed = message(entry)
    except SigningKeyError as exc:
        return t(f"无法读取签名密钥：{exc}", f"cannot read the signing key: {exc}")
    except (KeyError, TypeError, ValueError):
        return t("锚点格式不对", "not an anchor")
    if key is None or not key.valid_at(at) or not key.verify(signature, signed):
        return t("锚点签名无效：被伪造或改动", "the anchor's signature fails: forged or altered")
    return None


def latest(folder: Path, store: KeyStore) -> tuple[dict | None, list[tuple[str, str]]]:
    """The newest anchor whose signature holds, and the (place, problem) of every newer line
    that does not."""
    if not folder.is_dir():
        return None, []
    bad: list[tuple[str, str]] = []
    for place, text_line in _lines_newest_first(folder):
        try:
            entry = json.loads(text_line)
        except ValueError:
            entry = {}
        problem = _fails(store, entry) if isinstance(entry, dict) else t("锚点格式不对", "not an anchor")
        if problem is None:
            return entry, bad
        bad.append((place, problem))
    return None, bad


def anchored_seqs(folder: Path, store: KeyStore) -> dict[str, int]:
    """The seq the newest good anchor saw for each log (0: none)."""
    entry, _ = latest(folder, store)
    return {name: int(((entry or {}).get("heads") or {}).get(name, {}).get("seq") or 0) for name in LOGS}


def check(conn: Connection, folder: Path, store: KeyStore, finding) -> list:
    """What the newest anchor shows: each log's anchored row still there with the same mac
    (unless a signed checkpoint has since pruned it), and every forged anchor line.  ``finding``
    makes a Finding(log, id, seq, problem, detail)."""
    entry, bad = latest(folder, store)
    found = [finding(f"audit_anchor:{place}", None, None, "anchor", problem) for place, problem in bad]
    if entry is None:
        return found
    for name, saw in entry["heads"].items():
        if name not in LOGS or not saw.get("seq"):
            continue
        seq, table = int(saw["seq"]), LOGS[name]
        covered = conn.execute(select(func.max(AuditCheckpoint.seq)).where(AuditCheckpoint.log == name)).scalar()
        if covered is not None and covered >= seq:
            continue  # pruned behind a signed checkpoint, which the chain check verifies
        row = conn.execute(select(table.c.id, table.c.mac).where(table.c.seq == seq)).first()
        if row is None:
            top = conn.execute(select(func.max(table.c.seq))).scalar() or covered or 0
            found.append(finding(name, None, seq, "deleted", t(
                f"{entry['at']} 的锚点见到序号 {seq}，现在链止于 {top}：最新的记录被删除",
                f"the anchor of {entry['at']} saw seq {seq}, the chain now ends at {top}: "
                "its newest rows were deleted")))
        elif row.mac != saw.get("mac"):
            found.append(finding(name, row.id, seq, "replaced", t(
                f"与 {entry['at']} 的锚点所见不同：日志在其后被重写",
                f"not the row the anchor of {entry['at']} saw: the log was rewritten since")))
    return found
