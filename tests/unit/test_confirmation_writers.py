"""The confirmation forms' writers on plain rows: one printed page per student, every item boxed,
values read back as written (text, never a formula), the PDF's shared part drawn once."""

from __future__ import annotations

import io
import zipfile

import python_calamine
from openpyxl import load_workbook

from app.documents import confirmation
from app.documents.columns import COLUMNS

MEMBER2 = [i for i, c in enumerate(COLUMNS) if c.owner == "member2"]


def _rows(n: int, *, second_member: bool = True) -> list[list]:
    rows = []
    for k in range(n):
        row = [f"值{k}-{i}" for i in range(len(COLUMNS))]
        if not second_member or k % 2:
            for i in MEMBER2:
                row[i] = None
        rows.append(row)
    return rows


def _xlsx(rows) -> bytes:
    out = io.BytesIO()
    assert confirmation.write_xlsx(rows, out) == len(rows)
    return out.getvalue()


def test_each_student_starts_a_printed_page_after_the_signature_lines():
    sheet = load_workbook(io.BytesIO(_xlsx(_rows(4)))).active
    breaks = [b.id for b in sheet.row_breaks.brk]
    assert len(breaks) == 4
    starts = [1] + [b + 1 for b in breaks[:-1]]
    assert [sheet.cell(row=r, column=1).value for r in starts] == [f"{confirmation.TITLE} · 值{k}-1"
                                                                  for k in range(4)]
    assert all(str(sheet.cell(row=b, column=1).value).startswith("班主任签字") for b in breaks)


def test_every_item_value_and_correction_cell_is_boxed_and_values_come_back_as_written():
    rows = _rows(1)
    rows[0][1] = "=1+1"  # a name that looks like a formula
    rows[0][2] = " 空格\x07 "  # a control character XML cannot hold
    sheet = load_workbook(io.BytesIO(_xlsx(rows))).active
    items = list(sheet.iter_rows(min_row=3, max_row=2 + len(COLUMNS), max_col=3))
    assert [r[0].value for r in items] == [c.header for c in COLUMNS]
    assert all(c.border.left.style == "thin" and c.border.bottom.style == "thin" for r in items for c in r)
    assert sheet["A1"].font.b and sheet["A2"].font.b and not sheet["A3"].font.b
    name, spaced = items[1][1], items[2][1]
    assert (name.value, name.data_type, name.quotePrefix) == ("=1+1", "s", True)
    assert spaced.value == " 空格 "


def test_calamine_reads_the_forms_as_openpyxl_does():
    data = _xlsx(_rows(3))
    ours = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    theirs = [[c if c is not None else "" for c in r]
              for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]
    assert [list(r) for r in ours] == theirs
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_the_pdf_has_a_page_per_student_and_draws_each_list_of_items_once():
    out = io.BytesIO()
    assert confirmation.write_pdf(_rows(6), out) == 6
    pdf = out.getvalue()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 6
    # three students with a second family member, three without: two shared forms, not six
    assert pdf.count(b"/Subtype /Form") == 2
