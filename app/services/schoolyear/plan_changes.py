"""A school's request to change its enrollment plan (招生计划变更): filed by the school's registrar
with a reason inside the rules' ``enrollment_plan`` window, one open per plan; its bureau's
registrar approves it (the plan becomes what was asked) or rejects it (the plan stays), once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, ValidationFailed
from ...i18n import t
from ...models import EnrollmentPlan, EnrollmentPlanChange, School
from ...models.school import GRADE_NAMES
from ..common.actors import Actor
from ..common.transaction import transaction
from .plans import (
    CHANGE,
    audit,
    check,
    classes_text,
    gate,
    iso,
    plan_in_scope,
    plan_items,
    plan_state,
    replace_classes,
    require_bureau_registrar,
    whole,
)

VERDICTS = ("approve", "reject")


def request_change(session: Session, actor: Actor, plan_id, *, classes, seats, reason: str | None,
                   now: datetime) -> EnrollmentPlanChange:
    """A school's registrar asks its bureau to change its own plan (inside the rules' window);
    one open request per plan."""
    actor.require("EnrollmentPlan", "add")
    if not (reason or "").strip():
        raise ValidationFailed(t("请填写变更理由", "give the reason for the change"), "reason")
    try:
        with transaction(session):
            plan = plan_in_scope(session, actor, plan_id)
            school = session.get(School, plan.school_id)
            if actor.school_id != school.id:
                raise Forbidden(t("只有本校可以申请变更本校的招生计划",
                                  "only the school itself asks to change its plan"))
            _, planned, seats = check(session, school, plan.school_year, plan.grade, classes, seats)
            version = gate(session, CHANGE, school, plan.stage, now)
            change = EnrollmentPlanChange(
                plan_id=plan.id, school=school, school_id=school.id, open_key=plan.id,
                status="pending", classes=[{"name": c.name, "cap": c.cap} for c in planned],
                seats=seats, reason=reason.strip()[:500], plan_version=plan.version,
                requested_by_id=actor.user_id, requested_by=actor.username, requested_at=now)
            change.copy_chain_from(school)
            session.add(change)
            session.flush()
            items = {"change_request": {"new": change.id},
                     "plan_classes": {"old": classes_text(plan.classes),
                                      "new": classes_text(change.classes)},
                     "seats": {"old": plan.seats, "new": seats}, "reason": {"new": change.reason}}
            audit(session, actor, "plan_change_request", plan, items,
                  f"{school.name}申请变更{plan.school_year}年{GRADE_NAMES[plan.grade]}招生计划："
                  f"{len(planned)} 个班、{seats} 人", version)
        return change
    except IntegrityError:
        raise Conflict(t("该计划已有待审批的变更申请", "this plan already has a change waiting"),
                       "plan") from None


def decide_change(session: Session, actor: Actor, change_id, verdict: str, now: datetime, *,
                  comment: str | None = None) -> EnrollmentPlanChange:
    """The school's bureau approves (the plan becomes what was asked) or rejects (the plan stays)
    a change request, once: a conditional update, so two deciders at once decide once."""
    require_bureau_registrar(actor)
    if verdict not in VERDICTS:
        raise ValidationFailed(t("核办意见须为 approve 或 reject", "approve or reject"), "verdict")
    if verdict == "reject" and not (comment or "").strip():
        raise ValidationFailed(t("不同意须填写意见", "a rejection needs a comment"), "comment")
    with transaction(session):
        change = actor.fetch(session, EnrollmentPlanChange, whole(change_id, "change"),
                             t("变更申请不存在或不在本辖区", "no such change request in your jurisdiction"),
                             field="change")
        if change.requested_by_id is not None and change.requested_by_id == actor.user_id:
            raise Forbidden(t("不能审批自己提出的申请", "nobody decides their own request"))
        status = "approved" if verdict == "approve" else "rejected"
        moved = session.execute(
            update(EnrollmentPlanChange).where(EnrollmentPlanChange.id == change.id,
                                               EnrollmentPlanChange.status == "pending")
            .values(status=status, open_key=None, decided_by_id=actor.user_id,
                    decided_by=actor.username, decided_at=now, comment=(comment or "").strip() or None)
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise Conflict(t(f"变更申请 {change.id} 已审批，不能再次审批",
                             f"change request {change.id} is already decided"), "change")
        plan = session.scalar(select(EnrollmentPlan).where(EnrollmentPlan.id == change.plan_id)
                              .with_for_update())
        if verdict == "approve":
            _approve(session, actor, change, plan, now)
        audit(session, actor, f"plan_change_{status}", plan,
              {"change_request": {"new": change.id}, "comment": {"new": comment}},
              f"{'同意' if verdict == 'approve' else '不同意'}变更申请 {change.id}", plan.rule_version)
    session.expire_all()
    return session.get(EnrollmentPlanChange, change.id)


def _approve(session: Session, actor: Actor, change: EnrollmentPlanChange, plan: EnrollmentPlan,
             now: datetime) -> None:
    if plan.version != change.plan_version:
        raise Conflict(t("招生计划在申请之后已被修改，请不同意此申请，由学校按现计划重新申请",
                         "the plan changed after the request: reject it and let the school ask again"),
                       "change")
    school = session.get(School, plan.school_id)
    _, planned, seats = check(session, school, plan.school_year, plan.grade, change.classes,
                              change.seats)
    before = plan_state(plan)
    plan.seats, plan.version, plan.set_by, plan.set_at = seats, plan.version + 1, actor.username, now
    replace_classes(plan, planned)
    session.flush()
    audit(session, actor, "plan_set", plan,
          {**plan_items(before, plan), "change_request": {"new": change.id}},
          f"按变更申请 {change.id} 修改{school.name}招生计划", plan.rule_version)


# -- reading ------------------------------------------------------------------------------------

def changes(session: Session, actor: Actor, *, status: str | None = None,
            school_year: int | None = None) -> list[EnrollmentPlanChange]:
    """The change requests the actor sees, newest first."""
    actor.require("EnrollmentPlan", "read")
    q = (select(EnrollmentPlanChange).join(EnrollmentPlan, EnrollmentPlan.id == EnrollmentPlanChange.plan_id)
         .where(actor.scope.clause(EnrollmentPlanChange)))
    if status:
        q = q.where(EnrollmentPlanChange.status == status)
    if school_year is not None:
        q = q.where(EnrollmentPlan.school_year == school_year)
    return list(session.scalars(q.order_by(EnrollmentPlanChange.id.desc()).limit(200)))


def change_dict(change: EnrollmentPlanChange) -> dict:
    return {"id": change.id, "plan_id": change.plan_id, "status": change.status,
            "classes": change.classes, "seats": change.seats, "reason": change.reason,
            "plan_version": change.plan_version, "requested_by": change.requested_by,
            "requested_at": iso(change.requested_at), "decided_by": change.decided_by,
            "decided_at": iso(change.decided_at), "comment": change.comment}
