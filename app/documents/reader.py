"""Reading an uploaded template with python-calamine, after checking it is a sane .xlsx.

Refused before any parsing: files that are not .xlsx, too large, corrupt, zip bombs (see
``archive``: limits on what all members together inflate to), and sheets with an absurd number of
rows.  Only the parts calamine reads are ever inflated.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import python_calamine

from .archive import Archive, WorkbookRefused, check, corrupt_as_refused
from .columns import COLUMNS, REQUIRED_HEADERS, Column, header_key, match

MAX_ROWS = 150_000
HEADER_SCAN = 10
# a chunk is cut at the first row that starts past this many bytes (2,000 template rows are ~7 MB),
# and a sheet that goes twice as far without a row starting is refused: one row that long is no
# registrar's, and calamine would hold it whole
CHUNK_BYTES = 16 * 2**20
MAX_PREFIX = 4 * 2**20  # the sheet's XML before <sheetData> (views, columns): a few KB in a real one


@dataclass
class Layout:
    """Where the header is, which column holds what, and what is missing or unknown."""

    header_row: int  # 1-based, as Excel numbers rows
    columns: dict[int, Column] = field(default_factory=dict)  # 0-based column index -> Column
    headers: dict[int, str] = field(default_factory=dict)  # every header cell as written
    unknown: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)  # the row above the header and the header, as read

    @property
    def missing(self) -> list[str]:
        """Required headers the sheet does not have."""
        have = {c.header for c in self.columns.values()}
        return [h for h in REQUIRED_HEADERS if h not in have]

    def index_of(self, key: str) -> int | None:
        """The 0-based column holding the item ``key``, or None."""
        return next((i for i, c in self.columns.items() if c.key == key), None)


def _layout(rows: list[list]) -> Layout:
    best, best_hits = 0, -1
    for i, row in enumerate(rows[:HEADER_SCAN]):
        hits = sum(1 for cell in row if match(cell))
        if hits > best_hits:
            best, best_hits = i, hits
    return header_layout(best + 1, rows[best - 1] if best > 0 else [], rows[best] if rows else [])


def header_layout(header_row: int, above: list, header: list) -> Layout:
    """The layout a header row gives (Excel row ``header_row``); ``above``: the row over it, whose
    merged groups ('家庭成员1') name the family members' columns."""
    layout = Layout(header_row, rows=[list(above), list(header)])
    groups = _groups(above)
    for col, cell in enumerate(header):
        if cell in (None, ""):
            continue
        group = groups.get(col, "")
        column = (group and match(group + str(cell))) or match(cell)
        layout.headers[col] = str(cell)
        if column is None:
            layout.unknown.append(str(cell))
        elif column in layout.columns.values():
            layout.duplicate.append(str(cell))
        else:
            layout.columns[col] = column
    return layout


def _groups(row: list) -> dict[int, str]:
    """A merged group row above the header ('家庭成员1' over 姓名, 关系 ...) read as 成员1 prefixes."""
    out, current = {}, ""
    for col, cell in enumerate(row):
        key = header_key(cell)
        if key:
            digit = next((ch for ch in key if ch in "12"), "")
            current = f"成员{digit}" if "成员" in key and digit else ""
        out[col] = current
    return out


