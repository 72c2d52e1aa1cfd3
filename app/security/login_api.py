"""The JSON sign-in, forgiving about the one thing Flask-AppBuilder's own is not: its schema leaves
``provider`` optional and its code then reads it (a 500).  Accounts here have one provider.
An account with a second factor gives its current code as ``totp`` (app.security.signin_steps)."""

from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.api import SecurityApi as FabSecurityApi

from . import signin_steps


class SecurityApi(FabSecurityApi):  # the same name: the route table knows it as SecurityApi
    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Sign in: {username, password, provider?: "db", totp?, refresh?}; a JWT access token back."""
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            body.setdefault("provider", "db")  # read again, from the same parsed body, by FAB
            g.xueji_api_totp = str(body.pop("totp", None) or "")  # FAB's schema knows no totp
        response = super().login()
        refusal = signin_steps.api_refusal() if response.status_code == 401 else None
        return self.response(refusal[0], message=refusal[1]) if refusal else response
