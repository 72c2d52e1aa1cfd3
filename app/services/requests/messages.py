"""Messages (消息) of an account: the notices its node received, each read or unread for the account
itself; opening a request reads its messages, and everything can be marked read at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...models import Notification, NotificationRead
from ...models.base import local_now
from ..common.actors import Actor
from ..common.transaction import transactional


@dataclass(frozen=True)
class Message:
    """One notice as an account sees it."""

    notice: Notification
    read: bool


def _read_by(actor: Actor):
    return exists().where(NotificationRead.notification_id == Notification.id,
                          NotificationRead.user_id == actor.user_id)


def _mine(actor: Actor):
    return and_(Notification.node == actor.node, Notification.node.is_not(None))


def listing(session: Session, actor: Actor, limit: int = 30, *, unread_only: bool = False
            ) -> list[Message]:
    """The account's messages, newest first, each with whether the account has read it."""
    if actor.node is None or actor.user_id is None:
        return []
    query = select(Notification, _read_by(actor)).where(_mine(actor))
    if unread_only:
        query = query.where(~_read_by(actor))
    rows = session.execute(query.order_by(Notification.id.desc()).limit(limit)).all()
    return [Message(notice, bool(read)) for notice, read in rows]


def unread(session: Session, actor: Actor) -> int:
    """How many of the account's messages it has not read."""
    if actor.node is None or actor.user_id is None:
        return 0
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(_mine(actor), ~_read_by(actor))) or 0


@transactional
def mark_read(session: Session, actor: Actor, *, request_id: int | None = None,
              ids: list[int] | None = None) -> int:
    """Mark read the account's messages about one request, or the ones named; how many were unread."""
    if request_id is None and not ids:
        return 0
    which = Notification.request_id == request_id if request_id is not None else Notification.id.in_(ids)
    return _mark(session, actor, which)


@transactional
def mark_all_read(session: Session, actor: Actor) -> int:
    """Mark every message of the account read; how many were unread."""
    return _mark(session, actor, true())


def _mark(session: Session, actor: Actor, which) -> int:
    """One set-based insert of the read marks missing (a concurrent twin's marks are kept)."""
    if actor.node is None or actor.user_id is None:
        return 0
    rows = select(Notification.id, literal(actor.user_id), literal(local_now())).where(
        _mine(actor), which, ~_read_by(actor))
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(NotificationRead).from_select(
        ["notification_id", "user_id", "read_at"], rows).on_conflict_do_nothing()
    return len(session.execute(statement.returning(NotificationRead.notification_id)).all())
