"""Requests (办件): start one, decide a step (approve / reject / return), resubmit, cancel, pull.

Each function is one transaction.  A decision is a conditional, idempotent transition: the request's
row moves only if it is still where the decider saw it (status, round, step, version), and the
decision row is unique per (request, round, step), so two people -- or twenty clicks -- make one step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from ...i18n import t
from ...models import (
    AuditEvent,
    Jurisdiction,
    Notification,
    Request,
    RequestStep,
    School,
    SchoolClass,
    Student,
)
from ...models.base import local_now
from ...policy import ACTIONS, Decision
from ..common.actors import Actor
from ..common.workdays import add_workdays
from ..policy import rulesets as policy
from . import effects, parties

REGISTRATIONS = ("register_new", "register_in_school", "register_returnee")
CHANGES = ("suspend", "resume", "repeat", "skip", "dropout", "withdraw", "expel", "abroad", "death")
KINDS = REGISTRATIONS + ("change_field", "transfer") + CHANGES
VERDICTS = ("approve", "reject", "return")


# -- helpers ------------------------------------------------------------------------------------

def _jurisdictions(session: Session):
    def lookup(code):
        return session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    return lookup


def _set_chain_codes(req: Request, origin: School, other: School | None) -> None:
    req.origin_province, req.origin_city, req.origin_county = (
        origin.province_code, origin.city_code, origin.county_code)
    if other is not None:
        req.other_province, req.other_city, req.other_county = (
            other.province_code, other.city_code, other.county_code)


def _enter_step(session: Session, req: Request, index: int, now: datetime) -> None:
    """Make step ``index`` the one waiting, with its deadline in working days."""
    req.step = index
    req.step_started_at = now
    if index < len(req.chain):
        step = req.chain[index]
        eff = policy.current(session).effective(*policy.codes_of(req.origin_school))
        req.holder_node, req.holder_role = step["node"], step["role"]
        req.due_on = add_workdays(now.date(), step["days"], eff.holidays, eff.workdays)
        notify(session, step["node"], req, f"待核办：{_title(req)}（{step['label']}）")
    else:
        req.holder_node = req.holder_role = req.due_on = None


def _title(req: Request) -> str:
    return f"{ACTIONS.get(req.kind, (req.kind,))[0]} · {req.student_name}"


def notify(session: Session, node: str | None, req: Request, message: str) -> None:
    if node:
        session.add(Notification(node=node, request=req, message=message[:300]))


def _record(session: Session, req: Request, action: str, actor: Actor, now: datetime, *,
            step: int | None = None, comment: str | None = None, node: str | None = None) -> None:
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
                           summary=f"{_title(req)} #{req.id or ''} {comment or ''}"[:300],
                           rule_version=req.rule_version))


def _rule_problems(decision: Decision) -> list[Problem]:
    return [Problem(v.message, v.field, v.code, v.source) for v in decision.violations]


def load(session: Session, actor: Actor, request_id: int, *, lock: bool = False) -> Request:
    """A request the actor may see, or NotFound (another county's request is not there)."""
    return actor.fetch(session, Request, request_id,
                       t("业务不存在或不在本辖区", "no such request in your jurisdiction"), lock=lock)


# -- starting -------------------------------------------------------------------------------------

def _variant(student: Student, origin: School) -> str | None:
    if student.province_code != origin.province_code:
        return "cross_province"
    if student.county_code and student.county_code == origin.county_code:
        return "same_county"
    if student.city_code and student.city_code == origin.city_code:
        return "same_city"
    return None


def _origin_of(session: Session, actor: Actor) -> School:
    if actor.school_id is None:
        raise Forbidden(t("业务由学校学籍管理员发起", "a school registrar starts a request"))
    return session.get(School, actor.school_id)


def own_class(session: Session, actor: Actor, class_id: int | None,
              field: str = "target_class") -> SchoolClass | None:
    """A class of the actor's own school, or NotFound: another school's class is not there."""
    if class_id is None:
        return None
    klass = session.scalar(select(SchoolClass).where(SchoolClass.id == class_id,
                                                     SchoolClass.school_id == actor.school_id))
    if klass is None:
        raise NotFound(t("本校没有该班级", "no such class in your school"), field)
    return klass


def _lock_student(session: Session, student: Student) -> bool:
    """Lock the student's row; True when it already has a request open."""
    session.execute(select(Student.id).where(Student.id == student.id).with_for_update())
    return session.scalar(select(Request.id).where(Request.open_student_id == student.id)) is not None


def start(session: Session, *, kind: str, student: Student, actor: Actor, now: datetime,
          payload: dict | None = None, reason: str | None = None, note: str | None = None,
          target_class=None, files=()) -> Request:
    """File a request; the rules decide whether it may start and who approves it, in what order."""
    if kind not in KINDS or kind in REGISTRATIONS:
        raise ValidationFailed(t(f"不能直接发起 {kind}", f"{kind} cannot be started here"), "kind")
    actor.require("Request", "add")
    origin = _origin_of(session, actor)
    other = student.school if kind == "transfer" else None
    try:
        with session.no_autoflush:
            req = _start(session, kind, student, actor, now, origin, other, payload or {}, reason,
                         note, target_class, files)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(t("该学生已有在办业务", "the student already has a request in progress"),
                       "student") from None
    except Exception:
        session.rollback()
        raise
    return req


def _start(session, kind, student, actor, now, origin, other, payload, reason, note,
           target_class, files) -> Request:
    if kind != "transfer" and student.school_id != origin.id:
        raise NotFound(t("学生不存在或不在本校", "no such student in your school"))
    in_progress = _lock_student(session, student)
    checks = effects.prepare(session, kind, student, origin, payload, target_class, actor)
    size = policy.seated(session, target_class.id) if target_class is not None else None
    decision = policy.decide(session, policy.facts(
        kind, now, origin, stage=(target_class.grade.stage if target_class and kind == "transfer"
                                  else student.grade.stage if student.grade else None),
        status=student.status, problem_record=student.problem, business_in_progress=in_progress,
        changed_fields=tuple(payload) if kind == "change_field" else (), class_size=size,
        variant=_variant(student, origin) if kind == "transfer" else None,
        registered=student.registered))
    problems = _rule_problems(decision) + checks
    problems += _evidence_problems(session, kind, origin, files) + _reason_problems(
        session, kind, origin, reason)
    if problems:
        raise ValidationFailed(problems)
    req = _new_request(session, kind, student, actor, now, origin, other, decision, target_class)
    req.payload, req.reason, req.note = payload, reason, note
    req.before = {name: getattr(student, name, None) for name in payload} if kind == "change_field" else {}
    req.summary = effects.summary(kind, payload, target_class)
    for upload in files:
        from .attachments import attach

        attach(session, req, upload, actor)
    _record(session, req, "submit", actor, now, node=parties.school_node(origin))
    if not req.chain:
        effects.complete(session, req, actor, now)
    return req


def _new_request(session, kind, student, actor, now, origin, other, decision, target_class):
    chain = parties.resolve(decision.approval_chain, origin, other, _jurisdictions(session))
    req = Request(kind=kind, status="pending", student=student, student_uid=student.ensure_uid(),
                  student_name=student.name, open_student=student, requester_id=actor.user_id,
                  requester_name=actor.username, origin_school=origin, other_school=other,
                  target_class=target_class, chain=chain, rule_version=decision.rule_version,
                  round=1, variant=_variant(student, origin) if kind == "transfer" else None,
                  created_at=now)
    _set_chain_codes(req, origin, other)
    session.add(req)
    _enter_step(session, req, 0, now)
    return req


def _evidence_problems(session, kind, origin, files) -> list[Problem]:
    action = policy.current(session).effective(*policy.codes_of(origin)).actions.get(kind)
    needed = action.evidence.value if action and action.evidence else ()
    if needed and not files:
        return [Problem(t(f"须上传证明材料：{'、'.join(needed)}", f"evidence required: {', '.join(needed)}"),
                        "evidence", "evidence_required", str(action.evidence.source))]
    return []


def _reason_problems(session, kind, origin, reason) -> list[Problem]:
    action = policy.current(session).effective(*policy.codes_of(origin)).actions.get(kind)
    allowed = action.reasons.value if action and action.reasons else ()
    if allowed and reason not in allowed:
        return [Problem(t(f"原因须为：{'、'.join(allowed)}", f"reason must be one of {', '.join(allowed)}"),
                        "reason", "reason", str(action.reasons.source))]
    return []


def open_batch_registration(session: Session, job, actor: Actor, now: datetime) -> Request:
    """One registration review for every record an import created (inside the caller's transaction)."""
    school = job.school
    decision = policy.decide(session, policy.facts("register_in_school", now, school,
                                                   status="in_school", registered=False))
    req = Request(kind="register_in_school", status="pending", student_uid=job.ensure_uid(),
                  student_name=f"导入 {job.created} 名", requester_id=actor.user_id,
                  requester_name=actor.username, origin_school=school,
                  chain=parties.resolve(decision.approval_chain, school, None, _jurisdictions(session)),
                  rule_version=decision.rule_version, round=1, created_at=now,
                  summary=f"批量注册核办：{job.filename}，{job.created} 名"[:300])
    req.payload = {"import_job": job.id}
    _set_chain_codes(req, school, None)
    session.add(req)
    _enter_step(session, req, 0, now)
    _record(session, req, "submit", actor, now, node=parties.school_node(school))
    session.flush()
    return req


def open_registration(session: Session, student: Student, actor: Actor, now: datetime,
                      decision: Decision, kind: str) -> Request:
    """The registration review that every new record starts (inside the caller's transaction)."""
    school = student.school
    req = Request(kind=kind, status="pending", student=student, student_uid=student.ensure_uid(),
                  student_name=student.name, open_student=student, requester_id=actor.user_id,
                  requester_name=actor.username, origin_school=school,
                  chain=parties.resolve(decision.approval_chain, school, None, _jurisdictions(session)),
                  rule_version=decision.rule_version, round=1, summary="新生/在校生注册核办",
                  created_at=now)
    _set_chain_codes(req, school, None)
    session.add(req)
    _enter_step(session, req, 0, now)
    _record(session, req, "submit", actor, now, node=parties.school_node(school))
    if not req.chain:
        effects.complete(session, req, actor, now)
    return req


# -- deciding ---------------------------------------------------------------------------------------

def _check_party(session: Session, req: Request, actor: Actor) -> dict:
    if req.status != "pending":
        raise Conflict(t(f"不能核办业务 #{req.id}：当前状态为“{req.status}”",
                         f"cannot decide request {req.id}: it is '{req.status}'"))
    step = req.current
    if actor.node != step["node"] or step["role"] not in actor.functions:
        raise Forbidden(t(f"本步骤由 {step['label']} 核办", f"this step is for {step['label']}"))
    if actor.user_id is not None and actor.user_id == req.requester_id:
        raise Forbidden(t("不能核办自己发起的业务", "nobody approves their own request"))
    earlier = session.scalar(select(RequestStep.id).where(
        RequestStep.request_id == req.id, RequestStep.round == req.round,
        RequestStep.step.is_not(None), RequestStep.actor_id == actor.user_id))
    if earlier is not None:
        raise Forbidden(t("同一人不能核办同一业务的两个步骤", "one person decides one step of a request"))
    return step


def decide(session: Session, request_id: int, actor: Actor, verdict: str, now: datetime, *,
           comment: str | None = None, expected_step: int | None = None) -> Request:
    """Approve, reject or return the step waiting for ``actor``; one transaction, once only."""
    if verdict not in VERDICTS:
        raise ValidationFailed(t("未知的核办意见", "unknown verdict"), "verdict")
    actor.require("Request", "decide")
    try:
        req = load(session, actor, request_id)
        if expected_step is not None and _already(session, req, actor, verdict, expected_step):
            return req  # the same click again: the step is already decided, by this actor
        if verdict != "approve" and not (comment or "").strip():
            raise ValidationFailed(t("退回或不通过须填写意见", "a return or rejection needs a comment"),
                                   "comment")
        step = _check_party(session, req, actor)
        _transition(session, req, actor, verdict, now, comment, step)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(t("该业务已被他人处理，请刷新", "someone else decided this step first; reload")) from None
    except Exception:
        session.rollback()
        raise
    return req


def _already(session, req, actor, verdict, expected_step) -> bool:
    done = session.scalar(select(RequestStep).where(
        RequestStep.request_id == req.id, RequestStep.step == expected_step,
        RequestStep.actor_id == actor.user_id, RequestStep.action == verdict))
    return done is not None and (req.step != expected_step or req.status != "pending")


def _transition(session, req, actor, verdict, now, comment, step) -> None:
    index, round_ = req.step, req.round
    last = index + 1 >= len(req.chain)
    status = {"approve": "pending", "reject": "rejected", "return": "returned"}[verdict]
    moved = session.execute(
        update(Request).where(Request.id == req.id, Request.status == "pending",
                              Request.round == round_, Request.step == index,
                              Request.version == req.version)
        .values(status=status, step=index + 1 if verdict == "approve" else index,
                version=Request.version + 1, updated_at=local_now())
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Conflict(t("该业务已被他人处理，请刷新", "someone else decided this step first; reload"))
    _record(session, req, verdict, actor, now, step=index, comment=comment, node=step["node"])
    session.flush()  # the unique decision row: a concurrent twin fails here
    session.refresh(req)
    if verdict == "approve":
        if last:
            effects.complete(session, req, actor, now)
        else:
            _enter_step(session, req, index + 1, now)
    elif verdict == "reject":
        _close(session, req, now)
        effects.rejected(session, req, actor, now)
        notify(session, parties.school_node(req.origin_school), req, f"未通过：{_title(req)}：{comment}")
    else:
        req.holder_node, req.holder_role, req.due_on = parties.school_node(req.origin_school), "registrar", None
        notify(session, req.holder_node, req, f"被退回：{_title(req)}：{comment}")


def _close(session: Session, req: Request, now: datetime) -> None:
    req.open_student = None
    req.open_student_id = None
    req.closed_at = now
    req.holder_node = req.holder_role = req.due_on = None


# -- the requester's side -------------------------------------------------------------------------

def _requester(session: Session, actor: Actor, request_id: int) -> Request:
    req = load(session, actor, request_id)
    if actor.school_id != req.origin_school_id or "registrar" not in actor.functions:
        raise Forbidden(t("只有发起学校的学籍管理员可以操作", "only the requesting school's registrar"))
    return req


def resubmit(session: Session, request_id: int, actor: Actor, now: datetime, *,
             payload: dict | None = None, comment: str | None = None, files=()) -> Request:
    """Send a returned request up the same chain again (a new round, from its first step)."""
    try:
        req = _requester(session, actor, request_id)
        if req.status != "returned":
            raise Conflict(t(f"业务 #{req.id} 当前为“{req.status}”，不能重新提交",
                             f"request {req.id} is '{req.status}', not returned"))
        if payload is not None:
            problems = effects.prepare(session, req.kind, req.student, req.origin_school, payload,
                                       req.target_class, actor)
            if problems:
                raise ValidationFailed(problems)
            req.payload = payload
            req.before = ({name: getattr(req.student, name, None) for name in payload}
                          if req.kind == "change_field" else {})
            req.summary = effects.summary(req.kind, payload, req.target_class)
        if req.kind in REGISTRATIONS:
            from ..record.validation import family_problems, field_problems

            problems = field_problems(session, req.student, now.date()) + family_problems(
                session, req.student, req.student.members)
            if problems:
                raise ValidationFailed(problems)
        for upload in files:
            from .attachments import attach

            attach(session, req, upload, actor)
        req.status, req.round = "pending", req.round + 1
        _record(session, req, "resubmit", actor, now, comment=comment,
                node=parties.school_node(req.origin_school))
        _enter_step(session, req, 0, now)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return req


def cancel(session: Session, request_id: int, actor: Actor, now: datetime,
           comment: str | None = None) -> Request:
    """The requesting school withdraws its request (a transfer until the file is pulled)."""
    try:
        req = _requester(session, actor, request_id)
        if req.status not in ("pending", "returned", "awaiting_pull"):
            raise Conflict(t(f"业务 #{req.id} 已办结", f"request {req.id} is already closed"))
        if req.kind in REGISTRATIONS:
            raise Conflict(t("注册核办不能撤销；可删除该临时学籍", "delete the temporary record instead"))
        req.status = "cancelled"
        _close(session, req, now)
        _record(session, req, "cancel", actor, now, comment=comment,
                node=parties.school_node(req.origin_school))
        if req.other_school is not None:
            notify(session, parties.school_node(req.other_school), req, f"已撤销：{_title(req)}")
        session.commit()
    except Exception:
        session.rollback()
        raise
    return req


def pull(session: Session, request_id: int, actor: Actor, now: datetime) -> Request:
    """调档: after a cross-province transfer's approvals, the receiving school takes the record."""
    try:
        req = _requester(session, actor, request_id)
        if req.status != "awaiting_pull":
            raise Conflict(t(f"业务 #{req.id} 不在待调档状态", f"request {req.id} is not awaiting the pull"))
        effects.move(session, req, actor, now)
        req.status = "done"
        _close(session, req, now)
        _record(session, req, "pull", actor, now, node=parties.school_node(req.origin_school))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return req


def cancel_open_registration(session: Session, student: Student, actor: Actor, now: datetime) -> None:
    """A temporary record being deleted takes its open registration review with it."""
    for req in session.scalars(select(Request).where(Request.open_student_id == student.id)):
        req.status = "cancelled"
        _close(session, req, now)
        _record(session, req, "cancel", actor, now, comment="记录已删除")


def inbox(session: Session, actor: Actor):
    """What waits for this account, oldest first."""
    if actor.node is None:
        return []
    return session.scalars(select(Request).where(
        Request.status == "pending", Request.holder_node == actor.node,
        Request.holder_role.in_(actor.functions), actor.scope.clause(Request))
        .order_by(Request.step_started_at, Request.id)).all()
