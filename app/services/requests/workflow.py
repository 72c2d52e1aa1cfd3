"""Requests (办件): start one, decide a step (approve / reject / return), resubmit, cancel, pull.

Each function is one transaction.  A decision is a conditional, idempotent transition: the request's
row moves only if it is still where the decider saw it (status, round, step, version), and the
decision row is unique per (request, round, step), so two people -- or twenty clicks -- make one step.
What each kind checks and does is declared once, in ``kinds/``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, ValidationFailed
from ...i18n import t
from ...models import Request, RequestStep, Student
from ...models.base import local_now
from ...models.requests import OPEN
from ..common.actors import Actor
from ..common.transaction import transaction, transactional
from . import effects, escalation, kinds, parties
from .attachments import attach
from .notifications import notify, title
from .progress import close, enter_step, record
from .starting import open_batch_registration, open_registration, own_class, start

__all__ = ["REGISTRATIONS", "VERDICTS", "cancel", "cancel_open_registration", "decide", "inbox",
           "inbox_query", "load", "open_batch_registration", "open_registration", "own_class", "pull", "resubmit",
           "start"]

REGISTRATIONS = kinds.REGISTRATIONS
VERDICTS = ("approve", "reject", "return")


def load(session: Session, actor: Actor, request_id: int, *, lock: bool = False) -> Request:
    """A request the actor may see, or NotFound (another county's request is not there)."""
    return actor.fetch(session, Request, request_id,
                       t("业务不存在或不在本辖区", "no such request in your jurisdiction"), lock=lock)


# -- deciding ---------------------------------------------------------------------------------------

def _check_party(session: Session, req: Request, actor: Actor) -> dict:
    if req.status != "pending":
        raise Conflict(t(f"不能核办业务 #{req.id}：当前状态为“{req.status}”",
                         f"cannot decide request {req.id}: it is '{req.status}'"))
    step = req.current
    forced = escalation.may_decide(req, actor)  # 强制干预: the party above an overdue step
    if not forced and (actor.node != step["node"] or step["role"] not in actor.functions):
        raise Forbidden(t(f"本步骤由 {step['label']} 核办", f"this step is for {step['label']}"))
    if actor.user_id is not None and actor.user_id == req.requester_id:
        raise Forbidden(t("不能核办自己发起的业务", "nobody approves their own request"))
    earlier = session.scalar(select(RequestStep.id).where(
        RequestStep.request_id == req.id, RequestStep.round == req.round,
        RequestStep.step.is_not(None), RequestStep.actor_id == actor.user_id))
    if earlier is not None:
        raise Forbidden(t("同一人不能核办同一业务的两个步骤", "one person decides one step of a request"))
    return {**step, "node": actor.node, "forced": True} if forced else step


def decide(session: Session, request_id: int, actor: Actor, verdict: str, now: datetime, *,
           comment: str | None = None, expected_step: int | None = None) -> Request:
    """Approve, reject or return the step waiting for ``actor``; one transaction, once only."""
    if verdict not in VERDICTS:
        raise ValidationFailed(t("未知的核办意见", "unknown verdict"), "verdict")
    actor.require("Request", "decide")
    try:
        with transaction(session):
            return _decide(session, request_id, actor, verdict, now, comment, expected_step)
    except IntegrityError:
        raise Conflict(t("该业务已被他人处理，请刷新", "someone else decided this step first; reload")) from None


def _decide(session, request_id, actor, verdict, now, comment, expected_step) -> Request:
    req = load(session, actor, request_id)
    if expected_step is not None and _already(session, req, actor, verdict, expected_step):
        return req  # the same click again: the step is already decided, by this actor
    if verdict != "approve" and not (comment or "").strip():
        raise ValidationFailed(t("退回或不通过须填写意见", "a return or rejection needs a comment"),
                               "comment")
    step = _check_party(session, req, actor)
    if step.get("forced"):
        if verdict not in escalation.FORCED:
            raise Forbidden(t("强制干预只能代为通过或退回", "an escalated step may be approved or returned"))
        comment = escalation.forced_comment(req, comment)
    _transition(session, req, actor, verdict, now, comment, step)
    return req


def _already(session, req, actor, verdict, expected_step) -> bool:
    done = session.scalar(select(RequestStep).where(
        RequestStep.request_id == req.id, RequestStep.step == expected_step,
        RequestStep.actor_id == actor.user_id, RequestStep.action == verdict))
    return done is not None and (req.step != expected_step or req.status != "pending")


def _transition(session, req, actor, verdict, now, comment, step) -> None:
    index = req.step
    last = index + 1 >= len(req.chain)
    _move(session, req, verdict, index)
    record(session, req, verdict, actor, now, step=index, comment=comment, node=step["node"])
    session.flush()  # the unique decision row: a concurrent twin fails here
    session.refresh(req)
    _after(session, req, actor, verdict, now, comment, index, last)


def _move(session, req, verdict, index) -> None:
    """The conditional update: the row moves only if it is still where the decider saw it."""
    status = {"approve": "pending", "reject": "rejected", "return": "returned"}[verdict]
    moved = session.execute(
        update(Request).where(Request.id == req.id, Request.status == "pending",
                              Request.round == req.round, Request.step == index,
                              Request.version == req.version)
        .values(status=status, step=index + 1 if verdict == "approve" else index,
                version=Request.version + 1, updated_at=local_now(),
                escalated_node=None, escalated_role=None)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Conflict(t("该业务已被他人处理，请刷新", "someone else decided this step first; reload"))


def _after(session, req, actor, verdict, now, comment, index, last) -> None:
    """What a verdict leads to: the next step or the end, a closed request, or the requester's turn."""
    if verdict == "approve":
        if last:
            effects.complete(session, req, actor, now)
        else:
            enter_step(session, req, index + 1, now)
    elif verdict == "reject":
        close(req, now)
        effects.rejected(session, req, actor, now)
        notify(session, parties.school_node(req.origin_school), req, f"未通过：{title(req)}：{comment}")
    else:  # the requesting school's registrars hold it now: it waits in their inbox
        req.holder_node, req.holder_role, req.due_on = parties.school_node(req.origin_school), "registrar", None
        req.step_started_at = now
        notify(session, req.holder_node, req, f"被退回：{title(req)}：{comment}")


# -- the requester's side -------------------------------------------------------------------------

def _requester(session: Session, actor: Actor, request_id: int, *, lock: bool = False) -> Request:
    req = load(session, actor, request_id, lock=lock)
    if actor.school_id != req.origin_school_id or "registrar" not in actor.functions:
        raise Forbidden(t("只有发起学校的学籍管理员可以操作", "only the requesting school's registrar"))
    return req


@transactional
def resubmit(session: Session, request_id: int, actor: Actor, now: datetime, *,
             payload: dict | None = None, comment: str | None = None, files=()) -> Request:
    """Send a returned request up the same chain again (a new round, from its first step)."""
    req = _requester(session, actor, request_id)
    if req.status != "returned":
        raise Conflict(t(f"业务 #{req.id} 当前为“{req.status}”，不能重新提交",
                         f"request {req.id} is '{req.status}', not returned"))
    kind = kinds.get(req.kind)
    if payload is not None:
        _amend(session, req, kind, payload, actor)
    problems = kind.recheck(session, req, now)
    if problems:
        raise ValidationFailed(problems)
    for upload in files:
        attach(session, req, upload, actor)
    req.status, req.round = "pending", req.round + 1
    record(session, req, "resubmit", actor, now, comment=comment,
           node=parties.school_node(req.origin_school))
    enter_step(session, req, 0, now)
    return req


def _amend(session: Session, req: Request, kind: kinds.Kind, payload: dict, actor: Actor) -> None:
    """New values for a returned request, checked as its kind checks them at the start."""
    problems = kind.prepare(session, req.student, req.origin_school, payload, req.target_class, actor)
    if problems:
        raise ValidationFailed(problems)
    req.payload = payload
    req.before = kind.before(req.student, payload)
    req.summary = kind.summary(payload, req.target_class)


@transactional
def cancel(session: Session, request_id: int, actor: Actor, now: datetime,
           comment: str | None = None) -> Request:
    """The requesting school withdraws its request (a transfer until the file is pulled)."""
    req = _requester(session, actor, request_id)
    if req.status not in ("pending", "returned", "awaiting_pull"):
        raise Conflict(t(f"业务 #{req.id} 已办结", f"request {req.id} is already closed"))
    if not kinds.get(req.kind).cancellable:
        raise Conflict(t("注册核办不能撤销；可删除该临时学籍", "delete the temporary record instead"))
    req.status = "cancelled"
    close(req, now)
    record(session, req, "cancel", actor, now, comment=comment,
           node=parties.school_node(req.origin_school))
    if req.other_school is not None:
        notify(session, parties.school_node(req.other_school), req, f"已撤销：{title(req)}")
    return req


@transactional
def pull(session: Session, request_id: int, actor: Actor, now: datetime) -> Request:
    """调档: after a cross-province transfer's (or enrolment's) approvals, the receiving school
    takes the record."""
    req = _requester(session, actor, request_id, lock=True)  # two clicks pull once
    if req.status != "awaiting_pull":
        raise Conflict(t(f"业务 #{req.id} 不在待调档状态", f"request {req.id} is not awaiting the pull"))
    record(session, req, "pull", actor, now, node=parties.school_node(req.origin_school))
    effects.pulled(session, req, actor, now)
    return req


def cancel_open_registration(session: Session, student: Student, actor: Actor, now: datetime) -> None:
    """A temporary record being deleted takes its open registration review with it."""
    for req in session.scalars(select(Request).where(Request.open_student_id == student.id)):
        req.status = "cancelled"
        close(req, now)
        record(session, req, "cancel", actor, now, comment="记录已删除")


def inbox(session: Session, actor: Actor):
    """What waits for this account, oldest first: steps to decide, and its school's requests
    returned for correction or waiting to be pulled (待办 of the requester)."""
    return session.scalars(inbox_query(actor)).all()


def inbox_query(actor: Actor, statuses: tuple[str, ...] = OPEN):
    """The inbox as a query, oldest first then by id (a stable order to page through), of the
    requests in ``statuses`` (pending: the steps to decide)."""
    if actor.node is None:
        return select(Request).where(false()).order_by(Request.id)
    held = and_(Request.holder_node == actor.node, Request.holder_role.in_(actor.functions))
    escalated = and_(Request.status == "pending", Request.escalated_node == actor.node,
                     Request.escalated_role.in_(actor.functions))  # 强制干预: overdue below
    return select(Request).where(
        Request.status.in_(statuses), or_(held, escalated), actor.scope.clause(Request)) \
        .order_by(Request.step_started_at, Request.id)
