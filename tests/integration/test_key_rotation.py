"""Key rotation: a new active key, every personal value re-encrypted, nothing lost, old key retirable.

Runs on its own file-backed SQLite databases (copies of one seeded template), whatever
TEST_DATABASE_URL says: rotation rewrites every row and must not touch the shared test database.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from key_files import PNG, build_app, close, copy_template, load_cli, read_keys, seeded_template
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import FamilyMember, RegistryNumber, Student
from app.models.base import keyring
from app.security.crypto import Keyring, b64, new_key, unb64
from app.services.operations.keys import ENCRYPTED, key_usage, rotate
from app.services.record import photos


def snapshot(session) -> dict:
    """Every decrypted personal value and blind index of every encrypted table, by row."""
    ring = keyring()
    out = {}
    for sealed in ENCRYPTED:
        for row in session.execute(select(sealed.model.__table__)):
            values = {b.column: getattr(row, b.column) for b in sealed.blinds}
            for column in sealed.columns:
                token, aad = getattr(row, column), sealed.aad(column, row)
                if isinstance(token, bytes):
                    values[column] = ring.decrypt_bytes(token, aad)
                elif token is not None:
                    values[column] = ring.decrypt(token, aad)
            out[(sealed.model.__tablename__, *(getattr(row, k) for k in sealed.row_key))] = values
    return out


def rows_with_values(app) -> dict[str, int]:
    """Rows of each encrypted table holding at least one encrypted value."""
    with app.app_context():
        return {s.model.__tablename__: db.session.scalar(
            select(func.count()).select_from(s.model.__table__).where(
                or_(*(s.model.__table__.c[c].is_not(None) for c in s.columns)))) for s in ENCRYPTED}


def usage_totals(usage: dict) -> dict:
    totals: dict[str, int] = {}
    for tables in usage.values():
        for table, n in tables.items():
            totals[table] = totals.get(table, 0) + n
    return totals


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A seeded database under key k1 of a key file, with one photo; and what it holds in clear."""
    return seeded_template(tmp_path_factory.mktemp("rotation_template"), snapshot)


def db_count(app, model) -> int:
    with app.app_context():
        return len(db.session.scalars(select(model.id)).all())


@dataclass
class Rotation:
    app: object
    folder: Path
    keys_before: dict
    keys_after: dict
    usage_before: dict
    usage_after: dict
    report: dict


@pytest.fixture(scope="module")
def rotated(template, tmp_path_factory):
    """A copy of the template rotated once with `rotate(new_key=True)`, and what it looked like."""
    folder = copy_template(template, tmp_path_factory.mktemp("rotated"))
    app = build_app(folder)
    with app.app_context():
        keys_before, usage_before = read_keys(folder), key_usage(db.session)
        report = rotate(app, db.session, new_key=True)
        usage_after = key_usage(db.session)
    yield Rotation(app, folder, keys_before, read_keys(folder), usage_before, usage_after, report)
    close(app)


def test_template_is_encrypted_under_the_first_key_of_the_key_file(template):
    folder, clear = template
    assert read_keys(folder)["active"] == "k1"
    assert sum(1 for (table, _) in clear if table == "student") >= 150
    assert sum(1 for v in clear.values() if "photo_enc" in v) == 1


def test_rotation_with_a_key_file_makes_a_new_key_active(rotated):
    before, after = rotated.keys_before, rotated.keys_after
    assert rotated.report["active"] == after["active"] == "k2"
    assert set(after["keys"]) == {"k1", "k2"}
    assert after["keys"]["k1"] == before["keys"]["k1"]
    assert len(unb64(after["keys"]["k2"])) == 32 and after["keys"]["k2"] != before["keys"]["k1"]
    assert rotated.app.extensions["xueji_keyring"].active == "k2"


def test_rotation_changes_neither_the_blind_index_key_nor_the_session_secret(rotated):
    for name in ("blind_index_key", "secret_key"):
        assert rotated.keys_after[name] == rotated.keys_before[name]


def test_key_file_stays_private_to_its_owner_after_rotation(rotated):
    assert stat.S_IMODE((rotated.folder / "keys.json").stat().st_mode) & 0o077 == 0


def test_rotation_reencrypts_every_value_under_the_new_key(rotated):
    assert set(rotated.usage_before) == {"k1"}
    assert set(rotated.usage_after) == {"k2"}
    assert usage_totals(rotated.usage_after) == usage_totals(rotated.usage_before)
    assert rotated.report["rewritten"] == {**rows_with_values(rotated.app), "problem_case": 0}
    assert rotated.report["rewritten"]["student"] == db_count(rotated.app, Student)
    assert rotated.report["rewritten"]["family_member"] == db_count(rotated.app, FamilyMember)
    assert rotated.report["rewritten"]["registry_number"] == db_count(rotated.app, RegistryNumber)


