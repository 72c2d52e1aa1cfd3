"""What a sign-in must get through beyond the password: a sealed (dormant) account is refused, an
enrolled account gives its TOTP code, an expired or administrator-set password is replaced, an
account that must use a second factor enrols — and a sign-in during an approved password loan is
logged against it.

The browser signs in with the password first; until the remaining steps are done, every page
redirects to the step's page and the REST API answers 403 with the reason.  The REST login takes
the code in its body (``totp``) and refuses, with the reason, an account that still owes a step.
"""

from __future__ import annotations

from flask import flash, g, has_request_context, jsonify, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.security import check_password_hash

from ..errors import Forbidden
from ..extensions import db
from ..i18n import t
from ..models import XuejiUser
from ..models.base import local_now
from ..services.common.transaction import transaction
from ..services.organisation import approvals, identity, lending
from . import lockout, password_age, policy_settings, totp

PENDING = "_xueji_second_factor"  # in the session: the password was right, the code is owed
VERIFY, CHANGE, ENROL = "verify", "change", "enrol"
SEALED, CODE_WRONG = "sealed", "code"
OPEN = {"static", "appbuilder.static", "AuthDBView.login", "AuthDBView.logout", "LocaleView.index"}
STEP_PAGES = {
    VERIFY: ("SecondFactorView.verify", {"SecondFactorView.verify"}),
    CHANGE: ("ResetMyPasswordView.this_form_get",
             {"ResetMyPasswordView.this_form_get", "ResetMyPasswordView.this_form_post"}),
    ENROL: ("SecondFactorView.index",
            {"SecondFactorView.index", "SecondFactorView.start", "SecondFactorView.confirm"}),
}


# -- at the password check (the security manager's auth_user_db) --------------------------------
def held(user: XuejiUser, password: str | None) -> bool:
    """An account that may not sign in whatever its password -- sealed (sealed now if it has
    become dormant), or waiting for a security administrator's approval -- is refused.  Only the
    right password learns why; a wrong one is counted towards the lock like any other."""
    if identity.seal_if_dormant(db.session, user, local_now()):
        why = SEALED
    elif approvals.is_inert(db.session, user):
        why = lockout.PENDING
    else:
        return False
    if check_password_hash(user.password, password or ""):
        lockout.refuse(why)
    else:
        with transaction(db.session):
            failed(user, lockout.WRONG)
    return True


def api_code_accepted(user: XuejiUser) -> bool:
    """The REST login of an enrolled account, once its password was right: the body's ``totp``
    code (a wrong one counts as a failed sign-in towards the lock)."""
    if "xueji_api_totp" not in g or not totp.enrolled(db.session, user):
        return True
    if not g.xueji_api_totp:
        lockout.refuse(CODE_WRONG)  # no code at all: said so, not counted
        return False
    with transaction(db.session):
        if totp.verify(db.session, user, g.xueji_api_totp):
            return True
        failed(user)
    return False


def failed(user: XuejiUser, why: str = CODE_WRONG) -> None:
    """A wrong code (or a wrong password of a held account): counted towards the lock, ``why``
    said unless it locks (the caller commits)."""
    now, policy = local_now(), lockout.policy_in_force()
    lockout.held_for_counting(db.session, user)
    if lockout.count_failure(user, now, policy):
        lockout.record_lock(db.session, user, policy)
        lockout.refuse(lockout.LOCKED, user, now, policy)
    else:
        lockout.refuse(why)


def after_password(user: XuejiUser) -> XuejiUser | None:
    """The password was right: log a sign-in during a loan; the REST login refuses an account
    that owes a step (a browser is led through them instead)."""
    api = "xueji_api_totp" in g
    if api and (reason := _owed_by_token(user)) is not None:
        g.xueji_login_owed = message(reason, user)
        return None
    with transaction(db.session):
        lending.record_use(db.session, user, local_now(), via="api" if api else "web",
                           address=request.remote_addr if has_request_context() else None)
    return user


