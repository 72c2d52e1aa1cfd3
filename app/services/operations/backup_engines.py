"""Taking and putting back a whole database with the real tools: PostgreSQL's ``pg_dump`` (custom
format) and ``pg_restore``, SQLite's online backup API.  Each dump is counted and checksummed from
the very snapshot it was taken from."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from ...i18n import t
from .backup_manifest import BackupError, TableSum, alembic_revision, table_sums

SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite3"}
Counted = tuple[dict[str, TableSum], str | None]  # per-table sums, Alembic revision


def kind_of(engine: Engine) -> str:
    if engine.dialect.name not in SUFFIXES:
        raise BackupError(t(f"不支持备份 {engine.dialect.name} 数据库",
                            f"cannot back up a {engine.dialect.name} database"))
    return engine.dialect.name


def dump(engine: Engine, path: Path) -> Counted:
    """Write the whole database to ``path``; returns what the dump holds."""
    return (_pg_dump if kind_of(engine) == "postgresql" else _sqlite_dump)(engine, path)


def load(engine: Engine, path: Path) -> Counted:
    """Put the dump at ``path`` into the (empty) database; returns what the database now holds."""
    (_pg_restore if kind_of(engine) == "postgresql" else _sqlite_restore)(engine, path)
    engine.dispose()  # pooled connections predate the restored schema
    with engine.connect() as conn:
        return table_sums(conn), alembic_revision(conn)


def existing_tables(engine: Engine) -> list[str]:
    """Every table of the database, in any schema but the system's: empty means restorable."""
    inspector = sa.inspect(engine)
    schemas = inspector.get_schema_names() if engine.dialect.name == "postgresql" else [None]
    return sorted(f"{s}.{name}" if s not in (None, "public") else name
                  for s in schemas if s != "information_schema"
                  for name in inspector.get_table_names(schema=s))


# -- PostgreSQL ---------------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(t(f"找不到 {name}：请安装与服务器同版本的 PostgreSQL 客户端",
                            f"{name} not found: install the PostgreSQL client of the server's version"))
    return found


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as libpq names it, the password passed in the environment, never the argv."""
    url = engine.url
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(argv[0]).name
        raise BackupError(t(f"{tool} 失败：{done.stderr.strip()}", f"{tool} failed: {done.stderr.strip()}"))


def _pg_dump(engine: Engine, path: Path) -> Counted:
    """pg_dump reads the snapshot this transaction exported, so the counts are the dump's."""
    dsn, env = _libpq(engine)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counted = table_sums(conn), alembic_revision(conn)
            _run([_tool("pg_dump"), "--format=custom", "--no-password", f"--snapshot={snapshot}",
                  f"--file={path}", f"--dbname={dsn}"], env)
    return counted


def _pg_restore(engine: Engine, path: Path) -> None:
    dsn, env = _libpq(engine)
    _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          "--no-password", f"--dbname={dsn}", str(path)], env)


# -- SQLite -------------------------------------------------------------------------------------

def _sqlite_dump(engine: Engine, path: Path) -> Counted:
    raw = engine.raw_connection()
    try:
        with closing(sqlite3.connect(path)) as target:
            raw.driver_connection.backup(target)
    finally:
        raw.close()
    copy = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool)
    try:
        with copy.connect() as conn:
            return table_sums(conn), alembic_revision(conn)
    finally:
        copy.dispose()


def _sqlite_restore(engine: Engine, path: Path) -> None:
    raw = engine.raw_connection()
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source:
            source.backup(raw.driver_connection)
    finally:
        raw.close()
