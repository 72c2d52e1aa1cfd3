"""Sessions and tokens that end when they should.

Every account has an ``auth_epoch``; a browser session and a JWT carry the epoch they were issued
under and are refused once it has moved on.  Logout, a new password and deactivation move it
(``XuejiUser.end_sessions``), so a copied cookie or a saved token dies with them.  A browser
session also ends after ``XUEJI_SESSION_IDLE_MINUTES`` without a request and, however busy,
``XUEJI_SESSION_MAX_HOURS`` after signing in.
"""

from __future__ import annotations

import time

from flask import flash, g, session
from flask_login import logout_user

from ..extensions import db
from ..i18n import t
from ..models import XuejiUser
from . import policy_settings

EPOCH, SEEN, STARTED = "_xueji_epoch", "_xueji_seen", "_xueji_started"
TOKEN_CLAIM = "auth_epoch"
SEEN_RESOLUTION = 30  # seconds: write the last-seen time at most this often (one cookie less)


def on_login(_sender, user, **_extra) -> None:
    """Flask-Login's user_logged_in: stamp the session with the account's epoch and the time."""
    session[EPOCH] = user.auth_epoch
    session[SEEN] = session[STARTED] = int(time.time())


def forget(*_args, **_extra) -> None:
    """Flask-Login's user_logged_out (a logout, or a session that timed out)."""
    for key in (EPOCH, SEEN, STARTED):
        session.pop(key, None)


def session_is_current(user: XuejiUser) -> bool:
    return session.get(EPOCH) == user.auth_epoch


def keep_this_session(user: XuejiUser) -> None:
    """After changing one's own password: this session carries the new epoch, the others die."""
    if session.get("_user_id") == str(user.id):
        session[EPOCH] = user.auth_epoch


def token_claims(identity) -> dict:
    """flask_jwt_extended's additional_claims_loader: the epoch goes into every token."""
    user = db.session.get(XuejiUser, int(identity))
    return {TOKEN_CLAIM: user.auth_epoch if user is not None else None}


def token_is_current(user: XuejiUser | None, claims: dict) -> bool:
    return (user is not None and bool(user.is_active)
            and claims.get(TOKEN_CLAIM) == user.auth_epoch)


def _expired(now: int) -> bool:
    config = policy_settings.in_force()
    seen, started = session.get(SEEN), session.get(STARTED)
    if seen is None or started is None:
        return True  # a session from before these stamps existed
    return (now - seen > config["XUEJI_SESSION_IDLE_MINUTES"] * 60
            or now - started > config["XUEJI_SESSION_MAX_HOURS"] * 3600)


def signed_in_here(user: XuejiUser) -> bool:
    """Whether this request came with a session of ``user`` (read before logout clears it)."""
    return g.get("xueji_session_user") == str(user.id)


def enforce_timeouts() -> None:
    """Before each request: sign a browser session out once idle (or old) for too long."""
    g.xueji_session_user = session.get("_user_id")
    if "_user_id" not in session:
        return
    now = int(time.time())
    if _expired(now):
        logout_user()  # user_logged_out: forget() drops the stamps
        flash(str(t("长时间未操作，已自动退出，请重新登录",
                    "You were signed out after a period of inactivity. Please sign in again.")),
              "warning")
    elif now - session[SEEN] >= SEEN_RESOLUTION:
        session[SEEN] = now
