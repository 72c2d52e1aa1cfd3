"""Account approval (三权分立): an account change that grants access to students leaves the account
inert -- it cannot sign in -- until a security administrator of the account's node or above, other
than the one who made the change, approves it.

What the system does (the installer, the demo seed, ``run.py users create`` on the server) takes
effect at once: there is no second person at installation, and whoever runs commands on the server
holds the database anyway.  Every change made by a person through the pages waits.
"""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound
from ...i18n import t
from ...models import AccountApproval, Jurisdiction, School, XuejiUser
from ...models.base import local_now
from ...security.custom_roles import specs_for
from ...security.duties import grants_of, has_student_access
from ..common.actors import Actor
from ..common.transaction import transactional
from .audit import account_event

PENDING = "pending"


def student_roles(session: Session, names) -> set[str]:
    """Which of the role ``names`` reach students (any grant on students, families, numbers)."""
    return {s.name for s in specs_for(session, names).values() if has_student_access(grants_of([s]))}


def needs_approval(session: Session, before: dict | None, after: dict) -> bool:
    """Whether going from ``before`` (None: a new account) to ``after`` gains access to students:
    a role reaching students added, the binding moved, or the account re-enabled."""
    gained = student_roles(session, after["roles"])
    if not after["active"] or not gained:
        return False
    if before is None:
        return True
    return (bool(gained - student_roles(session, before["roles"])) or before["binding"] != after["binding"]
            or not before["active"])


def pending(session: Session, user_id: int) -> AccountApproval | None:
    return session.scalar(select(AccountApproval).where(AccountApproval.user_id == user_id,
                                                        AccountApproval.status == PENDING))


def is_inert(session: Session, user: XuejiUser) -> bool:
    """Whether the account waits for an approval (its sign-in is refused)."""
    return user.id is not None and pending(session, user.id) is not None


def request(session: Session, user: XuejiUser, actor: Actor | None, before: dict | None,
            after: dict, *, gains: bool | None = None, action: str | None = None) -> AccountApproval | None:
    """After an account change (already audited): if it gains student access (``gains``, or
    judged from ``before`` and ``after``) and a person made it, the account waits for approval;
    its sessions end.  None when it takes effect at once.  ``action``: what the row calls the
    change (default: create or update)."""
    if gains is None:
        gains = needs_approval(session, before, after)
    row = pending(session, user.id) if user.id is not None else None
    if row is not None and not (after["active"] and student_roles(session, after["roles"])):
        _withdraw(session, row, actor)  # no longer reaches students: nothing left to approve
        return None
    if actor is None or actor.is_system or not gains:
        return None
    if row is None:
        row = AccountApproval(user_id=user.id, action=action or ("create" if before is None else "update"),
                              before=before, status=PENDING)
        session.add(row)
    row.after, row.requested_by_id, row.requested_by = after, actor.user_id, actor.username
    user.end_sessions()
    session.flush()
    account_event(session, actor, "approval_requested", user, {"approval": row.id, "after": after},
                  summary=f"{user.username} 待安全管理员审批")
    return row


def _withdraw(session: Session, row: AccountApproval, actor: Actor | None) -> None:
    row.status = "withdrawn"
    who = actor or Actor.system()
    row.decided_by_id, row.decided_by, row.decided_at = who.user_id, who.username, local_now()
    account_event(session, actor, "approval_withdrawn", row.user, {"approval": row.id})


def listing(session: Session, actor: Actor) -> list[AccountApproval]:
    """The pending account changes inside the security administrator's jurisdiction."""
    actor.require("AccountApproval", "read")
    return list(session.scalars(select(AccountApproval)
                                .where(AccountApproval.status == PENDING, actor.scope.clause(AccountApproval))
                                .order_by(AccountApproval.requested_at, AccountApproval.id)))


@transactional
def decide(session: Session, actor: Actor, approval_id: int, *, approve: bool,
           now: datetime) -> AccountApproval:
    """Approve (the account takes effect) or refuse (a new account stays disabled, a change is
    undone) a pending account change; never one's own, never outside one's jurisdiction."""
    actor.require("AccountApproval", "decide")
    row = actor.fetch(session, AccountApproval, approval_id,
                      t("待审批事项不存在或不在本辖区", "no such pending change in your jurisdiction"), lock=True)
    if row.status != PENDING:
        raise Conflict(t(f"审批事项 {approval_id} 已处理（{row.status}）",
                         f"cannot decide account change {approval_id}: it is '{row.status}'"))
    if actor.user_id in (row.requested_by_id, row.user_id):
        raise Forbidden(t("不能审批自己做出的变更", "nobody approves their own change"))
    row.status = "approved" if approve else "refused"
    row.decided_by_id, row.decided_by, row.decided_at = actor.user_id, actor.username, now
    if not approve:
        _undo(session, row)
    account_event(session, actor, "approve" if approve else "refuse", row.user,
                  {"approval": row.id, "requested_by": row.requested_by, "after": row.after})
    return row


def decide_for(session: Session, actor: Actor, username: str, *, approve: bool,
               now: datetime) -> AccountApproval:
    """The same, for the pending change of the account named ``username`` (the command line)."""
    user = session.scalar(select(XuejiUser).where(XuejiUser.username == username))
    row = pending(session, user.id) if user is not None else None
    if row is None:
        raise NotFound(t(f"账号 {username} 没有待审批的变更", f"account {username} has no pending change"),
                       "username")
    return decide(session, actor, row.id, approve=approve, now=now)


def _undo(session: Session, row: AccountApproval) -> None:
    """A refused creation leaves the account disabled, and so does a refused password reset (the
    one who reset it knows the password: only another reset, approved, opens it again); a refused
    change puts back what it was."""
    user = row.user
    if row.before is None or row.action == "reset":
        user.active = False
        return
    user.roles = list(session.scalars(select(Role).where(Role.name.in_(row.before["roles"]))))
    kind, _, code = (row.before["binding"] or "").partition(":")
    user.school = session.scalar(select(School).where(School.code == code)) if kind == "school" else None
    user.jurisdiction = (session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
                         if kind == "jurisdiction" else None)
    user.active = row.before["active"]
