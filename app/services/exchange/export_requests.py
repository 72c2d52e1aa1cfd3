"""导出审批: an export the rules' ``exports`` threshold holds becomes a request; its file is made at
once and kept encrypted under the app keyring (bound to the row), a supervisor of its node or one
above approves or refuses it (never their own), and only then its requester downloads it, a
limited number of times before it expires.  Smaller exports stay immediate; one no rule holds but
too large to make inside a web request is ``make``-d by a job and stored the same way, approved at
once (``needs_approval`` false, with the rule that let it go).  The threshold counts the rows the
same account exported inside the rules' window (``export_window``).  Every export that leaves is
logged with its rows and its file's sha256; requests and decisions are audited."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from ... import clock
from ...errors import Conflict, Forbidden, Problem
from ...i18n import t
from ...models import AuditEvent, ExportRequest, School
from ...models.base import keyring
from ...policy import RuleSet, Violation
from ...policy.exports import Clearance, export_clearance, export_hold, window_hours
from ...security.crypto import aad_for
from ..common.actors import Actor
from ..common.digests import sha256_of
from ..common.transaction import transaction, transactional
from . import export_window, exports

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


@dataclass(frozen=True)
class Assessment:
    """An export judged before it is made: its rows, where it reaches (``exports.node``), why it
    waits for approval (none: it need not) and the rule that lets it go otherwise."""

    rows: int
    where: dict
    reasons: tuple[Violation, ...]
    clearance: Clearance


def assess(session: Session, ruleset: RuleSet, actor: Actor, what: What, now: datetime) -> Assessment:
    """The export judged under the rules of the node it reaches, the rows the account exported
    inside the window counted with its own.  Only an account whose role exports students gets this
    far (never an administrator or an auditor, whatever door it comes through)."""
    actor.require("ImportJob", "export")
    where = exports.node(session, actor, what.school, what.class_id)
    rows = exports.count(session, actor, what.school, what.class_id)
    eff = ruleset.effective(*exports.chain_codes(where))
    earlier = export_window.earlier_rows(session, actor, window_hours(eff), now,
                                         this=(where["scope_level"], where["scope_code"], what.class_id))
    facts = {"level": where["scope_level"], "rows": rows, "earlier": earlier}
    return Assessment(rows, where, export_hold(eff, **facts), export_clearance(eff, **facts))


def hold(session: Session, ruleset: RuleSet, actor: Actor, what: What,
         now: datetime | None = None) -> tuple[Violation, ...]:
    """Why this export would wait for approval (none: it is immediate)."""
    return assess(session, ruleset, actor, what, now or clock.now()).reasons


def deliver(session: Session, ruleset: RuleSet, actor: Actor, what: What, out: Path | IO[bytes],
            now: datetime | None = None) -> int:
    """An immediate export: its file written to ``out`` and logged with its hash; ExportHeld when
    the rules want a supervisor's approval first."""
    export_window.one_at_a_time(session, actor, wait=False)
    plan = assess(session, ruleset, actor, what, now or clock.now())
    if plan.reasons:
        raise ExportHeld(plan.reasons)
    count = exports.write(session, actor, what.kind, out, what.school, what.class_id)
    digest = sha256_of(out if isinstance(out, Path) else out.getvalue())
    exports.log(session, actor, what.kind, count, plan.where, sha256=digest, class_id=what.class_id)
    return count


@transactional
def file(session: Session, ruleset: RuleSet, actor: Actor, what: What, now: datetime) -> ExportRequest:
    """Hold an export the rules hold: its file made now and stored encrypted, the request audited."""
    export_window.one_at_a_time(session, actor, wait=True)
    plan = assess(session, ruleset, actor, what, now)
    if not plan.reasons:
        raise Conflict(t("此导出无需审批，可直接下载", "this export needs no approval: download it directly"))
    return _held(session, ruleset, actor, what, now, plan)


@transactional
def make(session: Session, ruleset: RuleSet, actor: Actor, what: What, now: datetime) -> ExportRequest:
    """A large export no rule holds, made by a job: stored like a held one but approved at once,
    without a supervisor, recording the rule that let it go; if by now the rules hold it (the
    window filled meanwhile), it is filed for approval instead."""
    export_window.one_at_a_time(session, actor, wait=True)
    plan = assess(session, ruleset, actor, what, now)
    if plan.reasons:
        return _held(session, ruleset, actor, what, now, plan)
    req = _stored(session, ruleset, actor, what, now, plan.clearance.message, plan.clearance.source)
    req.needs_approval, req.status, req.decided_at = False, "approved", now
    req.expires_at = _expiry(now)
    session.flush()
    _audit(session, actor, "export_made", req, {"rows": req.rows, "sha256": req.sha256, "approval": "not_needed",
                                                "rule": req.rule_source})
    return req


def _held(session: Session, ruleset: RuleSet, actor: Actor, what: What, now: datetime,
          plan: Assessment) -> ExportRequest:
    req = _stored(session, ruleset, actor, what, now, "；".join(v.message for v in plan.reasons),
                  "; ".join(str(v.source) for v in plan.reasons))
    _audit(session, actor, "export_requested", req, {"rows": req.rows, "sha256": req.sha256,
                                                     "rule": req.rule_source})
    return req


def _stored(session: Session, ruleset: RuleSet, actor: Actor, what: What, now: datetime, reason: str,
            source: str) -> ExportRequest:
    """The export's file made now and stored encrypted on a new, pending request row."""
    buffer = io.BytesIO()
    count = exports.write(session, actor, what.kind, buffer, what.school, what.class_id)
    data, where = buffer.getvalue(), exports.node(session, actor, what.school, what.class_id)
    _, suffix, mime = exports.KINDS[what.kind]
    req = ExportRequest(kind=what.kind, user_id=actor.user_id, username=actor.username, requested_at=now,
                        class_id=what.class_id, rows=count, reason=reason[:300], rule_source=source[:200],
                        rule_version=ruleset.version, status="pending", downloads=0, size=len(data),
                        filename=f"{FILE_NAMES[what.kind]}-{where['scope_code']}.{suffix}", content_type=mime,
                        sha256=sha256_of(data), needs_approval=True, **where)
    req.file_enc = keyring().encrypt_bytes(data, _aad(req.ensure_uid()))
    session.add(req)
    session.flush()
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
    req.status, req.decided_by, req.decided_by_id = ("approved" if approve else "refused"), actor.username, actor.user_id
    req.decided_at, req.note = now, (note or None) and note[:300]
    if approve:
        req.expires_at = _expiry(now)
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
        exports.log(session, actor, req.kind, req.rows, _where(req), sha256=req.sha256, request_id=req.id,
                    class_id=req.class_id)
    return data, req


@transactional
def expire_due(session: Session, now: datetime) -> int:
    """Approved exports past their expiry: marked expired, their files wiped (set-based; a
    nightly job may run it too)."""
    result = session.execute(update(ExportRequest).where(ExportRequest.status.in_(DOWNLOADABLE),
                                                         ExportRequest.expires_at < now)
                             .values(status="expired", file_enc=None))
    return result.rowcount


def _expiry(now: datetime) -> datetime:
    """When an approved export's file goes: XUEJI_EXPORT_DOWNLOAD_DAYS after its approval."""
    return now + timedelta(days=current_app.config.get("XUEJI_EXPORT_DOWNLOAD_DAYS", 7))


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
                           summary=f"#{req.id} {req.filename} {req.rows}"[:300],  # words, not the kind's key
                           rule_version=req.rule_version, **where))
