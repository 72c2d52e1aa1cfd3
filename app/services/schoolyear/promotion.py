"""The promotion batch (升级): every in-school student of a bureau's node moves up one grade with
their class, at the time the rules give.

Set-based: per school, one UPDATE moves a grade's classes and one moves its students, from the top
grade down (so nobody moves twice); the held back (``hold_back``) stay in their grade, take the
class arriving there with their class's number, and lose the mark; final grades (6, 9, 12) stay
for graduation.  What it changes is snapshotted first (``--undo`` restores exactly).  Each school is
one transaction that claims it (``promotion_school.live_key`` is unique per school and school
year): a crashed run resumes after the schools already done, and two runs at once never move a
school twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ...errors import Forbidden, NotFound, Problem, RuleViolation
from ...i18n import t
from ...models import (
    AuditEvent,
    Grade,
    Jurisdiction,
    PromotionClassSnapshot,
    PromotionRun,
    PromotionSchool,
    PromotionStudentSnapshot,
    Request,
    School,
    SchoolClass,
    Student,
)
from ...models.requests import OPEN
from ...models.school import GRADE_NAMES, STAGE_GRADES
from ...policy.engine import school_year_start
from ..common.actors import Actor
from ..common.transaction import transaction
from ..policy.rulesets import codes_of, current, decide, facts, violation_problems

FINAL_GRADES = tuple(max(g) for g in STAGE_GRADES.values() if g)  # 6, 9, 12
SWITCH = "promotion_carry_over"
LIST_LIMIT = 50


def _next(number: int) -> int | None:
    """The grade a grade moves up to, or None for a final grade (and preschool)."""
    for grades in STAGE_GRADES.values():
        if number in grades and number + 1 in grades:
            return number + 1
    return None


# -- the node, who may run it -------------------------------------------------------------------

def node_of(session: Session, actor: Actor, code: str) -> Jurisdiction:
    """The bureau node ``code`` inside the actor's jurisdiction (NotFound otherwise)."""
    code = (code or "").strip()
    missing = t("辖区不存在或不在本辖区", "no such jurisdiction in your jurisdiction")
    if len(code) != 6 or not code.isdigit():
        raise NotFound(t("辖区代码须为 6 位数字", "the jurisdiction code must be 6 digits"), "node")
    return actor.find(session, Jurisdiction, missing, Jurisdiction.code == code, field="node")


def require_runner(actor: Actor) -> None:
    """A bureau's registrar runs the batch (the system from the command line)."""
    if actor.is_system:
        return
    if not any(r.function == "registrar" and r.level != "school" for r in actor.roles) \
            or actor.scope.level not in ("province", "city", "county"):
        raise Forbidden(t("升级须由教育部门学籍管理员执行", "a bureau registrar runs the promotion"))


def _in_node(node: Jurisdiction, model=School):
    return getattr(model, f"{node.level}_code") == node.code


# -- what blocks it -------------------------------------------------------------------------

@dataclass
class Blockers:
    open_requests: list[dict] = field(default_factory=list)
    open_total: int = 0
    final_grades: list[dict] = field(default_factory=list)  # school, grade, students still in school
    final_total: int = 0

    @property
    def any(self) -> bool:
        return bool(self.open_total or self.final_total)

    def as_dict(self) -> dict:
        return {"open_requests": self.open_requests, "open_total": self.open_total,
                "final_grades": self.final_grades, "final_total": self.final_total}


def blockers(session: Session, node: Jurisdiction, exclude_done: int | None = None) -> Blockers:
    """Open business of the node's students and final-grade students still in school (graduation
    unfinished), set-based.  ``exclude_done``: leave out the schools this year's runs have done."""
    schools = select(School.id).where(_in_node(node))
    if exclude_done is not None:
        schools = schools.where(~School.id.in_(_done_schools(exclude_done)))
    out = Blockers()
    open_q = (select(Request.id, Request.kind, Request.status, Request.student_name, School.name)
              .join(Student, Student.id == Request.open_student_id)
              .join(School, School.id == Student.school_id)
              .where(Request.status.in_(OPEN), Student.school_id.in_(schools)))
    out.open_total = session.scalar(select(func.count()).select_from(open_q.subquery())) or 0
    from ..requests.kinds import label

    out.open_requests = [{"id": i, "kind": label(k), "status": s, "student": n, "school": sn}
                         for i, k, s, n, sn in session.execute(
                             open_q.order_by(Request.id).limit(LIST_LIMIT))]
    final_q = (select(School.name, Grade.number, func.count(Student.id))
               .join(Grade, Grade.id == Student.grade_id)
               .join(School, School.id == Student.school_id)
               .where(Student.school_id.in_(schools), Student.status == "in_school",
                      Grade.number.in_(FINAL_GRADES))
               .group_by(School.name, Grade.number).order_by(School.name, Grade.number))
    out.final_grades = [{"school": s, "grade": GRADE_NAMES.get(g, str(g)), "students": c}
                        for s, g, c in session.execute(final_q)]
    out.final_total = sum(r["students"] for r in out.final_grades)
    return out


