"""Reading an uploaded template with python-calamine, after checking it is a sane .xlsx.

Refused before any parsing: files that are not .xlsx, too large, corrupt, zip bombs (a member that
inflates past a limit or a ratio), and sheets with an absurd number of rows.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from .columns import COLUMNS, REQUIRED_HEADERS, Column, header_key, match

MAX_BYTES = 40 * 1024 * 1024
MAX_INFLATED = 600 * 1024 * 1024
MAX_RATIO = 150  # a real sheet compresses about 10:1
MAX_ROWS = 150_000
HEADER_SCAN = 10


class WorkbookRefused(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} ({en})")
        self.zh, self.en = zh, en


def check(data: bytes) -> None:
    """Refuse what is not a plain, reasonably sized .xlsx without reading its cells."""
    if len(data) > MAX_BYTES:
        raise WorkbookRefused(f"文件超过 {MAX_BYTES // 2**20} MB", f"the file is larger than {MAX_BYTES // 2**20} MB")
    if not data.startswith(b"PK\x03\x04"):
        raise WorkbookRefused("不是 .xlsx 文件（请另存为 Excel 工作簿 .xlsx）",
                              "not an .xlsx workbook (save it as an Excel .xlsx file)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" not in names:
                raise WorkbookRefused("不是 Excel 工作簿", "not an Excel workbook")
            inflated = 0
            for info in archive.infolist():
                inflated += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if inflated > MAX_INFLATED or (info.file_size > 10 * 2**20 and ratio > MAX_RATIO):
                    raise WorkbookRefused("文件解压后异常巨大，已拒绝", "the file inflates absurdly: refused")
    except zipfile.BadZipFile:
        raise WorkbookRefused("文件已损坏，无法打开", "the file is corrupt") from None


@dataclass
class Layout:
    """Where the header is, which column holds what, and what is missing or unknown."""

    header_row: int  # 1-based, as Excel numbers rows
    columns: dict[int, Column] = field(default_factory=dict)  # 0-based column index -> Column
    headers: dict[int, str] = field(default_factory=dict)  # every header cell as written
    unknown: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        have = {c.header for c in self.columns.values()}
        return [h for h in REQUIRED_HEADERS if h not in have]

    def index_of(self, key: str) -> int | None:
        return next((i for i, c in self.columns.items() if c.key == key), None)


def _layout(rows: list[list]) -> Layout:
    best, best_hits = 0, -1
    for i, row in enumerate(rows[:HEADER_SCAN]):
        hits = sum(1 for cell in row if match(cell))
        if hits > best_hits:
            best, best_hits = i, hits
    layout = Layout(best + 1)
    groups = _groups(rows[best - 1]) if best > 0 else {}
    for col, cell in enumerate(rows[best] if rows else []):
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


class Sheet:
    """The first worksheet: its layout and its data rows as (Excel row number, cells)."""

    def __init__(self, data: bytes | Path):
        raw = data.read_bytes() if isinstance(data, Path) else data
        check(raw)
        try:
            workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(raw))
            self._sheet = workbook.get_sheet_by_index(0)
        except Exception as exc:  # calamine raises its own error family for broken files
            raise WorkbookRefused("文件已损坏或无法读取", f"the workbook cannot be read: {type(exc).__name__}") from None
        if self._sheet.total_height > MAX_ROWS + HEADER_SCAN:
            raise WorkbookRefused(f"行数超过 {MAX_ROWS:,} 行，请分批导入",
                                  f"more than {MAX_ROWS:,} rows: split the file")
        self._rows = self._sheet.iter_rows()
        head = [next(self._rows, []) for _ in range(HEADER_SCAN)]
        self.layout = _layout(head)
        self._pending = [(n + 1, row) for n, row in enumerate(head) if n + 1 > self.layout.header_row]
        self._next = HEADER_SCAN + 1

    def rows(self):
        """Data rows after the header, blank rows skipped, numbered as Excel numbers them."""
        for number, row in self._pending:
            if any(cell not in (None, "") for cell in row):
                yield number, row
        for row in self._rows:
            number, self._next = self._next, self._next + 1
            if any(cell not in (None, "") for cell in row):
                yield number, row

    @property
    def height(self) -> int:
        return self._sheet.total_height


__all__ = ["COLUMNS", "Layout", "Sheet", "WorkbookRefused", "check"]
