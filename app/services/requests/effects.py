"""The end of a request: the last approval applies its kind's change and tells every party; a request
not approved leaves what its kind leaves.  What each kind does is declared in ``kinds/``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...models import AuditEvent, Request, Student
from . import kinds, parties
from .notifications import notify_parties
from .progress import close


def complete(session: Session, req: Request, actor, now: datetime) -> None:
    """The last approval: apply the request to the record(s), close it, tell the parties."""
    kind = kinds.get(req.kind)
    if kind.waits_for_pull(req):
        req.status = "awaiting_pull"  # the receiving school pulls the file (调档)
        req.holder_node, req.holder_role, req.due_on = parties.school_node(req.origin_school), "registrar", None
        req.step_started_at = now
        parties_zh = {3: "三方", 4: "四方"}.get(len(req.chain) + 1, "")  # the filing school too
        notify_parties(session, req, f"{parties_zh}核办完成，待转入学校调档")
        return
    student = req.student
    before = _snapshot(student)
    kind.apply(session, req, student, actor, now)
    req.status = "done"
    close(req, now)
    _audit_change(session, req, actor, before, _snapshot(student))
    notify_parties(session, req, "已办结")


def pulled(session: Session, req: Request, actor, now: datetime) -> None:
    """调档: the receiving school takes the record the approvals let go; the request is done, the
    record's move audited and every party told."""
    student = req.student
    before = _snapshot(student)
    kinds.get(req.kind).apply(session, req, student, actor, now)
    req.status = "done"
    close(req, now)
    _audit_change(session, req, actor, before, _snapshot(student))
    notify_parties(session, req, "已调档办结")


def rejected(session: Session, req: Request, actor, now: datetime) -> None:
    """A request that is not approved: what its kind leaves behind (a registration, no record)."""
    kinds.get(req.kind).reject(session, req, actor, now)


def _snapshot(student: Student | None) -> dict:
    if student is None:
        return {}
    return {"status": student.status, "school_id": student.school_id, "grade_id": student.grade_id,
            "class_id": student.class_id, "registry_kind": student.registry_kind,
            "registered": student.registered, "hold_back": student.hold_back}


def _audit_change(session, req, actor, before, after) -> None:
    changes = {k: {"old": before.get(k), "new": v} for k, v in after.items() if before.get(k) != v}
    changes.update(kinds.get(req.kind).audited(req))
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=f"apply_{req.kind}",
                           entity="student", entity_id=req.student_id, entity_uid=req.student_uid,
                           school_id=req.student.school_id if req.student else None, changes=changes,
                           summary=f"#{req.id} {req.summary or ''}"[:300], rule_version=req.rule_version))