def test_every_value_decrypts_to_the_same_text_after_rotation(rotated, template):
    with rotated.app.app_context():
        assert snapshot(db.session) == template[1]


def test_after_rotation_the_old_key_can_be_retired(rotated):
    keys = rotated.keys_after
    only_new = Keyring(keys={"k2": unb64(keys["keys"]["k2"])}, active="k2",
                       blind_key=unb64(keys["blind_index_key"]))
    checked = 0
    with rotated.app.app_context():
        for sealed in ENCRYPTED:
            for row in db.session.execute(select(sealed.model.__table__)):
                for column in sealed.columns:
                    token = getattr(row, column)
                    if token is None:
                        continue
                    aad = sealed.aad(column, row)
                    if isinstance(token, bytes):
                        data = only_new.decrypt_bytes(token, aad)
                        assert column != "photo_enc" or data == PNG
                    else:
                        only_new.decrypt(token, aad)
                    checked += 1
    assert checked == sum(usage_totals(rotated.usage_after).values()) > 1000


def test_a_second_rotation_to_the_same_key_rewrites_nothing(rotated):
    with rotated.app.app_context():
        again = rotate(rotated.app, db.session, new_key=False)
    assert again == {"active": "k2", "profile": "standard",
                     "rewritten": {**{s.model.__tablename__: 0 for s in ENCRYPTED}, "problem_case": 0},
                     "unmatched": {"admission": 0, "problem_case": 0}}


# -- keys from the environment: add the key, make it active, then `keys rotate --no-new-key` ------


@pytest.fixture
def env_app(template, tmp_path):
    """The template database with its keys given as configuration, plus a new key k2."""
    folder = copy_template(template, tmp_path)
    keys = read_keys(folder)
    (folder / "keys.json").unlink()
    spec = f"k1:{keys['keys']['k1']},k2:{b64(new_key())}"
    app = build_app(folder, XUEJI_ENCRYPTION_KEYS=spec, XUEJI_ACTIVE_KEY="k1",
                    XUEJI_BLIND_INDEX_KEY=keys["blind_index_key"], XUEJI_KEY_FILE=None)
    yield app
    close(app)


def test_environment_keys_rotate_to_the_newly_active_key_without_a_new_key(env_app, template):
    with env_app.app_context():
        with pytest.raises(SystemExit, match="no-new-key"):
            rotate(env_app, db.session, new_key=True)  # the app never generates such keys
        assert set(key_usage(db.session)) == {"k1"}
    env_app.config["XUEJI_ACTIVE_KEY"] = "k2"
    with env_app.app_context():
        report = rotate(env_app, db.session, new_key=False)
        assert report["active"] == "k2"
        assert set(key_usage(db.session)) == {"k2"}
        db.session.remove()
        assert snapshot(db.session) == template[1]
    assert not (Path(env_app.config["INSTANCE_DIR"]).parent / "keys.json").exists()


# -- the command line, as an operator runs it -------------------------------------------------


@pytest.fixture
def keyfile_app(template, tmp_path):
    app = build_app(copy_template(template, tmp_path))
    yield app
    close(app)


def test_keys_commands_report_usage_and_rotate(keyfile_app, monkeypatch):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)  # FlaskGroup sets it
    cli, runner = load_cli(), CliRunner()

    def run(*args):
        result = runner.invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: keyfile_app))
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    status = run("keys", "status")
    with keyfile_app.app_context():
        assert status == key_usage(db.session)
    assert set(status) == {"k1"}
    assert run("keys", "rotate")["active"] == "k2"
    assert set(run("keys", "status")) == {"k2"}


# -- key usage on the shared seeded database (SQLite or PostgreSQL), read-only ----------------


def test_key_usage_counts_every_stored_value_of_the_seeded_database(session):
    expected = {}
    for sealed in ENCRYPTED:
        table = sealed.model.__table__
        expected[table.name] = sum(
            session.scalar(select(func.count()).select_from(table).where(table.c[c].is_not(None)))
            for c in sealed.columns)
    assert key_usage(session) == {"t1": {name: n for name, n in expected.items() if n}}


def test_key_usage_counts_encrypted_photos(session):
    student = session.scalars(select(Student).where(Student.photo_enc.is_(None))
                              .order_by(Student.id)).first()
    before = key_usage(session)["t1"]["student"]
    photos.store(student, PNG)
    session.flush()
    try:
        assert key_usage(session)["t1"]["student"] == before + 1
        session.expire(student)
        assert photos.decrypt(student) == PNG
    finally:
        session.rollback()
