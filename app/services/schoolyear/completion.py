"""Completion (结业): a final-grade student who cannot graduate because the graduation conditions of
the rules in force are not met is marked completed instead, by the school's one action.

Same pattern as graduation: the cohort is read once, the rules (``complete``: its stage and the
graduation window) may refuse it citing file and line, each student asked about gets a result
(completed, or why not), one UPDATE per final grade changes the status with the checks repeated in
it, one history row per student and one audit row for the action.  A completed record is frozen
like a graduated one; ``revoke_graduation`` brings it back in school.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...i18n import t
from ..common.actors import Actor
from ..common.transaction import transaction
from .graduation import Candidate, Outcome, _cohort, _final_grades, _school_for, cohort_audit, mark


def complete(session: Session, actor: Actor, school_id: int, now: datetime, *,
             student_ids: list[int] | None = None, dry_run: bool = False) -> Outcome:
    """Mark completed the students of ``student_ids`` (default: every student kept back by the
    graduation conditions alone); ``results`` says for each one what happened."""
    with transaction(session):
        school = _school_for(session, actor, school_id)
        outcome = _cohort(session, school, now, action="complete")
        outcome.dry_run = dry_run
        by_id = {c.student_id: c for c in outcome.candidates}
        wanted = list(dict.fromkeys(student_ids)) if student_ids is not None else \
            [c.student_id for c in outcome.candidates if c.completable]
        able = {sid for sid in wanted if sid in by_id and by_id[sid].completable}
        if dry_run or outcome.refused:
            outcome.results = [_result(sid, by_id.get(sid), False, bool(outcome.refused),
                                       dry=True) for sid in wanted]
            return outcome
        done: set[int] = set()
        per_grade = {}
        for grade in _final_grades(session, school):
            changed = mark(session, actor, school, grade, able, now, status="completed")
            done.update(changed)
            if changed:
                per_grade[grade.name] = {"stage": grade.stage, "done": len(changed)}
        outcome.completed = len(done)
        outcome.results = [_result(sid, by_id.get(sid), sid in done, False) for sid in wanted]
        refused = sum(1 for r in outcome.results if r["result"] != "completed")
        cohort_audit(session, actor, school, "complete_cohort", outcome, per_grade,
                     f"{school.name}结业办理：结业 {outcome.completed} 人，未办理 {refused} 人")
        return outcome


def _result(student_id: int, c: Candidate | None, done: bool, refused: bool, *,
            dry: bool = False) -> dict:
    """One student's result: completed (a dry run: would be), or the reason it was not."""
    if done or (dry and not refused and c is not None and c.completable):
        return {"student_id": student_id, "name": c.name,
                "result": "completable" if dry else "completed",
                "reason": str(t("可结业", "can be completed") if dry else t("已结业", "completed"))}
    if c is None:
        why = t("不是本校毕业年级的在校生", "not an in-school student of the school's final grade")
    elif refused:
        why = t("规则不允许现在办理结业", "the rules refuse completion now")
    elif c.can:
        why = t("满足毕业条件，应办理毕业", "meets the graduation conditions: graduate instead")
    elif not c.unmet:
        why = "；".join(str(r) for r in c.reasons)
    elif not c.completable:
        why = "；".join(str(r) for r in c.reasons if not str(r).startswith(("毕业条件", "conditions")))
    else:  # completable, but something changed since the list was read
        why = t("学生状态已变化，未办理", "the record changed meanwhile; not completed")
    return {"student_id": student_id, "name": c.name if c else None, "result": "refused",
            "reason": str(why)}
