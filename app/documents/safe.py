"""Cells written for people: text that looks like a formula stays text and can never run."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@")


def cell(sheet, value, **style) -> WriteOnlyCell:
    """A write-only cell; a string starting with = + - @ is stored as quoted text, not a formula."""
    from openpyxl.cell import WriteOnlyCell  # here: the export's writer process never loads openpyxl

    item = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        item.data_type = "s"
        item.quotePrefix = True
    for key, val in style.items():
        setattr(item, key, val)
    return item


def value(sheet, value):
    """The value itself where it is harmless (cheapest to write), a quoted text cell where it
    would be taken for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return cell(sheet, value)
    return value
