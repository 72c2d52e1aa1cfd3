"""The data-quality confirmation form (学生信息确认表): one page per student with every item, a column
for the parents' corrections and signature lines -- as .xlsx and as PDF, ready to print.

Both writers take the students' rows in the template's columns (as ``export`` writes them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .columns import COLUMNS
from .printsheet import BIG, BOLD_BOX, BOX, PLAIN, PrintSheet

FONT = "STSong-Light"  # a CID font PDF readers carry: no font file needed
TITLE = "学生信息确认表"
LEADING = 9.6  # points between two items of the PDF form
WIDTHS = (22, 48, 30)  # item, value, correction (characters)
SCALE = 60  # per cent: a form of about 80 rows fits one A4 page (a manual break starts the next)
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
    sheet = PrintSheet(target, "确认表", WIDTHS, scale=SCALE)
    count = 0
    for pairs in pages(rows):
        _sheet_page(sheet, pairs)
        count += 1
    sheet.close()
    return count


def _sheet_page(sheet: PrintSheet, pairs: Pairs) -> None:
    """One student's form: title, the table of items, the signature lines, a page break."""
    sheet.row([(f"{TITLE} · {_name(pairs)}", BIG)])
    sheet.row([(head, BOLD_BOX) for head in HEADS])
    for header, value in pairs:
        sheet.row([(header, BOX), (_text(value), BOX), (None, BOX)])
    for line in SIGNATURES:
        sheet.row()
        sheet.row([(line, PLAIN)])
    sheet.page_break()  # one student per printed page


def write_pdf(rows: Iterable[list], target: IO[bytes]) -> int:
    """The forms as a PDF, one A4 page per student; returns the count.

    What every form shares (the items, the correction lines, the signatures) is drawn once per
    list of items as a PDF form and placed on each page; a page adds the name and the values."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    page = canvas.Canvas(target, pagesize=A4)
    forms: dict[tuple[str, ...], str] = {}
    count = 0
    for pairs in pages(rows):
        items = tuple(header for header, _ in pairs)
        if items not in forms:
            forms[items] = _pdf_form(page, items, f"form{len(forms)}")
        page.doForm(forms[items])
        _pdf_values(page, pairs)
        page.showPage()
        count += 1
    page.save()
    return count


def _pdf_form(page, items: tuple[str, ...], name: str) -> str:
    """The part of a page every form with these items shares, as the named PDF form."""
    width, height = A4
    top = height - 74
    page.beginForm(name)
    _pdf_column(page, 50, top, items)
    # the parents write their corrections on these lines
    page.lines([(400, top - 2 - i * LEADING, width - 50, top - 2 - i * LEADING) for i in range(len(items))])
    y = top - LEADING * len(items)
    page.setFont(FONT, 10)
    for line in SIGNATURES:
        y -= 22
        page.drawString(50, y, line)
    page.endForm()
    return name


def _pdf_values(page, pairs: Pairs) -> None:
    """What is one student's own: the title with the name, the values beside the items."""
    height = A4[1]
    page.setFont(FONT, 15)
    page.drawString(50, height - 50, f"{TITLE} · {_name(pairs)}")
    _pdf_column(page, 190, height - 74, [_text(v)[:40] for _, v in pairs])


def _pdf_column(page, x: float, y: float, texts) -> None:
    """Lines of 7.5 pt text from (x, y) down, one text object."""
    block = page.beginText(x, y)
    block.setFont(FONT, 7.5, leading=LEADING)
    for text in texts:
        block.textLine(text)
    page.drawText(block)


def _name(pairs: Pairs) -> str:
    return dict(pairs).get("姓名", "")


def _text(value) -> str:
    return "" if value is None else str(value)
