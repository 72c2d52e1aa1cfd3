"""Signing a month's report off (签发), the signed xlsx and PDF files, and checking any file.

The responsible supervisor of a node -- a supervisor whose own node *is* the report's node -- signs a
past month's report off once: the row keeps who, when, with which key, and the digest of the
figures.  A file exported afterwards carries an Ed25519 signature by the node's key (see
``app.documents.report_signature``) over its canonical content, with the signer and the node; anyone
can check it against the public keys the verify page publishes.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...documents import report_signature as files
from ...errors import Conflict, Forbidden, ValidationFailed
from ...i18n import speaking, t
from ...models import AuditEvent, ReportSignoff
from ...security.signing_keys import KeyStore, PublicKey, SigningKeyError, store_from_config
from ..common.actors import Actor
from ..common.transaction import transaction
from . import nodes
from .model import Report

KINDS = ("xlsx", "pdf")


# -- the key store ------------------------------------------------------------------------------

def key_store() -> KeyStore:
    """The running app's signing keys (XUEJI_SIGNING_KEY_DIR)."""
    store = current_app.extensions.get("xueji_signing_keys")
    if store is None:
        store = current_app.extensions["xueji_signing_keys"] = store_from_config(current_app.config)
    return store


def published_keys(node: str | None = None) -> list[PublicKey]:
    """Every public key published (of one node): active and retired, with their periods."""
    try:
        return key_store().public_keys(node)
    except SigningKeyError:
        return []


def rotate_key(session: Session, *, node_code: str, actor: Actor, now: datetime) -> tuple[str | None, str]:
    """Retire the node's signing key and start a new one (old files still verify); audited."""
    node = nodes.find(session, node_code)
    try:
        old, new = key_store().rotate(node.code, now)
    except SigningKeyError as exc:
        raise ValidationFailed(str(exc), "node") from None
    with transaction(session):
        session.add(_audit(actor, node, "rotate_signing_key", {"key_id": {"old": old, "new": new}},
                           f"{node.code} {old or '-'} → {new}"))
    return old, new


# -- sign-off -----------------------------------------------------------------------------------

def month_start(value: date | str) -> date:
    """The first day of ``value``'s month ('2026-08' or a date), or ValidationFailed naming month."""
    if isinstance(value, date):
        return value.replace(day=1)
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m").date()
    except ValueError:
        raise ValidationFailed(t("月份须为 YYYY-MM，如 2026-08", "month must be YYYY-MM, e.g. 2026-08"),
                               "month") from None