class _SheetXml:
    """The first worksheet's XML streamed out of the zip and cut, between row elements, into small
    stand-alone workbooks that calamine reads one after the other: calamine holds a whole sheet in
    memory, so this is what keeps memory flat however long the file is.  Each small workbook holds
    only the parts calamine reads, inflated once and stored once in ``_base``."""

    BLOCK = 1 << 20

    def __init__(self, raw: bytes):
        self._raw = raw
        with Archive(raw) as archive:
            self.path = _first_sheet_path(archive)
            if not archive.has(self.path):
                raise WorkbookRefused("工作簿中没有工作表", "the workbook has no worksheet")
            self._base = _stored(archive.parts(), skip=self.path)
            self._spent = archive.meter.spent  # what the parts took from the file's inflation budget

    def chunks(self, rows_per_chunk: int) -> Iterator[bytes]:
        """Raw XML fragments of at most ``rows_per_chunk`` row elements each, as workbooks."""
        with corrupt_as_refused(), Archive(self._raw, self._spent) as archive:
            yield from self._chunks(archive.stream(self.path, self.BLOCK), rows_per_chunk)

    def _chunks(self, blocks: Iterator[bytes], rows_per_chunk: int) -> Iterator[bytes]:
        found, prefix, head = _sheet_data(blocks)
        if found is None:  # <sheetData/>: no rows at all
            return
        ns = found.group(1) or b""
        row_start = re.compile(b"<" + re.escape(ns) + rb"row[\s>/]")
        end_tag = b"</" + ns + b"sheetData>"
        tail = end_tag + b"</" + ns + b"worksheet>"
        data = bytearray(head)  # grown in place block by block, cut from the front: no copy of it all each time
        count = pos = end_from = 0  # rows counted in this chunk; where both searches resume
        done = False
        while True:
            if not done:
                stop = data.find(end_tag, end_from)
                if stop >= 0:
                    del data[stop:]
                    done = True
                else:
                    end_from = max(0, len(data) - len(end_tag))
            limit = len(data) if done else len(data) - _TAG_MARGIN  # a tag may straddle blocks
            cut = None
            for found in row_start.finditer(data, pos):
                if found.start() >= limit:
                    break
                if count and (count >= rows_per_chunk or found.start() > CHUNK_BYTES):
                    cut = found.start()
                    break
                count += 1
                pos = found.end()
            if cut is not None:
                book = self._workbook(prefix, data, cut, tail)
                del data[:cut]
                count, pos, end_from = 0, 0, max(0, end_from - cut)
                yield book
                continue
            if done:
                if count:
                    yield self._workbook(prefix, data, len(data), tail)
                return
            if len(data) > 2 * CHUNK_BYTES:
                raise WorkbookRefused(f"工作表中有一行超过 {CHUNK_BYTES // 2**20} MB，已拒绝",
                                      f"a row of the sheet is longer than {CHUNK_BYTES // 2**20} MB: refused")
            block = next(blocks, b"")
            if not block:
                raise WorkbookRefused("工作表不完整（文件被截断）", "the worksheet is truncated")
            data += block

    def _workbook(self, prefix: bytes, data: bytearray, end: int, tail: bytes) -> bytes:
        """The parts stored once, the sheet's ``prefix``, ``data[:end]`` and ``tail`` appended as
        this chunk's sheet: nothing inflated or copied twice but the stored parts themselves."""
        buffer = io.BytesIO(self._base)
        with zipfile.ZipFile(buffer, "a") as out, out.open(self.path, "w") as sheet, memoryview(data) as view:
            sheet.write(prefix)
            sheet.write(view[:end])
            sheet.write(tail)
        return buffer.getvalue()


def _stored(parts: dict[str, bytes], skip: str) -> bytes:
    """The parts as a zip without compression, to which each chunk's sheet is appended."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for name, content in parts.items():
            if name.lower() != skip.lower():  # a sheet named like a part comes from the stream
                out.writestr(name, content)
    return buffer.getvalue()


def _sheet_data(blocks: Iterator[bytes]) -> tuple[re.Match | None, bytes, bytes]:
    """The sheet's XML up to and including <sheetData ...>, and what was read after it (no match
    for an empty <sheetData/>)."""
    data = b""
    while (found := _SHEET_DATA.search(data)) is None:
        block = next(blocks, b"")
        data += block
        if not block or len(data) > MAX_PREFIX:
            raise WorkbookRefused("工作表格式无法识别", "the worksheet has no sheetData")
    if found.group(0).endswith(b"/>"):
        return None, b"", b""
    return found, data[:found.end()], data[found.end():]


_SHEET_DATA = re.compile(rb"<(\w{1,20}:)?sheetData\b[^>]*>")
_ANY_ROW = re.compile(rb"<(?:\w{1,20}:)?row[\s>/]")
_TAG_MARGIN = 32  # longer than any row start tag '<prefix:row '


def _first_sheet_path(archive: Archive) -> str:
    """Where the workbook's first sheet lives (xl/worksheets/sheet1.xml, usually)."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml") or b"")
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels") or b"")
    except ElementTree.ParseError:
        raise WorkbookRefused("文件已损坏，无法打开", "the workbook's index is missing or broken") from None
    sheet = next((e for e in book.iter() if e.tag.endswith("}sheet") or e.tag == "sheet"), None)
    rid = next((v for k, v in (sheet.attrib.items() if sheet is not None else []) if k.endswith("}id")), None)
    target = next((r.get("Target") for r in rels if r.get("Id") == rid), None)
    if not target:
        raise WorkbookRefused("工作簿中没有工作表", "the workbook has no worksheet")
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


