"""导出审批: an export the rules' ``exports`` threshold holds becomes a request; its file is made at
once and kept encrypted under the app keyring (bound to the row), a supervisor of its node or one
above approves or refuses it (never their own), and only then its requester downloads it, a
limited number of times before it expires.  Smaller exports stay immediate.  Every export that
leaves is logged with its rows and its file's sha256; requests and decisions are audited."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, Problem
from ...i18n import t
from ...models import AuditEvent, ExportRequest, School
from ...models.base import keyring
from ...policy import RuleSet, Violation
from ...policy.exports import export_hold
from ...security.crypto import aad_for
from ..common.actors import Actor
from ..common.digests import sha256_of
from ..common.transaction import transaction, transactional
from . import exports

DOWNLOADABLE = ("approved", "downloaded")
FILE_NAMES = {"students": "学生信息", "confirmation_xlsx": "确认表", "confirmation_pdf": "确认表"}
STATUS_WORDS = {"pending": t("待审批", "pending"), "approved": t("已批准", "approved"),
                "refused": t("已拒绝", "refused"), "downloaded": t("已下载", "downloaded"),
                "expired": t("已过期", "expired")}


@dataclass(frozen=True)
class What:
    """The export asked for: its kind (exports.KINDS), and one school or class of the scope."""

    kind: str
    school: School | None = None
    class_id: int | None = None


class ExportHeld(Conflict):
    """The export waits for a supervisor's approval; each problem names the rule that holds it."""

    def __init__(self, reasons: tuple[Violation, ...]):
        super().__init__([Problem(t(f"{v.message}；请提交导出申请", f"{v.message}; file an export request"),
                                  None, v.code, v.source) for v in reasons])


def hold(session: Session, ruleset: RuleSet, actor: Actor, what: What) -> tuple[Violation, ...]:
    """Why this export would wait for approval, under the rules of the node it reaches (none: it
    is immediate).  Only an account whose role exports students gets this far (never an
    administrator or an auditor, whatever door it comes through)."""
    actor.require("ImportJob", "export")
    where = exports.node(session, actor, what.school, what.class_id)
    rows = exports.count(session, actor, what.school, what.class_id)
    return export_hold(ruleset.effective(*exports.chain_codes(where)), level=where["scope_level"], rows=rows)


def deliver(session: Session, ruleset: RuleSet, actor: Actor, what: What, out: Path | IO[bytes]) -> int:
    """An immediate export: its file written to ``out`` and logged with its hash; ExportHeld when
    the rules want a supervisor's approval first."""
    reasons = hold(session, ruleset, actor, what)
    if reasons:
        raise ExportHeld(reasons)
    count = exports.write(session, actor, what.kind, out, what.school, what.class_id)
    digest = sha256_of(out if isinstance(out, Path) else out.getvalue())
    exports.log(session, actor, what.kind, count, exports.node(session, actor, what.school, what.class_id), sha256=digest)
    return count


@transactional
def file(session: Session, ruleset: RuleSet, actor: Actor, what: What, now: datetime) -> ExportRequest:
    """Hold an export the rules hold: its file made now and stored encrypted, the request audited."""
    reasons = hold(session, ruleset, actor, what)
    if not reasons:
        raise Conflict(t("此导出无需审批，可直接下载", "this export needs no approval: download it directly"))
    buffer = io.BytesIO()
    count = exports.write(session, actor, what.kind, buffer, what.school, what.class_id)
    data, where = buffer.getvalue(), exports.node(session, actor, what.school, what.class_id)
    _, suffix, mime = exports.KINDS[what.kind]
    req = ExportRequest(kind=what.kind, user_id=actor.user_id, username=actor.username, requested_at=now,
                        class_id=what.class_id, rows=count, reason="；".join(v.message for v in reasons)[:300],
                        rule_source="; ".join(str(v.source) for v in reasons)[:200],
                        rule_version=ruleset.version, status="pending", downloads=0, size=len(data),
                        filename=f"{FILE_NAMES[what.kind]}-{where['scope_code']}.{suffix}", content_type=mime,
                        sha256=sha256_of(data), **where)
    req.file_enc = keyring().encrypt_bytes(data, _aad(req.ensure_uid()))
    session.add(req)
    session.flush()
    _audit(session, actor, "export_requested", req, {"rows": count, "sha256": req.sha256,
                                                     "rule": req.rule_source})
    return req


