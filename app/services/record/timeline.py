"""A student's history: every change, request and approval step, oldest first (append-only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEvent


def for_student(session: Session, student) -> list[AuditEvent]:
    return session.scalars(select(AuditEvent).where(AuditEvent.entity_uid == student.uid)
                           .order_by(AuditEvent.at, AuditEvent.id)).all()