class Sheet:
    """The first worksheet: its layout and its data rows as (Excel row number, cells), read a chunk
    of rows at a time -- here, or (``parts``) each chunk by whichever process reads it."""

    CHUNK_ROWS = 2000

    def __init__(self, data: bytes | Path):
        raw = data.read_bytes() if isinstance(data, Path) else data
        check(raw)
        self._xml = _SheetXml(raw)
        self._raw_chunks = self._xml.chunks(self.CHUNK_ROWS)
        head: list[tuple[int, list]] = []  # the chunks the header is looked for in (the first, mostly)
        for chunk in self._raw_chunks:
            head += chunk_rows(chunk)
            if head and head[-1][0] >= HEADER_SCAN:
                break
        by_number = {n: row for n, row in head if n <= HEADER_SCAN}
        self.layout = _layout([by_number.get(n, []) for n in range(1, HEADER_SCAN + 1)])
        self._header_rows = [(n, row) for n, row in head if n <= self.layout.header_row]
        self._head = [(n, row) for n, row in head if n > self.layout.header_row]

    def _numbered_rows(self):
        """Every row with cells, the header's included, numbered as Excel numbers it (once)."""
        yield from self._header_rows
        for part in self.parts():
            yield from (chunk_rows(part) if isinstance(part, bytes) else part)

    def parts(self) -> Iterator[list[tuple[int, list]] | bytes]:
        """The data rows once: first the rows read with the header, then each further chunk as the
        small stand-alone workbook ``chunk_rows`` reads (blank rows still in)."""
        head, self._head = self._head, []
        if head:
            yield head
        yield from self._raw_chunks

    def rows(self):
        """Data rows after the header, blank rows skipped, numbered as Excel numbers them."""
        for part in self.parts():
            yield from data_rows(part)


def data_rows(part: list[tuple[int, list]] | bytes):
    """The non-blank rows of one of ``Sheet.parts``."""
    for number, row in (chunk_rows(part) if isinstance(part, bytes) else part):
        if any(cell not in (None, "") for cell in row):
            yield number, row


def chunk_rows(chunk: bytes) -> list[tuple[int, list]]:
    """Every row with cells of one chunk, numbered as Excel numbers it, columns where Excel has them."""
    try:
        sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(chunk)).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=True)
    except Exception as exc:  # calamine raises its own error family for broken files
        raise WorkbookRefused("文件已损坏或无法读取",
                              f"the workbook cannot be read: {type(exc).__name__}") from None
    top, left = sheet.start if rows else (0, 0)
    if rows and top + len(rows) > MAX_ROWS + HEADER_SCAN:  # rows numbered past the limit
        raise _too_many_rows()
    pad = [""] * left
    return [(top + offset + 1, (pad + cells if left else cells)) for offset, cells in enumerate(rows)]


def _too_many_rows() -> WorkbookRefused:
    return WorkbookRefused(f"行数超过 {MAX_ROWS:,} 行，请分批导入", f"more than {MAX_ROWS:,} rows: split the file")


def check_rows(data: bytes) -> None:
    """Refuse a sheet with an absurd number of rows, having only counted them."""
    if count_rows(data) > MAX_ROWS + HEADER_SCAN:
        raise _too_many_rows()


def count_rows(data: bytes) -> int:
    """Row elements in the first sheet, counted while inflating, nothing kept: the cheap refusal of
    absurd files at upload."""
    with corrupt_as_refused(), Archive(data) as archive:
        count, carry = 0, b""
        for block in archive.stream(_first_sheet_path(archive), _SheetXml.BLOCK):
            buffer = carry + block
            limit = max(0, len(buffer) - _TAG_MARGIN)  # tags starting later are counted next time
            count += sum(1 for m in _ANY_ROW.finditer(buffer) if m.start() < limit)
            carry = buffer[limit:]
        return count + sum(1 for _ in _ANY_ROW.finditer(carry))


__all__ = ["COLUMNS", "Layout", "Sheet", "WorkbookRefused", "check", "check_rows", "chunk_rows", "count_rows",
           "data_rows"]