@transactional
def decide(session: Session, actor: Actor, request_id: int, *, approve: bool, now: datetime,
           note: str | None = None) -> ExportRequest:
    """A supervisor of the export's node or one above approves or refuses it, never their own."""
    actor.require("ExportRequest", "decide")
    req = _fetch(session, actor, request_id)
    verb = "approve" if approve else "refuse"
    if _own(req, actor):
        raise Forbidden(t("不能审批自己的导出申请", f"cannot {verb} export request {req.id}: it is your own"))
    if req.status != "pending":
        raise Conflict(t(f"导出申请 #{req.id} {STATUS_WORDS[req.status]}，不能再审批",
                         f"cannot {verb} export request {req.id}: it is '{req.status}'"))
    days = current_app.config.get("XUEJI_EXPORT_DOWNLOAD_DAYS", 7)
    req.status, req.decided_by, req.decided_by_id = ("approved" if approve else "refused"), actor.username, actor.user_id
    req.decided_at, req.note = now, (note or None) and note[:300]
    if approve:
        req.expires_at = now + timedelta(days=days)
    else:
        req.file_enc = None  # a refused file is not kept
    _audit(session, actor, f"export_{req.status}", req, {"comment": req.note} if req.note else None)
    return req


def download(session: Session, actor: Actor, request_id: int, now: datetime) -> tuple[bytes, ExportRequest]:
    """The requester's approved file, while downloads remain and before it expires; each download
    is logged with the rows and the file's sha256 (checked against the one made)."""
    with transaction(session):  # this request past its expiry: wiped now (the nightly job sweeps the rest)
        req = _fetch(session, actor, request_id)
        if req.status in DOWNLOADABLE and req.expires_at is not None and req.expires_at < now:
            req.status, req.file_enc = "expired", None
    with transaction(session):
        req = _fetch(session, actor, request_id)
        if not _own(req, actor):
            raise Forbidden(t("只有申请人可以下载这个导出", "only the requester may download this export"))
        _downloadable(req)
        data = keyring().decrypt_bytes(req.file_enc, _aad(req.uid))
        if sha256_of(data) != req.sha256:
            raise Conflict(t("导出文件已损坏", "the stored export does not match its hash"))
        req.downloads += 1
        req.status = "downloaded"
        if req.downloads >= current_app.config.get("XUEJI_EXPORT_DOWNLOADS", 3):
            req.file_enc = None  # used up: nothing of it stays
        exports.log(session, actor, req.kind, req.rows, _where(req), sha256=req.sha256, request_id=req.id)
    return data, req


@transactional
def expire_due(session: Session, now: datetime) -> int:
    """Approved exports past their expiry: marked expired, their files wiped (set-based; a
    nightly job may run it too)."""
    result = session.execute(update(ExportRequest).where(ExportRequest.status.in_(DOWNLOADABLE),
                                                         ExportRequest.expires_at < now)
                             .values(status="expired", file_enc=None))
    return result.rowcount


def _downloadable(req: ExportRequest) -> None:
    if req.status == "pending":
        raise Conflict([Problem(t(f"导出申请 #{req.id} 尚待学籍主管领导审批：{req.reason}",
                                  f"export request {req.id} waits for a supervisor's approval: {req.reason}"),
                                None, "export_pending", req.rule_source)])
    if req.status == "refused":
        raise Conflict(t(f"导出申请 #{req.id} 已被 {req.decided_by} 拒绝",
                         f"export request {req.id} was refused by {req.decided_by}"))
    if req.status == "expired":
        raise Conflict(t(f"导出申请 #{req.id} 已过期，请重新申请", f"export request {req.id} has expired"))
    if req.file_enc is None:
        raise Conflict(t(f"导出申请 #{req.id} 的下载次数已用完", f"export request {req.id} has no downloads left"))


def _fetch(session: Session, actor: Actor, request_id: int) -> ExportRequest:
    """The request inside the actor's jurisdiction (another county's is simply not there), locked."""
    return actor.fetch(session, ExportRequest, request_id, t(f"没有导出申请 #{request_id}",
                                                               f"no export request {request_id}"), lock=True)


def _own(req: ExportRequest, actor: Actor) -> bool:
    return req.username == actor.username or (req.user_id is not None and req.user_id == actor.user_id)


def _where(req: ExportRequest) -> dict:
    keys = ("scope_level", "scope_code", "school_id", "province_code", "city_code", "county_code")
    return {k: getattr(req, k) for k in keys}


def _aad(uid: str) -> bytes:
    return aad_for("export_request", "file_enc", uid)


def _audit(session: Session, actor: Actor, action: str, req: ExportRequest, changes: dict | None) -> None:
    where = {k: getattr(req, k) for k in ("school_id", "province_code", "city_code", "county_code")}
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                           entity="export_request", entity_id=req.id, entity_uid=req.uid, changes=changes,
                           summary=f"#{req.id} {req.kind} {req.scope_code} {req.rows}"[:300],
                           rule_version=req.rule_version, **where))