def report_digest(report: Report) -> str:
    """SHA-256 of what a report says, in no language: each figure's key, value and the numbers of
    its breakdown, and each child's code and values (names and headers are words, left out)."""
    body = {
        "node": report.node_code, "month": report.period,
        "figures": [[f.key, f.value, [list(r[1:]) for r in f.table.rows] if f.table else None]
                    for f in report.figures],
        "children": [[c.code, sorted(c.values.items())] for c in report.children],
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signoff_of(session: Session, node_code: str, month: date) -> ReportSignoff | None:
    """The sign-off of ``node_code``'s report for ``month``, if it was signed off."""
    return session.scalar(select(ReportSignoff).where(ReportSignoff.node_code == node_code,
                                                      ReportSignoff.month == month_start(month)))


def with_signoff(session: Session, report: Report) -> Report:
    """``report`` with status, signer and time filled in when its month was signed off."""
    row = signoff_of(session, report.node_code, report.month)
    if row is None:
        return report
    return dataclasses.replace(report, status="signed", signed_by=row.signer, signed_at=row.signed_at)


def _compute(session: Session, actor: Actor, node_code: str, month: date, lang: str = "zh") -> Report:
    """The report of a closed month as stored (what its page shows: no computing in the request),
    else computed now."""
    from . import stored
    from .monthly import compute

    row = stored.find(session, actor, nodes.find(session, node_code), month_start(month))
    if row is not None and not row.live:
        return stored.report_of(session, row, lang)
    with speaking(lang):  # the digest is of the Chinese report, whoever signs or downloads
        return compute(session, actor, node_code, month)


def _may_sign(session: Session, actor: Actor, node: nodes.Node) -> None:
    """Only a supervisor whose own node is the report's node signs it off."""
    if not actor.may("Report", "sign") or "supervisor" not in actor.functions:
        raise Forbidden(t("只有学籍主管领导可以签发月报", "only a supervisor may sign a report off"))
    own = nodes.own(session, actor)
    if own is None or own.code != node.code:
        raise Forbidden(t(f"只有 {node.name} 的学籍主管领导可以签发它的月报",
                          f"only a supervisor of {node.name} may sign its report off"))


def sign_off(session: Session, actor: Actor, *, node_code: str, month: date | str,
             now: datetime) -> ReportSignoff:
    """Sign ``node_code``'s report of a past ``month`` off: draft → signed, once; audited."""
    node, first = nodes.find(session, node_code), month_start(month)
    _may_sign(session, actor, node)
    if first >= now.date().replace(day=1):
        raise ValidationFailed(t("只能签发已结束月份的月报", "only a past month's report can be signed off"),
                               "month")
    done = signoff_of(session, node.code, first)
    if done is not None:
        raise Conflict(_already(done))
    report = _compute(session, actor, node.code, first)
    try:
        key = key_store().active(node.code, now)
    except SigningKeyError as exc:
        raise _unavailable(exc) from None
    row = ReportSignoff(node_code=node.code, node_level=node.level, month=first, signer=actor.username,
                        signer_id=actor.user_id, signed_at=now.replace(microsecond=0), key_id=key.kid,
                        digest=report_digest(report), school_id=node.school_id,
                        province_code=node.province_code, city_code=node.city_code,
                        county_code=node.county_code, signature="")
    row.signature = base64.b64encode(key.sign(_signoff_payload(row))).decode("ascii")
    try:
        with transaction(session):
            session.add(row)
            session.add(_audit(actor, node, "sign_off", {"month": f"{first:%Y-%m}", "key_id": key.kid,
                                                         "digest": row.digest},
                               f"{node.name} {first:%Y-%m} 月报签发"))
    except IntegrityError:  # signed at the same moment by another session
        raise Conflict(_already(signoff_of(session, node.code, first))) from None
    return row


def _unavailable(exc: SigningKeyError) -> Conflict:
    return Conflict(t(f"签名密钥不可用，不能签发或导出签名文件（{exc}）",
                      f"no signing key available: nothing can be signed ({exc})"))


def _already(row: ReportSignoff | None):
    if row is None:
        return t("该月报已签发", "this report is signed off already")
    return t(f"该月报已由 {row.signer} 于 {row.signed_at:%Y-%m-%d %H:%M} 签发",
             f"this report was signed off by {row.signer} on {row.signed_at:%Y-%m-%d %H:%M}")


def _signoff_payload(row: ReportSignoff) -> bytes:
    body = {"node": row.node_code, "month": f"{row.month:%Y-%m}", "signer": row.signer,
            "signed_at": row.signed_at.isoformat(), "key_id": row.key_id, "digest": row.digest}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _audit(actor: Actor, node: nodes.Node, action: str, changes: dict, summary: str) -> AuditEvent:
    """An audit row about a node's report or key, scoped like the node."""
    chain = {"province_code": node.province_code, "city_code": node.city_code,
             "county_code": node.county_code}
    return AuditEvent(user_id=actor.user_id, username=actor.username, action=action, entity="report",
                      school_id=node.school_id, changes={"node": node.code, **changes},
                      summary=summary[:300], **chain)


# -- signed files -------------------------------------------------------------------------------

def sign_file(kind: str, data: bytes, *, signoff: ReportSignoff, node_name: str, now: datetime,
              figures: list[list[str]] | None = None) -> bytes:
    """``data`` (the report writer's xlsx or PDF) with the node's signature in it: the sign-off's
    signer, node and month, the time of signing and the key, over the file's canonical content."""
    try:
        key = key_store().active(signoff.node_code, now)
    except SigningKeyError as exc:
        raise _unavailable(exc) from None
    fields_ = {"node": signoff.node_code, "node_name": node_name, "month": f"{signoff.month:%Y-%m}",
               "signer": signoff.signer, "signed_at": signoff.signed_at.isoformat(),
               "issued_at": now.replace(microsecond=0).isoformat(), "key_id": key.kid,
               "report_digest": signoff.digest}
    try:
        if kind == "xlsx":
            return files.sign_xlsx(data, fields_, key.sign)
        if kind == "pdf":
            return files.sign_pdf(data, fields_, figures or [], key.sign)
    except files.NotSignable as exc:
        raise ValidationFailed(str(exc), "file") from None
    raise ValidationFailed(t("文件格式须为 xlsx 或 pdf", "format must be xlsx or pdf"), "format")


def _figures(report: Report) -> list[list[str]]:
    return [[f.name, "—" if f.value is None else files.cell_text(f.value), f.unit] for f in report.figures]


def signed_export(session: Session, actor: Actor, *, node_code: str, month: date | str, kind: str,
                  now: datetime, lang: str = "zh") -> tuple[bytes, str]:
    """The signed xlsx or PDF of a signed-off month's report, and its file name. Refused while
    the month is not signed off, and if the figures no longer match those signed off."""
    if kind not in KINDS:
        raise ValidationFailed(t("文件格式须为 xlsx 或 pdf", "format must be xlsx or pdf"), "format")
    node, first = nodes.readable(session, actor, node_code), month_start(month)
    row = signoff_of(session, node.code, first)
    if row is None:
        raise Conflict(t(f"{node.name} {first:%Y-%m} 的月报尚未签发", f"the report of {node.name} for "
                         f"{first:%Y-%m} is not signed off yet"))
    report = with_signoff(session, _compute(session, actor, node.code, first))
    if report_digest(report) != row.digest:
        raise Conflict(t("报表数据与签发时不一致，不能导出签名文件", "the figures differ from those signed off: "
                         "no signed file can be made"))
    if lang == "en":
        report = with_signoff(session, _compute(session, actor, node.code, first, lang))
    buffer = io.BytesIO()
    if kind == "xlsx":
        from ...documents.report_xlsx import write
    else:
        from ...documents.report_pdf import write
    write(report, buffer, lang)
    data = sign_file(kind, buffer.getvalue(), signoff=row, node_name=node.name, now=now,
                     figures=_figures(report))
    return data, f"月报-{node.code}-{first:%Y-%m}-已签发.{kind}"


# -- checking a file ----------------------------------------------------------------------------

@dataclass
class Verdict:
    """What a file's signature says, in words (``message``) and as data."""

    ok: bool
    status: str  # ok / altered / unsigned / unreadable / damaged / unknown_key / forged / outside_period
    message: str
    kind: str | None = None
    signer: str | None = None
    node: str | None = None
    node_name: str | None = None
    month: str | None = None
    signed_at: str | None = None
    issued_at: str | None = None
    key_id: str | None = None
    changes: list[str] = field(default_factory=list)
    figures: list[list[str]] = field(default_factory=list)  # PDF: the figures signed

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _lookup(node: str, kid: str) -> PublicKey | None:
    try:
        return key_store().find(node, kid)
    except SigningKeyError:
        return None


def verify_file(data: bytes) -> Verdict:
    """Check a file against the published keys: unaltered and who signed it, or what changed."""
    try:
        found = files.inspect(data or b"", _lookup)
    except Exception as exc:  # noqa: BLE001 - whatever an upload holds, a verdict, never a 500
        found = files.Inspection("unreadable", detail=type(exc).__name__)
    block = found.block or {}
    verdict = Verdict(ok=found.ok, status=found.status, message="", kind=found.kind,
                      **{k: _text(block.get(k)) for k in ("signer", "node", "node_name", "month", "signed_at",
                                                          "issued_at", "key_id")})
    if found.status == "altered":
        verdict.changes = _changes(found)
    figures = block.get("figures")
    if isinstance(figures, list):
        verdict.figures = [[_text(x) or "" for x in row] for row in figures if isinstance(row, list)]
    verdict.message = _message(found, verdict)
    return verdict


def _text(value) -> str | None:
    return None if value is None else str(value)[:500]


def _changes(found: files.Inspection) -> list[str]:
    empty = str(t("（空）", "(empty)"))
    out = [f"{where}: {old if old is not None else empty} → {new if new is not None else empty}"
           for where, old, new in found.changes]
    if found.altered_at is not None:
        start, end = found.altered_at
        out.append(str(t(f"签名后第 {start}–{end} 字节被改动", f"bytes {start}–{end} were altered after signing")))
    if found.length is not None:
        signed, now = found.length
        out.append(str(t(f"文件长度由 {signed} 字节变为 {now} 字节", f"the file's length went from {signed} to "
                         f"{now} bytes")))
    return out


def _day(moment: str | None) -> str:
    return (moment or "")[:10]


def _message(found: files.Inspection, v: Verdict) -> str:
    who = f"{v.signer}（{v.node_name or v.node}）"
    words = {
        "ok": t(f"文件未被改动，由 {who}于 {_day(v.signed_at)} 签发（{v.month} 月报，密钥 {v.key_id}）",
                f"The file is unaltered: signed off by {v.signer} ({v.node_name or v.node}) on "
                f"{_day(v.signed_at)} (report of {v.month}, key {v.key_id})"),
        "altered": t(f"文件已被改动：{'；'.join(v.changes) or '签名时的内容副本已损坏，无法指出改动之处'}"
                     f"（原由 {who}于 {_day(v.signed_at)} 签发）",
                     f"The file was altered: {'; '.join(v.changes) or 'the signed copy is damaged too'} "
                     f"(signed off by {v.signer} on {_day(v.signed_at)})"),
        "unsigned": t("文件没有签名：不是已签发的月报文件", "The file carries no signature: not a signed report"),
        "unreadable": t("无法读取：请上传本系统导出的 .xlsx 或 .pdf 月报文件",
                        "Cannot read the file: upload a report exported as .xlsx or .pdf"),
        "damaged": t("签名信息已损坏，无法核验", "The signature block is damaged: the file cannot be checked"),
        "unknown_key": t(f"签名所用的密钥 {v.key_id} 不是 {v.node} 公布的公钥，无法确认签发人",
                         f"Key {v.key_id} is not a published key of {v.node}: the signer cannot be confirmed"),
        "forged": t(f"签名与 {v.node} 公布的公钥 {v.key_id} 不符：签名信息被改动，或由其他密钥签名",
                    f"The signature does not match key {v.key_id} published by {v.node}: the signature "
                    "block was changed, or another key signed it"),
        "outside_period": t(f"签名时间 {v.issued_at} 不在密钥 {v.key_id} 的有效期内",
                            f"Signed at {v.issued_at}, outside the validity of key {v.key_id}"),
    }
    return str(words.get(found.status, words["unreadable"]))