def _done_schools(year: int):
    return select(PromotionSchool.school_id).where(
        PromotionSchool.school_year == year, PromotionSchool.live_key.is_not(None))


# -- the plan (dry run) --------------------------------------------------------------------

@dataclass
class Plan:
    node_code: str
    node_name: str
    school_year: int
    allowed: bool  # the rules' window (and carry-over) let it run now
    problems: list[Problem]
    blockers: Blockers
    carry_over: bool
    carry_over_source: str | None
    schools: list[dict]  # per school: name, code, students, classes, held back, done already
    run: PromotionRun | None  # the standing run of this node and year, if any

    @property
    def students(self) -> int:
        return sum(s["students"] for s in self.schools if not s["done"])

    def as_dict(self) -> dict:
        return {"node": self.node_code, "name": self.node_name, "school_year": self.school_year,
                "allowed": self.allowed, "problems": [p.as_dict() for p in self.problems],
                "blockers": self.blockers.as_dict(), "carry_over": self.carry_over,
                "carry_over_source": self.carry_over_source, "schools": self.schools,
                "students": self.students, "run": run_dict(self.run) if self.run else None}


def run_dict(run: PromotionRun) -> dict:
    return {"id": run.id, "node": run.node_code, "school_year": run.school_year,
            "status": run.status, "started_at": run.started_at.isoformat(timespec="seconds"),
            "finished_at": run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
            "started_by": run.started_by, "schools": run.schools_total,
            "students_moved": run.students_moved, "classes_moved": run.classes_moved,
            "held_back": run.held_back, "carried_over": run.carried_over}


def _movable(session: Session, school_id: int) -> dict[int, int]:
    """grade id -> number of the school's grades that move up."""
    return {gid: n for gid, n in session.execute(
        select(Grade.id, Grade.number).where(Grade.school_id == school_id)) if _next(n)}


def plan(session: Session, actor: Actor, code: str, now: datetime) -> Plan:
    """What a run would do now: the rules' decision, the blockers, per-school counts.  Reads only
    (a bureau's supervisor may look; schools may not)."""
    if not actor.is_system and actor.scope.level not in ("province", "city", "county"):
        raise Forbidden(t("升级由教育部门执行", "the promotion is a bureau's"))
    node = node_of(session, actor, code)
    year = school_year_start(now)
    decision = decide(session, facts("promote", now, node))
    problems = violation_problems(decision)
    found = blockers(session, node, exclude_done=year)
    switch = current(session).effective(*codes_of(node)).switches.get(SWITCH)
    carry = bool(switch and switch.value)
    source = str(switch.source) if switch else None
    if found.any and not carry:
        problems.append(Problem(
            t("存在未办结的业务或未毕业的毕业年级学生，须先办结；规则未允许带着这些情况升级",
              "open business or an unfinished graduation blocks the promotion, and the rules do "
              "not allow carrying it over"), None, "promotion_blocked", source))
    done = set(session.scalars(_done_schools(year)))
    counts = dict(session.execute(
        select(Student.school_id, func.count()).join(Grade, Grade.id == Student.grade_id)
        .join(School, School.id == Student.school_id)
        .where(_in_node(node), Student.status == "in_school", Student.hold_back.is_(False),
               Grade.number.in_([n for n in range(0, 13) if _next(n)]))
        .group_by(Student.school_id)).all())
    held = dict(session.execute(
        select(Student.school_id, func.count()).join(School, School.id == Student.school_id)
        .where(_in_node(node), Student.status == "in_school", Student.hold_back.is_(True))
        .group_by(Student.school_id)).all())
    classes = dict(session.execute(
        select(SchoolClass.school_id, func.count()).join(Grade, Grade.id == SchoolClass.grade_id)
        .join(School, School.id == SchoolClass.school_id)
        .where(_in_node(node), Grade.number.in_([n for n in range(0, 13) if _next(n)]))
        .group_by(SchoolClass.school_id)).all())
    schools = [{"id": sid, "code": sc, "name": name, "students": counts.get(sid, 0),
                "classes": classes.get(sid, 0), "held_back": held.get(sid, 0), "done": sid in done}
               for sid, sc, name in session.execute(
                   select(School.id, School.code, School.name).where(_in_node(node))
                   .order_by(School.code))]
    run = _standing(session, node.code, year)
    return Plan(node.code, node.name, year, not problems, problems, found, carry, source, schools,
                run)


