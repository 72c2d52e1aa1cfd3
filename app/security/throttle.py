"""Failed sign-ins per client address, counted by Flask-Limiter (the limiter Flask-AppBuilder
builds): past ``XUEJI_LOGIN_ADDRESS_LIMIT`` failures the address gets HTTP 429 on both the form
login and the JSON login, whatever account it tries and whatever the password.

Only failures count (``deduct_when``), so a busy office behind one address signs in freely. The
counters live in ``RATELIMIT_STORAGE_URI``: memory for one process, Redis for several.
"""

from __future__ import annotations

import time

from flask import current_app, flash, jsonify, make_response, request
from flask_appbuilder.security.forms import LoginForm_db
from flask_limiter import Limiter, RequestLimit

from ..i18n import t
from . import lockout

LOGIN_ENDPOINTS = frozenset({"AuthDBView.login", "SecurityApi.login"})


def _limit() -> str:
    return current_app.config["XUEJI_LOGIN_ADDRESS_LIMIT"]


def _not_a_login() -> bool:
    return request.endpoint not in LOGIN_ENDPOINTS


def _failed(_response) -> bool:
    return lockout.login_failed()


def _refused(limit: RequestLimit):
    message = t("此地址登录失败次数过多，请稍后再试", "Too many failed sign-ins from this address: "
                "try again later.")
    if request.path.startswith("/api/"):
        response = make_response(jsonify(message=str(message)), 429)
    else:
        flash(str(message), "danger")
        sm = current_app.appbuilder.sm
        html = sm.auth_view.render_template(sm.auth_view.login_template, title=sm.auth_view.title,
                                            form=LoginForm_db(), appbuilder=current_app.appbuilder)
        response = make_response(html, 429)
    response.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
    return response


def install(limiter: Limiter, blueprints) -> None:
    """Count failed sign-ins per address on the login routes of ``blueprints``."""
    shared = limiter.shared_limit(_limit, scope="login", methods=["POST"],
                                  exempt_when=_not_a_login, deduct_when=_failed,
                                  on_breach=_refused)
    for blueprint in blueprints:
        shared(blueprint)
