"""Backups that restore: `backup` dumps the whole database beside a manifest of its counts and
checksums, keeps the newest good ones and records each run; `restore` checks the file against its
manifest, refuses a database that is not empty, restores and proves the rows are the same.

Keys are never in a backup: the encryption keys (key file or environment) and the signing keys
live outside the database, and a backup directory may not hold them.  A scheduled job calls
``backup_as_configured(session, app.config)`` (or ``backup(session_or_engine, to_dir)``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ...clock import local_now
from ...i18n import t
from ...models import BackupRun
from ...models.base import keyring
from ...security.signing_keys import store_from_config
from ..common.digests import sha256_of
from ..common.transaction import transaction
from .backup_engines import SUFFIXES, dump, existing_tables, kind_of, load
from .backup_manifest import (
    MANIFEST_SUFFIX,
    BackupError,
    Manifest,
    first_difference,
    manifest_key,
    manifest_of,
    read_manifest,
)

__all__ = ["BackupError", "Manifest", "backup", "backup_as_configured", "backup_dir", "last_good_backup",
           "prune", "restore"]


def backup_dir(config: Any) -> Path:
    """XUEJI_BACKUP_DIR, or ``<instance dir>/backups``."""
    return Path(config.get("XUEJI_BACKUP_DIR") or Path(config["INSTANCE_DIR"]) / "backups")


def key_places(config: Any) -> list[Path]:
    """Where this configuration keeps key material on disk: the key file, the signing-key directory."""
    places = [config.get("XUEJI_KEY_FILE"), store_from_config(config).directory]
    return [Path(p) for p in places if p]


def backup_as_configured(session: Session, config: Any, to_dir: Path | None = None) -> Manifest:
    """A backup into ``to_dir`` (default: the configured directory), keeping XUEJI_BACKUP_KEEP."""
    return backup(session, to_dir or backup_dir(config), keep=config["XUEJI_BACKUP_KEEP"],
                  keys_at=key_places(config))


def backup(session_or_engine: Session | Engine, to_dir: Path, *, keep: int | None = None,
           keys_at: Iterable[Path] = ()) -> Manifest:
    """Dump the database into ``to_dir`` with its manifest, record the run (ok or failed), then keep
    only the ``keep`` newest good backups there (None: keep all)."""
    started = local_now()
    with _session(session_or_engine) as session:
        try:
            manifest = _take(session.get_bind(), Path(to_dir), list(keys_at))
        except (BackupError, OSError, SQLAlchemyError) as exc:
            error = exc if isinstance(exc, BackupError) else BackupError(
                t(f"备份失败：{exc}", f"the backup failed: {exc}"))
            _record(session, BackupRun(file=str(to_dir), started_at=started, status="failed",
                                       message=str(error)))
            if error is exc:
                raise
            raise error from exc
        _record(session, BackupRun(file=str(Path(to_dir) / manifest.file), sha256=manifest.sha256,
                                   size=manifest.size, started_at=started, status="ok"))
    if keep is not None:
        prune(Path(to_dir), keep)
    return manifest


def restore(engine: Engine, file: Path, *, confirm: Callable[[Manifest], bool] = lambda m: True) -> Manifest:
    """Check ``file`` against its manifest and the target (empty, same kind), ask ``confirm``,
    restore, then compare every table's count and checksum with the manifest."""
    manifest = _checked(engine, Path(file))
    if not confirm(manifest):
        raise BackupError(t("已取消恢复", "restore cancelled"))
    sums, revision = load(engine, Path(file))
    difference = first_difference(manifest.tables, sums)
    if difference is None and revision != manifest.alembic_revision:
        difference = t(f"迁移版本 {revision} 与清单的 {manifest.alembic_revision} 不符",
                       f"revision {revision} differs from the manifest's {manifest.alembic_revision}")
    if difference is not None:
        raise BackupError(t(f"已恢复，但与备份清单不符，请勿使用该数据库：{difference}",
                            f"restored, but it does not match the manifest; do not use this database: "
                            f"{difference}"))
    return manifest


def prune(to_dir: Path, keep: int) -> list[str]:
    """Remove all but the ``keep`` newest backups (by their manifests) in ``to_dir``; returns the
    file names removed.  Files without a genuine manifest of their own are not ours to remove."""
    found, key = [], manifest_key(keyring())
    for path in to_dir.glob("*" + MANIFEST_SUFFIX):
        try:
            manifest = read_manifest(path)
        except BackupError:
            continue
        # only this installation's manifests, naming the dump beside them (never a path elsewhere)
        if manifest_of(to_dir / manifest.file) == path and manifest.genuine(key):
            found.append(manifest)
    found.sort(key=lambda m: m.created_at, reverse=True)
    for old in found[max(keep, 0):]:
        (to_dir / old.file).unlink(missing_ok=True)
        manifest_of(to_dir / old.file).unlink(missing_ok=True)
    return [old.file for old in found[max(keep, 0):]]


