"""What a computed report is, as plain data: every renderer (page, REST, xlsx, PDF, charts) and the
signature read these and nothing else.

A report is computed by ``app.services.reports.monthly`` from the indicator catalogue
(``app.services.reports.catalogue``); it never holds personal data -- counts, shares and ages only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Table:
    """A figure's breakdown: a header and rows of plain values (str, int, float or None).
    The first column names the row (a stage, a grade, a request kind, a level ...)."""

    header: tuple[str, ...]
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class Figure:
    """One indicator of one report: the catalogue's words for it and what was computed."""

    key: str  # the catalogue entry's key, e.g. "students_on_record"
    name: str  # its Chinese (or English) name, in the reader's language when rendered
    definition: str  # how it is defined and computed, shown beside the figure
    unit: str  # "人", "件", "%", "天" ...
    value: float | int | None  # the headline figure; None where it cannot be computed (0 ÷ 0)
    previous: float | int | None = None  # the same figure for the month before
    flagged: bool = False  # the bulletin's threshold is crossed (e.g. below 70 %)
    flag_note: str = ""  # what the threshold is, when there is one
    table: Table | None = None  # the breakdown (by stage and grade, by kind, by level ...)
    chart: str | None = None  # how it is best looked at: "bar", "line", "pie" or None

    @property
    def change(self) -> float | int | None:
        """Month-over-month change of the headline figure."""
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 4)


@dataclass(frozen=True)
class ChildRow:
    """Drill-down: one child node (city, county or school) with its headline figures by key."""

    code: str  # jurisdiction code, or the school's 10-digit code
    name: str
    level: str  # "city", "county" or "school"
    values: dict[str, float | int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """A monthly report (月报) of one node for one month, as of the month's end."""

    node_code: str  # jurisdiction code (2/4/6 digits) or school code (10 digits)
    node_name: str
    node_level: str  # "province", "city", "county" or "school"
    month: date  # the first day of the month reported
    as_of: datetime  # the end of the month: figures are as they stood then
    generated_at: datetime
    figures: tuple[Figure, ...]
    children: tuple[ChildRow, ...] = ()
    trend: dict[str, tuple[tuple[str, float | int | None], ...]] = field(default_factory=dict)
    # key -> ((YYYY-MM, value), ...) over the last months, oldest first, for the trend lines
    status: str = "draft"  # "draft" or "signed"
    signed_by: str | None = None
    signed_at: datetime | None = None
    live: bool = False  # the current month, counted as things stand now (not yet closed)
    snapshot_taken_at: datetime | None = None  # when the month-end snapshot of the stock was taken
    last_backup_at: datetime | None = None  # the last good backup before the report's moment

    @property
    def period(self) -> str:
        """'2026-10'"""
        return f"{self.month:%Y-%m}"

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)
