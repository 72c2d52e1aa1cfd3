"""Security headers on every response -- pages, JSON, errors -- with a CSP the pages still work
under: every inline script carries the response's nonce, no inline event handler is left, and
nothing comes from another origin.  Secure cookies and HTTPS redirects in production only."""

from __future__ import annotations

import re

import pytest
from factories import student_in
from flask import Flask, request
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import XuejiUser
from app.security.headers import trust_proxies
from config import ProductionConfig, TestConfig

SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def csp(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split("; ")}


def assert_security_headers(response) -> None:
    policy = csp(response)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert "http" not in response.headers["Content-Security-Policy"]  # no other origin, ever
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def assert_page_runs_under_its_csp(response) -> None:
    """What the browser would block: an inline script without this response's nonce, a script
    from elsewhere, an inline event handler."""
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", csp(response)["script-src"]).group(1)
    for attributes in SCRIPT.findall(html):
        src = re.search(r'\bsrc="([^"]*)"', attributes)
        if src:
            assert src.group(1).startswith("/"), f"script from another origin: {src.group(1)}"
        else:
            assert f'nonce="{nonce}"' in attributes, f"inline script without the nonce: {attributes}"
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html).group(0)
    assert "javascript:" not in html


def test_the_login_page_carries_the_headers_and_runs_under_its_csp(app):
    r = app.test_client().get("/login/")
    assert r.status_code == 200
    assert_security_headers(r)
    assert_page_runs_under_its_csp(r)


def test_each_response_has_its_own_nonce(app):
    client = app.test_client()
    first, second = (csp(client.get("/login/"))["script-src"] for _ in range(2))
    assert first != second


@pytest.mark.parametrize("username,paths", [
    ("school_registrar", ["/", "/students/list/", "/students/show/{student}", "/students/add",
                          "/inbox/", "/requests/list/", "/imports/upload", "/imports/list/",
                          "/policy/", "/users/userinfo/", "/resetmypassword/form", "/swagger/v1",
                          "/problems/list/", "/schools/list/"]),
    ("county_admin", ["/users/list/", "/users/show/{account}", "/users/edit/{account}",
                      "/users/add", "/policy/edit/"]),
    ("county_secadmin", ["/approvals/", "/customroles/", "/customroles/add", "/users/list/"]),
    ("county_auditor", ["/audit-log/list/", "/personal-data-log/list/"]),
])
def test_pages_run_under_the_csp(ctx, client_for, username, paths):
    student = student_in(school_code="4301020001").id
    account = db.session.scalar(select(XuejiUser.id).where(XuejiUser.username == "school_registrar"))
    client = client_for(username)
    for path in paths:
        r = client.get(path.format(student=student, account=account))
        assert r.status_code == 200, path
        assert_security_headers(r)
        assert_page_runs_under_its_csp(r)


def test_api_json_carries_the_headers(ctx, api, token_for):
    r = api.get("/api/v1/school/?q=(page_size:1)", headers=token_for("school_registrar"))
    assert r.status_code == 200 and r.is_json
    assert_security_headers(r)


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/no/such/page", 404),
    ("GET", "/api/v1/student/", 401),
    ("GET", "/api/v1/no_such_resource/", 404),
    ("POST", "/api/v1/security/login", 400),
    ("POST", "/students/list/", 405),
])
def test_error_responses_carry_the_headers(app, method, path, status):
    r = app.test_client().open(path, method=method, json={} if method == "POST" else None)
    assert r.status_code == status
    assert_security_headers(r)


def test_a_throttled_login_carries_the_headers(app, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_LOGIN_ADDRESS_LIMIT", "1 per 15 minutes")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.55.0.1"
    client.post("/login/", data={"username": "nobody", "password": "x"})
    r = client.post("/login/", data={"username": "nobody", "password": "x"})
    assert r.status_code == 429
    assert_security_headers(r)
    assert_page_runs_under_its_csp(r)


def test_development_and_tests_serve_plain_http_without_redirect_or_hsts(app):
    r = app.test_client().get("/login/")
    assert r.status_code == 200
    assert "Strict-Transport-Security" not in r.headers
    assert app.config["XUEJI_FORCE_HTTPS"] is False and not app.config.get("SESSION_COOKIE_SECURE")


@pytest.fixture(scope="module")
def production(app, tmp_path_factory):
    """The shipped production configuration, on the test database."""
    return create_app(ProductionConfig, SECRET_KEY="production-secret-of-at-least-32-bytes",
                      XUEJI_ENCRYPTION_KEYS=TestConfig.XUEJI_ENCRYPTION_KEYS,
                      XUEJI_BLIND_INDEX_KEY=TestConfig.XUEJI_BLIND_INDEX_KEY,
                      SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      INSTANCE_DIR=str(tmp_path_factory.mktemp("production")))


def test_production_redirects_plain_http_to_https(production):
    r = production.test_client().get("/login/")
    assert r.status_code == 302 and r.headers["Location"].startswith("https://")


def test_production_cookies_are_secure_and_https_is_strict(production):
    r = production.test_client().get("/login/", base_url="https://localhost")
    assert r.status_code == 200
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "includeSubDomains" not in r.headers["Strict-Transport-Security"]
    assert_security_headers(r)
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", "JWT_COOKIE_SECURE"):
        assert production.config[name] is True


def test_the_client_address_comes_from_trusted_proxies_only():
    def app_trusting(hops: int) -> Flask:
        app = Flask(__name__)
        app.config["XUEJI_TRUSTED_PROXIES"] = hops
        app.add_url_rule("/", "ip", lambda: request.remote_addr)
        trust_proxies(app)
        return app

    forwarded = {"X-Forwarded-For": "10.1.2.3"}
    assert app_trusting(0).test_client().get("/", headers=forwarded).text == "127.0.0.1"
    assert app_trusting(1).test_client().get("/", headers=forwarded).text == "10.1.2.3"


def test_signed_in_pages_are_never_cached_but_static_files_are(app):
    from conftest import login

    client = login(app.test_client(), "school_registrar")
    for path in ("/students/list/", "/inbox/", "/users/userinfo/"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    static = client.get("/static/appbuilder/css/bootstrap.min.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
