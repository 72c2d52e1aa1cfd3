"""The monthly report (月报) as a PDF: title and header, the figures with their definitions, each
breakdown as a table with its chart (reportlab graphics: bar, line, pie), the units below and the
trend lines.

``write(report, target)`` takes ``app.services.reports.model.Report`` (read by attribute: this
layer imports no service). The Chinese font is embedded (WenQuanYi Micro Hei, ``fonts/``; only the
glyphs used, as ``/FontFile2``), so the file reads the same where no Chinese font is installed.
The same report gives the same bytes (reportlab's ``invariant`` mode: fixed dates and document id)
-- the signature is taken over them.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .report_words import (
    Report,
    category,
    change_text,
    chart_columns,
    distinct_tables,
    figure_name,
    flag_text,
    header_pairs,
    label_count,
    level_word,
    number,
    title,
    word,
)

FONT = "XuejiCJK"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
PALETTE = [colors.HexColor(c) for c in ("#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de",
                                        "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc")]
PAGE = A4
MARGIN = 15 * mm
WIDTH = PAGE[0] - 2 * MARGIN  # the text block
CHART_HEIGHT = 60 * mm
GRID = colors.HexColor("#999999")
HEAD_FILL = colors.HexColor("#eef1f6")
FLAG = colors.HexColor("#c00000")


def font() -> str:
    """The embedded CJK font's name, registered on first use."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))
    return FONT


def _styles():
    name = font()
    base = ParagraphStyle("body", fontName=name, fontSize=9, leading=12, wordWrap="CJK",
                          alignment=TA_LEFT)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "flag": ParagraphStyle("flag", parent=base, fontSize=8, leading=10, textColor=FLAG),
    }


def write(report: Report, target: str | Path | IO[bytes], lang: str = "zh",
          compress: bool = True) -> None:
    """Write ``report`` as a PDF to a path or a binary stream (``compress=False``: plain-text
    content streams, for tests that read them)."""
    styles = _styles()
    doc = SimpleDocTemplate(
        str(target) if isinstance(target, Path) else target, pagesize=PAGE,
        leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm,
        title=title(report, lang), author="Xueji", subject=report.node_code, creator="Xueji",
        producer="Xueji", invariant=1, pageCompression=1 if compress else 0, lang=(
            "en" if lang == "en" else "zh-CN"))
    story = [Paragraph(escape(title(report, lang)), styles["title"]),
             _pairs_table(header_pairs(report, lang), styles),
             Paragraph(escape(word("figures", lang)), styles["h2"]),
             _figures_table(report, styles, lang)]
    shared = distinct_tables(report.figures)
    for figure in report.figures:
        if shared.get(figure.key) == figure.key:  # a breakdown several figures share: once
            story += _figure_section(figure, styles, [f for f in report.figures
                                                      if shared.get(f.key) == figure.key])
    if report.children:
        story += [CondPageBreak(40 * mm), Paragraph(escape(word("children", lang)), styles["h2"]),
                  *_children_table(report, styles, lang)]
    trend_keys = [f.key for f in report.figures if report.trend.get(f.key)]
    trend_keys += sorted(k for k, p in report.trend.items() if p and k not in trend_keys)
    if trend_keys:
        story += [CondPageBreak(CHART_HEIGHT + 20 * mm), Paragraph(escape(word("trend", lang)), styles["h2"])]
        units = {f.key: f.unit for f in report.figures}
        by_unit: dict[str, list[str]] = {}
        for key in trend_keys:  # one chart per unit: counts of people, of cases, shares ...
            by_unit.setdefault(units.get(key, ""), []).append(key)
        for unit, keys in by_unit.items():
            months = sorted({m for k in keys for m, _ in report.trend[k]})
            series = [[_num(dict(report.trend[k]).get(m)) for m in months] for k in keys]
            names = [figure_name(report, k) for k in keys]
            drawn = [_line_drawing(months, series, names, unit)] if any(
                v is not None for s in series for v in s) else [Paragraph("—", styles["small"])]
            story.append(KeepTogether([Paragraph(escape("、".join(names)), styles["body"]), *drawn]))

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(font(), 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, MARGIN, title(report, lang))
        canvas.drawRightString(PAGE[0] - MARGIN, MARGIN, word("page", lang).format(n=document.page))
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _text(value, unit: str = "") -> str:
    return number(value, unit) if isinstance(value, (int, float)) or value is None else str(value)


