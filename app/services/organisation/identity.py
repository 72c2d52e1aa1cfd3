"""Identity controls an administrator acts on: dormant accounts sealed (the 2025 regulation: six
months without a sign-in) and unsealed, a lost second factor reset, a second factor enrolled.
Each writes an audit row about the account (entity ``account``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound
from ...i18n import t
from ...models import AccountTotp, XuejiUser
from ...security import policy_settings, totp
from ..common.actors import Actor
from ..common.transaction import transactional
from .audit import account_event


def dormant_before(now: datetime) -> datetime | None:
    """Accounts without a sign-in since this moment are dormant (None: sealing is off)."""
    days = policy_settings.in_force()["XUEJI_DORMANT_DAYS"]
    return now - timedelta(days=days) if days else None


def is_dormant(user: XuejiUser, now: datetime) -> bool:
    cutoff = dormant_before(now)
    last = max(filter(None, (user.last_login or user.created_on, user.unsealed_at)), default=None)
    return cutoff is not None and last is not None and last < cutoff


def seal(session: Session, user: XuejiUser, now: datetime) -> None:
    user.sealed_at = now
    account_event(session, None, "account_sealed", user, changes={
        "last_login": user.last_login.isoformat(timespec="seconds") if user.last_login else None},
        summary=f"账号 {user.username} 超过 {policy_settings.in_force()['XUEJI_DORMANT_DAYS']} 天未登录，已封存")


@transactional
def seal_dormant(session: Session, now: datetime) -> int:
    """Seal every active account unused since ``XUEJI_DORMANT_DAYS`` before ``now`` (by its last
    sign-in, its unsealing or its creation); the number sealed.  Safe to run twice."""
    cutoff = dormant_before(now)
    if cutoff is None:
        return 0
    users = session.scalars(select(XuejiUser).where(
        XuejiUser.active.is_(True), XuejiUser.sealed_at.is_(None),
        func.coalesce(XuejiUser.last_login, XuejiUser.created_on) < cutoff,
        or_(XuejiUser.unsealed_at.is_(None), XuejiUser.unsealed_at < cutoff))).all()
    for user in users:
        seal(session, user, now)
    return len(users)


@transactional
def seal_if_dormant(session: Session, user: XuejiUser, now: datetime) -> bool:
    """At a sign-in: whether the account is sealed (sealing it now if it has become dormant)."""
    if user.sealed_at is None and is_dormant(user, now):
        seal(session, user, now)
    return user.sealed_at is not None


def _managed(session: Session, actor: Actor, user_id: int) -> XuejiUser:
    """An account inside the security administrator's jurisdiction, never their own."""
    actor.require("Identity", "edit")
    user = actor.fetch(session, XuejiUser, user_id, t("账号不存在或不在本辖区", "no such account in your jurisdiction"))
    if user.id == actor.user_id:
        raise Forbidden(t("不能处理自己的账号，请联系另一位安全管理员", "ask another security administrator"))
    return user


@transactional
def unseal(session: Session, actor: Actor, user_id: int, now: datetime) -> XuejiUser:
    """解除封存: the account may sign in again; dormancy counts from now."""
    user = _managed(session, actor, user_id)
    if user.sealed_at is None:
        raise NotFound(t("该账号未被封存", "this account is not sealed"))
    sealed_at, user.sealed_at, user.unsealed_at = user.sealed_at, None, now
    account_event(session, actor, "account_unsealed", user,
                  changes={"sealed_at": sealed_at.isoformat(timespec="seconds")},
                  summary=f"{actor.username} 解除封存：账号 {user.username}")
    return user


@transactional
def reset_second_factor(session: Session, actor: Actor, user_id: int) -> XuejiUser:
    """重置动态验证码: a lost authenticator; the account enrols again at its next sign-in (if
    required) and every session it has ends."""
    user = _managed(session, actor, user_id)
    if not totp.remove(session, user):
        raise NotFound(t("该账号未启用动态验证码", "this account has no second factor"))
    user.end_sessions()
    account_event(session, actor, "totp_reset", user,
                  summary=f"{actor.username} 重置动态验证码：账号 {user.username}")
    return user


@transactional
def start_enrolment(session: Session, user: XuejiUser) -> str:
    """A new (unconfirmed) secret for the account's own authenticator; refused once enrolled (a
    lost one is reset by a security administrator)."""
    if totp.enrolled(session, user):
        raise Conflict(t("动态验证码已启用；更换设备请联系安全管理员重置",
                         "already on: ask a security administrator to reset it for a new device"))
    return totp.begin(session, user)


@transactional
def confirm_enrolment(session: Session, user: XuejiUser, code: str) -> bool:
    """The account's first code: its second factor is on from now (audited); False if wrong."""
    if not totp.confirm(session, user, code):
        return False
    account_event(session, Actor.of(user), "totp_enrolled", user,
                  summary=f"账号 {user.username} 启用动态验证码")
    return True


def listing(session: Session, actor: Actor) -> list[XuejiUser]:
    """Sealed accounts and accounts with a second factor, inside the actor's jurisdiction."""
    actor.require("Identity", "read")
    with_totp = select(AccountTotp.user_id).where(AccountTotp.confirmed_at.is_not(None))
    return list(session.scalars(select(XuejiUser).where(
        or_(XuejiUser.sealed_at.is_not(None), XuejiUser.id.in_(with_totp)),
        actor.scope.clause(XuejiUser)).order_by(XuejiUser.username)))
