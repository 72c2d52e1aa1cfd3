"""The school statistics table (学校统计表) as a workbook: the page's table, its two header rows
(column groups above their columns) frozen with the row names, the total row last and bold.

``write(statistics, target, lang)`` reads ``app.services.reports.statistics.Statistics`` by
attribute (documents import no service) and writes the same bytes for the same table: the
workbook's times and every zip entry's time are the table's ``as_of``.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from . import fixed_xlsx
from .safe import FORMULA_STARTS

Statistics = Any  # app.services.reports.statistics.Statistics, read by attribute

_WORDS = {
    "title": ("学校统计表", "School statistics"),
    "as_of": ("统计时间", "As of"),
    "on_record": ("学生为在籍学生（在校、休学、复学中）", "Students on record (in school, suspended, resuming)"),
    "code": ("代码", "Code"),
    "sheet": ("学校统计表", "Statistics"),
}
HEADER_TOP = 4  # the first header row; the data start two rows below
_BOLD = Font(bold=True)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD = PatternFill("solid", fgColor="DDEBF7")


def _w(key: str, lang: str) -> str:
    zh, en = _WORDS[key]
    return en if lang == "en" else zh


def write(stats: Statistics, target: str | Path | IO[bytes], lang: str = "zh") -> None:
    """Write ``stats`` as an .xlsx to a path or a binary stream."""
    fixed_xlsx.save(build(stats, lang), target, stats.as_of)


def to_bytes(stats: Statistics, lang: str = "zh") -> bytes:
    out = BytesIO()
    write(stats, out, lang)
    return out.getvalue()


def build(stats: Statistics, lang: str = "zh") -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = _w("sheet", lang)
    sheet.cell(1, 1, f"{_w('title', lang)} — {stats.node_name}（{stats.node_code}）").font = Font(bold=True, size=14)
    sheet.cell(2, 1, f"{_w('as_of', lang)}: {stats.as_of:%Y-%m-%d %H:%M}    {_w('on_record', lang)}")
    _header(sheet, stats, lang)
    row = HEADER_TOP + 2
    for line in (*stats.rows, stats.total):
        _line(sheet, row, line, bold=line is stats.total)
        row += 1
    sheet.freeze_panes = sheet.cell(HEADER_TOP + 2, 3)
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 26
    for index in range(len(stats.columns)):
        sheet.column_dimensions[get_column_letter(index + 3)].width = 9
    props = book.properties
    props.created = props.modified = stats.as_of.replace(microsecond=0, tzinfo=None)
    props.creator = props.lastModifiedBy = "xueji"
    return book


def _header(sheet, stats: Statistics, lang: str) -> None:
    top, below = HEADER_TOP, HEADER_TOP + 1
    for col, text in ((1, _w("code", lang)), (2, stats.row_label)):
        _head(sheet, top, col, text)
        _head(sheet, below, col, None)
        sheet.merge_cells(start_row=top, start_column=col, end_row=below, end_column=col)
    col, columns = 3, list(stats.columns)
    while columns:
        group = columns[0].group
        span = 1
        while group and span < len(columns) and columns[span].group == group:
            span += 1
        if group:
            _head(sheet, top, col, group)
            for offset, column in enumerate(columns[:span]):
                _head(sheet, below, col + offset, column.label)
                if offset:
                    _head(sheet, top, col + offset, None)
            if span > 1:
                sheet.merge_cells(start_row=top, start_column=col, end_row=top, end_column=col + span - 1)
        else:
            _head(sheet, top, col, columns[0].label)
            _head(sheet, below, col, None)
            sheet.merge_cells(start_row=top, start_column=col, end_row=below, end_column=col)
        col, columns = col + span, columns[span:]


def _head(sheet, row: int, col: int, text) -> None:
    cell = sheet.cell(row, col, text)
    cell.font, cell.alignment, cell.border, cell.fill = _BOLD, _CENTRE, _BOX, _HEAD


def _line(sheet, row: int, line, *, bold: bool) -> None:
    for col, text in ((1, line.code), (2, line.name)):
        cell = sheet.cell(row, col, text)
        if isinstance(text, str) and text.startswith(FORMULA_STARTS):
            cell.data_type = "s"  # a name that looks like a formula stays text
    for index, number in enumerate(line.values):
        sheet.cell(row, index + 3, number)
    for col in range(1, len(line.values) + 3):
        cell = sheet.cell(row, col)
        cell.border = _BOX
        if bold:
            cell.font = _BOLD
