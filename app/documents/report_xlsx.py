"""The monthly report (月报) as a workbook: the figures with their definitions, each breakdown on a
sheet of its own with a native Excel chart, the drill-down to the units below and the trend.

``write(report, target)`` takes ``app.services.reports.model.Report`` (read by attribute: this
layer imports no service) and writes the same bytes for the same report: the workbook's
created/modified times are the report's ``generated_at`` and so is every zip entry's time, and
nothing random goes in: ``app.services.reports.signing`` signs these files.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.chart.data_source import AxDataSource, MultiLevelStrRef, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from . import fixed_xlsx
from .report_words import (
    MAIN_SHEET,
    Report,
    chart_columns,
    distinct_tables,
    figure_name,
    flag_text,
    header_pairs,
    label_count,
    level_word,
    title,
    word,
)
from .safe import FORMULA_STARTS

BOLD = Font(bold=True)
BIG = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
CHART_WIDTH_CM = 16
CHART_HEIGHT_CM = 8


def write(report: Report, target: str | Path | IO[bytes], lang: str = "zh") -> None:
    """Write ``report`` as an .xlsx to a path or a binary stream."""
    _save(build(report, lang), target, report.generated_at)


def build(report: Report, lang: str = "zh") -> Workbook:
    """The workbook of ``report`` (not yet saved)."""
    book = Workbook()
    main = book.active
    main.title = MAIN_SHEET.get(lang, MAIN_SHEET["zh"])
    _main_sheet(main, report, lang)
    names = {main.title}
    shared = distinct_tables(report.figures)
    for figure in report.figures:
        if shared.get(figure.key) == figure.key:  # a breakdown several figures share: one sheet
            sheet = book.create_sheet(_sheet_name(figure.name, names))
            _figure_sheet(sheet, figure, [f.name for f in report.figures if shared.get(f.key) == figure.key])
    if report.children:
        _children_sheet(book.create_sheet(_sheet_name(word("children", lang), names)), report, lang)
    if any(points for points in report.trend.values()):
        _trend_sheet(book.create_sheet(_sheet_name(word("trend", lang), names)), report, lang)
    props = book.properties
    props.creator = "Xueji"
    props.lastModifiedBy = None
    props.title = title(report, lang)
    props.created = props.modified = fixed_xlsx.naive(report.generated_at)
    return book


def _main_sheet(sheet, report: Report, lang: str) -> None:
    """Title, the header lines, then one row per figure."""
    _put(sheet, 1, 1, title(report, lang)).font = BIG
    row = 2
    for label, value in header_pairs(report, lang):
        _put(sheet, row, 1, label).font = BOLD
        _put(sheet, row, 2, value)
        row += 1
    row += 1
    heads = ("figure", "value", "unit", "previous", "change", "flag", "definition")
    for col, key in enumerate(heads, start=1):
        _put(sheet, row, col, word(key, lang)).font = BOLD
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
    for figure in report.figures:
        row += 1
        values = (figure.name, figure.value, figure.unit, figure.previous, figure.change,
                  flag_text(figure, lang), figure.definition)
        for col, value in enumerate(values, start=1):
            cell = _put(sheet, row, col, value)
            cell.alignment = WRAP if col == 7 else TOP
            if isinstance(value, float):
                cell.number_format = "0.0#"
        if figure.flagged:
            sheet.cell(row=row, column=6).font = Font(bold=True, color="C00000")
    for col, width in enumerate((30, 12, 8, 12, 12, 22, 70), start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width


def _figure_sheet(sheet, figure, names: list[str]) -> None:
    """A figure's breakdown table (titled with every figure it serves), its native chart to the
    right when it has a kind."""
    table = figure.table
    _put(sheet, 1, 1, "、".join(names)).font = BIG
    _put(sheet, 2, 1, figure.definition).alignment = Alignment(wrap_text=False)
    top = 4  # the table's header row
    for col, head in enumerate(table.header, start=1):
        _put(sheet, top, col, head).font = BOLD
    for r, values in enumerate(table.rows, start=top + 1):
        for col, value in enumerate(values, start=1):
            cell = _put(sheet, r, col, value)
            if isinstance(value, float):
                cell.number_format = "0.0#"
    sheet.column_dimensions["A"].width = 22
    for col in range(2, len(table.header) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 12
    columns = chart_columns(table.header, table.rows)
    if figure.chart and table.rows and columns:
        chart = _chart(figure.chart, figure.name, figure.unit, sheet, top, len(table.rows), columns,
                       label_count(table.header, table.rows))
        sheet.add_chart(chart, f"{get_column_letter(len(table.header) + 2)}{top}")


def _chart(kind: str, name: str, unit: str, sheet, top: int, count: int, columns: list[int],
           labels: int = 1):
    """A native chart over the rows top+1 .. top+count: categories in the first ``labels``
    columns (two make a two-level axis: stage, grade), one series per numeric column (a pie takes
    the first)."""
    categories = Reference(sheet, min_col=1, max_col=labels, min_row=top + 1, max_row=top + count)
    if kind == "pie":
        chart = PieChart()
        chart.add_data(Reference(sheet, min_col=columns[0] + 1, min_row=top, max_row=top + count),
                       titles_from_data=True)
        chart.dataLabels = DataLabelList()
        chart.dataLabels.showPercent = True
    else:
        chart = LineChart() if kind == "line" else BarChart()
        if kind != "line":
            chart.type = "col"
        for col in columns:
            chart.add_data(Reference(sheet, min_col=col + 1, min_row=top, max_row=top + count),
                           titles_from_data=True)
        chart.y_axis.title = unit or None
        chart.x_axis.delete = False  # openpyxl hides both axes by default since 3.1
        chart.y_axis.delete = False
    ref = str(categories)  # text categories: a StrRef (openpyxl's default NumRef shows 1, 2, 3 ...)
    for series in chart.series:
        series.cat = AxDataSource(multiLvlStrRef=MultiLevelStrRef(f=ref)) if labels > 1 else \
            AxDataSource(strRef=StrRef(f=ref))
    chart.title = name
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    return chart


def _children_sheet(sheet, report: Report, lang: str) -> None:
    """One row per unit below: code, name, level and its headline figures."""
    keys = [f.key for f in report.figures if any(f.key in c.values for c in report.children)]
    keys += sorted({k for c in report.children for k in c.values} - set(keys))
    heads = [word("code", lang), word("name", lang), word("level", lang),
             *(figure_name(report, k) for k in keys)]
    for col, head in enumerate(heads, start=1):
        _put(sheet, 1, col, head).font = BOLD
    for r, child in enumerate(report.children, start=2):
        _put(sheet, r, 1, child.code)
        _put(sheet, r, 2, child.name)
        _put(sheet, r, 3, level_word(child.level, lang))
        for col, key in enumerate(keys, start=4):
            _put(sheet, r, col, child.values.get(key))
    sheet.freeze_panes = "D2"
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 26
    for col in range(4, len(heads) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 14


def _trend_sheet(sheet, report: Report, lang: str) -> None:
    """Months down, key figures across; one line chart per figure (their units differ)."""
    keys = [f.key for f in report.figures if report.trend.get(f.key)]
    keys += sorted(k for k, points in report.trend.items() if points and k not in keys)
    months = sorted({m for k in keys for m, _ in report.trend[k]})
    _put(sheet, 1, 1, word("period", lang)).font = BOLD
    for col, key in enumerate(keys, start=2):
        _put(sheet, 1, col, figure_name(report, key)).font = BOLD
        sheet.column_dimensions[get_column_letter(col)].width = 14
    for r, month in enumerate(months, start=2):
        _put(sheet, r, 1, month)
    for col, key in enumerate(keys, start=2):
        by_month = dict(report.trend[key])
        for r, month in enumerate(months, start=2):
            _put(sheet, r, col, by_month.get(month))
    units = {f.key: f.unit for f in report.figures}
    anchor_col = get_column_letter(len(keys) + 3)
    for i, key in enumerate(keys):
        chart = _chart("line", figure_name(report, key), units.get(key, ""), sheet, 1, len(months),
                       [i + 1])
        chart.legend = None
        sheet.add_chart(chart, f"{anchor_col}{1 + i * 17}")


def _put(sheet, row: int, col: int, value):
    """A cell with ``value``; text that looks like a formula stays text and can never run."""
    cell = sheet.cell(row=row, column=col)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.value = value
        cell.data_type = "s"
        cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unused sheet name (31 characters, none of []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub("_", str(name)).strip("'") or "Sheet"
    candidate, n = base[:31], 2
    while candidate in taken:
        suffix = f" ({n})"
        candidate, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def _save(book: Workbook, target, when: datetime) -> None:
    """openpyxl's save_workbook without its two clocks (the modified time, the zip entries')."""
    fixed_xlsx.save(book, target, when)
