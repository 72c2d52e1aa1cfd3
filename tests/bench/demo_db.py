"""The demo database the page and confirmation benchmarks measure: the demo province with 3,000
students, seeded once into tests/bench/out/demo-<students>.db (SQLite), or into a given database
(``--database URL``) whose ``public`` schema it recreates unless that database already holds the demo."""

from __future__ import annotations

import platform
import time
from datetime import date
from pathlib import Path

from sqlalchemy import inspect, select, text, update

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
RESULTS = ROOT / "tests" / "bench" / "results"
PASSWORD = "Bench@pass2026"
STUDENTS = 3000
BENCH_EMAIL = "bench@xueji.invalid"  # marks a database this module seeded (password known)


def url_for(database: str, students: int = STUDENTS) -> str:
    """The database to measure: the one given, or a SQLite file of the demo's size."""
    return database or f"sqlite:///{OUT / f'demo-{students}.db'}"


def kind_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def make_app(url: str):
    """The test configuration (fixed keys, pinned clock) on ``url``."""
    from app import create_app
    from config import TestConfig

    OUT.mkdir(parents=True, exist_ok=True)
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, INSTANCE_DIR=str(OUT))


def ensure_demo(app, students: int = STUDENTS, fresh: bool = False) -> bool:
    """Seed the demo unless the database already holds it; True when it seeded now."""
    from app.extensions import db

    with app.app_context():
        if not fresh and _seeded(students):
            from flask_migrate import upgrade

            db.session.remove()
            upgrade(directory=app.extensions["migrate"].directory)  # a migration added since
            return False
        _seed(app, students)
        return True


def _seeded(students: int) -> bool:
    """The database holds a demo of this size, seeded here (a test run's leaves it with 400)."""
    from sqlalchemy import func

    from app.extensions import db
    from app.models import RegistryNumber, XuejiUser

    if "registry_number" not in inspect(db.engine).get_table_names():
        return False
    seeded = db.session.scalar(select(func.count()).select_from(RegistryNumber)
                               .where(RegistryNumber.issued_by == "seed"))
    marker = db.session.scalar(select(XuejiUser.email).where(XuejiUser.username == "prov_admin"))
    db.session.rollback()
    return seeded == students and marker == BENCH_EMAIL


def _seed(app, students: int) -> None:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import XuejiUser
    from app.security.sync import sync_roles
    from app.services.operations import database
    from app.services.operations.demo import seed_demo
    from app.services.organisation.codes import load_code_tables
    from app.services.policy.rulesets import activate_dir

    engine = db.engine
    database.empty(engine)
    upgrade(directory=app.extensions["migrate"].directory)
    sync_roles(app.appbuilder)
    load_code_tables(db.session, ROOT / "seed" / "codes.yaml")
    db.session.commit()
    activate_dir(db.session, ROOT / "rules", by="init", note="shipped rules")
    seed_demo(db.session, ROOT / "seed", password=PASSWORD, students=students, today=date.today())
    db.session.execute(update(XuejiUser).where(XuejiUser.username == "prov_admin").values(email=BENCH_EMAIL))
    db.session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def header(name: str, url: str) -> dict:
    """What every result file starts with."""
    return {"benchmark": name, "database": kind_of(url), "python": platform.python_version(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}


def signed_in(app, username: str):
    """A test client signed in as a demo account."""
    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": PASSWORD})
    if response.status_code != 302 or "login" in response.headers.get("Location", ""):
        raise SystemExit(f"sign-in of {username} failed ({response.status_code})")
    return client
