"""Audit rows about accounts: who created, changed, reset, deactivated, locked or unlocked which
account, with the roles, state and binding before and after -- never a password.

A row is scoped like the account it is about: by its school, or (a bureau's account) by the
jurisdiction chain, so the administrators and supervisors of that node see it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...models import AuditEvent
from ...security import policy_settings
from ..common.actors import Actor


def binding(user) -> str | None:
    """Where an account sits, as ``school:<code>`` or ``jurisdiction:<code>``."""
    if user.school is not None:
        return f"school:{user.school.code}"
    if user.jurisdiction is not None:
        return f"jurisdiction:{user.jurisdiction.code}"
    return None


def account_state(user) -> dict:
    """What an account's audit rows compare: its roles, whether it is active, where it is bound."""
    return {"roles": sorted(r.name for r in user.roles or []), "active": bool(user.active),
            "binding": binding(user)}


def differences(before: dict | None, after: dict) -> dict:
    """{item: {"old": ..., "new": ...}} of what changed; only "new" for a new account."""
    if before is None:
        return {k: {"new": v} for k, v in after.items()}
    return {k: {"old": before.get(k), "new": v} for k, v in after.items() if before.get(k) != v}


def _scope(user) -> dict:
    node = user.school if user.school is not None else user.jurisdiction
    if node is None:
        return {}
    chain = {"province_code": node.province_code, "city_code": node.city_code,
             "county_code": node.county_code}
    return {**chain, "school_id": user.school.id} if user.school is not None else chain


def account_event(session: Session, actor: Actor | None, action: str, user,
                  changes: dict | None = None, summary: str | None = None) -> AuditEvent:
    """Add one audit row: ``actor`` (None: the system) did ``action`` to account ``user``, which
    must have its id (flush a new one first).  ``changes`` never holds a password or its hash.
    Actions so far: create, update, deactivate, reactivate, reset_password, delete (and the login
    lockout's lock / unlock).  The caller commits."""
    actor = actor or Actor.system()
    event = AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                       entity="account", entity_id=user.id, changes=changes or None,
                       summary=(summary or user.username)[:300], **_scope(user))
    session.add(event)
    return event


def policy_event(session: Session, actor: Actor, changes: dict, province_code: str | None) -> AuditEvent:
    """Add the audit row of a change to the security policy (entity ``security_policy``):
    ``changes`` is {setting: {"old": ..., "new": ...}} of the values in force before and after;
    scoped to the province, whose auditors read it.  The caller commits."""
    summary = "；".join(f"{(policy_settings.words(k) or (k,))[0]}：{v['old']} → {v['new']}"
                       for k, v in changes.items())  # the setting's words: the log is read by people
    event = AuditEvent(user_id=actor.user_id, username=actor.username, action="policy_changed",
                       entity="security_policy", entity_id=1, changes=changes,
                       summary=f"安全策略修改：{summary}"[:300], province_code=province_code)
    session.add(event)
    return event
