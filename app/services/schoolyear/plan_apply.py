"""Applying an enrollment plan (按计划建班): the entry grade if missing and the plan's classes not
yet created, set-based and in one transaction; applying again creates nothing.  These are the
classes the admission import fills, each up to its planned cap."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...i18n import t
from ...models import (
    EnrollmentPlan,
    EnrollmentPlanClass,
    Grade,
    PromotionRun,
    PromotionSchool,
    School,
    SchoolClass,
)
from ...models.school import GRADE_NAMES
from ..common.actors import Actor
from ..common.transaction import transaction
from ..policy.rulesets import codes_of
from .plans import audit, plan_in_scope, require_bureau_registrar


def apply_plan(session: Session, actor: Actor, plan_id, now: datetime) -> dict:
    """Create the entry grade (if missing) and the plan's classes not yet created, set-based, in
    one transaction; applying again creates nothing.  The school must have been promoted into
    the plan's school year first, or the promotion would carry the new classes up a grade."""
    require_bureau_registrar(actor)
    with transaction(session):
        plan = plan_in_scope(session, actor, plan_id, lock=True)
        school = session.get(School, plan.school_id)
        if not _promoted(session, school, plan.school_year):
            raise Conflict(t(f"{school.name}尚未完成 {plan.school_year} 学年升级：升级后才能按计划建立新生班级",
                             f"{school.name} is not yet promoted into {plan.school_year}: "
                             "new classes come after the promotion"), "plan")
        grade, grade_created = _entry_grade(session, school, plan)
        _refuse_clashes(session, plan, grade.id)
        mine = and_(EnrollmentPlanClass.plan_id == plan.id, EnrollmentPlanClass.class_id.is_(None))
        taken = exists().where(SchoolClass.school_id == school.id,
                               SchoolClass.name == EnrollmentPlanClass.name)
        created = len(session.execute(insert(SchoolClass).from_select(
            ["school_id", "grade_id", "number", "name", "entry_year", "province_code", "city_code",
             "county_code"],
            select(literal(school.id), literal(grade.id), EnrollmentPlanClass.number,
                   EnrollmentPlanClass.name, literal(plan.school_year),
                   literal(school.province_code), literal(school.city_code),
                   literal(school.county_code)).where(mine, ~taken))
            .returning(SchoolClass.id)).all())  # rowcount of INSERT ... SELECT is not portable
        linked = session.execute(update(EnrollmentPlanClass).where(mine).values(
            class_id=select(SchoolClass.id).where(
                SchoolClass.school_id == school.id, SchoolClass.grade_id == grade.id,
                SchoolClass.name == EnrollmentPlanClass.name).scalar_subquery())
            .execution_options(synchronize_session=False)).rowcount
        if created or linked or grade_created:
            plan.applied_at, plan.applied_by = now, actor.username
            audit(session, actor, "plan_apply", plan,
                  {"classes_created": {"new": created}, "grade_created": {"new": grade_created}},
                  f"按招生计划为{school.name}建立{GRADE_NAMES[plan.grade]}新班 {created} 个"
                  f"{'（新建年级）' if grade_created else ''}", plan.rule_version)
    session.expire_all()  # rows were written behind the ORM's back
    return {"plan": plan.id, "classes_created": created, "grade_created": grade_created,
            "already": not (created or linked or grade_created)}


def _promoted(session: Session, school: School, year: int) -> bool:
    """The school moved up into ``year``, or opened after its node's promotion of that year ended."""
    own = select(PromotionSchool.id).where(
        PromotionSchool.school_id == school.id, PromotionSchool.school_year == year,
        PromotionSchool.live_key.is_not(None))
    node = select(PromotionRun.id).where(
        PromotionRun.school_year == year, PromotionRun.status == "done",
        PromotionRun.live_key.is_not(None), PromotionRun.node_code.in_(codes_of(school)))
    return bool(session.scalar(select(exists(own) | exists(node))))


def _entry_grade(session: Session, school: School, plan: EnrollmentPlan) -> tuple[Grade, bool]:
    grade = session.scalar(select(Grade).where(Grade.school_id == school.id,
                                               Grade.number == plan.grade))
    if grade is not None:
        return grade, False
    grade = Grade(school=school, school_id=school.id, stage=plan.stage, number=plan.grade,
                  name=GRADE_NAMES[plan.grade])
    session.add(grade)
    session.flush()
    return grade, True


def _refuse_clashes(session: Session, plan: EnrollmentPlan, grade_id: int) -> None:
    """A planned name already used by a class of another grade of the school cannot be created."""
    clashes = session.scalars(
        select(SchoolClass.name).join(EnrollmentPlanClass, and_(
            EnrollmentPlanClass.plan_id == plan.id, EnrollmentPlanClass.class_id.is_(None),
            EnrollmentPlanClass.name == SchoolClass.name))
        .where(SchoolClass.school_id == plan.school_id, SchoolClass.grade_id != grade_id)
        .order_by(SchoolClass.name)).all()
    if clashes:
        raise Conflict(t(f"本校其他年级已有同名班级：{'、'.join(clashes)}，请修改计划中的班级名称",
                         f"other grades already have classes named {', '.join(clashes)}"), "classes")


def planned_caps(session: Session, class_ids) -> dict[int, int]:
    """{class id: its planned cap} for classes created from a plan (the admission import fills a
    class up to it; the rules' cap still holds above it)."""
    ids = list(class_ids)
    if not ids:
        return {}
    return dict(session.execute(select(EnrollmentPlanClass.class_id, func.min(EnrollmentPlanClass.cap))
                                .where(EnrollmentPlanClass.class_id.in_(ids))
                                .group_by(EnrollmentPlanClass.class_id)).all())
