"""Starting a request: a school files one for a student (its kind checks what it asks, the rules
decide whether it may start and who approves it), or a new record opens its registration review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from ...i18n import t
from ...models import Request, School, SchoolClass, Student
from ...policy import Decision, Facts
from ..common.actors import Actor
from ..common.transaction import transaction
from ..policy import rulesets as policy
from . import effects, kinds, parties, progress
from .attachments import attach
from .kinds import Kind


@dataclass(frozen=True)
class Filing:
    """What a school files: the kind, the student, and what the request asks for."""

    kind: Kind
    student: Student
    origin: School
    payload: dict
    reason: str | None
    note: str | None
    target_class: SchoolClass | None
    files: tuple


def start(session: Session, *, kind: str, student: Student, actor: Actor, now: datetime,
          payload: dict | None = None, reason: str | None = None, note: str | None = None,
          target_class=None, files=(), queue: bool = False):
    """File a request; the rules decide whether it may start and who approves it, in what order.
    With ``queue`` (窗口开放时自动提交), a filing refused only by a closed window or a freeze waits
    for the window instead (a ``QueuedRequest``, app.services.requests.queue)."""
    declared = kinds.startable(kind)
    actor.require("Request", "add")
    filing = Filing(declared, student, _origin_of(session, actor), payload or {}, reason, note,
                    target_class, tuple(files))
    try:
        with transaction(session), session.no_autoflush:
            return _start(session, filing, actor, now, queue)
    except IntegrityError:
        raise Conflict(t("该学生已有在办或排队中的业务", "the student already has a request in progress "
                         "or queued") if queue else
                       t("该学生已有在办业务", "the student already has a request in progress"),
                       "student") from None


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


@dataclass(frozen=True)
class Checked:
    """A filing as the kind and the rules see it, with the student's row locked."""

    facts: Facts
    decision: Decision
    problems: list[Problem]  # what the kind and the filing lack (the rules' refusals apart)

    @property
    def refusals(self) -> list[Problem]:
        return _rule_problems(self.decision) + self.problems


def check(session: Session, f: Filing, actor: Actor, now: datetime) -> Checked:
    """Lock the student and ask the kind and the rules about the filing (inside a transaction)."""
    in_progress = _lock_student(session, f.student)
    problems = f.kind.prepare(session, f.student, f.origin, f.payload, f.target_class, actor)
    facts = _facts(session, f, now, in_progress)
    return Checked(facts, policy.decide(session, facts), problems + _filing_problems(session, f))


def _start(session: Session, f: Filing, actor: Actor, now: datetime, queue: bool = False):
    if not f.kind.from_other_school and f.student.school_id != f.origin.id:
        raise NotFound(t("学生不存在或不在本校", "no such student in your school"))
    checked = check(session, f, actor, now)
    if checked.refusals and queue and not checked.problems:
        from .queue import wait  # the queue builds on filing, not the other way round
        return wait(session, f, actor, now, checked)
    if checked.refusals:
        raise ValidationFailed(checked.refusals)
    return file_checked(session, f, actor, now, checked.decision)


def _lock_student(session: Session, student: Student) -> bool:
    """Lock the student's row; True when it already has a request open."""
    session.execute(select(Student.id).where(Student.id == student.id).with_for_update())
    return session.scalar(select(Request.id).where(Request.open_student_id == student.id)) is not None


def _facts(session: Session, f: Filing, now: datetime, in_progress: bool) -> Facts:
    size = policy.seated(session, f.target_class.id) if f.target_class is not None else None
    return policy.facts(f.kind.name, now, f.origin, status=f.student.status,
                        problem_record=f.student.problem, business_in_progress=in_progress,
                        class_size=size, registered=f.student.registered,
                        **f.kind.facts(f.student, f.origin, f.payload, f.target_class))


def _rule_problems(decision: Decision) -> list[Problem]:
    return [Problem(v.message, v.field, v.code, v.source) for v in decision.violations]


def _filing_problems(session: Session, f: Filing) -> list[Problem]:
    """The evidence and the reason the rules in force at the filing school ask of the kind."""
    action = policy.current(session).effective(*policy.codes_of(f.origin)).actions.get(f.kind.name)
    if action is None:
        return []
    return _evidence_problems(action, f.files) + _reason_problems(action, f.reason)


