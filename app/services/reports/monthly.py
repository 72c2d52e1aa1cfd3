"""The monthly report (月报) of one node for one month: every indicator of the catalogue as of the
month's end, last month's values beside them, the drill-down to the node's children and the trend of
the key figures over the last six months.

Flow figures come from the append-only history bounded by the month's end; stock figures from the
month-end snapshot, taken the first time a past month is asked for (or by ``report close``) and never
again -- so a past month's report is the same however often and however late it is generated.  The
current month is a live report, counted as things stand.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from ... import clock
from ...errors import ValidationFailed
from ...i18n import t
from ...models import RuleSetVersion
from ...policy import load_texts
from ..common.actors import Actor
from ..operations import backups
from ..policy import rulesets as policy
from . import nodes, snapshot
from .catalogue import CATALOGUE, Indicator
from .model import ChildRow, Figure, Report
from .window import Calendar, Result, Window, month_of, month_start, next_month, previous_month

TREND_MONTHS = 6


def compute(session: Session, actor: Actor, node_code: str | None, month, *,
            now: datetime | None = None, trend: bool = True) -> Report:
    """The report of ``node_code`` (the actor's own node when None) for ``month`` (``YYYY-MM`` or a
    date).  The actor must see the node: its own or one below it (else NotFound)."""
    now = now or clock.now()
    node = _node(session, actor, node_code)
    first = month_of(month)
    if month_start(first) > now:
        raise ValidationFailed(t(f"{first:%Y-%m} 尚未开始", f"{first:%Y-%m} has not begun"), "month")
    window = _window(session, node, first, now, take=actor.username)
    results = {i.key: i.compute(window) for i in CATALOGUE}
    before = _window(session, node, previous_month(first), now)
    previous = {i.key: i.compute(before).value for i in CATALOGUE}
    as_of = now if _is_live(first, now) else _last_moment(first)
    report = Report(
        node_code=node.code, node_name=node.name, node_level=node.level, month=first,
        as_of=as_of, last_backup_at=backups.last_good_backup(session, before=as_of),
        generated_at=now, figures=tuple(_figure(i, results[i.key], previous[i.key]) for i in CATALOGUE),
        children=_children(session, node, results),
        trend=_trend(session, node, first, now, results, previous) if trend else {},
        live=_is_live(first, now), snapshot_taken_at=_taken_at(session, window))
    return _signed(session, report)


def _node(session: Session, actor: Actor, code: str | None) -> nodes.Node:
    if code:
        return nodes.readable(session, actor, code)
    own = nodes.own(session, actor)
    if own is None:
        raise ValidationFailed(t("请指定单位编码", "give the node's code"), "node")
    return nodes.readable(session, actor, own.code)


def _calendar(session: Session, node: nodes.Node, version: int | None) -> Calendar:
    """Working days at the node under rule-set ``version`` (None: the rules in force): a closed
    month keeps the calendar of the version in force when it was closed."""
    rules = policy.current(session)
    if version is not None:
        cache = current_app.extensions.setdefault("xueji_report_rules", {})
        if version not in cache:
            row = session.get(RuleSetVersion, version)
            cache[version] = load_texts(row.files, version=version) if row is not None else rules
        rules = cache[version]
    effective = rules.effective(*node.codes)
    return Calendar(frozenset(effective.holidays), frozenset(effective.workdays))


def _is_live(first: date, now: datetime) -> bool:
    return month_start(next_month(first)) > now


def _last_moment(first: date) -> datetime:
    return month_start(next_month(first)) - timedelta(seconds=1)


def _window(session: Session, node: nodes.Node, first: date, now: datetime,
            take: str | None = None) -> Window:
    """The window of ``first``'s month: live for the current month; otherwise its snapshot, taken
    now when ``take`` names who asks and it was never taken (else: no stock figures)."""
    start, end = month_start(first), month_start(next_month(first))
    if end > now:
        return Window(session, node, first, start, now, _calendar(session, node, None), None)
    row = snapshot.taken(session, first)
    if row is None and take is not None:
        row = snapshot.close_month(session, first, now=now, by=take)
    calendar = _calendar(session, node, row.rule_version if row is not None else None)
    return Window(session, node, first, start, end, calendar, first, has_stock=row is not None)


def _taken_at(session: Session, window: Window) -> datetime | None:
    if window.stock_month is None:
        return None
    row = snapshot.taken(session, window.stock_month)
    return row.taken_at if row is not None else None


def _figure(indicator: Indicator, result: Result, previous) -> Figure:
    flag = indicator.flag
    return Figure(key=indicator.key, name=indicator.name, definition=indicator.definition,
                  unit=indicator.unit_words, value=result.value, previous=previous,
                  flagged=bool(flag and flag.crossed(result.value)), flag_note=flag.note(indicator.unit) if flag else "",
                  table=result.table, chart=indicator.chart)


def _child_value(indicator: Indicator, result: Result, key):
    """A child's value of an indicator: a count it has no row for is 0; a share stays unknown."""
    if result.value is None:
        return None
    value = result.children.get(key)
    if value is None:
        return None if indicator.unit[0] == "%" else 0
    return value if isinstance(value, (int, float)) else float(value) if indicator.unit[0] == "%" else int(value)


def _children(session: Session, node: nodes.Node, results: dict) -> tuple[ChildRow, ...]:
    return tuple(ChildRow(code=child.code, name=child.name, level=child.level,
                          values={i.key: _child_value(i, results[i.key], child.key) for i in CATALOGUE})
                 for child in nodes.children(session, node))


def _trend(session, node, first, now, results, previous) -> dict:
    """The key figures over the last six months, oldest first (stock only where a snapshot was taken)."""
    keyed = [i for i in CATALOGUE if i.trend]
    months = [first]
    while len(months) < TREND_MONTHS:
        months.insert(0, previous_month(months[0]))
    series: dict = {i.key: [] for i in keyed}
    for m in months:
        if m == first:
            values = {i.key: results[i.key].value for i in keyed}
        elif m == previous_month(first):
            values = {i.key: previous[i.key] for i in keyed}
        else:
            w = _window(session, node, m, now)
            values = {i.key: i.compute(w).value for i in keyed}
        for i in keyed:
            series[i.key].append((f"{m:%Y-%m}", values[i.key]))
    return {key: tuple(points) for key, points in series.items()}


def _signed(session: Session, report: Report) -> Report:
    """The report with its sign-off (status, signer, time) when its month was signed off."""
    try:
        from .signing import with_signoff
    except ImportError:  # signing not installed: every report is a draft
        return report
    return with_signoff(session, report)