def _pairs_table(pairs, styles) -> Table:
    rows = [[Paragraph(escape(label), styles["cell"]), Paragraph(escape(value), styles["cell"])]
            for label, value in pairs]
    table = Table(rows, colWidths=[28 * mm, WIDTH - 28 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("TEXTCOLOR", (0, 0), (0, -1), colors.grey),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    return table


def _grid(rows, widths, numeric_from: int = 1, repeat: int = 1) -> Table:
    """A table with a shaded header and a light grid; numbers right-aligned."""
    table = Table(rows, colWidths=widths, repeatRows=repeat, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font()), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID), ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    return table


def _figures_table(report: Report, styles, lang: str) -> Table:
    """One row per figure: name, value, unit, last month, change, flag, definition."""
    keys = ("figure", "value", "unit", "previous", "change", "flag", "definition")
    rows = [[Paragraph(escape(word(k, lang)), styles["cell"]) for k in keys]]
    for f in report.figures:
        rows.append([Paragraph(escape(f.name), styles["cell"]), _text(f.value, f.unit), f.unit,
                     _text(f.previous, f.unit), change_text(f),
                     Paragraph(escape(flag_text(f, lang)), styles["flag"]),
                     Paragraph(escape(f.definition), styles["small"])])
    widths = [34 * mm, 17 * mm, 10 * mm, 15 * mm, 17 * mm, 22 * mm]
    table = _grid(rows, widths + [WIDTH - sum(widths)])
    table.setStyle(TableStyle([("ALIGN", (2, 1), (2, -1), "LEFT"), ("ALIGN", (5, 1), (-1, -1), "LEFT")]))
    return table


def _figure_section(figure, styles, served: list) -> list:
    """A breakdown: the names and definitions of the figures it serves, the table and (when the
    first has a kind) its chart."""
    table = figure.table
    n = len(table.header)
    columns = chart_columns(table.header, table.rows)
    labels = label_count(table.header, table.rows)
    first = min(40 * mm, WIDTH / max(n, 1) * 1.5)
    rest = (WIDTH - first) / max(n - 1, 1) if n > 1 else 0
    cell = styles["cell"]
    rows = [[Paragraph(escape(str(h)), cell) for h in table.header]]
    rows += [[_text(v) for v in list(r) + [None] * (n - len(r))][:n] for r in table.rows]
    grid = _grid(rows, [first] + [min(rest, 30 * mm)] * (n - 1), numeric_from=n)
    grid.setStyle(TableStyle([("ALIGN", (i, 1), (i, -1), "RIGHT") for i in range(labels, n)]))
    parts = [Paragraph(escape("、".join(f.name for f in served)), styles["h2"]),
             *(Paragraph(escape(f.definition), styles["small"]) for f in served[:1]),
             Spacer(1, 2 * mm), grid]
    if figure.chart and table.rows and columns:
        categories = [category(r, labels) for r in table.rows]
        series = [[_num(r[i] if i < len(r) else None) for r in table.rows] for i in columns]
        names = [str(table.header[i]) for i in columns]
        if figure.chart == "pie":
            drawing = _pie_drawing(categories, series[0])
        elif figure.chart == "line":
            drawing = _line_drawing(categories, series, names, figure.unit)
        else:
            drawing = _bar_drawing(categories, series, names, figure.unit)
        parts += [Spacer(1, 3 * mm), drawing]
    return [KeepTogether(parts)]


def _num(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


CHILD_COLUMNS = 6  # figures per drill-down table: more would not be legible on A4


def _children_table(report: Report, styles, lang: str) -> list[Table]:
    """The units below with their headline figures, in tables of CHILD_COLUMNS figures each."""
    keys = [f.key for f in report.figures if any(f.key in c.values for c in report.children)]
    keys += sorted({k for c in report.children for k in c.values} - set(keys))
    cell = styles["cell"]
    units = {f.key: f.unit for f in report.figures}
    fixed = [20 * mm, 38 * mm, 12 * mm]
    tables = []
    for start in range(0, max(len(keys), 1), CHILD_COLUMNS):
        part = keys[start:start + CHILD_COLUMNS]
        rows = [[Paragraph(escape(h), cell) for h in
                 (word("code", lang), word("name", lang), word("level", lang),
                  *(figure_name(report, k) for k in part))]]
        for c in report.children:
            rows.append([c.code, Paragraph(escape(c.name), cell), level_word(c.level, lang),
                         *(_text(c.values.get(k), units.get(k, "")) for k in part)])
        each = (WIDTH - sum(fixed)) / CHILD_COLUMNS
        tables += [_grid(rows, fixed + [each] * len(part), numeric_from=3), Spacer(1, 3 * mm)]
    return tables


def _axis_fonts(chart) -> None:
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = font()
        axis.labels.fontSize = 7
    chart.valueAxis.forceZero = True
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    values = [v for row in chart.data for v in row if v is not None]
    if values and min(values) >= 0:
        chart.valueAxis.valueMin = 0
        if max(values) == 0:  # nothing to show: an axis 0 .. 1 rather than -0.01 .. 0.01
            chart.valueAxis.valueMax = 1
            chart.valueAxis.valueStep = 1


def _frame(with_legend: bool) -> tuple[Drawing, float, float, float, float]:
    """A drawing the width of the text block; the plot's x, y, width, height inside it."""
    drawing = Drawing(WIDTH, CHART_HEIGHT)
    right = 40 * mm if with_legend else 5 * mm
    return drawing, 12 * mm, 12 * mm, WIDTH - 12 * mm - right, CHART_HEIGHT - 18 * mm


def _legend(drawing: Drawing, names: list[str], x: float) -> None:
    legend = Legend()
    legend.fontName = font()
    legend.fontSize = 7
    legend.x, legend.y = x, CHART_HEIGHT - 8 * mm
    legend.columnMaximum = 12
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], n) for i, n in enumerate(names)]
    drawing.add(legend)


def _unit_label(drawing: Drawing, unit: str) -> None:
    if unit:
        drawing.add(String(2 * mm, CHART_HEIGHT - 4 * mm, unit, fontName=font(), fontSize=7))


def _bar_drawing(categories: list[str], series: list[list], names: list[str], unit: str) -> Drawing:
    drawing, x, y, w, h = _frame(len(series) > 1)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = x, y, w, h
    chart.data = [[v if v is not None else 0 for v in s] for s in series]
    chart.categoryAxis.categoryNames = categories
    if len(categories) > 6:
        chart.categoryAxis.labels.angle = 30
        chart.categoryAxis.labels.boxAnchor = "ne"
    for i in range(len(series)):
        chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        chart.bars[i].strokeColor = None
    _axis_fonts(chart)
    drawing.add(chart)
    if len(series) > 1:
        _legend(drawing, names, x + w + 4 * mm)
    _unit_label(drawing, unit)
    return drawing


def _line_drawing(categories: list[str], series: list[list], names: list[str], unit: str) -> Drawing:
    drawing, x, y, w, h = _frame(len(series) > 1)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = x, y, w, h
    chart.data = [[_num(v) for v in s] for s in series]
    chart.categoryAxis.categoryNames = categories
    chart.joinedLines = 0  # a line only through two points or more; a lone month is a dot
    for i, values in enumerate(chart.data):
        style = chart.lines[i]
        style.strokeColor = PALETTE[i % len(PALETTE)]
        style.strokeWidth = 1.5
        style.symbol = makeMarker("FilledCircle", size=3.5)
        if sum(v is not None for v in values) >= 2:
            style.lineStyle = "joinedLine"
    _axis_fonts(chart)
    drawing.add(chart)
    if len(series) > 1:
        _legend(drawing, names, x + w + 4 * mm)
    _unit_label(drawing, unit)
    return drawing


def _pie_drawing(categories: list[str], values: list) -> Drawing:
    drawing = Drawing(WIDTH, CHART_HEIGHT)
    pie = Pie()
    size = CHART_HEIGHT - 12 * mm
    pie.x, pie.y, pie.width, pie.height = 15 * mm, 6 * mm, size, size
    shown = [(c, v) for c, v in zip(categories, values) if v]
    if not shown:  # nothing to divide: an empty chart says so by its legend alone
        shown = [(c, 0) for c in categories]
    pie.data = [v or 0.0001 for _, v in shown]
    pie.labels = None
    pie.slices.strokeColor = colors.white
    for i in range(len(shown)):
        pie.slices[i].fillColor = PALETTE[i % len(PALETTE)]
    drawing.add(pie)
    total = sum(v for _, v in shown) or 1
    _legend(drawing, [f"{c}  {number(v)}（{v / total * 100:.1f}%）" for c, v in shown],
            15 * mm + size + 70 * mm)
    return drawing
