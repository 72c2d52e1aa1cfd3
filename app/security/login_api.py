"""The JSON sign-in, forgiving about the one thing Flask-AppBuilder's own is not: its schema leaves
``provider`` optional and its code then reads it (a 500).  Accounts here have one provider."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.api import SecurityApi as FabSecurityApi


class SecurityApi(FabSecurityApi):  # the same name: the route table knows it as SecurityApi
    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Sign in: {username, password, provider?: "db", refresh?}; a JWT access token back."""
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            body.setdefault("provider", "db")  # read again, from the same parsed body, by FAB
        return super().login()
