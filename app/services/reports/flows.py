"""Flow indicators, read from the request history bounded by the month: registrations, transfers in and
out, other changes by kind, graduations, the share of business in progress that was completed."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Integer, and_, case, func, literal, null, or_, select

from ...models import Graduation, ImportJob, Request
from ..requests.kinds import KINDS, REGISTRATIONS
from . import words
from .history import BOTH, ORIGIN, OTHER, active_in, closed_in, tally
from .model import Table
from .window import Result, Window, share

# 异动: every kind that is neither a registration, a transfer, nor a key-item change
CHANGES = tuple(name for name in KINDS if name not in REGISTRATIONS and name not in ("transfer", "change_field"))
DISTANCES = ("same_county", "cross_county", "cross_province")


def _keyed_table(header: tuple[str, str], by_key: dict, order, label) -> Table:
    rows = tuple((label(k), int(by_key.get(k) or 0)) for k in order if by_key.get(k))
    return Table(header, rows)


def new_registrations(w: Window) -> Result:
    """Students registered by the reviews completed in the month (an import's review: its records)."""
    source = Request.__table__.outerjoin(ImportJob, ImportJob.request_id == Request.id)
    found = tally(w, (ORIGIN,), Request.kind.in_(REGISTRATIONS), closed_in(w), source=source,
                  keys=(Request.kind,), values={"reviews": literal(1, Integer),
                                                "students": func.coalesce(ImportJob.created, 1)})
    reviews, students = found.key("reviews"), found.key("students")
    rows = tuple((words.kind(k), reviews[k], students[k]) for k in REGISTRATIONS if reviews.get(k))
    header = (words.words("类型", "Kind"), words.words("核办件数", "Reviews"),
              words.words("学生人数", "Students"))
    return Result(found.total["students"], Table(header, rows), found.child("students"))


def _distance():
    return case((Request.variant == "same_county", "same_county"),
                (Request.variant == "cross_province", "cross_province"), else_="cross_county")


def _transfers(side):
    def compute(w: Window) -> Result:
        found = tally(w, (side,), Request.kind == "transfer", closed_in(w), keys=(_distance(),))
        table = _keyed_table((words.words("范围", "Distance"), words.words("人数", "Students")),
                             found.key("n"), DISTANCES, lambda k: words.w(words.DISTANCE[k]))
        return Result(found.total["n"], table, found.child("n"))
    return compute


transfers_in = _transfers(ORIGIN)  # the receiving school files the transfer
transfers_out = _transfers(OTHER)


def changes(w: Window) -> Result:
    """异动 completed in the month, by kind."""
    found = tally(w, (ORIGIN,), Request.kind.in_(CHANGES), closed_in(w), keys=(Request.kind,))
    return Result(found.total["n"], _keyed_table((words.words("类型", "Kind"), words.words("人数", "Students")),
                                                 found.key("n"), CHANGES, words.kind), found.child("n"))


GRADUATION = {"province": Graduation.province_code, "city": Graduation.city_code,
              "county": Graduation.county_code, "school": Graduation.school_id}


def counted_by(w: Window, chain: dict, source, *criteria, key=None) -> tuple[dict, dict]:
    """Rows of ``source`` (its jurisdiction columns in ``chain``) under the node matching
    ``criteria``, by ``key`` and by child (one GROUP BY)."""
    child = w.node.child_column(chain)
    child = child if child is not None else null()
    chosen = key if key is not None else null()
    inner = (select(child.label("child"), chosen.label("key")).select_from(source)
             .where(w.node.where(chain), *criteria)).subquery()
    by_key: dict = defaultdict(int)
    by_child: dict = defaultdict(int)
    for c, k, n in w.session.execute(select(inner.c.child, inner.c.key, func.count())
                                     .group_by(inner.c.child, inner.c.key)):
        by_key[k] += n
        by_child[c] += n
    return dict(by_key), dict(by_child) if w.node.child_level else {}


def graduates_by(w: Window, start, *criteria, key=None) -> tuple[dict, dict]:
    """Graduations (毕业) from ``start`` to the window's end, where they happened and as they stood
    at its end (one revoked since still counts), by ``key`` and by child."""
    return counted_by(w, GRADUATION, Graduation.__table__, Graduation.status == "graduated",
                      Graduation.at >= start, Graduation.at < w.end,
                      or_(Graduation.revoked_at.is_(None), Graduation.revoked_at >= w.end), *criteria,
                      key=key)


def graduations(w: Window) -> Result:
    """Students whose graduation (毕业) falls within the month, by the stage they finished."""
    by_stage, by_child = graduates_by(w, w.start, key=Graduation.stage)
    table = _keyed_table((words.words("学段", "Stage"), words.words("人数", "Students")), by_stage,
                         [*words.STAGE, None], words.stage)
    return Result(sum(by_stage.values()), table, by_child)


def completion_share(w: Window) -> Result:
    """Of the business in progress during the month (open at its start or filed in it), the share
    closed by its end, in percent."""
    done = case((and_(Request.closed_at.is_not(None), Request.closed_at < w.end), 1), else_=0)
    found = tally(w, BOTH, active_in(w), keys=(Request.kind,), values={"n": literal(1, Integer), "done": done})
    n, closed = found.key("n"), found.key("done")
    rows = tuple((words.kind(k), n[k], closed[k], share(closed[k], n[k])) for k in KINDS if n.get(k))
    header = (words.words("类型", "Kind"), words.words("在办", "In progress"),
              words.words("已办结", "Completed"), words.words("办结率（%）", "Completed (%)"))
    return Result(share(found.total["done"], found.total["n"]), Table(header, rows),
                  {c: share(v["done"], v["n"]) for c, v in found.by_child.items()})
