"""Undoing a promotion run (撤销升级): the snapshot the run took puts back every student and class
it moved -- the students still on record at the school it promoted; those who left since are
left alone and counted.  Set-based, one transaction, audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...i18n import t
from ...models import (
    Grade,
    Jurisdiction,
    PromotionClassSnapshot,
    PromotionSchool,
    PromotionStudentSnapshot,
    SchoolClass,
    Student,
)
from ..common.actors import Actor
from ..common.transaction import transaction
from .promotion import _audit, get_run, require_runner

# 在籍: a student with one of these statuses still belongs to the school (a suspended student too)
ON_RECORD = ("in_school", "suspended", "resuming")


def undo(session: Session, actor: Actor, run_id, now: datetime) -> dict:
    """Put every student and class the run moved back as the snapshot found them; the run stops
    standing, so the node may be promoted again.

    Only students still on record (在籍) at the school the run promoted are restored: one who left
    since (transferred out, dropped out, graduated, completed ...) keeps their record as it is now
    and is counted in ``students_left``.  A student who arrived since the run and sits in a class
    the undo moves to another grade loses that seat (``students_unseated``).  Grade rows the run
    created stay (now without classes: ``grades_emptied``)."""
    require_runner(actor)
    with transaction(session):
        run = get_run(session, actor, run_id)
        if run.status == "undone":
            raise Conflict(t("该升级批次已撤销", "this run is already undone"), "run")
        node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == run.node_code))
        out = {"run": run.id, **_restore(session, run.id)}
        session.execute(update(PromotionSchool).where(PromotionSchool.run_id == run.id)
                        .values(live_key=None))
        run.status, run.live_key, run.undone_at, run.undone_by = "undone", None, now, actor.username
        event = _audit(actor, "promote_undo", run, node,
                       f"撤销{node.name}升级（{run.school_year}学年）：恢复 {out['students_restored']} "
                       f"名学生、{out['classes_restored']} 个班；{out['students_left']} 名学生已离校，未恢复")
        event.changes = {**event.changes, **{k: v for k, v in out.items() if k != "run"}}
        session.add(event)
    session.expire_all()  # the rows changed behind the ORM's back
    return out


def _restore(session: Session, run_id: int) -> dict:
    """The set-based restore of one run's snapshot; the counts of what it did and left alone."""
    snap, csnap = PromotionStudentSnapshot, PromotionClassSnapshot
    students = session.execute(  # UPDATE ... FROM the snapshot: one join, not a look-up per column
        update(Student).where(snap.run_id == run_id, snap.student_id == Student.id,
                              snap.school_id == Student.school_id, Student.status.in_(ON_RECORD))
        .values(grade_id=snap.old_grade_id, class_id=snap.old_class_id, hold_back=snap.old_hold_back)
        .execution_options(synchronize_session=False)).rowcount
    still = exists().where(Student.id == snap.student_id, Student.school_id == snap.school_id,
                           Student.status.in_(ON_RECORD))
    left = session.scalar(select(func.count()).select_from(snap).where(
        snap.run_id == run_id, ~still)) or 0
    cmine = and_(csnap.run_id == run_id, csnap.class_id == SchoolClass.id)
    moved_to = select(csnap.class_id).where(csnap.run_id == run_id)
    # who came since the run into a class about to move to another grade than theirs: their seat
    # goes, their grade stays (one the run did not move, e.g. suspended, finds its grade again)
    back_to = (select(csnap.old_grade_id).where(csnap.run_id == run_id,
                                                csnap.class_id == Student.class_id)
               .correlate(Student).scalar_subquery())
    newcomer = and_(Student.class_id.in_(moved_to), Student.status.in_(ON_RECORD),
                    Student.grade_id != back_to,
                    ~exists().where(snap.run_id == run_id, snap.student_id == Student.id))
    unseated = session.execute(update(Student).where(newcomer).values(class_id=None)
                               .execution_options(synchronize_session=False)).rowcount
    left_grades = set(session.scalars(select(SchoolClass.grade_id).where(exists().where(cmine))))
    classes = session.execute(
        update(SchoolClass).where(csnap.run_id == run_id, csnap.class_id == SchoolClass.id)
        .values(grade_id=csnap.old_grade_id).execution_options(synchronize_session=False)).rowcount
    emptied = session.scalar(select(func.count()).select_from(Grade).where(
        Grade.id.in_(left_grades), ~exists().where(SchoolClass.grade_id == Grade.id))) or 0
    return {"students_restored": students, "classes_restored": classes, "students_left": left,
            "students_unseated": unseated, "grades_emptied": emptied}
