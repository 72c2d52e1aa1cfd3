"""The HTTP edge: which proxies to believe, and the security headers on every response.

Headers come from flask-talisman, whose per-request nonce Flask-AppBuilder's templates already
put on every ``<script>`` (``baselib.get_nonce()`` calls talisman's ``csp_nonce``).  Scripts run
only from this origin or with that nonce; inline ``style`` attributes stay allowed because FAB's
templates and widgets use them.  Nothing is loaded from another origin: the registry runs on
closed networks.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "default-src": SELF,
    "script-src": SELF,  # + 'nonce-…' per request
    "style-src": f"{SELF} 'unsafe-inline'",
    "img-src": f"{SELF} data:",  # Swagger UI's and the themes' icons are data: URIs
    "font-src": f"{SELF} data:",
    "connect-src": SELF,
    "object-src": "'none'",
    "base-uri": SELF,
    "form-action": SELF,
    "frame-ancestors": "'none'",
}
REFERRER_POLICY = "same-origin"  # Flask-WTF's HTTPS referrer check needs our own Referer
HSTS_SECONDS = 365 * 24 * 3600  # sent only over HTTPS; no includeSubDomains on shared intranets


def trust_proxies(app: Flask) -> None:
    """Take the client's address and scheme from ``XUEJI_TRUSTED_PROXIES`` reverse proxies."""
    hops = app.config.get("XUEJI_TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _no_store_when_signed_in(response):
    """What a signed-in account sees is personal data or its jurisdiction's: no browser or proxy
    keeps a copy (the back button after logout shows nothing).  Static files stay cacheable."""
    user = getattr(g, "user", None)
    if getattr(user, "is_authenticated", False) and not (request.endpoint or "").endswith("static"):
        response.headers["Cache-Control"] = "no-store"
    return response


def install(app: Flask) -> Talisman:
    """Security headers on every response, HTTPS redirects only where the config asks for them."""
    trust_proxies(app)
    app.after_request(_no_store_when_signed_in)
    return Talisman(
        app,
        force_https=app.config.get("XUEJI_FORCE_HTTPS", False),
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src"],
        referrer_policy=REFERRER_POLICY,
        strict_transport_security=True,
        strict_transport_security_max_age=HSTS_SECONDS,
        strict_transport_security_include_subdomains=False,
        # the cookie settings stay config.py's: talisman would force Secure cookies onto plain HTTP
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        session_cookie_http_only=app.config.get("SESSION_COOKIE_HTTPONLY", True),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )
