"""What an indicator is computed over: one node, one month (its start and its end, the moment the
figures stand at), the month-end snapshot, the working-day calendar; and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ...errors import ValidationFailed
from ...i18n import t
from ..common.workdays import add_workdays
from .model import Table
from .nodes import Node


def month_of(value) -> date:
    """The first day of a month given as ``YYYY-MM`` (or a date), or ValidationFailed naming ``month``."""
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    text = (value or "").strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed(t(f"月份须为 YYYY-MM 格式，例如 2026-10（收到 {text!r}）",
                                 f"month must be YYYY-MM, e.g. 2026-10 (got {text!r})"), "month") from None


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1)


@dataclass(frozen=True)
class Calendar:
    """Working days of the node's rules: weekends and holidays off, make-up days (调休) on."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def due(self, start: date, days: int) -> date:
        return add_workdays(start, days, self.holidays, self.workdays)

    def overdue(self, start: date, days: int, on: date) -> bool:
        """More than ``days`` working days after ``start`` have passed by the end of ``on``."""
        return on > self.due(start, days)


@dataclass(frozen=True)
class Window:
    """One node over one month: rows from ``start`` (inclusive) to ``end`` (exclusive)."""

    session: Session
    node: Node
    month: date
    start: datetime
    end: datetime  # the month's end, or the moment of a live report of the current month
    calendar: Calendar
    stock_month: date | None  # the closed month whose snapshot holds the stock; None: live
    has_stock: bool = True  # False: a past month without a snapshot (stock figures unknown)
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # shared by indicators

    def once(self, name: str, compute):
        """``compute(self)`` the first time ``name`` is asked for in this window, then the same."""
        if name not in self.memo:
            self.memo[name] = compute(self)
        return self.memo[name]

    @property
    def last_day(self) -> date:
        """The last day the figures cover (the day before ``end`` at midnight)."""
        return (self.end - timedelta(microseconds=1)).date()

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name


@dataclass(frozen=True)
class Result:
    """An indicator's value for the node, its breakdown, and its value for each child (drill-down)."""

    value: float | int | None
    table: Table | None = None
    children: dict = field(default_factory=dict)  # child key -> value


def share(part, whole, digits: int = 1) -> float | None:
    """``part`` of ``whole`` in percent (None when ``whole`` is 0 or unknown)."""
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, digits)
