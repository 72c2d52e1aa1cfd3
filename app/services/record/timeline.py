"""A student's history: every change, request and approval step, oldest first (append-only),
told in words: what happened, and each item changed by its header with its values' labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEvent
from .history_words import action_words, change_lines


@dataclass(frozen=True)
class Entry:
    """One line of the history as the record page shows it."""

    at: datetime
    username: str
    action: str  # what happened, in words (新建学籍, 休学生效, 核办通过 ...)
    summary: str
    changes: dict[str, dict]  # {item's header: {"old": words, "new": words}}
    rule_version: int | None


def for_student(session: Session, student) -> list[Entry]:
    """The record's history, oldest first, in the reader's language."""
    rows = session.scalars(select(AuditEvent).where(AuditEvent.entity_uid == student.uid)
                           .order_by(AuditEvent.at, AuditEvent.id)).all()
    return [Entry(row.at, row.username or "", action_words(row.action, row.entity), row.summary or "",
                  change_lines(session, row.changes), row.rule_version) for row in rows]
