"""Graduation (毕业): a school graduates its final-grade cohort in one action.

Every in-school student of a final grade (primary 6, junior 9, senior 12) is checked at once: an
open request (在办业务), a problem record (问题学籍) or a graduation condition of the rules in force
(``actions.graduate.stages.<stage>.conditions``: record items a graduate must have) keeps the student
back, each unmet condition named with its file:line; the rules (the graduation window) may refuse
the whole cohort, citing file and line.  A student kept back only by the conditions may be marked
completed (结业) instead (``app.services.schoolyear.completion``).
Compulsory stages graduate at once with one UPDATE (status graduated, graduated_at set: the record
is frozen, since every other request requires another status), one ``graduation`` row (where and
when: what reports count, whatever the record does later) and one history row per student;
senior secondary opens a graduation review (``graduate`` request) for each student that the bureau
approves.  The cohort action itself is one audit row (who, school, grade, counts).  A graduate's destination
(去向) is filled in by ``fill_destination`` when the same person is enrolled elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import Session

from ...errors import Forbidden, Problem
from ...i18n import t
from ...models import AuditEvent, Grade, Graduation, Request, School, SchoolClass, Student
from ...policy.engine import graduation_conditions
from ...policy.vocab import COMPULSORY, FINAL_GRADE, STAGE_ZH
from ..common.actors import Actor
from ..common.transaction import transaction
from ..policy import rulesets as policy
from ..record.history_words import KIND_EN
from ..requests import starting
from ..requests.kinds import label
from .conditions import item_column, reason, unmet


@dataclass
class Candidate:
    """One student of the final grade, and why they cannot graduate (nothing: they can)."""

    student_id: int
    name: str
    class_name: str | None
    stage: str
    reasons: list[str] = field(default_factory=list)
    unmet: list[dict] = field(default_factory=list)  # conditions not met: item, label, source
    grade_id: int | None = None

    @property
    def can(self) -> bool:
        return not self.reasons

    @property
    def completable(self) -> bool:
        """Kept back by the graduation conditions alone: may be marked completed (结业)."""
        return bool(self.unmet) and len(self.reasons) == 1

    def as_dict(self) -> dict:
        return {"student_id": self.student_id, "name": self.name, "class": self.class_name,
                "stage": self.stage, "can": self.can, "reasons": [str(r) for r in self.reasons],
                "conditions_unmet": self.unmet, "completable": self.completable}


@dataclass
class Outcome:
    """The cohort of one school, what the rules say, and what was done."""

    school_code: str
    school_name: str
    candidates: list[Candidate]
    refused: list[Problem]  # the rules refuse the whole cohort (e.g. outside the window)
    dry_run: bool = True
    graduated: int = 0  # compulsory stages: graduated now
    reviews: int = 0  # senior secondary: graduation reviews sent to the bureau
    completed: int = 0  # 结业: marked completed now
    results: list[dict] = field(default_factory=list)  # completion: one result per student asked

    @property
    def eligible(self) -> list[Candidate]:
        return [] if self.refused else [c for c in self.candidates if c.can]

    def as_dict(self) -> dict:
        return {"school": self.school_code, "dry_run": self.dry_run, "graduated": self.graduated,
                "reviews": self.reviews, "completed": self.completed, "results": self.results,
                "eligible": len(self.eligible),
                "kept_back": sum(1 for c in self.candidates if not c.can),
                "refused": [{"message": p.message, "code": p.code, "source": p.source}
                            for p in self.refused],
                "students": [c.as_dict() for c in self.candidates]}


def _school_for(session: Session, actor: Actor, school_id: int) -> School:
    school = actor.fetch(session, School, school_id,
                         t("学校不存在或不在管辖范围内", "no such school in your jurisdiction"), field="school")
    if not actor.is_system and actor.school_id != school.id:
        raise Forbidden(t("毕业由学校办理", "the school itself graduates its students"))
    actor.require("Request", "add")
    return school


def _final_grades(session: Session, school: School) -> list[Grade]:
    grades = session.scalars(select(Grade).where(Grade.school_id == school.id)).all()
    return [g for g in grades if FINAL_GRADE.get(g.stage) == g.number]


def _open_request():
    return exists().where(Request.open_student_id == Student.id)


def cohort(session: Session, actor: Actor, school_id: int, now: datetime) -> Outcome:
    """The school's final-grade cohort, each student with what keeps them back (nothing written)."""
    school = _school_for(session, actor, school_id)
    return _cohort(session, school, now)


def _cohort(session: Session, school: School, now: datetime, action: str = "graduate") -> Outcome:
    candidates: list[Candidate] = []
    refused: list[Problem] = []
    eff = policy.effective_for(session, school)
    for grade in _final_grades(session, school):
        decision = policy.decide(session, policy.facts(action, now, school, stage=grade.stage,
                                                       status="in_school"))
        refused += [p for p in policy.violation_problems(decision) if p not in refused]
        required = graduation_conditions(eff, grade.stage)
        open_kind = (select(Request.kind).where(Request.open_student_id == Student.id)
                     .limit(1).correlate(Student).scalar_subquery())
        rows = session.execute(
            select(Student.id, Student.name, SchoolClass.name, Student.problem, open_kind,
                   *(item_column(n) for n in required))
            .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
            .where(Student.school_id == school.id, Student.grade_id == grade.id,
                   Student.status == "in_school")
            .order_by(SchoolClass.name, Student.id)).all()
        for sid, name, class_name, problem, open_kind_, *items in rows:
            c = Candidate(sid, name, class_name, grade.stage, grade_id=grade.id)
            if open_kind_ is not None:
                c.reasons.append(t(f"有在办业务：{label(open_kind_)}",
                                   f"request in progress: {KIND_EN.get(open_kind_, label(open_kind_))}"))
            if problem:
                c.reasons.append(t("问题学籍，须先处理", "problem record to resolve first"))
            _conditions(c, required, items)
            candidates.append(c)
    return Outcome(school.code, school.name, candidates, refused)


