"""Duplicate admissions (重复录取): one person admitted by two or more schools in one school year.
The case goes to the lowest bureau over the schools concerned, which picks the school that keeps
the child; the other schools' admissions are dropped with the reason.  The person holds one
record throughout: if another school keeps the child, the record moves there (a new record not
yet registered is reviewed there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import NotFound, ValidationFailed
from ...i18n import t
from ...models import Admission, AuditEvent, Jurisdiction, Student
from ...policy import Facts
from ..common.actors import Actor
from ..common.transaction import transactional
from ..policy import rulesets as policy
from ..requests.starting import open_registration
from .admission_rows import live_key

OPEN = ("contested", "duplicate")


@dataclass
class Case:
    """One person claimed by several schools, and the bureau that decides."""

    school_year: int
    name: str
    level: str
    code: str
    rows: list[Admission] = field(default_factory=list)

    @property
    def holder(self) -> Admission | None:
        return next((r for r in self.rows if r.live_key), None)

    def as_dict(self) -> dict:
        return {"school_year": self.school_year, "name": self.name, "bureau": self.code,
                "admissions": [{"id": r.id, "school": r.school.code, "school_name": r.school.name,
                                "class": r.school_class.name, "holds": bool(r.live_key),
                                "outcome": r.outcome, "status": r.status, "row": r.row_number,
                                "admitted_at": r.created_at.isoformat(timespec="seconds")}
                               for r in self.rows]}


def lowest_bureau(rows: list[Admission]) -> tuple[str, str]:
    """(level, code) of the lowest bureau over every school of the rows."""
    for level in ("county", "city", "province"):
        codes = {getattr(r, f"{level}_code") for r in rows}
        if len(codes) == 1 and None not in codes:
            return level, codes.pop()
    return "national", ""


def _decides(actor: Actor, level: str, code: str) -> bool:
    return actor.is_system or (actor.scope.level == level and actor.scope.code == code)


def cases(session: Session, actor: Actor) -> list[Case]:
    """The open cases the account's bureau decides, oldest first."""
    actor.require("Admission", "resolve")
    keys = session.execute(select(Admission.school_year, Admission.id_blind).where(
        Admission.status == "duplicate", actor.scope.clause(Admission)).distinct()).all()
    if not keys:
        return []
    found: dict[tuple, list[Admission]] = {}
    for row in session.scalars(select(Admission).where(
            Admission.status.in_(OPEN), Admission.id_blind.in_({b for _, b in keys})).order_by(Admission.id)):
        found.setdefault((row.school_year, row.id_blind), []).append(row)
    out = []
    for rows in found.values():
        level, code = lowest_bureau(rows)
        if len(rows) > 1 and _decides(actor, level, code):
            out.append(Case(rows[0].school_year, rows[0].name, level, code, rows))
    return sorted(out, key=lambda c: c.rows[0].id)


def bureau_name(session: Session, case: Case) -> str:
    return session.scalar(select(Jurisdiction.name).where(Jurisdiction.code == case.code)) or case.code


@transactional
def resolve(session: Session, actor: Actor, keep_id: int, reason: str, now: datetime) -> Case:
    """The bureau keeps the child at the school of admission ``keep_id``; the others are dropped
    with ``reason``.  One transaction, audited."""
    actor.require("Admission", "resolve")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(t("请填写裁定理由", "give the reason"), "reason")
    keep = session.get(Admission, keep_id)
    rows = _case_rows(session, keep)
    level, code = lowest_bureau(rows) if rows else ("", "")
    if keep is None or keep not in rows or len(rows) < 2 or not _decides(actor, level, code):
        raise NotFound(t("没有该重复录取，或不由本级裁定", "no such duplicate admission for your bureau"))
    holder = next(r for r in rows if r.live_key)
    if keep is not holder:
        holder.live_key, holder.status = None, "dropped"
        session.flush()  # the key is free before the kept admission takes it
        keep.live_key, keep.student_id, keep.outcome = live_key(keep.school_year, keep.id_blind), \
            holder.student_id, holder.outcome
        _move(session, keep, actor, now)
    for row in rows:
        row.decided_at, row.decided_by = now, actor.username
        if row is keep:
            row.status, row.reason = "admitted", reason[:300]
        else:
            row.status, row.live_key, row.reason = "dropped", None, reason[:300]
    case = Case(keep.school_year, keep.name, level, code, rows)
    session.add(AuditEvent(
        user_id=actor.user_id, username=actor.username, action="admission_resolved", entity="admission",
        entity_id=keep.id, school_id=keep.school_id,
        changes={"kept": keep.school.name, "dropped": "、".join(r.school.name for r in rows if r is not keep),
                 "reason": reason[:300]},
        summary=f"重复录取裁定：{keep.name} 由 {keep.school.name} 录取；理由：{reason}"[:300]))
    return case


def _case_rows(session: Session, keep: Admission | None) -> list[Admission]:
    if keep is None:
        return []
    return list(session.scalars(select(Admission).where(
        Admission.school_year == keep.school_year, Admission.id_blind == keep.id_blind,
        Admission.status.in_(OPEN)).order_by(Admission.id).with_for_update()))


def _move(session: Session, keep: Admission, actor: Actor, now: datetime) -> None:
    """The person's one record goes to the kept school's class, under its cap; a record not yet
    registered leaves the first school's review and is reviewed at the kept school."""
    student = session.get(Student, keep.student_id) if keep.student_id else None
    if student is None:
        return
    school, klass = keep.school, keep.school_class
    size = policy.seated(session, klass.id)
    decision = policy.decide(session, Facts(action="enroll", at=now, codes=policy.codes_of(school),
                                            stage=klass.grade.stage, class_size=size, phase="step"))
    if not decision.allowed:
        raise ValidationFailed(policy.violation_problems(decision))
    before = student.school.name
    student.school, student.grade, student.school_class = school, klass.grade, klass
    student.refresh_chain()
    if student.destination:
        student.destination = f"{school.code} {school.name}"
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action="admission_move",
                           entity="student", entity_id=student.id, entity_uid=student.uid,
                           school_id=school.id,
                           changes={"school": {"old": before, "new": f"{school.name} {klass.name}"}},
                           summary=f"重复录取裁定：{before} → {school.name} {klass.name}"[:300]))
    if not student.registered:
        student.import_job_id = None  # no longer the first school's list to review
        session.flush()
        kind = "register_new" if klass.grade.number == 1 else "register_in_school"
        review = policy.decide(session, policy.facts(kind, now, school, status="in_school", registered=False))
        open_registration(session, student, Actor.system(actor.username), now, review, kind)