def _standing(session: Session, code: str, year: int) -> PromotionRun | None:
    return session.scalar(select(PromotionRun).where(PromotionRun.live_key == f"{code}:{year}"))


# -- the run -----------------------------------------------------------------------------

@dataclass
class Outcome:
    run: PromotionRun
    already: bool  # the run had finished before: nobody moved this time
    schools_now: int  # schools promoted by this call
    students_now: int


def promote(session: Session, actor: Actor, code: str, now: datetime, progress=None) -> Outcome:
    """Run (or resume) the promotion of node ``code``; refuses outside the rules' window and
    while blockers stand (unless the rules carry them over).  Each school commits by itself;
    ``progress(schools done, schools in all)`` hears of each (a job's progress bar)."""
    require_runner(actor)
    p = plan(session, actor, code, now)
    if p.run is not None and p.run.status == "done":
        return Outcome(p.run, True, 0, 0)
    if not p.allowed:
        raise RuleViolation(p.problems)
    node = node_of(session, actor, code)
    run = _open_run(session, actor, node, p, now)
    schools_now = students_now = 0
    for index, school in enumerate(p.schools, start=1):
        if school["done"]:
            continue
        moved = _promote_school(session, actor, run.id, school["id"], p.school_year, now)
        if moved is not None:
            schools_now += 1
            students_now += moved
        if progress:
            progress(index, len(p.schools))
    with transaction(session):
        remaining = session.scalar(select(func.count()).select_from(School).where(
            _in_node(node), ~School.id.in_(_done_schools(p.school_year))))
        if not remaining:
            session.execute(update(PromotionRun).where(PromotionRun.id == run.id,
                                                       PromotionRun.status == "running")
                            .values(status="done", finished_at=now))
            session.add(_audit(actor, "promote", run, node, f"{node.name}升级完成（{p.school_year}学年）"))
    session.refresh(run)
    return Outcome(run, False, schools_now, students_now)


def _open_run(session: Session, actor: Actor, node: Jurisdiction, p: Plan, now: datetime
              ) -> PromotionRun:
    """The standing run of the node and year, or a new one (a concurrent start finds the other's)."""
    if p.run is not None:
        return p.run
    try:
        with transaction(session):
            run = PromotionRun(node_code=node.code, school_year=p.school_year,
                               live_key=f"{node.code}:{p.school_year}", status="running",
                               started_at=now, started_by=actor.username,
                               carried_over=p.blockers.as_dict() if p.blockers.any else None,
                               schools_total=len(p.schools), students_moved=0, classes_moved=0,
                               held_back=0, rule_version=current(session).version,
                               province_code=node.province_code, city_code=node.city_code,
                               county_code=node.county_code)
            session.add(run)
            session.flush()
            session.add(_audit(actor, "promote_start", run, node, f"开始{node.name}升级（{p.school_year}学年）"))
        return run
    except IntegrityError:
        run = _standing(session, node.code, p.school_year)
        if run is None:
            raise
        return run


def _promote_school(session: Session, actor: Actor, run_id: int, school_id: int, year: int,
                    now: datetime) -> int | None:
    """Claim and promote one school as one transaction; None when another run had it."""
    try:
        with transaction(session):
            school = session.get(School, school_id)
            claim = PromotionSchool(run_id=run_id, school_id=school_id, school_year=year,
                                    live_key=f"{school_id}:{year}", done_at=now, students_moved=0,
                                    classes_moved=0, held_back=0, province_code=school.province_code,
                                    city_code=school.city_code, county_code=school.county_code)
            session.add(claim)
            session.flush()  # the claim: a second run waits here, then finds the school taken
            students, classes, held = _move(session, run_id, school)
            claim.students_moved, claim.classes_moved, claim.held_back = students, classes, held
            session.execute(update(PromotionRun).where(PromotionRun.id == run_id).values(
                students_moved=PromotionRun.students_moved + students,
                classes_moved=PromotionRun.classes_moved + classes,
                held_back=PromotionRun.held_back + held))
            session.add(AuditEvent(
                user_id=actor.user_id, username=actor.username, action="promote", entity="school",
                entity_id=school_id, school_id=school_id,
                changes={"run": run_id, "students": students, "classes": classes, "held_back": held},
                summary=f"{school.name}升级：{students} 名学生、{classes} 个班升入高一年级，{held} 名留级"))
        return students
    except IntegrityError:
        if session.scalar(select(PromotionSchool.id).where(
                PromotionSchool.live_key == f"{school_id}:{year}")) is None:
            raise  # not the claim: a real error
        return None