def _conditions(c: Candidate, required: dict[str, str], values: list) -> None:
    """The graduation conditions the student's record does not meet, each with its rule."""
    c.unmet = unmet(required, values)
    if c.unmet:
        c.reasons.append(reason(c.unmet))


def graduate(session: Session, actor: Actor, school_id: int, now: datetime, *,
             dry_run: bool = False) -> Outcome:
    """Graduate every student of the cohort who can: compulsory stages at once (one UPDATE per
    final grade), senior secondary through a graduation review each.  ``dry_run`` writes nothing;
    otherwise one audit row for the cohort action and one history row per student."""
    with transaction(session):
        school = _school_for(session, actor, school_id)
        outcome = _cohort(session, school, now)
        outcome.dry_run = dry_run
        if dry_run or outcome.refused:
            return outcome
        able = {c.student_id for c in outcome.eligible}
        per_grade = {}
        for grade in _final_grades(session, school):
            if grade.stage in COMPULSORY:
                done = len(mark(session, actor, school, grade, able, now, status="graduated"))
                outcome.graduated += done
            else:
                done = _open_reviews(session, school, grade, able, actor, now)
                outcome.reviews += done
            per_grade[grade.name] = {"stage": grade.stage, "done": done}
        cohort_audit(session, actor, school, "graduate_cohort", outcome, per_grade,
                     f"{school.name}毕业办理：毕业 {outcome.graduated} 人，报审 {outcome.reviews} 人，"
                     f"暂不能毕业 {sum(1 for c in outcome.candidates if not c.can)} 人")
        return outcome


def mark(session: Session, actor: Actor, school: School, grade: Grade, ids: set[int],
         now: datetime, *, status: str) -> list[int]:
    """One UPDATE for the grade's chosen students (graduated or completed), with the checks
    repeated in it (a request opened since the list was read keeps its student back), and one
    graduation row and one history row per student it changed.  Returns their ids."""
    if not ids:
        return []
    values = {"status": status, "version": Student.version + 1}
    if status == "graduated":
        values["graduated_at"] = now
    changed = session.execute(
        update(Student)
        .where(and_(Student.school_id == school.id, Student.grade_id == grade.id,
                    Student.status == "in_school", Student.problem.is_(False),
                    Student.id.in_(ids), ~_open_request()))
        .values(**values).returning(Student.id, Student.uid)
        .execution_options(synchronize_session=False)).all()
    session.expire_all()
    if changed:
        shared = Graduation.values(school, grade, status, now)
        session.execute(insert(Graduation), [{"student_id": sid, **shared} for sid, _uid in changed])
        words = {"graduated": "毕业", "completed": "结业"}[status]
        session.execute(insert(AuditEvent), [
            {"user_id": actor.user_id, "username": actor.username,
             "action": f"apply_{'graduate' if status == 'graduated' else 'complete'}",
             "entity": "student", "entity_id": sid, "entity_uid": uid, "school_id": school.id,
             "changes": {"status": {"old": "in_school", "new": status}},
             "summary": f"{grade.name}{words}（{school.name}）"[:300]} for sid, uid in changed])
    return [sid for sid, _uid in changed]


def cohort_audit(session: Session, actor: Actor, school: School, action: str, outcome: Outcome,
                 per_grade: dict, summary: str) -> None:
    """The one audit row of a cohort action: who, which school, which grades, the counts."""
    session.add(AuditEvent(
        user_id=actor.user_id, username=actor.username, action=action, entity="school",
        entity_id=school.id, school_id=school.id,
        changes={"grades": per_grade, "graduated": outcome.graduated, "reviews": outcome.reviews,
                 "completed": outcome.completed,
                 "kept_back": sum(1 for c in outcome.candidates if not c.can)},
        summary=summary[:300]))


def _open_reviews(session: Session, school: School, grade: Grade, able: set[int], actor: Actor,
                  now: datetime) -> int:
    """A graduation review to the bureau for each senior student who may graduate."""
    decision = policy.require(session, policy.facts("graduate", now, school, stage=grade.stage,
                                                    status="in_school"))
    students = session.scalars(select(Student).where(
        Student.school_id == school.id, Student.grade_id == grade.id, Student.id.in_(able),
        Student.status == "in_school", ~_open_request())).all()
    for student in students:
        starting.open_review(session, student, actor, now, decision, "graduate",
                             f"{STAGE_ZH[grade.stage]}毕业审核")
    session.flush()
    return len(students)


def fill_destination(session: Session, student: Student) -> int:
    """去向: a record just enrolled elsewhere names its school on the same person's graduated
    records (found by the ID's blind index); runs inside the caller's transaction.  Returns how
    many graduated records it filled."""
    if not student.id_blind or student.school_id is None:
        return 0
    school = session.get(School, student.school_id)
    result = session.execute(
        update(Student)
        .where(Student.id_blind == student.id_blind, Student.id != student.id,
               Student.status.in_(("graduated", "completed")), Student.destination.is_(None),
               Student.school_id != student.school_id)
        .values(destination=f"{school.code} {school.name}"[:200])
        .execution_options(synchronize_session=False))
    return result.rowcount or 0
