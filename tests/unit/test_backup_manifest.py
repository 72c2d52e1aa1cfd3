"""A backup manifest's checksums and its reading, on throw-away SQLite databases: a checksum notices
one changed value, does not depend on the order rows were written in, and a bad manifest is named
by its field."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.services.operations.backup_manifest import BackupError, read_manifest, table_sums


def _sums(rows: list[tuple], *, keyed: bool = True) -> dict:
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        key = " PRIMARY KEY" if keyed else ""
        conn.execute(sa.text(f"CREATE TABLE pupil (id INTEGER{key}, name TEXT, born DATE)"))
        for row in rows:
            conn.execute(sa.text("INSERT INTO pupil VALUES (:id, :name, :born)"),
                         dict(zip(("id", "name", "born"), row, strict=True)))
        return table_sums(conn)


ROWS = [(1, "张三", "2015-03-01"), (2, "李四", "2015-07-09"), (3, None, "2016-01-31")]


@pytest.mark.parametrize("keyed", [True, False])
def test_a_checksum_ignores_the_order_rows_were_written_in_and_sees_one_changed_value(keyed):
    same = _sums(ROWS, keyed=keyed)
    assert _sums(list(reversed(ROWS)), keyed=keyed) == same
    changed = _sums([*ROWS[:2], (3, None, "2016-02-01")], keyed=keyed)
    assert changed["pupil"].rows == same["pupil"].rows == 3
    assert changed["pupil"].checksum != same["pupil"].checksum


def test_an_empty_table_has_no_rows_and_the_md5_of_nothing():
    assert _sums([])["pupil"].rows == 0
    assert _sums([])["pupil"].checksum == "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize(("change", "message"), [
    ({"sha256": None}, "字段 sha256 缺失或类型错误"),
    ({"size": "12"}, "字段 size 缺失或类型错误"),
    ({"tables": {"student": {"rows": 3}}}, "tables 或 created_at 有误"),
    ({"created_at": "yesterday"}, "tables 或 created_at 有误"),
])
def test_a_bad_manifest_is_refused_naming_the_field(tmp_path, change, message):
    good = {"file": "x.dump", "kind": "postgresql", "created_at": "2026-12-01T12:00:00", "size": 12,
            "sha256": "0" * 64, "alembic_revision": "f1a2b3c4d5e6",
            "tables": {"student": {"rows": 3, "checksum": "0" * 32}}}
    path = tmp_path / "x.dump.manifest.json"
    path.write_text(json.dumps(good))
    assert read_manifest(path).tables["student"].rows == 3
    path.write_text(json.dumps({**good, **change}))

    with pytest.raises(BackupError, match=message):
        read_manifest(path)
