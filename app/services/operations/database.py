"""The database as a whole: emptied before a fresh migration (tests, benchmarks, a restore)."""

from __future__ import annotations

from sqlalchemy import MetaData, text
from sqlalchemy.engine import Engine


def empty(engine: Engine) -> None:
    """Drop every table, the migration record included: on PostgreSQL the ``public`` schema is
    recreated, on SQLite each table found is dropped."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        return
    found = MetaData()
    found.reflect(engine)
    found.drop_all(engine)
