"""强制干预: a step still undecided the rules' number of working days after its deadline
(Request.due_on) escalates to the supervisor (or the role the rules name) of the level above the
party holding it -- a school's step to its bureau, a county's to its city, a city's to its province.
That party may then decide the step on behalf of the overdue one (approve or return, never reject),
and both the escalation and the decision are in the request's history with the rule's file:line.

Escalation is recorded once per step and round: a conditional update claims the request only while
the same step waits and nobody escalated it; deciding the step clears it (``workflow._move``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import Jurisdiction, Request, School
from ...models.base import local_now
from ...policy.deferral import EscalationRule, escalation_for
from ...policy.vocab import ROLE_ZH
from ..common.actors import Actor
from ..common.transaction import transaction
from ..common.workdays import add_workdays
from ..policy import rulesets as policy
from . import parties
from .holds import party_name
from .notifications import notify, title
from .progress import record

FORCED = ("approve", "return")  # what the upper party may decide on behalf of the overdue one


@dataclass
class Escalated:
    """One run: requests escalated, and overdue ones that could not be (nobody above)."""

    escalated: list[int] = field(default_factory=list)
    nobody_above: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"escalated": self.escalated, "nobody_above": self.nobody_above}


def upper_node(session: Session, node: str | None) -> str | None:
    """The bureau above a party: a school's own bureau, a bureau's parent (None above a province)."""
    kind, _, key = (node or "").partition(":")
    if kind == "school" and key.isdigit():
        school = session.get(School, int(key))
        return parties.bureau_node(school.jurisdiction.code) if school and school.jurisdiction else None
    if kind == "bureau":
        place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == key))
        return parties.bureau_node(place.parent.code) if place is not None and place.parent else None
    return None


def rule_for(session: Session, req: Request) -> EscalationRule | None:
    """The escalation rule in force for the request's kind at its school (with file:line)."""
    return escalation_for(policy.effective_for(session, req.origin_school), req.kind)


def escalates_on(session: Session, req: Request, rule: EscalationRule) -> date | None:
    """The first day the waiting step counts as overdue enough to escalate."""
    if req.due_on is None:
        return None
    eff = policy.effective_for(session, req.origin_school)
    return add_workdays(req.due_on, rule.after_days, eff.holidays, eff.workdays)


def escalate(session: Session, now: datetime) -> Escalated:
    """Escalate every overdue step the rules say to; idempotent, each request in its own transaction."""
    out = Escalated()
    overdue = session.scalars(select(Request.id).where(
        Request.status == "pending", Request.escalated_node.is_(None), Request.due_on < now.date())
        .order_by(Request.due_on, Request.id)).all()
    for request_id in overdue:
        with transaction(session):
            outcome = _escalate_one(session, request_id, now)
        if outcome is True:
            out.escalated.append(request_id)
        elif outcome is False:
            out.nobody_above.append(request_id)
    return out


def _escalate_one(session: Session, request_id: int, now: datetime) -> bool | None:
    req = session.get(Request, request_id, populate_existing=True)
    if req is None or req.status != "pending" or req.escalated_node or req.current is None:
        return None
    rule = rule_for(session, req)
    on = escalates_on(session, req, rule) if rule is not None else None
    if on is None or now.date() <= on:
        return None
    to = upper_node(session, req.holder_node)
    if to is None:
        return False
    return _claim(session, req, rule, to, now)


def _claim(session: Session, req: Request, rule: EscalationRule, to: str, now: datetime) -> bool | None:
    step = req.current
    target = f"{party_name(session, to)} · {ROLE_ZH[rule.to]}"
    why = (f"{step['label']} 逾期未核办（期限 {req.due_on}，超过 {rule.after_days} 个工作日），"
           f"按 {rule.source} 上报 {target} 强制干预")
    record_ = {"round": req.round, "step": req.step, "at": now.isoformat(timespec="minutes"),
               "to": to, "role": rule.to, "label": target, "source": rule.source,
               "due_on": req.due_on.isoformat(), "after_days": rule.after_days,
               "from": step["node"], "from_label": step["label"], "reason": why}
    moved = session.execute(
        update(Request).where(Request.id == req.id, Request.status == "pending",
                              Request.round == req.round, Request.step == req.step,
                              Request.escalated_node.is_(None))
        .values(escalated_node=to, escalated_role=rule.to, escalation=record_,
                version=Request.version + 1, updated_at=local_now())
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return None
    session.refresh(req)
    actor = Actor.system("强制干预")
    record(session, req, "escalate", actor, now, comment=why, node=to)
    notify(session, to, req, f"强制干预：{title(req)} 逾期未核办，请代为核办（{rule.source}）")
    notify(session, step["node"], req, f"已逾期上报：{title(req)}（{target}）")
    return True


def may_decide(req: Request, actor: Actor) -> bool:
    """Whether ``actor`` is the party the waiting step was escalated to (this step, this round)."""
    esc = req.escalation or {}
    return bool(req.status == "pending" and req.escalated_node and actor.node == req.escalated_node
                and req.escalated_role in actor.functions and esc.get("round") == req.round
                and esc.get("step") == req.step)


def forced_comment(req: Request, comment: str | None) -> str:
    """The history's words for a decision taken on behalf of the overdue party."""
    esc = req.escalation or {}
    said = f"：{comment.strip()}" if comment and comment.strip() else ""
    return f"强制干预，代 {esc.get('from_label', '')} 核办（{esc.get('source', '')}）{said}"
