"""Approvals waiting at the month's end, per level, with their ages and deadlines; and the bulletin's
cross-province transfer figures (approved within the province, files pulled, waiting too long)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Integer, String, and_, case, exists, literal, or_

from ...models import Jurisdiction, Request, RequestStep
from . import words
from .history import (
    BOTH,
    active_in,
    as_date,
    chain_length,
    day_of,
    holder_level,
    open_at,
    tally,
    waiting_at,
)
from .model import Table
from .window import Result, Window, share

LEVELS = ("school", "county", "city", "province")
CROSS_WAIT_DAYS = 10  # the bulletin counts cross-province transfers waiting longer than this


def _involving(w: Window):
    return or_(*(w.node.where(side) for side in BOTH))


def _waiting(w: Window) -> dict:
    """Per level: waiting, overdue, total and oldest age in days; per child: waiting and overdue.
    One GROUP BY of the requests waiting at the end by level, the day the step began and its limit;
    the deadlines are counted here, once per group, on the rules' working days."""
    held = waiting_at(w, _involving(w))
    bureau = literal("bureau:", String) + Jurisdiction.code == held.c.holder
    source = Request.__table__.join(held, held.c.rid == Request.id).outerjoin(Jurisdiction, bureau)
    found = tally(w, BOTH, source=source, keys=(holder_level(held), day_of(w, held.c.since), held.c.days))
    levels: dict = defaultdict(lambda: {"n": 0, "overdue": 0, "age": 0, "oldest": 0})
    late = {}
    for key, values in found.by_key.items():
        level, day, days = key
        began, n = as_date(day), values["n"]
        late[key] = w.calendar.overdue(began, int(days or 0), w.last_day)
        cell, age = levels[level], (w.last_day - began).days
        cell["n"] += n
        cell["overdue"] += n if late[key] else 0
        cell["age"] += age * n
        cell["oldest"] = max(cell["oldest"], age)
    children: dict = defaultdict(lambda: {"n": 0, "overdue": 0})
    for (child, key), values in found.by_child_key.items():
        children[child]["n"] += values["n"]
        children[child]["overdue"] += values["n"] if late[key] else 0
    return {"levels": levels, "children": children}


def _approval_table(levels: dict) -> Table:
    header = (words.words("层级", "Level"), words.words("待审批", "Waiting"), words.words("超期", "Overdue"),
              words.words("平均等待（天）", "Average age (days)"), words.words("最长等待（天）", "Oldest (days)"))
    rows = tuple((words.level(lv), levels[lv]["n"], levels[lv]["overdue"],
                  round(levels[lv]["age"] / levels[lv]["n"], 1), levels[lv]["oldest"])
                 for lv in LEVELS if levels.get(lv, {}).get("n"))
    return Table(header, rows)


def _approval_figure(item: str):
    def compute(w: Window) -> Result:
        found = w.once("waiting", _waiting)
        levels = found["levels"]
        return Result(sum(c[item] for c in levels.values()), _approval_table(levels),
                      {c: v[item] for c, v in found["children"].items()})
    return compute


approvals_pending = _approval_figure("n")
approvals_overdue = _approval_figure("overdue")


# -- cross-province transfers ------------------------------------------------------------------------

def _cross():
    return and_(Request.kind == "transfer", Request.variant == "cross_province")


def _cross_rows(w: Window):
    last = chain_length() - 1
    approved = exists().where(RequestStep.request_id == Request.id, RequestStep.action == "approve",
                              RequestStep.step == last, RequestStep.at < w.end)
    pulled = exists().where(RequestStep.request_id == Request.id, RequestStep.action == "pull",
                            RequestStep.at < w.end)
    return tally(w, BOTH, _cross(), active_in(w),
                 values={"all": literal(1, Integer), "approved": case((approved, 1), else_=0),
                         "pulled": case((pulled, 1), else_=0)})


def _cross_table(found) -> Table:
    return Table((words.words("项目", "Item"), words.words("件数", "Requests")), (
        (words.words("本月在办的跨省转学", "Cross-province transfers in progress"), found.total["all"]),
        (words.words("省内审核通过", "Approved within the province"), found.total["approved"]),
        (words.words("已调档", "File pulled"), found.total["pulled"])))


def _cross_share(part: str, whole: str):
    def compute(w: Window) -> Result:
        found = w.once("cross", _cross_rows)
        return Result(share(found.total[part], found.total[whole]), _cross_table(found),
                      {c: share(v[part], v[whole]) for c, v in found.by_child.items()})
    return compute


cross_province_approved = _cross_share("approved", "all")
cross_province_pulled = _cross_share("pulled", "approved")


def cross_province_waiting(w: Window) -> Result:
    """Cross-province transfers still open at the end, filed more than 10 working days before it."""
    found = tally(w, BOTH, _cross(), open_at(w.end), keys=(day_of(w, Request.created_at),))
    late = {key for key in found.by_key
            if w.calendar.overdue(as_date(key[0]), CROSS_WAIT_DAYS, w.last_day)}
    children: dict = defaultdict(int)
    for (child, key), values in found.by_child_key.items():
        children[child] += values["n"] if key in late else 0
    return Result(sum(found.by_key[k]["n"] for k in late), None, dict(children))
