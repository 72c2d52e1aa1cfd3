"""CSRF on every state-changing request, except API calls that carry their own bearer token."""

from __future__ import annotations

from flask import Flask, request

from ..extensions import csrf

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# JSON login and token refresh authenticate by their own body or refresh token, not by cookie.
TOKEN_ENDPOINTS = {"/api/v1/security/login", "/api/v1/security/refresh"}


def _needs_check() -> bool:
    if request.method in SAFE_METHODS:
        return False
    if request.path in TOKEN_ENDPOINTS:
        return False
    bearer = request.headers.get("Authorization", "").startswith("Bearer ")
    return not (request.path.startswith("/api/") and bearer)


def install(app: Flask) -> None:
    csrf.init_app(app)  # registers the extension: FAB then refuses GET deletes and GET actions

    @app.before_request
    def _csrf_protect():
        if app.config.get("WTF_CSRF_ENABLED", True) and _needs_check():
            csrf.protect()
