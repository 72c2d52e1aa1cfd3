"""The report a registrar fixes the file from: the uploaded sheet again, bad cells filled red with
the problem as a comment, and a last column explaining each bad row."""

from __future__ import annotations

import io
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from ...excel.reader import Sheet
from ...excel.safe import cell
from .imports import _file

BAD = PatternFill("solid", fgColor="FFC7CE")
HEAD = Font(bold=True)


def annotated(session, job) -> bytes:
    """The job's workbook with every problem marked where it is (streamed, flat memory)."""
    sheet = Sheet(_file(job))
    by_row: dict[int, list[dict]] = defaultdict(list)
    for problem in job.problems or []:
        by_row[problem["row"]].append(problem)
    column_of = {header: index for index, header in sheet.layout.headers.items()}
    for index, column in sheet.layout.columns.items():
        column_of.setdefault(column.header, index)
    width = max(sheet.layout.headers, default=0) + 1
    book = Workbook(write_only=True)
    out = book.create_sheet("检查结果")
    header = [cell(out, sheet.layout.headers.get(i), font=HEAD) for i in range(width)]
    header.append(cell(out, "问题说明", font=HEAD))
    out.append(header)
    for number, cells in sheet.rows():
        problems = by_row.get(number, [])
        marked = {column_of.get(p["column"]): p for p in problems}
        row = []
        for i in range(width):
            value = cells[i] if i < len(cells) else None
            item = cell(out, value)
            if i in marked:
                item.fill = BAD
                item.comment = Comment(marked[i]["message"], "学籍系统")
            row.append(item)
        row.append(cell(out, "；".join(f"{p['column'] or '整行'}：{p['message']}"
                                       for p in problems) or None))
        out.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
