"""Release (the scheduled step): every queued filing whose window is open now is submitted as its
filer would file it, against the rules and the record as they are at that moment, each in a
transaction of its own.  The claim is a conditional update, so two runs at once release it once;
one the rules now refuse is marked failed with the reasons (file:line) and its school is told."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ...errors import Problem
from ...i18n import t
from ...models import Notification, QueuedRequest, Request, XuejiUser
from ...policy.deferral import QUEUEABLE, next_open
from ..common.actors import Actor
from ..common.transaction import transaction
from ..policy import rulesets as policy
from . import kinds, parties
from .progress import record
from .queue import _audit, _claim, _evidence
from .starting import Checked, Filing, check, file_checked


@dataclass
class Released:
    """What one release run did: requests submitted, filings failed, filings still waiting."""

    submitted: list[int] = field(default_factory=list)  # request ids
    failed: list[int] = field(default_factory=list)  # queued ids
    waiting: int = 0

    def as_dict(self) -> dict:
        return {"submitted": self.submitted, "failed": self.failed, "waiting": self.waiting}


def release(session: Session, now: datetime) -> Released:
    """Submit every queued filing whose window is open now, each re-checked and in a transaction
    of its own; safe to run twice at once (each filing is claimed once)."""
    out = Released()
    for queued_id in session.scalars(select(QueuedRequest.id).where(QueuedRequest.status == "queued")
                                     .order_by(QueuedRequest.opens_on, QueuedRequest.id)).all():
        try:
            outcome = _release_one(session, queued_id, now)
        except (IntegrityError, StaleDataError):  # a twin run or a filing at this very moment
            outcome = "waiting"
        if isinstance(outcome, Request):
            out.submitted.append(outcome.id)
        elif outcome == "failed":
            out.failed.append(queued_id)
        elif outcome == "waiting":
            out.waiting += 1
    return out


def _release_one(session: Session, queued_id: int, now: datetime):
    with transaction(session), session.no_autoflush:
        item = session.get(QueuedRequest, queued_id, populate_existing=True)
        if item is None or item.status != "queued":
            return None
        filer = _filer(session, item)
        f = _filing(item)
        if f is None:
            return _fail(session, item, filer, now, t("学生记录已不存在", "the student's record is gone"))
        checked = check(session, f, filer, now)
        if _still_closed(session, item, checked):
            return "waiting"
        if not _claim(session, item, "released", now):
            return None  # another run released it
        return _submit(session, item, f, filer, now, checked)


def _filing(item: QueuedRequest) -> Filing | None:
    if item.student is None:
        return None
    return Filing(kinds.get(item.kind), item.student, item.origin_school, item.payload, item.reason,
                  item.note, item.target_class, _evidence(item))


def _still_closed(session: Session, item: QueuedRequest, checked: Checked) -> bool:
    """True while a window or freeze still refuses it; keeps its opening day up to date."""
    if not any(v.code in QUEUEABLE for v in checked.decision.violations):
        return False
    opens = next_open(policy.current(session).effective(*checked.facts.codes), checked.facts)
    if opens != item.opens_on:
        item.opens_on = opens
    return True


def _submit(session: Session, item: QueuedRequest, f: Filing, filer: Actor, now: datetime,
            checked: Checked):
    """File the claimed item as its filer would, against the rules and the record as they are now
    (checked with the student's row locked)."""
    if checked.refusals:
        return _fail(session, item, filer, now, "；".join(_cited(p) for p in checked.refusals),
                     claimed=True)
    req = file_checked(session, f, filer, now, checked.decision)
    session.flush()
    item.request = req
    record(session, req, "release", filer, now, node=parties.school_node(item.origin_school),
           comment=f"{item.created_at:%Y-%m-%d} 登记排队（{item.closed_by or ''}），"
                   f"{now:%Y-%m-%d} 窗口开放时自动提交")
    return req


def _cited(p: Problem) -> str:
    return f"{p.message}（{p.source}）" if getattr(p, "source", None) else str(p.message)


def _fail(session: Session, item: QueuedRequest, filer: Actor, now: datetime, why: str, *,
          claimed: bool = False):
    """Not submitted: the item is failed with the reason, and the filing school is told."""
    if not claimed and not _claim(session, item, "failed", now):
        return None
    item.status, item.problem = "failed", str(why)[:500]
    session.add(Notification(node=parties.school_node(item.origin_school), message=(
        f"排队业务未能提交：{kinds.label(item.kind)} · {item.student_name}：{why}")[:300]))
    _audit(session, filer, "request_release_failed", item, str(why))
    return "failed"


def _filer(session: Session, item: QueuedRequest) -> Actor:
    """Who the release acts as: the account that queued it (its rights and name), else the system."""
    user = session.get(XuejiUser, item.requester_id) if item.requester_id else None
    if user is not None and getattr(user, "active", True):
        return Actor.of(user)
    return replace(Actor.system(item.requester_name), node=parties.school_node(item.origin_school))
