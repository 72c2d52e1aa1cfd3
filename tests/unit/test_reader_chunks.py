"""The streamed reader: a sheet cut into small workbooks between its row elements reads exactly as
calamine reads the whole sheet -- row numbers, column positions, dates, shared or inline strings --
whatever the chunk and block sizes, so memory stays flat without changing a single cell."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
import python_calamine
from openpyxl import Workbook

from app.documents import reader


def _whole(data: bytes) -> list[tuple[int, list]]:
    """The reference: calamine reading the whole sheet, columns placed as Excel places them."""
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    left = sheet.start[1] if sheet.height else 0
    return [(n + 1, [""] * left + row) for n, row in enumerate(sheet.iter_rows())
            if any(c not in (None, "") for c in row)]


def _streamed(data: bytes) -> list[tuple[int, list]]:
    return list(reader.Sheet(data)._numbered_rows())


def _trimmed(rows) -> list[tuple[int, list]]:
    """Rows without their trailing blanks (a chunk is as wide as its own widest row)."""
    out = []
    for number, cells in rows:
        cells = list(cells)
        while cells and cells[-1] in (None, ""):
            cells.pop()
        if cells:
            out.append((number, cells))
    return out


def _book(write_only: bool) -> bytes:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("学生") if write_only else book.active
    sheet.append([None, "标题行"])
    sheet.append(["姓名", "性别", "出生日期", "身份证件号"])
    for i in range(40):
        if i % 7 == 3:
            sheet.append([])  # a blank row in the middle
        elif i % 5 == 0:
            sheet.append([None, None, date(2018, 1, 1 + i % 28), f"43010220180101{i:03d}X"])  # col A empty
        else:
            sheet.append([f"学生{i}", "男" if i % 2 else "女", date(2018, 3, 1 + i % 28), 1234.5 + i])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("write_only", [True, False], ids=["inline strings", "shared strings"])
@pytest.mark.parametrize("chunk,block", [(1, 64), (3, 100), (7, 1 << 20), (5000, 1 << 20)])
def test_chunks_read_exactly_as_the_whole_sheet(monkeypatch, write_only, chunk, block):
    data = _book(write_only)
    monkeypatch.setattr(reader.Sheet, "CHUNK_ROWS", chunk)
    monkeypatch.setattr(reader._SheetXml, "BLOCK", block)
    streamed = _streamed(data)
    assert _trimmed(streamed) == _trimmed(_whole(data))
    assert streamed[0][0] == 1 and len([r for r in streamed if r[0] > 2]) > 30


def test_chunks_are_small_workbooks_of_at_most_n_rows(monkeypatch):
    data = _book(True)
    monkeypatch.setattr(reader._SheetXml, "BLOCK", 128)
    pieces = list(reader._SheetXml(data).chunks(6))
    heights = []
    for piece in pieces:
        sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(piece)).get_sheet_by_index(0)
        heights.append(len(sheet.to_python(skip_empty_area=True)))
    assert len(pieces) == 7 and all(h <= 6 for h in heights)  # 42 row elements


@pytest.mark.parametrize("block", [16, 100, 1 << 20])
def test_rows_are_counted_without_reading_cells(monkeypatch, block):
    monkeypatch.setattr(reader._SheetXml, "BLOCK", block)
    for data in (_book(True), _book(False)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml")
        assert reader.count_rows(data) == xml.count(b"<row ") + xml.count(b"<row>") >= 36


def _rezip(data: bytes, sheet_xml) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            dst.writestr(info.filename, sheet_xml(content) if info.filename.endswith("sheet1.xml") else content)
    return out.getvalue()


def test_a_truncated_sheet_is_refused_with_a_clear_message():
    data = _rezip(_book(True), lambda xml: xml[: len(xml) // 2])
    with pytest.raises(reader.WorkbookRefused) as caught:
        _streamed(data)
    assert "截断" in caught.value.zh


def test_an_empty_sheet_has_no_rows_and_names_every_missing_column():
    book = Workbook()
    buffer = io.BytesIO()
    book.save(buffer)
    sheet = reader.Sheet(buffer.getvalue())
    assert list(sheet.rows()) == [] and "姓名" in sheet.layout.missing


def test_a_sheet_that_fails_to_inflate_is_refused_as_corrupt():
    """The zip directory is sound (so the cheap checks pass) but the sheet's deflate stream is not."""
    data = bytearray(_book(True))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + info.compress_size // 3, start + info.compress_size // 3 + 64):
        data[i] ^= 0x5A
    reader.check(bytes(data))  # nothing wrong that can be seen without inflating
    with pytest.raises(reader.WorkbookRefused) as caught:
        _streamed(bytes(data))
    assert "损坏" in caught.value.zh
    with pytest.raises(reader.WorkbookRefused):
        reader.count_rows(bytes(data))
