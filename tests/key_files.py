"""What the key-rotation tests share: an installation of its own whose keys live in a key file
(a file-backed SQLite database beside it), seeded once as a template and copied for each test,
whatever TEST_DATABASE_URL says -- rotation rewrites every row and must not touch the shared
test database."""

from __future__ import annotations

import importlib.util
import json
import shutil
from datetime import date
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Student
from app.security.sync import sync_roles
from app.services.operations.demo import seed_demo
from app.services.record import photos
from config import TestConfig

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
KEY_FILE_CONFIG = {"XUEJI_ENCRYPTION_KEYS": None, "XUEJI_BLIND_INDEX_KEY": None, "XUEJI_ACTIVE_KEY": None,
                   "XUEJI_CRYPTO_PROFILE": None}


def build_app(folder: Path, **overrides):
    config = {**KEY_FILE_CONFIG, "XUEJI_KEY_FILE": str(folder / "keys.json"), **overrides}
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'xueji.db'}",
                      INSTANCE_DIR=str(folder / "instance"), **config)


def close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def seeded_template(folder: Path, clear) -> tuple[Path, object]:
    """A seeded database under the first key of a new key file, one photo stored; with what
    ``clear(session)`` reads of it (its values in clear)."""
    app = build_app(folder)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        sync_roles(app.appbuilder)
        seed_demo(db.session, ROOT / "seed", password="Test@pass2026", students=1, today=date.today())
        photos.store(db.session.scalars(select(Student).order_by(Student.id)).first(), PNG)
        db.session.commit()
        values = clear(db.session)
    close(app)
    return folder, values


def copy_template(template, folder: Path) -> Path:
    for name in ("xueji.db", "keys.json"):
        shutil.copy(template[0] / name, folder / name)
    return folder


def read_keys(folder: Path) -> dict:
    return json.loads((folder / "keys.json").read_text(encoding="utf-8"))


def load_cli():
    """run.py's command group, as `python run.py` builds it."""
    spec = importlib.util.spec_from_file_location("xueji_run", ROOT / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli
