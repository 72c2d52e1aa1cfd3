"""Password age and history: a password expires after ``XUEJI_PASSWORD_MAX_AGE_DAYS``, a new one
may not repeat any of the last ``XUEJI_PASSWORD_HISTORY`` (kept as hashes, never the password),
and an account made or reset by an administrator chooses its own password at the next sign-in."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from ..errors import ValidationFailed
from ..i18n import t
from ..models import PasswordHistory, XuejiUser

FORCED, EXPIRED = "forced", "expired"


def change_due(user: XuejiUser, now: datetime, config) -> str | None:
    """Why the account must choose a new password before anything else (FORCED, EXPIRED), or None."""
    if user.password_must_change:
        return FORCED
    days = config["XUEJI_PASSWORD_MAX_AGE_DAYS"]
    since = user.password_changed_at or user.created_on
    if days and since is not None and now - since > timedelta(days=days):
        return EXPIRED
    return None


def due_message(reason: str, config) -> str:
    if reason == EXPIRED:
        days = config["XUEJI_PASSWORD_MAX_AGE_DAYS"]
        return str(t(f"密码已使用超过 {days} 天，请先修改密码",
                     f"Your password is more than {days} days old: choose a new one first."))
    return str(t("首次登录或管理员重置密码后，请先设置自己的新密码",
                 "Choose a password of your own first (a first sign-in, or a reset by an administrator)."))


def _recent_hashes(session: Session, user: XuejiUser, keep: int) -> list[str]:
    rows = session.scalars(select(PasswordHistory.password_hash)
                           .where(PasswordHistory.user_id == user.id)
                           .order_by(PasswordHistory.set_at.desc(), PasswordHistory.id.desc())
                           .limit(keep)).all()
    if user.password and user.password not in rows:  # an account from before the history
        return [user.password, *rows][:keep]
    return list(rows)


def reuse_problem(session: Session, user: XuejiUser, password: str, config) -> str | None:
    """Why ``password`` may not be ``user``'s next one (it is among the last N), or None."""
    keep = config["XUEJI_PASSWORD_HISTORY"]
    if keep <= 0 or user.id is None:
        return None
    if any(check_password_hash(h, password) for h in _recent_hashes(session, user, keep)):
        return str(t(f"新密码不能与最近 {keep} 次使用过的密码相同",
                     f"The new password may not be any of your last {keep}."))
    return None


def refuse_reuse(session: Session, user: XuejiUser, password: str, config) -> None:
    problem = reuse_problem(session, user, password, config)
    if problem:
        raise ValidationFailed(problem, "password")


def record(session: Session, user: XuejiUser, now: datetime, config, *, chosen_by_owner: bool) -> None:
    """The account's password was just set: keep its hash in the history (the last N only), stamp
    the time, and ask for the owner's own password at the next sign-in unless the owner chose it."""
    user.password_changed_at = now
    user.password_must_change = not chosen_by_owner
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password, set_at=now))
    session.flush()
    keep = max(config["XUEJI_PASSWORD_HISTORY"], 1)
    old = session.scalars(select(PasswordHistory).where(PasswordHistory.user_id == user.id)
                          .order_by(PasswordHistory.set_at.desc(), PasswordHistory.id.desc())
                          .offset(keep)).all()
    for row in old:
        session.delete(row)
