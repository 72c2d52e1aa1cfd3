"""The data-quality confirmation form (学生信息确认表): one page per student with every item, a column
for the parents' corrections and signature lines -- as .xlsx and as PDF, ready to print.

Both writers take the students' rows in the template's columns (as ``export`` writes them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.pagebreak import Break
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .columns import COLUMNS
from .safe import FORMULA_STARTS

FONT = "STSong-Light"  # a CID font PDF readers carry: no font file needed
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TITLE = "学生信息确认表"
HEADS = ("项目", "系统中的信息", "更正（家长填写）")
SIGNATURES = ("家长（监护人）签字：______________    日期：__________",
              "班主任签字：______________    学校学籍管理员签字：______________")

Pairs = list[tuple[str, object]]


def pages(rows: Iterable[list]) -> Iterator[Pairs]:
    """Per student, its (header, value) pairs in template order (a blank second member left out)."""
    for values in rows:
        yield [(c.header, v) for c, v in zip(COLUMNS, values) if c.owner != "member2" or v is not None]


def write_xlsx(rows: Iterable[list], target: IO[bytes]) -> int:
    """The forms as one printable sheet, a page break after each student; returns the count."""
    book = Workbook()
    sheet = book.active
    sheet.title = "确认表"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    for column, width in zip("ABC", (26, 40, 34)):
        sheet.column_dimensions[column].width = width
    row, count = 1, 0
    for pairs in pages(rows):
        row = _sheet_page(sheet, row, pairs)
        count += 1
    book.save(target)
    return count


def _sheet_page(sheet, row: int, pairs: Pairs) -> int:
    """One student's form from ``row`` on; returns the first row of the next one."""
    sheet.cell(row=row, column=1, value=f"{TITLE} · {_name(pairs)}").font = Font(bold=True, size=14)
    row += 1
    for col, head in enumerate(HEADS, start=1):
        item = sheet.cell(row=row, column=col, value=head)
        item.font, item.border = Font(bold=True), BOX
    for header, value in pairs:
        row += 1
        for col, text in enumerate((header, _text(value), None), start=1):
            _boxed(sheet.cell(row=row, column=col, value=text), text)
    for line in SIGNATURES:
        row += 2
        sheet.cell(row=row, column=1, value=line)
    sheet.row_breaks.append(Break(id=row))  # one student per printed page
    return row + 1


def _boxed(item, text) -> None:
    item.border, item.alignment = BOX, Alignment(wrap_text=True)
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        item.data_type, item.quotePrefix = "s", True


def write_pdf(rows: Iterable[list], target: IO[bytes]) -> int:
    """The forms as a PDF, one A4 page per student; returns the count."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    page = canvas.Canvas(target, pagesize=A4)
    count = 0
    for pairs in pages(rows):
        _pdf_page(page, pairs)
        page.showPage()
        count += 1
    page.save()
    return count


def _pdf_page(page, pairs: Pairs) -> None:
    width, height = A4
    y = height - 50
    page.setFont(FONT, 15)
    page.drawString(50, y, f"{TITLE} · {_name(pairs)}")
    y -= 24
    page.setFont(FONT, 7.5)
    for header, value in pairs:
        page.drawString(50, y, header)
        page.drawString(190, y, _text(value)[:40])
        page.line(400, y - 2, width - 50, y - 2)  # the parents write the correction here
        y -= 9.6
    page.setFont(FONT, 10)
    for line in SIGNATURES:
        y -= 22
        page.drawString(50, y, line)


def _name(pairs: Pairs) -> str:
    return dict(pairs).get("姓名", "")


def _text(value) -> str:
    return "" if value is None else str(value)