def _evidence_problems(action, files) -> list[Problem]:
    needed = action.evidence.value if action.evidence else ()
    if needed and not files:
        return [Problem(t(f"须上传证明材料：{'、'.join(needed)}", f"evidence required: {', '.join(needed)}"),
                        "evidence", "evidence_required", str(action.evidence.source))]
    return []


def _reason_problems(action, reason) -> list[Problem]:
    allowed = action.reasons.value if action.reasons else ()
    if allowed and reason not in allowed:
        return [Problem(t(f"原因须为：{'、'.join(allowed)}", f"reason must be one of {', '.join(allowed)}"),
                        "reason", "reason", str(action.reasons.source))]
    return []


def file_checked(session: Session, f: Filing, actor: Actor, now: datetime, decision: Decision) -> Request:
    """The request as filed, waiting at its first step (or done, when the chain is empty)."""
    other = f.student.school if f.kind.from_other_school else None
    req = _new(session, f.kind.name, f.student, actor, now, decision, f.origin, other,
               target_class=f.target_class, variant=f.kind.variant(f.student, f.origin))
    req.payload, req.reason, req.note = f.payload, f.reason, f.note
    req.before = f.kind.before(f.student, f.payload)
    req.summary = f.kind.summary(f.payload, f.target_class)
    for upload in f.files:
        attach(session, req, upload, actor)
    return _submitted(session, req, actor, now, f.origin)


def _new(session: Session, kind: str, student: Student, actor: Actor, now: datetime,
         decision: Decision, origin: School, other: School | None = None, **extra) -> Request:
    """A pending request of ``kind`` for one student, in its first round, added and waiting at its
    first step under the chain the rules decided."""
    chain = parties.resolve(decision.approval_chain, origin, other, progress.jurisdictions(session))
    req = Request(kind=kind, status="pending", student=student, student_uid=student.ensure_uid(),
                  student_name=student.name, open_student=student, requester_id=actor.user_id,
                  requester_name=actor.username, origin_school=origin, other_school=other,
                  chain=chain, rule_version=decision.rule_version, round=1, created_at=now, **extra)
    progress.open_at(session, req, origin, other, now)
    return req


def _submitted(session, req: Request, actor: Actor, now: datetime, origin: School) -> Request:
    """The submit row; a request nobody has to approve is done at once."""
    progress.record(session, req, "submit", actor, now, node=parties.school_node(origin))
    if not req.chain:
        effects.complete(session, req, actor, now)
    return req


def open_review(session: Session, student: Student, actor: Actor, now: datetime,
                decision: Decision, kind: str, summary: str) -> Request:
    """A review of ``kind`` the system opens for a student of its own school, under the chain
    ``decision`` resolved, submitted (inside the caller's transaction)."""
    school = student.school
    req = _new(session, kind, student, actor, now, decision, school, summary=summary)
    return _submitted(session, req, actor, now, school)


def open_registration(session: Session, student: Student, actor: Actor, now: datetime,
                      decision: Decision, kind: str) -> Request:
    """The registration review that every new record starts (inside the caller's transaction)."""
    return open_review(session, student, actor, now, decision, kind, "新生/在校生注册核办")


def open_batch_registration(session: Session, job, actor: Actor, now: datetime,
                            kind: str = "register_in_school") -> Request:
    """One registration review for every record an import created (inside the caller's transaction);
    an admission list of first-graders is reviewed as ``register_new``."""
    school = job.school
    decision = policy.decide(session, policy.facts(kind, now, school,
                                                   status="in_school", registered=False))
    req = Request(kind=kind, status="pending", student_uid=job.ensure_uid(),
                  student_name=f"导入 {job.created} 名", requester_id=actor.user_id,
                  requester_name=actor.username, origin_school=school,
                  chain=parties.resolve(decision.approval_chain, school, None,
                                        progress.jurisdictions(session)),
                  rule_version=decision.rule_version, round=1, created_at=now,
                  summary=f"批量注册核办：{job.filename}，{job.created} 名"[:300])
    req.payload = {"import_job": job.id}
    progress.open_at(session, req, school, None, now)
    progress.record(session, req, "submit", actor, now, node=parties.school_node(school))
    session.flush()
    return req
