"""The words and number formats the report files (xlsx, PDF) share.

The documents layer knows no request and no locale: a caller that serves an English reader passes
``lang="en"``; the figures' own names and definitions already come in the reader's language.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

# ``app.services.reports.model``'s Report and Figure, read by attribute: documents import no
# service (tests/unit/test_layers.py)
Report = Any
Figure = Any

_WORDS = {
    "title": ("学籍管理月报", "Monthly registry report"),
    "node": ("单位", "Unit"),
    "month": ("月份", "Month"),
    "as_of": ("统计截至", "Figures as of"),
    "generated_at": ("生成时间", "Generated"),
    "status": ("状态", "Status"),
    "signed_by": ("签发人", "Signed by"),
    "signed_at": ("签发时间", "Signed at"),
    "draft": ("草稿（未签发）", "Draft (not signed)"),
    "signed": ("已签发", "Signed"),
    "figure": ("指标", "Indicator"),
    "value": ("数值", "Value"),
    "unit": ("单位", "Unit"),
    "previous": ("上月", "Last month"),
    "change": ("环比变化", "Change"),
    "flag": ("提示", "Flag"),
    "definition": ("口径说明", "Definition"),
    "figures": ("主要指标", "Indicators"),
    "children": ("下级单位", "Units below"),
    "code": ("代码", "Code"),
    "name": ("名称", "Name"),
    "level": ("层级", "Level"),
    "trend": ("趋势", "Trend"),
    "period": ("月份", "Month"),
    "none": ("—", "—"),
    "page": ("第 {n} 页", "Page {n}"),
    "flagged": ("需关注", "Needs attention"),
    "live": ("（本月尚未结束，按当前数据统计）", " (the month is not over: figures as they stand now)"),
    "snapshot": ("月末快照时间", "Month-end snapshot taken"),
}
_LEVELS = {"province": ("省", "province"), "city": ("市", "city"), "county": ("县/区", "county"),
           "school": ("学校", "school")}
MAIN_SHEET = {"zh": "月报", "en": "Report"}


def word(key: str, lang: str = "zh") -> str:
    zh, en = _WORDS[key]
    return en if lang == "en" else zh


def level_word(level: str, lang: str = "zh") -> str:
    zh, en = _LEVELS.get(level, (level, level))
    return en if lang == "en" else zh


def stamp(moment: datetime | date | None) -> str:
    """A time as the files print it (minutes; dates alone as dates)."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return f"{moment:%Y-%m-%d %H:%M}"
    return moment.isoformat()


def number(value, unit: str = "") -> str:
    """A figure as text: integers plain, shares and averages with up to two decimals."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float):
        if value.is_integer() and unit != "%":
            return str(int(value))
        return f"{value:.2f}".rstrip("0").rstrip(".") if unit != "%" else f"{value:.1f}"
    return str(value)


def change_text(figure: Figure) -> str:
    """'+12', '-3.5', '0' or '' (no previous month)."""
    delta = figure.change
    if delta is None:
        return ""
    text = number(delta, figure.unit)
    return text if text.startswith("-") or delta == 0 else "+" + text


def flag_text(figure: Figure, lang: str = "zh") -> str:
    if not figure.flagged:
        return ""
    return figure.flag_note or word("flagged", lang)


def header_pairs(report: Report, lang: str = "zh") -> list[tuple[str, str]]:
    """(label, value) lines the files open with: node, month, as_of, generated_at, status, signer."""
    status = word("signed" if report.status == "signed" else "draft", lang)
    pairs = [(word("node", lang), f"{report.node_name}（{report.node_code}，"
                                  f"{level_word(report.node_level, lang)}）"),
             (word("month", lang), report.period),
             (word("as_of", lang), stamp(report.as_of) + (word("live", lang) if getattr(
                 report, "live", False) else "")),
             (word("generated_at", lang), stamp(report.generated_at))]
    taken = getattr(report, "snapshot_taken_at", None)
    if taken is not None:
        pairs.append((word("snapshot", lang), stamp(taken)))
    pairs.append((word("status", lang), status))
    if report.status == "signed":
        pairs += [(word("signed_by", lang), report.signed_by or ""),
                  (word("signed_at", lang), stamp(report.signed_at))]
    return pairs


def title(report: Report, lang: str = "zh") -> str:
    return f"{report.node_name} {report.period} {word('title', lang)}"


TOTALS = ("合计", "总计", "小计", "Total", "total", "All", "all")


def chart_columns(header: tuple[str, ...], rows: tuple[tuple, ...]) -> list[int]:
    """The columns of a breakdown a chart draws as series: numeric in every row (None allowed),
    after the columns that name the row, a total column left out where there are others."""
    numeric = []
    for i in range(1, len(header)):
        cells = [r[i] if i < len(r) else None for r in rows]
        if any(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cells) and all(
                c is None or (isinstance(c, (int, float)) and not isinstance(c, bool)) for c in cells):
            numeric.append(i)
    parts = [i for i in numeric if str(header[i]).strip() not in TOTALS]
    return parts or numeric


def label_count(header: tuple[str, ...], rows: tuple[tuple, ...]) -> int:
    """How many leading columns name the row (a stage, then a grade ...): those before the first
    numeric one, at least one."""
    columns = chart_columns(header, rows)
    return max(1, min(columns)) if columns else 1


def category(row: tuple, labels: int) -> str:
    """A row's name on a chart's axis: its naming columns joined (小学 一年级)."""
    return " ".join(str(v) for v in row[:labels] if v not in (None, ""))


def distinct_tables(figures) -> dict[str, str]:
    """figure key -> the key of the first figure with the same breakdown (several figures of the
    catalogue share one table, e.g. problems found, resolved and open): drawn once."""
    first: dict = {}
    out = {}
    for f in figures:
        if f.table is None or not f.table.header:
            continue
        marker = (tuple(f.table.header), tuple(tuple(r) for r in f.table.rows))
        out[f.key] = first.setdefault(marker, f.key)
    return out


def figure_name(report: Report, key: str) -> str:
    """A figure's name by its key (drill-down and trend columns), the key itself if unknown."""
    return next((f.name for f in report.figures if f.key == key), key)
