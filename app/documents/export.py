"""The students export: rows in the official template's columns, streamed into a write-only
workbook (the round trip export -> import changes nothing)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..fields import FieldSpec
from .columns import COLUMNS, TEXT_KINDS
from .safe import cell
from .safe import value as safe_value

SHEET = "学生信息"
HEAD = Font(bold=True)


def template_value(spec: FieldSpec, raw, labels: Mapping[str, Mapping[str, str]]):
    """A stored value as the template writes it: code labels, 是/否, ISO dates, year-month, numbers."""
    if raw is None:
        return None
    kind = spec.kind
    if kind == "code":
        return labels.get(spec.code_table, {}).get(raw, raw)
    if kind == "bool":
        return "是" if raw else "否"
    if kind == "date":
        return raw.isoformat()
    if kind == "month":
        return raw.strftime("%Y-%m")
    if kind == "number":
        return float(raw)
    return raw


def write(rows: Iterable[list], target: Path | IO[bytes]) -> int:
    """Stream rows into a template-shaped workbook (text columns kept as text); returns the count."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    text_columns = {i for i, c in enumerate(COLUMNS) if c.spec.kind in TEXT_KINDS}
    for i in text_columns:  # typed into later, an ID or phone stays text
        sheet.column_dimensions[get_column_letter(i + 1)].number_format = "@"
    sheet.append([cell(sheet, c.header, font=HEAD) for c in COLUMNS])
    count = 0
    for values in rows:
        sheet.append([cell(sheet, v, number_format="@") if v is not None and i in text_columns
                      else safe_value(sheet, v) for i, v in enumerate(values)])
        count += 1
    book.save(target)
    return count
