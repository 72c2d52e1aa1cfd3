"""Test fixtures: one app and one seeded database per session (SQLite, or PostgreSQL when
TEST_DATABASE_URL says so), test clients logged in as any demo account, JWT tokens for the API."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from app.models import SecurityPolicy
from app.services.operations import database
from config import TestConfig

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Test@pass2026"
SEED_STUDENTS = 400


def _reset_database() -> None:
    """Start from an empty database: PostgreSQL keeps the `test` database between runs."""
    database.empty(db.engine)


def _init_and_seed(app) -> dict:
    from flask_migrate import upgrade

    from app.security.sync import sync_roles
    from app.services.operations.demo import seed_demo
    from app.services.organisation.codes import load_code_tables

    _reset_database()
    upgrade(directory=app.extensions["migrate"].directory)
    sync_roles(app.appbuilder)
    load_code_tables(db.session, ROOT / "seed" / "codes.yaml")
    db.session.commit()
    from app.services.policy.rulesets import activate_dir

    activate_dir(db.session, ROOT / "rules", by="init", note="shipped rules")
    return seed_demo(db.session, ROOT / "seed", password=PASSWORD, students=SEED_STUDENTS,
                     today=date.today())


class IsolatedClient(FlaskClient):
    """Each request in an application context of its own, as in production: Flask's ``g`` -- and
    the signed-in user Flask-Login caches there -- is never shared between two clients of a test
    that holds an app context open (``ctx``), and the request's database session is its own."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    overrides = {"INSTANCE_DIR": str(instance)}
    if not os.environ.get("TEST_DATABASE_URL"):  # a file, so a second app or a server thread shares it
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'test.db'}"
    app = create_app(TestConfig, **overrides)
    app.test_client_class = IsolatedClient
    with app.app_context():
        app.config["SEED_REPORT"] = _init_and_seed(app)
    yield app
    with app.app_context():
        db.session.remove()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def session(ctx):
    return db.session


def login(client, username: str, password: str = PASSWORD):
    client.get("/logout/")
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed"
    return client


@pytest.fixture
def client_for(app):
    """client_for('county_registrar') -> a test client logged in as that demo account."""

    def make(username: str):
        return login(app.test_client(), username)

    return make


@pytest.fixture
def token_for(app):
    """token_for('school_registrar') -> headers with a JWT from /api/v1/security/login."""

    def make(username: str, password: str = PASSWORD) -> dict:
        client = app.test_client()
        r = client.post("/api/v1/security/login",
                        json={"username": username, "password": password, "provider": "db"})
        assert r.status_code == 200, r.get_json()
        return {"Authorization": f"Bearer {r.get_json()['access_token']}"}

    return make


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def no_security_policy(app):
    """After the test, the security policy back to the configured defaults (no stored row)."""
    yield
    with app.app_context():
        db.session.execute(SecurityPolicy.__table__.delete())
        db.session.commit()


@pytest.fixture(scope="module")
def csrf_app(app):
    """The same database, with CSRF protection on as in production."""
    return create_app(TestConfig, WTF_CSRF_ENABLED=True,
                      SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      INSTANCE_DIR=app.config["INSTANCE_DIR"])


def form_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def is_postgres() -> bool:
    return (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