def _move(session: Session, run_id: int, school: School) -> tuple[int, int, int]:
    """The set-based moves of one school; returns students moved, classes moved, held back."""
    grades = {n: gid for gid, n in session.execute(
        select(Grade.id, Grade.number).where(Grade.school_id == school.id))}
    steps = []
    for number in sorted(grades, reverse=True):
        up = _next(number)
        if up is None:
            continue
        if up not in grades:  # the grade above is missing: one row, not one per student
            grade = Grade(school=school, school_id=school.id, stage=_stage(up), number=up,
                          name=GRADE_NAMES[up])
            session.add(grade)
            session.flush()
            grades[up] = grade.id
        steps.append((grades[number], grades[up]))
    moving = [g for g, _ in steps]
    in_school = and_(Student.school_id == school.id, Student.status == "in_school")
    session.execute(insert(PromotionStudentSnapshot).from_select(
        ["run_id", "school_id", "student_id", "old_grade_id", "old_class_id", "old_hold_back"],
        select(literal(run_id), Student.school_id, Student.id, Student.grade_id, Student.class_id,
               Student.hold_back)
        .where(in_school, or_(Student.grade_id.in_(moving), Student.hold_back.is_(True)))))
    session.execute(insert(PromotionClassSnapshot).from_select(
        ["run_id", "school_id", "class_id", "old_grade_id"],
        select(literal(run_id), SchoolClass.school_id, SchoolClass.id, SchoolClass.grade_id)
        .where(SchoolClass.school_id == school.id, SchoolClass.grade_id.in_(moving))))
    students = classes = 0
    for old, new in steps:  # from the top grade down: a moved grade is never moved again
        classes += session.execute(
            update(SchoolClass).where(SchoolClass.school_id == school.id,
                                      SchoolClass.grade_id == old)
            .values(grade_id=new).execution_options(synchronize_session=False)).rowcount
        students += session.execute(
            update(Student).where(in_school, Student.grade_id == old, Student.hold_back.is_(False))
            .values(grade_id=new).execution_options(synchronize_session=False)).rowcount
    # the held back stay: into the class now in their grade with their class's number (or none)
    mine, arrived = aliased(SchoolClass), aliased(SchoolClass)
    moved_away = exists().where(mine.id == Student.class_id, mine.grade_id != Student.grade_id)
    seat = (select(func.min(arrived.id)).where(
        arrived.school_id == Student.school_id, arrived.grade_id == Student.grade_id,
        arrived.number == select(mine.number).where(mine.id == Student.class_id)
        .correlate(Student).scalar_subquery()).correlate(Student).scalar_subquery())
    session.execute(update(Student).where(in_school, Student.hold_back.is_(True), moved_away)
                    .values(class_id=seat).execution_options(synchronize_session=False))
    held = session.execute(update(Student).where(in_school, Student.hold_back.is_(True))
                           .values(hold_back=False)
                           .execution_options(synchronize_session=False)).rowcount
    return students, classes, held


def _stage(number: int) -> str:
    from ...models.school import stage_of_grade

    return stage_of_grade(number)


def _audit(actor: Actor, action: str, run: PromotionRun, node: Jurisdiction, summary: str
           ) -> AuditEvent:
    return AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                      entity="promotion_run", entity_id=run.id, province_code=node.province_code,
                      city_code=node.city_code, county_code=node.county_code,
                      changes={"node": node.code, "school_year": run.school_year}, summary=summary)


# -- undo ---------------------------------------------------------------------------------

def get_run(session: Session, actor: Actor, run_id) -> PromotionRun:
    try:
        pk = int(run_id)
    except (TypeError, ValueError):
        raise NotFound(t("升级批次编号须为整数", "the run must be a number"), "run") from None
    return actor.fetch(session, PromotionRun, pk,
                       t("升级批次不存在或不在本辖区", "no such promotion run in your jurisdiction"),
                       field="run")


def undo(session: Session, actor: Actor, run_id, now: datetime) -> dict:
    """Undo a run (``app.services.schoolyear.promotion_undo``: who is restored, who is not)."""
    from .promotion_undo import undo as undo_run

    return undo_run(session, actor, run_id, now)


def runs(session: Session, actor: Actor, code: str | None = None) -> list[PromotionRun]:
    """The runs the actor may see, newest first (of one node if ``code``)."""
    q = select(PromotionRun).where(actor.scope.clause(PromotionRun))
    if code:
        q = q.where(PromotionRun.node_code == code)
    return list(session.scalars(q.order_by(PromotionRun.id.desc()).limit(50)))
