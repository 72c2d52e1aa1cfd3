"""Backups that restore: the seeded database dumped with the real tool (pg_dump or SQLite's backup
API), restored into a database created for the test, gives the same count and checksum in every
table; a tampered file, a non-empty target and a manifest that disagrees are refused or named;
retention keeps the newest; neither the manifest nor the dump holds personal data or keys."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import is_postgres
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from app import create_app
from app.clock import local_now
from app.extensions import db
from app.models import BackupRun, School, Student
from app.models.base import keyring
from app.security.signing_keys import store_from_config
from app.services.operations.backup_manifest import manifest_key, manifest_of, read_manifest, table_sums
from app.services.operations.backups import (
    BackupError,
    backup,
    backup_as_configured,
    last_good_backup,
    prune,
    restore,
)
from config import TestConfig


@pytest.fixture
def new_empty_url(tmp_path):
    """new_empty_url() -> the URL of a new, empty database: a PostgreSQL database created for the
    test (each dropped after it), or a new SQLite file."""
    source = sa.make_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    admin = sa.create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    created = []

    def make() -> str:
        name = f"{source.database}_restore_{uuid.uuid4().hex[:8]}"
        if not is_postgres():
            return f"sqlite:///{tmp_path / name}.db"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return source.set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in created:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def empty_db(new_empty_url):
    engine = sa.create_engine(new_empty_url())
    yield engine
    engine.dispose()


@pytest.fixture
def taken(session, tmp_path):
    """A backup of the seeded test database: (dump path, manifest)."""
    manifest = backup(session, tmp_path / "backups")
    return tmp_path / "backups" / manifest.file, manifest


def _tables(engine) -> list[str]:
    return sa.inspect(engine).get_table_names()


def test_backup_then_restore_into_an_empty_database_gives_the_same_rows(session, taken, empty_db):
    dump, manifest = taken
    assert manifest.tables["student"].rows == session.scalar(select(func.count()).select_from(Student)) > 0
    assert {"alembic_version", "ab_user", "student", "backup_run"} <= set(manifest.tables)
    with db.engine.connect() as conn:  # the manifest describes the source (one run recorded since)
        live = table_sums(conn)
    assert {k: v for k, v in live.items() if k != "backup_run"} == \
        {k: v for k, v in manifest.tables.items() if k != "backup_run"}

    restored = restore(empty_db, dump)

    assert restored == manifest
    with empty_db.connect() as conn:
        assert table_sums(conn) == manifest.tables
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == \
            manifest.alembic_revision


def _resealed(path: Path) -> None:
    """The edited manifest sealed again with this installation's key (what only its keys can do)."""
    read_manifest(path).sealed(manifest_key(keyring())).write(path.parent)


def test_a_restore_that_differs_from_the_manifest_names_the_first_table(taken, empty_db):
    dump, manifest = taken
    path = manifest_of(dump)
    data = json.loads(path.read_text())
    data["tables"]["student"]["checksum"] = "0" * 32
    data["tables"]["student"]["rows"] += 1
    path.write_text(json.dumps(data))
    # edited without the keys: refused before anything is restored
    with pytest.raises(BackupError, match="校验码不符"):
        restore(empty_db, dump)
    assert not sa.inspect(empty_db).get_table_names()

    _resealed(path)  # a genuine manifest the restored rows do not match: named after the restore
    with pytest.raises(BackupError, match=r"表 student：恢复后 \d+ 行，清单记载 \d+ 行"):
        restore(empty_db, dump)


def test_a_tampered_backup_file_is_refused_before_anything(taken, empty_db):
    dump, _ = taken
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))

    with pytest.raises(BackupError, match="SHA-256"):
        restore(empty_db, dump)
    assert _tables(empty_db) == []


def test_restore_into_a_non_empty_database_is_refused(taken):
    dump, _ = taken
    before = db.session.scalar(select(func.count()).select_from(School))

    with pytest.raises(BackupError, match="目标数据库不是空的"):
        restore(db.engine, dump)
    assert db.session.scalar(select(func.count()).select_from(School)) == before


def test_retention_keeps_the_newest_backups_and_removes_older_ones_with_their_manifests(session, tmp_path):
    where = tmp_path / "kept"
    where.mkdir()
    (where / "notes.txt").write_text("not a backup")
    first = backup(session, where, keep=2)
    second = backup(session, where, keep=2)
    assert (where / first.file).exists()
    third = backup(session, where, keep=2)

    names = sorted(p.name for p in where.iterdir())
    assert names == sorted(["notes.txt", second.file, second.file + ".manifest.json",
                            third.file, third.file + ".manifest.json"])


def test_retention_removes_nothing_a_manifest_names_outside_its_directory(session, tmp_path):
    """A manifest naming a file elsewhere (edited, or not this installation's) is not obeyed."""
    where, victim = tmp_path / "kept", tmp_path / "victim.txt"
    where.mkdir()
    victim.write_text("keep me")
    made = backup(session, where)
    data = json.loads(manifest_of(where / made.file).read_text())
    data["file"], data["created_at"] = "../victim.txt", "2000-01-01T00:00:00"
    (where / "edited.dump.manifest.json").write_text(json.dumps(data))  # edited: fails its mac
    # sealed with the keys, but not the manifest of a file beside it
    moved = replace(read_manifest(manifest_of(where / made.file)), file="../victim.txt",
                    created_at=datetime(2000, 1, 1)).sealed(manifest_key(keyring()))
    (where / "moved.dump.manifest.json").write_text(json.dumps(moved.as_dict()))
    prune(where, keep=0)
    assert victim.read_text() == "keep me"
    assert not (where / made.file).exists()  # the genuine one obeys


