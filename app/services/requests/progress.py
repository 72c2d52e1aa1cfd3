"""Where a request stands: the parties of its chain, the step waiting (holder, deadline, notice),
closing it, and the history row every action leaves (the request's and the student's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEvent, Jurisdiction, Request, RequestStep, School
from ..common.actors import Actor
from ..common.workdays import add_workdays
from ..policy import rulesets as policy
from .notifications import notify, title


def jurisdictions(session: Session):
    """A look-up of bureaus by code, for resolving a chain's city and province steps."""
    def lookup(code):
        return session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    return lookup


def open_at(session: Session, req: Request, origin: School, other: School | None, now: datetime) -> None:
    """Add a new request, with its parties' codes (scoping reads them), waiting at its first step."""
    req.between(origin, other)
    session.add(req)
    enter_step(session, req, 0, now)


def enter_step(session: Session, req: Request, index: int, now: datetime) -> None:
    """Make step ``index`` the one waiting, with its deadline in working days."""
    req.step = index
    req.step_started_at = now
    if index < len(req.chain):
        step = req.chain[index]
        eff = policy.current(session).effective(*policy.codes_of(req.origin_school))
        req.holder_node, req.holder_role = step["node"], step["role"]
        req.due_on = add_workdays(now.date(), step["days"], eff.holidays, eff.workdays)
        notify(session, step["node"], req, f"待核办：{title(req)}（{step['label']}）")
    else:
        req.holder_node = req.holder_role = req.due_on = None


def close(req: Request, now: datetime) -> None:
    """The request no longer holds its student, and nobody holds the request."""
    req.open_student = None
    req.open_student_id = None
    req.closed_at = now
    req.holder_node = req.holder_role = req.due_on = None


def record(session: Session, req: Request, action: str, actor: Actor, now: datetime, *,
           step: int | None = None, comment: str | None = None, node: str | None = None) -> None:
    """The history rows of one action: the request's step row and the student's audit row."""
    session.add(RequestStep(request=req, round=req.round, step=step, action=action,
                            party_node=node, actor_id=actor.user_id, actor_name=actor.username,
                            at=now, comment=(comment or None) and comment[:500],
                            rule_version=req.rule_version))
    student = req.student or req.open_student
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username,
                           action=f"request_{action}", entity="student",
                           entity_id=req.student_id or (student.id if student is not None else None),
                           entity_uid=req.student_uid,
                           school_id=student.school_id if student is not None else None,
                           summary=f"{title(req)} #{req.id or ''} {comment or ''}"[:300],
                           rule_version=req.rule_version))
