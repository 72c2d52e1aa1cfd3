"""The students export written by a process of its own makes the file the caller would, to a path or
into a binary file, and raises an error of either side without leaving a workbook behind."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.documents import export, export_process

WIDTH = len(export.COLUMNS)


def _rows(n: int) -> list[list]:
    """Rows of every kind of cell: text, None, a number, and text the writer must guard."""
    odd = ["=1+1", "<r>书法</r>", "-", "@home", " leading space", "tab\there"]
    return [[f"学生{i}", None, float(i) / 4, odd[i % len(odd)], *([f"c{i}"] * (WIDTH - 4))] for i in range(n)]


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:  # docProps/core.xml: the time it was made
        return {name: book.read(name) for name in book.namelist() if name != "docProps/core.xml"}


def test_the_process_writes_the_workbook_the_caller_would(tmp_path):
    rows = _rows(3 * export_process.BATCH + 7)  # several batches and a part of one
    assert export_process.write(iter(rows), tmp_path / "child.xlsx") == len(rows)
    assert export.write(rows, tmp_path / "here.xlsx") == len(rows)
    assert _parts((tmp_path / "child.xlsx").read_bytes()) == _parts((tmp_path / "here.xlsx").read_bytes())


def test_the_process_writes_into_a_binary_file_and_an_empty_export_too(tmp_path):
    out = io.BytesIO()
    assert export_process.write(_rows(5), out) == 5
    export.write(_rows(5), tmp_path / "here.xlsx")
    assert _parts(out.getvalue()) == _parts((tmp_path / "here.xlsx").read_bytes())
    empty = io.BytesIO()
    assert export_process.write([], empty) == 0
    assert "xl/worksheets/sheet1.xml" in _parts(empty.getvalue())


def test_an_error_of_the_rows_is_raised_and_no_workbook_is_left(tmp_path):
    def failing():
        yield from _rows(2 * export_process.BATCH)
        raise LookupError("the database went away")

    with pytest.raises(LookupError, match="went away"):
        export_process.write(failing(), tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_an_error_of_the_writer_is_raised_in_the_caller(tmp_path):
    rows = _rows(10)
    rows[4][2] = 1j  # no cell holds a complex number: XlsxWriter refuses it in the child
    with pytest.raises(TypeError, match="Unsupported type"):
        export_process.write(rows, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_only_a_large_export_while_another_core_is_free_is_worth_a_process(monkeypatch):
    monkeypatch.setattr(export_process.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(export_process.os, "getloadavg", lambda: (1.2, 3.0, 3.0))
    assert export_process.worth_it(export_process.PROCESS_ROWS)
    assert not export_process.worth_it(export_process.PROCESS_ROWS - 1)
    assert export_process.worth_it(10, least=10) and not export_process.worth_it(10**6, least=0)
    monkeypatch.setattr(export_process.os, "getloadavg", lambda: (1.6, 0.5, 0.5))  # busy now
    assert not export_process.worth_it(10 * export_process.PROCESS_ROWS)
    monkeypatch.setattr(export_process.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(export_process.os, "cpu_count", lambda: 1)
    assert not export_process.worth_it(10 * export_process.PROCESS_ROWS)
