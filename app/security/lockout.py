"""Account lockout: too many wrong passwords in a row lock an account, for a while or until a
security administrator unlocks it; both the lock and the unlock leave an audit row.

The counter works like a directory server's: a failure more than the window after the previous one
starts the count again, so a guesser gets at most ``max_failures - 1`` tries per window and then
waits out the lock.  Passwords are never checked while an account is locked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, has_request_context, request
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from ..i18n import t
from ..models import XuejiUser
from ..services.common.actors import Actor
from ..services.organisation.audit import account_event
from . import policy_settings

LOCKED, WRONG = "locked", "wrong"
PENDING = "pending"  # the account waits for a security administrator's approval (三权分立)


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int  # 0: never lock
    window: timedelta
    duration: timedelta | None  # None: until a security administrator unlocks

    @classmethod
    def from_config(cls, config) -> LockoutPolicy:
        minutes = config["XUEJI_LOGIN_LOCKOUT_MINUTES"]
        return cls(max_failures=config["XUEJI_LOGIN_MAX_FAILURES"],
                   window=timedelta(minutes=config["XUEJI_LOGIN_FAILURE_WINDOW_MINUTES"]),
                   duration=timedelta(minutes=minutes) if minutes else None)


def policy_in_force() -> LockoutPolicy:
    """The lockout policy in force: the security policy's settings over the configured ones."""
    return LockoutPolicy.from_config(policy_settings.in_force())


def is_locked(user: XuejiUser, now: datetime, policy: LockoutPolicy) -> bool:
    if user.locked_at is None:
        return False
    return policy.duration is None or now < user.locked_at + policy.duration


def lock_has_expired(user: XuejiUser, now: datetime, policy: LockoutPolicy) -> bool:
    return user.locked_at is not None and not is_locked(user, now, policy)


def count_failure(user: XuejiUser, now: datetime, policy: LockoutPolicy) -> bool:
    """One more wrong password; True when it is the one that locks the account (the caller
    has the account's row in hand through ``held_for_counting``)."""
    if user.last_failed_login is None or now - user.last_failed_login > policy.window:
        user.fail_login_count = 0
    user.fail_login_count = (user.fail_login_count or 0) + 1
    user.last_failed_login = now
    if policy.max_failures and user.fail_login_count >= policy.max_failures:
        user.locked_at = now
        return True
    return False


def held_for_counting(session: Session, user: XuejiUser) -> None:
    """Lock the account's row and read it again before ``count_failure``: two app processes (or
    two threads of one) counting a wrong password each at once would otherwise both write the same
    count, and a guesser spreading tries over the servers would get more than ``max_failures``.
    The lock lasts until the caller commits the count."""
    if inspect(user).persistent and not session.is_modified(user):
        session.refresh(user, with_for_update=True)


def clear(user: XuejiUser) -> None:
    user.fail_login_count = 0
    user.last_failed_login = None
    user.locked_at = None


# -- audit ----------------------------------------------------------------------------------------
def audit(session: Session, user: XuejiUser, action: str, summary: str, *,
          by: XuejiUser | None = None, changes: dict | None = None) -> None:
    """An account_locked / account_unlocked row (``by``: the administrator, or None: the system)."""
    account_event(session, Actor.of(by) if by is not None else None, action, user,
                  changes=changes, summary=summary)


def record_lock(session: Session, user: XuejiUser, policy: LockoutPolicy) -> None:
    until = (f"{int(policy.duration.total_seconds() // 60)} 分钟" if policy.duration
             else "直至安全管理员解锁")
    audit(session, user, "account_locked",
          f"账号 {user.username} 连续 {user.fail_login_count} 次密码错误，锁定{until}",
          changes={"failures": user.fail_login_count, "address": _address()})


def expire_lock(session: Session, user: XuejiUser) -> None:
    """The lock ran out: clear it at the next sign-in attempt, and say so in the audit log."""
    locked_at = user.locked_at
    clear(user)
    audit(session, user, "account_unlocked", f"账号 {user.username} 锁定期满，自动解锁",
          changes={"locked_at": locked_at.isoformat(timespec="seconds")})


def unlock(session: Session, user: XuejiUser, *, by: XuejiUser, reason: str = "解除锁定") -> bool:
    """A security administrator ends the lock; False when nothing was locked."""
    if user.locked_at is None and not user.fail_login_count:
        return False
    locked_at = user.locked_at
    clear(user)
    if locked_at is not None:
        audit(session, user, "account_unlocked", f"{by.username} {reason}：账号 {user.username}",
              by=by, changes={"locked_at": locked_at.isoformat(timespec="seconds")})
    return True


def _address() -> str | None:
    return request.remote_addr if has_request_context() else None


# -- what the person at the login form reads -------------------------------------------------------
def refuse(reason: str, user: XuejiUser | None = None, now: datetime | None = None,
           policy: LockoutPolicy | None = None) -> None:
    """Remember why this sign-in failed (the form's message, the address throttle's count)."""
    g.xueji_login_refused = reason
    if reason == LOCKED and user is not None and policy is not None and policy.duration:
        left = user.locked_at + policy.duration - now
        g.xueji_login_wait = max(1, math.ceil(left.total_seconds() / 60))


def login_failed() -> bool:
    return bool(g.get("xueji_login_refused"))


def refusal_message() -> str:
    if g.get("xueji_login_refused") == PENDING:
        return str(t("该账号的开通或权限变更尚待安全管理员审批，审批通过后方可登录",
                     "This account, or a change to it, awaits a security administrator's approval: "
                     "it can sign in once approved."))
    if g.get("xueji_login_refused") != LOCKED:
        return str(t("用户名或密码错误，请重试", "Wrong username or password. Please try again."))
    wait = g.get("xueji_login_wait")
    if wait:
        return str(t(f"密码错误次数过多，账号已锁定，请 {wait} 分钟后再试或联系安全管理员解锁",
                     f"Too many wrong passwords: the account is locked. Try again in {wait} "
                     "minutes or ask a security administrator to unlock it."))
    return str(t("密码错误次数过多，账号已锁定，请联系安全管理员解锁",
                 "Too many wrong passwords: the account is locked until a security administrator "
                 "unlocks it."))
