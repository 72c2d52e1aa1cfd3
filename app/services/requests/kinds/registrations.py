"""Registration reviews (注册核办): a new record, or every record of an import, opens one; approved,
the records get their formal numbers; not approved, the temporary records go and their numbers stay
retired.  No school starts or withdraws one: deleting the temporary record takes it away."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....errors import Problem
from ....models import AuditEvent, RegistryNumber, Request, Student
from ....models.base import local_now
from ...record import registry_numbers
from .base import Kind


@dataclass(frozen=True)
class Registration(Kind):
    """The review of a record's registration; ``payload`` names an import when it reviews one."""

    def recheck(self, session, req, now) -> list:
        """Every record under review must meet the form's rules again after its correction (an
        import's records each say whose problem it is)."""
        from ...record.validation import family_problems, field_problems

        problems = []
        for record in registering(session, req):
            found = field_problems(session, record, now.date()) + family_problems(
                session, record, record.members)
            problems += found if record is req.student else [
                Problem(f"{record.name}：{p.message}", p.field, p.code, p.source) for p in found]
        return problems

    def apply(self, session, req, student, actor, now) -> None:
        """Give every record reviewed its formal number; an import's records say so each."""
        for record in registering(session, req):
            registry_numbers.formalize(session, record, actor.username)
            record.registered = True
            if record is not req.student:
                session.add(_registered(req, record, actor))

    def reject(self, session, req, actor, now) -> None:
        """The temporary records go; their numbers stay retired, never given again."""
        for student in registering(session, req):
            session.execute(RegistryNumber.__table__.update()
                            .where(RegistryNumber.number_blind == student.registry_blind,
                                   RegistryNumber.retired_at.is_(None))
                            .values(retired_at=local_now(), retired_reason="registration rejected"))
            if req.student is student:
                req.student = None
                req.student_id = None
            session.delete(student)


def _registered(req: Request, record: Student, actor) -> AuditEvent:
    """The history row of one record of an import that the review registered."""
    return AuditEvent(user_id=actor.user_id, username=actor.username, action="registered",
                      entity="student", entity_id=record.id, entity_uid=record.uid,
                      school_id=record.school_id, summary=f"#{req.id} {req.summary or ''}"[:300],
                      rule_version=req.rule_version)


def registering(session: Session, req: Request) -> list[Student]:
    """The records a registration review decides: its student, or every record of an import."""
    job = (req.payload or {}).get("import_job")
    if job is None:
        return [req.student] if req.student is not None and not req.student.registered else []
    return list(session.scalars(select(Student).where(Student.import_job_id == job,
                                                      Student.registered.is_(False))))


def _review(name: str, label: str) -> Registration:
    return Registration(name, label, startable=False, exclusive=False, asks=(), cancellable=False)


DECLARED = (
    _review("register_new", "小学新生注册"),
    _review("register_in_school", "在校生注册"),
    _review("register_returnee", "来华归国学生注册"),
)
