"""A backup's manifest: the JSON file beside each dump naming it, its size and SHA-256, the schema's
Alembic revision, and each table's row count and content checksum -- figures a restore recomputes
to prove it gave back the same rows.  Counts and digests only: no value of any row."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ...errors import DomainError
from ...i18n import t
from ...security.crypto import Keyring

MANIFEST_SUFFIX = ".manifest.json"
KINDS = ("postgresql", "sqlite")


class BackupError(DomainError):
    """A backup that could not be taken, or a file that may not or could not be restored."""


@dataclass(frozen=True)
class TableSum:
    """One table's row count and the MD5 over its rows' MD5s in primary-key order."""

    rows: int
    checksum: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, written beside its dump as ``<dump>.manifest.json``."""

    file: str  # the dump's file name, in the manifest's directory
    kind: str  # one of KINDS
    created_at: datetime  # wall clock, local time of XUEJI_TIMEZONE
    size: int
    sha256: str
    alembic_revision: str | None
    tables: dict[str, TableSum] = field(default_factory=dict)
    mac: str | None = None  # HMAC of everything above under a key derived from the app's keys

    def content(self) -> bytes:
        """What the mac covers: every field but the mac, as canonical JSON."""
        body = {k: v for k, v in self.as_dict().items() if k != "mac"}
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def sealed(self, key: bytes) -> Manifest:
        """The same manifest with its mac."""
        return replace(self, mac=hmac.new(key, self.content(), hashlib.sha256).hexdigest())

    def genuine(self, key: bytes) -> bool:
        """Made by a backup of this installation (its keys) and unchanged since."""
        expected = hmac.new(key, self.content(), hashlib.sha256).hexdigest()
        return self.mac is not None and hmac.compare_digest(self.mac, expected)

    def as_dict(self) -> dict:
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    def write(self, directory: Path) -> Path:
        """Write the manifest beside its dump (mode 0600, replaced atomically); returns its path."""
        path = directory / (self.file + MANIFEST_SUFFIX)
        tmp = path.with_name(path.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.as_dict(), fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
        return path


_FIELDS = {"file": str, "kind": str, "created_at": str, "size": int, "sha256": str, "tables": dict}


def manifest_of(dump: Path) -> Path:
    return dump.with_name(dump.name + MANIFEST_SUFFIX)


def read_manifest(path: Path) -> Manifest:
    """The manifest at ``path``, or BackupError naming the file and the field that is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(t(f"找不到备份清单 {path}", f"no manifest {path} beside the backup")) from None
    except (OSError, ValueError) as exc:
        raise BackupError(t(f"备份清单 {path} 无法读取：{exc}", f"manifest {path} is unreadable: {exc}")) from None
    data = data if isinstance(data, dict) else {}
    for name, kind in _FIELDS.items():
        if not isinstance(data.get(name), kind):
            raise BackupError(t(f"备份清单 {path}：字段 {name} 缺失或类型错误",
                                f"manifest {path}: field {name} is missing or not of type {kind.__name__}"))
    try:
        tables = {name: TableSum(rows=int(v["rows"]), checksum=str(v["checksum"]))
                  for name, v in data["tables"].items()}
        created = datetime.fromisoformat(data["created_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(t(f"备份清单 {path}：tables 或 created_at 有误（{exc}）",
                            f"manifest {path}: tables or created_at is malformed ({exc})")) from None
    return Manifest(file=data["file"], kind=data["kind"], created_at=created, size=data["size"],
                    sha256=data["sha256"], alembic_revision=data.get("alembic_revision"), tables=tables,
                    mac=data.get("mac") if isinstance(data.get("mac"), str) else None)


def alembic_revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def table_sums(conn: Connection) -> dict[str, TableSum]:
    """Every table's count and checksum as ``conn`` sees it (within its transaction's snapshot)."""
    inspector = sa.inspect(conn)
    quote = conn.dialect.identifier_preparer.quote
    sums = {}
    for table in sorted(inspector.get_table_names()):
        keys = [quote(c) for c in inspector.get_pk_constraint(table)["constrained_columns"]]
        summer = _postgresql_sum if conn.dialect.name == "postgresql" else _python_sum
        sums[table] = summer(conn, quote(table), keys)
    return sums


def _postgresql_sum(conn: Connection, table: str, keys: list[str]) -> TableSum:
    """Set-based: one aggregate over the rows' text forms, in primary-key order."""
    order = ", ".join(f"r.{k}" for k in keys) or "md5(ROW(r.*)::text)"
    row = conn.execute(text(f"SELECT count(*), md5(coalesce(string_agg(md5(ROW(r.*)::text), '' "
                            f"ORDER BY {order}), '')) FROM {table} AS r")).one()
    return TableSum(rows=row[0], checksum=row[1])


def _python_sum(conn: Connection, table: str, keys: list[str]) -> TableSum:
    """SQLite has no MD5: the same digest of digests, computed while the rows stream by."""
    order = f" ORDER BY {', '.join(keys)}" if keys else ""
    digests = (hashlib.md5(repr(tuple(r)).encode()).hexdigest()
               for r in conn.execute(text(f"SELECT * FROM {table}{order}")))
    if not keys:
        digests = iter(sorted(digests))
    total, count = hashlib.md5(), 0
    for digest in digests:
        total.update(digest.encode())
        count += 1
    return TableSum(rows=count, checksum=total.hexdigest())


def first_difference(expected: dict[str, TableSum], found: dict[str, TableSum]) -> str | None:
    """The first table (by name) whose count or checksum differs, described; None when all agree."""
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        if want is None:
            return t(f"表 {table} 不在备份清单中", f"table {table} is not in the manifest")
        if got is None:
            return t(f"表 {table} 在恢复后的数据库中不存在", f"table {table} is missing after the restore")
        if want.rows != got.rows:
            return t(f"表 {table}：恢复后 {got.rows} 行，清单记载 {want.rows} 行",
                     f"table {table}: {got.rows} rows restored, the manifest says {want.rows}")
        if want.checksum != got.checksum:
            return t(f"表 {table}：内容校验和与清单不符", f"table {table}: its content checksum differs "
                     "from the manifest's")
    return None


def manifest_key(ring: Keyring) -> bytes:
    """The manifests' HMAC key, derived from the installation's keys (not in the database nor in a
    backup: restoring needs the keys, as the data does)."""
    return ring.derived(b"xueji backup manifest v1")
