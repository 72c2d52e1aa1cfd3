"""Never lose a request to a closed window: a filing refused only because its window is closed (or
frozen) may, if the filer chooses (窗口开放时自动提交), wait for the day it opens, and is then
submitted -- re-checked against the rules and the record as they are at that moment.

Why a table of its own (``QueuedRequest``) and not a request status: a request is business in
progress from the moment it exists -- lists, the inbox, the monthly report's pending business and
its deadlines all count it -- while a queued filing has no chain, no holder and no deadline yet.
Kept apart, no query over requests needs to learn to skip it; at release it becomes a ``Request``
filed through the very path every filing takes (``starting``), and the queued row points to it.

One open request per student: a queued filing is not business in progress and does not hold the
student (Request.open_student_id), so it blocks nothing that can be filed today.  It counts in two
places instead: a filing is queued only if it would be accepted were the window open (so not while
the student has a request open: 2002), and a student has at most one queued exclusive filing
(``queued_student_id`` is unique).  At release the rules are asked again: a request opened in the
meantime refuses it (2002), and the filer is told why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, Problem, ValidationFailed
from ...i18n import t
from ...models import AuditEvent, QueuedAttachment, QueuedRequest
from ...policy.deferral import QueueOption, queue_option
from ..common.actors import Actor
from ..common.transaction import transaction
from ..policy import rulesets as policy
from . import kinds
from .attachments import evidence, read
from .starting import Checked, Filing


def wait(session: Session, f: Filing, actor: Actor, now: datetime, checked: Checked) -> QueuedRequest:
    """Queue a filing the rules refuse only for a closed window or a freeze (``starting.start`` with
    ``queue``), if they let it wait; refused with the reason otherwise."""
    option = queue_option(policy.current(session), checked.facts, checked.decision)
    if not option.possible:
        raise ValidationFailed(checked.refusals + [_cannot_queue(option)])
    _one_queued(session, f)
    return _queue(session, f, actor, now, option)


def _cannot_queue(option: QueueOption) -> Problem:
    return Problem(t(f"不能排队等待：{option.reason}", f"cannot queue: {option.reason}"), "queue",
                   "not_queueable", option.source)


def _one_queued(session: Session, f: Filing) -> None:
    if not f.kind.exclusive:
        return
    other = session.scalar(select(QueuedRequest).where(QueuedRequest.queued_student_id == f.student.id))
    if other is not None:
        raise Conflict(t(f"该学生已有排队中的业务（排队 #{other.id} {kinds.label(other.kind)}）",
                         f"the student already has a queued request (#{other.id})"), "student")


def _queue(session: Session, f: Filing, actor: Actor, now: datetime, option: QueueOption) -> QueuedRequest:
    other = f.student.school if f.kind.from_other_school else None
    item = QueuedRequest(kind=f.kind.name, status="queued", student=f.student,
                         student_name=f.student.name, requester_id=actor.user_id,
                         requester_name=actor.username, origin_school=f.origin, other_school=other,
                         target_class=f.target_class, reason=f.reason, note=f.note,
                         summary=f.kind.summary(f.payload, f.target_class), opens_on=option.opens_on,
                         closed_by=option.source, created_at=now)
    item.queued_student_id = f.student.id if f.kind.exclusive else None
    item.between(f.origin, other)
    item.payload = f.payload
    for upload in f.files:
        evidence(QueuedAttachment, upload, actor, queued=item)
    session.add(item)
    session.flush()  # the unique queued student: a concurrent twin fails here
    _audit(session, actor, "request_queue", item, f"登记排队，{option.opens_on} 窗口开放时自动提交"
                                                  f"（{option.source}）")
    return item


def _evidence(item: QueuedRequest) -> tuple:
    """The queued evidence as (name, bytes), to attach to the request it becomes."""
    return tuple((a.filename, read(a)) for a in item.attachments)


def _audit(session: Session, actor: Actor, action: str, item: QueuedRequest, summary: str) -> None:
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                           entity="student", entity_id=item.student_id,
                           school_id=item.student.school_id if item.student is not None else None,
                           summary=f"排队 #{item.id} {kinds.label(item.kind)} · {item.student_name}："
                                   f"{summary}"[:300]))


# -- the school's side ----------------------------------------------------------------------------

def listing(session: Session, actor: Actor, *, status: str | None = None, limit: int = 500
            ) -> list[QueuedRequest]:
    """Queued filings of the account's jurisdiction, the next to open first."""
    query = select(QueuedRequest).where(actor.scope.clause(QueuedRequest))
    if status:
        query = query.where(QueuedRequest.status == status)
    return session.scalars(query.order_by(QueuedRequest.status != "queued", QueuedRequest.opens_on,
                                          QueuedRequest.id).limit(limit)).all()


