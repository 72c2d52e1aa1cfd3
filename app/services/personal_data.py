"""Who may see personal data in full, and the log of every such view."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import PersonalDataAccess
from .actors import Actor


def may_see(actor: Actor) -> bool:
    return actor.may("Student", "personal_data")


def log_view(session: Session, actor: Actor, student, fields: list[str], channel: str) -> None:
    """Record that ``actor`` saw ``fields`` of ``student`` unmasked (caller commits)."""
    if student is None:
        return
    session.add(PersonalDataAccess(user_id=actor.user_id, username=actor.username,
                                   student_id=student.id, student_uid=student.uid,
                                   channel=channel, fields=",".join(fields)[:200]))
