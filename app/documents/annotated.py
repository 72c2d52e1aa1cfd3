"""The report a registrar fixes the file from: the uploaded sheet again, bad cells filled red with
the problem as a comment, and a last column explaining each bad row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from .reader import Layout, Sheet
from .safe import cell

BAD = PatternFill("solid", fgColor="FFC7CE")
HEAD = Font(bold=True)
AUTHOR = "学籍系统"

Problem = Mapping[str, object]  # {"row": Excel row, "column": header or None, "message": text}


def write(upload: bytes | Path, problems: Iterable[Problem], target: IO[bytes]) -> None:
    """The uploaded workbook with every problem marked where it is (streamed, flat memory)."""
    sheet = Sheet(upload)
    by_row: dict[int, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_row[problem["row"]].append(problem)
    column_of = _column_indexes(sheet.layout)
    width = max(sheet.layout.headers, default=0) + 1
    book = Workbook(write_only=True)
    out = book.create_sheet("检查结果")
    header = [cell(out, sheet.layout.headers.get(i), font=HEAD) for i in range(width)]
    out.append([*header, cell(out, "问题说明", font=HEAD)])
    for number, cells in sheet.rows():
        out.append(_row(out, cells, width, by_row.get(number, []), column_of))
    book.save(target)


def _column_indexes(layout: Layout) -> dict[str, int]:
    """Where each header is, by the header as written and by the template's own header."""
    column_of = {header: index for index, header in layout.headers.items()}
    for index, column in layout.columns.items():
        column_of.setdefault(column.header, index)
    return column_of


def _row(out, cells: list, width: int, problems: list[Problem], column_of: dict[str, int]) -> list:
    """One row again, its bad cells marked, and the explanation in the last column."""
    marked = {column_of.get(p["column"]): p for p in problems}
    row = []
    for i in range(width):
        item = cell(out, cells[i] if i < len(cells) else None)
        if i in marked:
            item.fill = BAD
            item.comment = Comment(marked[i]["message"], AUTHOR)
        row.append(item)
    row.append(cell(out, "；".join(f"{p['column'] or '整行'}：{p['message']}" for p in problems) or None))
    return row