def keeps_failures(user: XuejiUser) -> bool:
    """A right password does not clear the failure count of an account whose code is still to
    come in the browser: wrong codes add up to the lock across sign-ins."""
    return "xueji_api_totp" not in g and totp.enrolled(db.session, user)


def on_login(_sender, user, **_extra) -> None:
    """Flask-Login's user_logged_in: an enrolled account owes its code in this session."""
    if totp.enrolled(db.session, user):
        session[PENDING] = True
    else:
        session.pop(PENDING, None)


# -- every request -------------------------------------------------------------------------------
def owed(user: XuejiUser) -> str | None:
    """The step the signed-in account must do next, or None."""
    if session.get(PENDING):
        return VERIFY
    return _owed_by_token(user)


def _owed_by_token(user: XuejiUser) -> str | None:
    if password_age.change_due(user, local_now(), policy_settings.in_force()):
        return CHANGE
    if totp.required(user, policy_settings.in_force()) and not totp.enrolled(db.session, user):
        return ENROL
    return None


def message(step: str, user: XuejiUser | None = None) -> str:
    if step == VERIFY:
        return str(t("请输入动态验证码完成登录", "Enter the code from your authenticator to finish signing in."))
    if step == CHANGE:
        reason = password_age.change_due(user, local_now(), policy_settings.in_force()) if user else None
        return password_age.due_message(reason or password_age.FORCED, policy_settings.in_force())
    return str(t("管理员账号须先启用动态验证码（第二重认证）",
                 "Administrator accounts must set up a second factor (TOTP) first."))


def enforce():
    """Before each request: an account that owes a step sees only that step's pages."""
    if request.endpoint in OPEN or not current_user.is_authenticated:
        return None
    step = owed(current_user)
    if step is None or request.endpoint in STEP_PAGES[step][1]:
        return None
    if request.path.startswith("/api/"):
        return jsonify(message=message(step, current_user), step=step), 403
    flash(message(step, current_user), "warning")
    return redirect(url_for(STEP_PAGES[step][0]))


def refuse_token(user: XuejiUser) -> None:
    """A REST call with a token of an account that now owes a step (its password expired)."""
    step = _owed_by_token(user)
    if step is not None:
        raise Forbidden(message(step, user))


def code_given(user: XuejiUser, code: str) -> bool:
    """The browser's second step: the right code ends it; a wrong one counts towards the lock,
    and the lock signs the session out."""
    with transaction(db.session):
        if totp.verify(db.session, user, code):
            lockout.clear(user)
            session.pop(PENDING, None)
            return True
        failed(user)
    if g.get("xueji_login_refused") == lockout.LOCKED:
        logout_user()
    return False


# -- what the person reads ---------------------------------------------------------------------------
def refusal_message() -> str | None:
    """The sign-in form's message for a refusal of these controls (None: not one of ours)."""
    reason = g.get("xueji_login_refused")
    if reason == SEALED:
        return str(t("账号超过半年未使用已被封存，请联系安全管理员解除封存",
                     "This account was sealed after six months without use: ask a security "
                     "administrator to unseal it."))
    if reason == CODE_WRONG:
        return str(t("动态验证码错误或已使用，请输入新的验证码",
                     "Wrong or already used code: enter a new one."))
    return None


def api_refusal() -> tuple[int, str] | None:
    """The REST login's answer when these controls refused it: (status, message)."""
    if g.get("xueji_login_owed"):
        return 403, g.xueji_login_owed + " " + str(t("请先在网页上登录完成", "Sign in on the web page first."))
    if g.get("xueji_login_refused") == CODE_WRONG:
        return 401, str(t("需要动态验证码（totp），或验证码错误/已使用",
                          "A current TOTP code is needed (totp), or the one given was wrong or used."))
    text = refusal_message()
    return (401, text) if text else None
