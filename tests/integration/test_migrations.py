"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.extensions import db
from app.models.jobs import ours_on

# FAB's own security tables (ab_*) share the metadata and the migration, so they are compared too.
# No FAB-internal difference shows on SQLite or PostgreSQL, so nothing is filtered out.


def schema_differences(metadata: sa.MetaData) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True,
                        "include_object": ours_on(conn.dialect.name)})
        return compare_metadata(context, metadata)


def kind(diff) -> str:
    """'add_column', 'modify_type', ...: modify_* differences come grouped in a list per column."""
    return diff[0] if isinstance(diff, tuple) else diff[0][0]


def test_migrated_schema_matches_the_models(ctx):
    assert schema_differences(db.metadata) == []


def test_schema_comparison_notices_a_model_change(ctx):
    """Control: a column the migrations never created is reported, so the check above can fail."""
    changed = sa.MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["student"].append_column(sa.Column("shoe_size", sa.Integer))
    changed.tables["family_member"].c["name"].type = sa.String(80)
    diffs = schema_differences(changed)
    kinds = {kind(d) for d in diffs}
    assert {"add_column", "modify_type"} <= kinds


def test_database_is_at_the_single_migration_head(ctx, app):
    script = ScriptDirectory(app.extensions["migrate"].directory)
    heads = script.get_heads()
    assert len(heads) == 1
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == heads[0]


def test_every_model_table_exists_in_the_migrated_database(ctx):
    existing = set(sa.inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= existing
    assert {"student", "family_member", "registry_number", "ab_user", "ab_role"} <= existing
