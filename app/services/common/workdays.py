"""Working days: weekends off, public holidays off, make-up working days (调休) on."""

from __future__ import annotations

from datetime import date, timedelta


def is_workday(day: date, holidays: frozenset[date] = frozenset(),
               workdays: frozenset[date] = frozenset()) -> bool:
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_workdays(start: date, days: int, holidays: frozenset[date] = frozenset(),
                 workdays: frozenset[date] = frozenset()) -> date:
    """The date ``days`` working days after ``start`` (the start day itself does not count)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day, holidays, workdays):
            left -= 1
    return day