def load(session: Session, actor: Actor, queued_id: int) -> QueuedRequest:
    """A queued filing the account may see, or NotFound."""
    return actor.fetch(session, QueuedRequest, queued_id,
                       t("排队业务不存在或不在本辖区", "no such queued request in your jurisdiction"))


def cancel(session: Session, queued_id: int, actor: Actor, now: datetime) -> QueuedRequest:
    """The filing school withdraws a queued filing (until it is released)."""
    with transaction(session):
        item = load(session, actor, queued_id)
        if actor.school_id != item.origin_school_id or "registrar" not in actor.functions:
            raise Forbidden(t("只有登记排队的学校的学籍管理员可以撤销", "only the filing school's registrar"))
        if not _claim(session, item, "cancelled", now):
            raise Conflict(t(f"排队业务 #{item.id} 已{_STATUS_ZH.get(item.status, item.status)}，不能撤销",
                             f"queued request {item.id} is {item.status}"))
        _audit(session, actor, "request_unqueue", item, "撤销排队")
        return item


_STATUS_ZH = {"released": "提交", "failed": "复核未通过", "cancelled": "撤销"}


def _claim(session: Session, item: QueuedRequest, status: str, now: datetime) -> bool:
    """The conditional update that ends a queued filing once: released, failed or cancelled.  A
    concurrent twin waits for this row's lock, then finds it no longer queued."""
    moved = session.execute(
        update(QueuedRequest).where(QueuedRequest.id == item.id, QueuedRequest.status == "queued")
        .values(status=status, closed_at=now, queued_student_id=None,
                version=QueuedRequest.version + 1)
        .execution_options(synchronize_session=False))
    session.refresh(item)
    return moved.rowcount == 1


def as_dict(item: QueuedRequest) -> dict:
    """A queued filing as the API and the CLI show it (its new values stay encrypted)."""
    return {"id": item.id, "kind": item.kind, "status": item.status, "student_id": item.student_id,
            "student_name": item.student_name, "summary": item.summary,
            "origin_school": item.origin_school.name, "reason": item.reason, "note": item.note,
            "opens_on": item.opens_on.isoformat() if item.opens_on else None,
            "closed_by": item.closed_by, "problem": item.problem, "request_id": item.request_id,
            "queued_by": item.requester_name, "created_at": item.created_at.isoformat(),
            "closed_at": item.closed_at.isoformat() if item.closed_at else None,
            "attachments": [{"filename": a.filename, "size": a.size} for a in item.attachments]}


def closed_now(session: Session, student, origin, now: datetime, names) -> dict[str, QueueOption]:
    """{kind: when it opens} for the kinds among ``names`` whose window is closed now for this
    student and that may queue for it (a filing page offers 窗口开放时自动提交 for those)."""
    out = {}
    ruleset = policy.current(session)
    for name in names:
        kind = kinds.get(name)
        facts = policy.facts(name, now, origin, status=student.status,
                             **kind.facts(student, origin, {}, None))
        decision = policy.decide(session, facts)
        if any(v.code in ("outside_window", "frozen") for v in decision.violations):
            option = queue_option(ruleset, facts, replace(decision, violations=tuple(
                v for v in decision.violations if v.code in ("outside_window", "frozen"))))
            if option.possible:
                out[name] = option
    return out
