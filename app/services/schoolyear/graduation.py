"""Graduation (毕业): a school graduates its final-grade cohort in one action.

Every in-school student of a final grade (primary 6, junior 9, senior 12) is checked at once: an
open request (在办业务), a problem record (问题学籍) or a missing required item keeps the student back,
and the rules in force (the graduation window) may refuse the whole cohort, citing file and line.
Compulsory stages graduate at once with one UPDATE (status graduated, graduated_at set: the record
is frozen, since every other request requires another status); senior secondary opens a graduation
review (``graduate`` request) for each student that the bureau approves.  A graduate's destination
(去向) is filled in by ``fill_destination`` when the same person is enrolled elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from ...errors import Forbidden, Problem
from ...i18n import t
from ...models import Grade, Request, School, SchoolClass, Student
from ...policy.vocab import COMPULSORY, FINAL_GRADE, STAGE_ZH
from ..common.actors import Actor
from ..common.transaction import transaction
from ..policy import rulesets as policy
from ..record.history_words import KIND_EN
from ..requests import starting
from ..requests.kinds import label

# senior secondary graduates only with these items present (毕业条件: 必填项齐全)
SENIOR_REQUIRED = {"id_blind": ("身份证件号", "ID number"), "entry_date": ("入学年月", "entry date"),
                   "class_id": ("班级", "class")}


@dataclass
class Candidate:
    """One student of the final grade, and why they cannot graduate (nothing: they can)."""

    student_id: int
    name: str
    class_name: str | None
    stage: str
    reasons: list[str] = field(default_factory=list)

    @property
    def can(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict:
        return {"student_id": self.student_id, "name": self.name, "class": self.class_name,
                "stage": self.stage, "can": self.can, "reasons": self.reasons}


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

    @property
    def eligible(self) -> list[Candidate]:
        return [] if self.refused else [c for c in self.candidates if c.can]

    def as_dict(self) -> dict:
        return {"school": self.school_code, "dry_run": self.dry_run, "graduated": self.graduated,
                "reviews": self.reviews, "eligible": len(self.eligible),
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


def _cohort(session: Session, school: School, now: datetime) -> Outcome:
    candidates: list[Candidate] = []
    refused: list[Problem] = []
    for grade in _final_grades(session, school):
        decision = policy.decide(session, policy.facts("graduate", now, school, stage=grade.stage,
                                                       status="in_school"))
        refused += [p for p in policy.violation_problems(decision) if p not in refused]
        open_kind = (select(Request.kind).where(Request.open_student_id == Student.id)
                     .limit(1).correlate(Student).scalar_subquery())
        rows = session.execute(
            select(Student.id, Student.name, SchoolClass.name, Student.problem, open_kind,
                   Student.id_blind, Student.entry_date, Student.class_id)
            .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
            .where(Student.school_id == school.id, Student.grade_id == grade.id,
                   Student.status == "in_school")
            .order_by(SchoolClass.name, Student.id)).all()
        for sid, name, class_name, problem, open_kind_, blind, entry_date, class_id in rows:
            c = Candidate(sid, name, class_name, grade.stage)
            if open_kind_ is not None:
                c.reasons.append(t(f"有在办业务：{label(open_kind_)}",
                                   f"request in progress: {KIND_EN.get(open_kind_, label(open_kind_))}"))
            if problem:
                c.reasons.append(t("问题学籍，须先处理", "problem record to resolve first"))
            if grade.stage == "senior":
                values = {"id_blind": blind, "entry_date": entry_date, "class_id": class_id}
                missing = [SENIOR_REQUIRED[k] for k, v in values.items() if v in (None, "")]
                if missing:
                    c.reasons.append(t("毕业条件不满足，缺少：" + "、".join(m[0] for m in missing),
                                       "conditions not met, missing: " + ", ".join(m[1] for m in missing)))
            candidates.append(c)
    return Outcome(school.code, school.name, candidates, refused)


def graduate(session: Session, actor: Actor, school_id: int, now: datetime, *,
             dry_run: bool = False) -> Outcome:
    """Graduate every student of the cohort who can: compulsory stages at once (one UPDATE per
    final grade), senior secondary through a graduation review each.  ``dry_run`` writes nothing."""
    with transaction(session):
        school = _school_for(session, actor, school_id)
        outcome = _cohort(session, school, now)
        outcome.dry_run = dry_run
        if dry_run or outcome.refused:
            return outcome
        able = {c.student_id for c in outcome.eligible}
        for grade in _final_grades(session, school):
            if grade.stage in COMPULSORY:
                outcome.graduated += _graduate_compulsory(session, school, grade, able, now)
            else:
                outcome.reviews += _open_reviews(session, school, grade, able, actor, now)
        return outcome


def _graduate_compulsory(session: Session, school: School, grade: Grade, able: set[int],
                         now: datetime) -> int:
    """One UPDATE for the grade's cohort, with the checks repeated in it (a request opened since
    the list was read keeps its student back)."""
    if not able:
        return 0
    result = session.execute(
        update(Student)
        .where(and_(Student.school_id == school.id, Student.grade_id == grade.id,
                    Student.status == "in_school", Student.problem.is_(False),
                    Student.id.in_(able), ~_open_request()))
        .values(status="graduated", graduated_at=now, version=Student.version + 1)
        .execution_options(synchronize_session=False))
    session.expire_all()
    return result.rowcount or 0


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
