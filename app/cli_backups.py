"""`python run.py backup [--to DIR]` and `python run.py restore FILE [--yes]`: the whole database
with the real tools (pg_dump / pg_restore, SQLite's backup API), checked by a manifest of counts
and checksums."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .extensions import db


@click.command("backup")
@click.option("--to", "to_dir", type=click.Path(file_okay=False), default=None,
              help="Directory to write into (default: XUEJI_BACKUP_DIR, or <instance>/backups).")
@with_appcontext
def backup_command(to_dir: str | None) -> None:
    """Back the database up with its manifest; keep the XUEJI_BACKUP_KEEP newest good backups."""
    from .services.operations.backups import BackupError, backup_as_configured

    try:
        manifest = backup_as_configured(db.session, current_app.config, Path(to_dir) if to_dir else None)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(s.rows for s in manifest.tables.values())
    click.echo(f"{manifest.file}: {manifest.size} bytes, sha256 {manifest.sha256}, "
               f"{len(manifest.tables)} tables, {rows} rows, revision {manifest.alembic_revision}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before restoring (the database must be empty).")
@with_appcontext
def restore_command(file: str, yes: bool) -> None:
    """Restore FILE (a dump beside its manifest) into the configured database, which must be
    empty; exit non-zero if the file or the restored rows differ from the manifest."""
    from .services.operations.backups import BackupError, restore

    def confirm(manifest) -> bool:
        url = db.engine.url.render_as_string(hide_password=True)
        return yes or click.confirm(f"restore {manifest.file} ({manifest.created_at:%Y-%m-%d %H:%M}) "
                                    f"into {url}?")

    try:
        manifest = restore(db.engine, Path(file), confirm=confirm)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {manifest.file}: {len(manifest.tables)} tables, counts and checksums match "
               f"the manifest; run `python run.py init` to bring it to this version's schema and roles")