def test_last_good_backup_is_when_the_latest_good_one_finished_and_a_failure_is_recorded(
        app, session, tmp_path):
    made = backup_as_configured(session, app.config)  # into <instance>/backups, apart from the keys
    assert (Path(app.config["INSTANCE_DIR"]) / "backups" / made.file).is_file()
    good = last_good_backup(session)
    assert good is not None and abs((local_now() - good).total_seconds()) < 60
    keys = tmp_path / "instance" / "keys.json"
    keys.parent.mkdir()
    keys.write_text("{}")

    config = {**app.config, "XUEJI_KEY_FILE": str(keys), "XUEJI_BACKUP_DIR": str(keys.parent)}
    with pytest.raises(BackupError, match="密钥与备份须分开存放"):
        backup_as_configured(session, config)

    failed = session.scalars(select(BackupRun).order_by(BackupRun.id.desc())).first()
    assert failed.status == "failed" and "keys.json" in failed.message
    assert last_good_backup(session) == good
    assert not list(keys.parent.glob("xueji-*"))


def test_the_manifest_holds_no_personal_data_and_the_dump_no_key_material(app, session, taken):
    dump, manifest = taken
    text = manifest_of(dump).read_text()
    assert set(json.loads(text)) == {"file", "kind", "created_at", "size", "sha256", "alembic_revision",
                                     "tables", "mac"}
    students = session.scalars(select(Student).where(Student.id_number_enc.is_not(None)).limit(50)).all()
    assert students
    for student in students:
        for value in (student.name, student.id_number, student.registry_no):
            assert value and value not in text

    # a node of its own: a key made at the wall clock for a node the report tests sign at business
    # time would start after their signatures
    private = store_from_config(app.config).active("990000", local_now()).private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    secrets = [private, base64.b64encode(private), app.config["XUEJI_BLIND_INDEX_KEY"].encode()]
    for spec in app.config["XUEJI_ENCRYPTION_KEYS"].split(","):
        key = spec.split(":", 1)[1]
        secrets += [key.encode(), base64.b64decode(key)]
    content = _readable(backup(session, dump.parent))
    school = session.scalars(select(School)).first()
    assert school.name.encode() in content  # control: the grep reads the dump's rows
    for secret in secrets:
        assert secret not in content


def _readable(manifest) -> bytes:
    """The dump's bytes as a grep would see the rows: PostgreSQL's compressed custom format is
    turned back into SQL by pg_restore, an SQLite file is read as it is."""
    path = Path(db.session.scalars(select(BackupRun.file).order_by(BackupRun.id.desc())).first())
    assert path.name == manifest.file
    if manifest.kind == "postgresql":
        return subprocess.run(["pg_restore", "--file=-", str(path)], capture_output=True, check=True).stdout
    return path.read_bytes()


def _backed_up_by_command(app, to_dir: Path) -> Path:
    """`backup --to DIR` (no app context held open: each command runs in its own app's)."""
    out = app.test_cli_runner().invoke(args=["backup", "--to", str(to_dir)])
    assert out.exit_code == 0, out.output
    written = next(to_dir.glob("*.manifest.json"))
    dump = written.with_name(read_manifest(written).file)
    assert dump.name in out.output and "sha256" in out.output
    return dump


def test_backup_and_restore_commands_round_trip_and_refuse_what_they_must(app, tmp_path, new_empty_url):
    dump = _backed_up_by_command(app, tmp_path / "cli")
    target = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=new_empty_url(), INSTANCE_DIR=str(tmp_path))
    runner = target.test_cli_runner()

    no = runner.invoke(args=["restore", str(dump)], input="n\n")
    assert no.exit_code == 1 and "已取消恢复" in no.output
    done = runner.invoke(args=["restore", str(dump), "--yes"])
    assert done.exit_code == 0, done.output
    assert "counts and checksums match" in done.output
    again = runner.invoke(args=["restore", str(dump), "--yes"])
    assert again.exit_code == 1 and "目标数据库不是空的" in again.output


def test_the_restore_command_exits_non_zero_naming_the_first_table_that_differs(app, new_empty_url, tmp_path):
    dump = _backed_up_by_command(app, tmp_path / "cli")
    path = manifest_of(dump)
    data = json.loads(path.read_text())
    data["tables"]["school"]["checksum"] = "0" * 32
    path.write_text(json.dumps(data))
    with app.app_context():
        _resealed(path)
    target = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=new_empty_url(), INSTANCE_DIR=str(tmp_path))

    out = target.test_cli_runner().invoke(args=["restore", str(dump), "--yes"])

    assert out.exit_code == 1
    assert "请勿使用该数据库：表 school：内容校验和与清单不符" in out.output