def last_good_backup(session: Session, before: datetime | None = None) -> datetime | None:
    """When the last good backup finished (wall clock, local time; ``before``: the last before
    that moment, as a monthly report sees it at the month's end), or None if there was none."""
    query = select(func.max(BackupRun.finished_at)).where(BackupRun.status == "ok")
    if before is not None:
        query = query.where(BackupRun.finished_at < before)
    return session.scalar(query)


# -- the steps ----------------------------------------------------------------------------------

@contextmanager
def _session(target: Session | Engine) -> Iterator[Session]:
    if not isinstance(target, Engine):  # a Session, or Flask-SQLAlchemy's scoped one
        yield target
        return
    with Session(target) as session:
        yield session


def _record(session: Session, run: BackupRun) -> None:
    try:
        with transaction(session):
            run.finished_at = local_now()
            session.add(run)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        outcome = run.message or run.file
        raise BackupError(t(f"无法在 backup_run 中记录本次备份（{cause}；数据库是否已 init？）：{outcome}",
                            f"could not record the backup in backup_run ({cause}; is the database "
                            f"initialised with `run.py init`?): {outcome}")) from exc


def _keys_apart(to_dir: Path, keys_at: list[Path]) -> None:
    here = to_dir.resolve()
    for place in keys_at:
        key = place.resolve()
        if key == here or here in key.parents or key in here.parents:
            raise BackupError(t(f"备份目录 {to_dir} 与密钥 {place} 重叠：密钥与备份须分开存放，"
                                "请将 XUEJI_BACKUP_DIR 设为单独的目录",
                                f"the backup directory {to_dir} overlaps the keys at {place}: keys and "
                                "backups are kept apart; set XUEJI_BACKUP_DIR to a directory of its own"))


def _take(engine: Engine, to_dir: Path, keys_at: list[Path]) -> Manifest:
    kind = kind_of(engine)
    _keys_apart(to_dir, keys_at)
    to_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = local_now()
    path = to_dir / f"xueji-{created:%Y%m%d-%H%M%S-%f}{SUFFIXES[kind]}"
    part = path.with_name(path.name + ".part")
    try:
        sums, revision = dump(engine, part)
        os.chmod(part, 0o600)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    manifest = Manifest(file=path.name, kind=kind, created_at=created, size=path.stat().st_size,
                        sha256=sha256_of(path), alembic_revision=revision, tables=sums)
    manifest = manifest.sealed(manifest_key(keyring()))
    manifest.write(to_dir)
    return manifest


def _checked(engine: Engine, file: Path) -> Manifest:
    """The manifest, once the file is its dump, of this database's kind, and the target is empty."""
    manifest = read_manifest(manifest_of(file))
    if not file.is_file():
        raise BackupError(t(f"找不到备份文件 {file}", f"no backup file {file}"))
    if not manifest.genuine(manifest_key(keyring())):
        raise BackupError(t(f"备份清单 {manifest_of(file)} 的校验码不符：清单被改动过，或不是用本系统的密钥做的备份，"
                            "已拒绝恢复",
                            f"the manifest {manifest_of(file)} fails its check: it was altered, or the backup was "
                            "not made with this installation's keys; refused"))
    if sha256_of(file) != manifest.sha256:
        raise BackupError(t(f"备份文件 {file} 与清单不符（SHA-256 不一致），已拒绝恢复",
                            f"the backup file {file} does not match its manifest (SHA-256 differs): refused"))
    if kind_of(engine) != manifest.kind:
        raise BackupError(t(f"这是 {manifest.kind} 备份，不能恢复到 {engine.dialect.name} 数据库",
                            f"a {manifest.kind} backup cannot be restored into a {engine.dialect.name} "
                            "database"))
    tables = existing_tables(engine)
    if tables:
        raise BackupError(t(f"目标数据库不是空的（{len(tables)} 张表，如 {tables[0]}）：只能恢复到空数据库，"
                            "请新建一个数据库（或移走旧的数据库文件）后再恢复",
                            f"the target database is not empty ({len(tables)} tables, e.g. {tables[0]}): "
                            "restore only into an empty database; create a new one (or move the old "
                            "database file away) first"))
    return manifest
