"""The students export: rows in the official template's columns, streamed by XlsxWriter in
constant-memory mode (each row goes to disk as it is written; the round trip export -> import
changes nothing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

import xlsxwriter

from ..fields import FieldSpec
from ..heap import settled
from .columns import COLUMNS, TEXT_KINDS
from .safe import FORMULA_STARTS

SHEET = "学生信息"
# values are written as they are: never read as a formula, a number or a link
OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
           "strings_to_urls": False}
# XlsxWriter's constant-memory mode writes a string that starts with <r> and ends with </r> as raw
# rich-text XML: such a value, and one that looks like a formula, is written by ``_guarded``
_RISKY = (*FORMULA_STARTS, "<r>")
_SHAPED = ("bool", "date", "month", "number")  # converted values of a fixed shape: never risky


class _Labels(dict):
    """A code table's {code: label}: a code it does not know (or None) is written as it is."""

    def __missing__(self, raw):
        return raw


class _Truth(dict):
    """是/否 of a flag, None kept: the stored True and False (or 1 and 0) looked up, anything else
    by its truth."""

    def __missing__(self, raw):
        return "是" if raw else "否"


_TRUTH = _Truth({None: None, True: "是", False: "否"})


def mapping(spec: FieldSpec, labels: Mapping[str, Mapping[str, str]]) -> Mapping | None:
    """A code's or a flag's column: {stored value: cell} whose look-up answers every stored value
    (None stays None), so a row's such cells cost one look-up each; None for other columns."""
    if spec.kind == "code":
        return _Labels(labels.get(spec.code_table, {}))
    return _TRUTH if spec.kind == "bool" else None


def converter(spec: FieldSpec, labels: Mapping[str, Mapping[str, str]]) -> Callable | None:
    """How a column's stored (not None) value becomes its cell: code labels, 是/否, ISO dates,
    year-month, numbers; None where it is written as it is.  Chosen once per column, not per cell."""
    found = mapping(spec, labels)
    return found.__getitem__ if found is not None else _CONVERTERS.get(spec.kind)


def _month(raw) -> str:
    # isoformat's first 7 characters are strftime("%Y-%m") for 4-digit years, at a tenth of its cost
    return raw.isoformat()[:7] if raw.year > 999 else raw.strftime("%Y-%m")


_CONVERTERS: dict[str, Callable] = {"date": lambda raw: raw.isoformat(), "month": _month, "number": float}


def template_value(spec: FieldSpec, raw, labels: Mapping[str, Mapping[str, str]]):
    """A stored value as the template writes it (``converter``'s answer applied to it)."""
    if raw is None:
        return None
    convert = converter(spec, labels)
    return convert(raw) if convert else raw


def write(rows: Iterable[list], target: Path | IO[bytes]) -> int:
    """Stream rows into a template-shaped workbook (bold headers, column widths, text columns kept
    as text, cell by cell and for what is typed in later); returns the count."""
    book = xlsxwriter.Workbook(str(target) if isinstance(target, Path) else target, OPTIONS)
    sheet = book.add_worksheet(SHEET)
    text = book.add_format({"num_format": "@"})
    quoted = [book.add_format({"quote_prefix": True}),  # by is_text: the column's text format kept
              book.add_format({"quote_prefix": True, "num_format": "@"})]
    is_text = [c.spec.kind in TEXT_KINDS for c in COLUMNS]
    free = [i for i, c in enumerate(COLUMNS) if c.spec.kind not in _SHAPED]
    for i, column in enumerate(COLUMNS):  # typed into later, an ID or phone stays text
        sheet.set_column(i, i, max(10, len(column.header) * 2 + 2), text if is_text[i] else None)
    sheet.write_row(0, 0, [c.header for c in COLUMNS], book.add_format({"bold": True}))
    count = 0
    with settled():  # the process's long-lived objects are not walked again by a full collection midway
        for count, values in enumerate(rows, start=1):
            sheet.write_row(count, 0, values)  # None: no cell; a str column's format is its column's
            for i in free:
                value = values[i]
                if value.__class__ is str and value.startswith(_RISKY):
                    _guarded(sheet, count, i, value, quoted[is_text[i]])
    book.close()
    return count


def _guarded(sheet, row: int, col: int, value: str, quoted) -> None:
    """A string that must stay text: quoted if it looks like a formula, escaped if XlsxWriter would
    take it for rich-text XML."""
    written = f'<r><t xml:space="preserve">{escape(value)}</t></r>' if value.endswith("</r>") else value
    sheet.write_string(row, col, written, quoted if value.startswith(FORMULA_STARTS) else None)
