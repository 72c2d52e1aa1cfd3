"""The rows an account already exported inside the rules' ``approval_window_hours``: they count
with the next export towards ``approval_over_rows``, so a registrar cannot dodge the threshold by
exporting school by school or class by class.

Counted once per scope (level, code and class): the same school again adds nothing new, another
school or class adds its rows.  What counts: every export that left without a supervisor's approval
(export_log rows of immediate exports, stamped with the wall clock) and every file a job made
without approval (export_request rows, stamped with the business time they were asked for, counted
as soon as they are made: parallel jobs do not dodge it either).  Exports a supervisor approved do
not count: the approval covered them.  Only the account's own rows inside its jurisdiction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from ...clock import local_now
from ...errors import Conflict
from ...i18n import t
from ...models import ExportLog, ExportRequest
from ..common.actors import Actor

Scope = tuple[str, str | None, int | None]  # scope_level, scope_code, class_id


def _mine(model, actor: Actor):
    who = model.user_id == actor.user_id if actor.user_id is not None else model.username == actor.username
    return who & actor.scope.clause(model)


def _per_scope(session: Session, model, *where) -> dict[Scope, int]:
    """The largest export of each scope among ``model``'s rows matching ``where`` (set-based)."""
    query = (select(model.scope_level, model.scope_code, model.class_id, func.max(model.rows))
             .where(*where).group_by(model.scope_level, model.scope_code, model.class_id))
    return {(level, code, class_id): rows for level, code, class_id, rows in session.execute(query)}


def earlier_rows(session: Session, actor: Actor, hours: int, now: datetime, *, this: Scope) -> int:
    """The rows ``actor`` exported in the last ``hours`` (``now``: business time of the requests;
    the log's wall-clock stamps against the wall clock), once per scope, ``this`` scope left out
    (it is the export being judged)."""
    if hours <= 0:
        return 0
    free = select(ExportRequest.id).where(ExportRequest.needs_approval.is_(False))
    logged = _per_scope(session, ExportLog, _mine(ExportLog, actor),
                        ExportLog.at >= local_now() - timedelta(hours=hours),
                        or_(ExportLog.request_id.is_(None), ExportLog.request_id.in_(free)))
    made = _per_scope(session, ExportRequest, _mine(ExportRequest, actor), ExportRequest.needs_approval.is_(False),
                      ExportRequest.requested_at >= now - timedelta(hours=hours))
    scopes = {key: max(logged.get(key, 0), made.get(key, 0)) for key in logged.keys() | made.keys()}
    scopes.pop(this, None)
    return sum(scopes.values())


# pg_advisory_xact_lock's first key ("XJEX"); the second is the account's name, hashed
EXPORT_LOCK = 0x584A4558


def one_at_a_time(session: Session, actor: Actor, *, wait: bool) -> None:
    """One account's exports judged and made one at a time: two filed at the same instant would
    each count the rows before the other's and both pass the threshold.  On PostgreSQL a lock per
    account, held to the caller's commit (which writes the export's log or request row): ``wait``
    (a job) queues behind the other; otherwise (a download in a web request) Conflict at once,
    rather than a page hanging while a job of the same account makes a large file.  SQLite (the
    demo) has no such lock: there two exports of one account at one instant can still both pass."""
    if session.connection().dialect.name != "postgresql":
        return
    args = {"k": EXPORT_LOCK, "who": actor.username}
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(:who))"), args)
    elif not session.scalar(text("SELECT pg_try_advisory_xact_lock(:k, hashtext(:who))"), args):
        raise Conflict(t("您的另一个导出正在生成，请在其完成后再试",
                         "another export of yours is being made: try again once it is done"))
