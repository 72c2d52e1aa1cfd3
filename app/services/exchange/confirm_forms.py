"""The data-quality confirmation form (学生信息确认表): one page per student with every item, a column
for the parents' corrections and signature lines -- as .xlsx and as PDF, ready to print.

Printing them is the province's business: the `export_confirmation_forms` switch and the
data-verification window of the rules decide, like any other action."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.pagebreak import Break
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from sqlalchemy.orm import Session

from ...errors import Forbidden, Problem, RuleViolation
from ...excel.columns import COLUMNS
from ...excel.safe import FORMULA_STARTS
from ..common.actors import Actor
from ..policy import rulesets as policy
from ..record import personal_data
from . import exports

FONT = "STSong-Light"  # a CID font PDF readers carry: no font file needed
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SIGNATURES = ("家长（监护人）签字：______________    日期：__________",
              "班主任签字：______________    学校学籍管理员签字：______________")


def _gate(session: Session, actor: Actor, school, now: datetime) -> None:
    if not personal_data.may_see(actor):
        raise Forbidden("无权导出学生个人信息 (your role may not export personal data)")
    decision = policy.decide(session, policy.facts("verify_data", now, school))
    if not decision.allowed:
        raise RuleViolation([Problem(v.message, v.field, v.code, v.source) for v in decision.violations])


def _pages(session: Session, actor: Actor, school):
    """Per student, its (header, value) pairs in template order (a blank second member left out)."""
    for values in exports.rows(session, actor, school):
        yield [(c.header, v) for c, v in zip(COLUMNS, values) if c.owner != "member2" or v is not None]


def forms_xlsx(session: Session, actor: Actor, school, now: datetime) -> bytes:
    _gate(session, actor, school, now)
    book = Workbook()
    sheet = book.active
    sheet.title = "确认表"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 26, 40
    sheet.column_dimensions["C"].width = 34
    row, count = 1, 0
    for pairs in _pages(session, actor, school):
        name = dict(pairs).get("姓名", "")
        sheet.cell(row=row, column=1, value=f"学生信息确认表 · {name}").font = Font(bold=True, size=14)
        row += 1
        for col, head in enumerate(("项目", "系统中的信息", "更正（家长填写）"), start=1):
            cell = sheet.cell(row=row, column=col, value=head)
            cell.font, cell.border = Font(bold=True), BOX
        for header, value in pairs:
            row += 1
            for col, text in enumerate((header, _text(value), None), start=1):
                cell = sheet.cell(row=row, column=col, value=text)
                cell.border, cell.alignment = BOX, Alignment(wrap_text=True)
                if isinstance(text, str) and text.startswith(FORMULA_STARTS):
                    cell.data_type, cell.quotePrefix = "s", True
        for line in SIGNATURES:
            row += 2
            sheet.cell(row=row, column=1, value=line)
        sheet.row_breaks.append(Break(id=row))  # one student per printed page
        row += 1
        count += 1
    exports.log(session, actor, "confirmation_xlsx", count, school)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def forms_pdf(session: Session, actor: Actor, school, now: datetime) -> bytes:
    _gate(session, actor, school, now)
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    count = 0
    for pairs in _pages(session, actor, school):
        y = height - 50
        page.setFont(FONT, 15)
        page.drawString(50, y, f"学生信息确认表 · {dict(pairs).get('姓名', '')}")
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
        page.showPage()
        count += 1
    page.save()
    exports.log(session, actor, "confirmation_pdf", count, school)
    return buffer.getvalue()


def _text(value) -> str:
    return "" if value is None else str(value)
