"""The append-only history a report's flow figures are read from, bounded by the month's end: requests
(created_at, closed_at, kind, variant, both parties' chains) and their step rows (action, at, round,
step) -- what was pending at a moment, and who held it then, follows from the rows before it.

Every query here is set-based and runs on SQLite and PostgreSQL alike; the two differ only in how a
JSON array element is read (``chain_item``) and how a timestamp becomes a date (``day_of``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import JSON, Date, Integer, String, and_, case, cast, func, literal, null, or_, select
from sqlalchemy.sql.functions import Function

from ...models import Jurisdiction, Request, RequestStep
from .window import Window

# the chain columns of each party of a request, by level (see Node.where)
ORIGIN = {"province": Request.origin_province, "city": Request.origin_city,
          "county": Request.origin_county, "school": Request.origin_school_id}
OTHER = {"province": Request.other_province, "city": Request.other_city,
         "county": Request.other_county, "school": Request.other_school_id}
BOTH = (ORIGIN, OTHER)


@dataclass
class Tally:
    """Sums of per-request values: for the node, by key, and by child (drill-down)."""

    names: tuple[str, ...]
    total: dict = field(default_factory=dict)  # name -> sum
    by_key: dict = field(default_factory=dict)  # key (a tuple of the keys' values) -> name -> sum
    by_child: dict = field(default_factory=dict)  # child -> name -> sum
    by_child_key: dict = field(default_factory=dict)  # (child, key) -> name -> sum

    def key(self, name: str) -> dict:
        """``name`` by key, keys of one expression unwrapped."""
        return {(k[0] if len(k) == 1 else k): v[name] for k, v in self.by_key.items()}

    def child(self, name: str) -> dict:
        return {c: v[name] for c, v in self.by_child.items()}


def _add(target: dict, values: dict) -> None:
    for name, value in values.items():
        target[name] = target.get(name, 0) + value


def tally(w: Window, sides, *criteria, keys=(), values=None, source=None) -> Tally:
    """Each request matching ``criteria`` with a party under the node on one of ``sides`` counted
    once for the node, once under its ``keys`` and once for each child a party of it lies under (a
    request between two children counts for both): one GROUP BY, folded here over its groups.
    ``values``: name -> a per-request expression to sum (default: how many, ``n``); ``source``: the
    FROM clause when the keys or values read a joined table."""
    values = values or {"n": literal(1, Integer)}
    columns = []
    for i, side in enumerate(sides):
        child = w.node.child_column(side)
        columns += [case((w.node.where(side), 1), else_=0).label(f"in{i}"),
                    (child if child is not None else null()).label(f"c{i}")]
    columns += [k.label(f"k{j}") for j, k in enumerate(keys)]
    inner = select(*columns, *(v.label(name) for name, v in values.items())).where(
        or_(*(w.node.where(side) for side in sides)), *criteria)
    sub = (inner.select_from(source) if source is not None else inner).subquery()
    group = [sub.c[c.name] for c in columns]
    rows = w.session.execute(select(*group, *(func.sum(sub.c[name]) for name in values))
                             .group_by(*group)).all()
    return _fold(w, Tally(tuple(values)), rows, len(sides), len(keys))


def _fold(w: Window, out: Tally, rows, sides: int, keys: int) -> Tally:
    out.total = dict.fromkeys(out.names, 0)
    for row in rows:
        parties, key, sums = row[:2 * sides], tuple(row[2 * sides:2 * sides + keys]), row[2 * sides + keys:]
        values = {name: int(v or 0) for name, v in zip(out.names, sums, strict=True)}
        _add(out.total, values)
        _add(out.by_key.setdefault(key, {}), values)
        if w.node.child_level is None:
            continue
        for child in {parties[2 * i + 1] for i in range(sides) if parties[2 * i]}:
            _add(out.by_child.setdefault(child, {}), values)
            _add(out.by_child_key.setdefault((child, key), {}), values)
    return out


def closed_in(w: Window, *, status: str | None = "done"):
    """Requests closed within the window (with ``status``, when given)."""
    criteria = [Request.closed_at >= w.start, Request.closed_at < w.end]
    if status is not None:
        criteria.append(Request.status == status)
    return and_(*criteria)


def open_at(moment: datetime):
    """Requests submitted before ``moment`` and not closed before it."""
    return and_(Request.created_at < moment, or_(Request.closed_at.is_(None), Request.closed_at >= moment))


def active_in(w: Window):
    """Requests in progress at some time within the window: submitted before its end, not closed
    before its start."""
    return and_(Request.created_at < w.end, or_(Request.closed_at.is_(None), Request.closed_at >= w.start))


# -- dialect differences ---------------------------------------------------------------------------

def chain_item(w: Window, index, key: str, source=Request.chain):
    """``chain[index][key]`` of a request's resolved chain (JSON), as text."""
    if w.dialect == "postgresql":
        return source.op("->", return_type=JSON)(index).op("->>", return_type=String)(literal(key, String))
    path = literal("$[", String) + cast(index, String) + literal(f"].{key}", String)
    return cast(func.json_extract(source, path), String)


def chain_length(source=Request.chain):
    """How many steps a request's chain has (json_array_length: the same name on both databases;
    built directly, as sqlalchemy_utils registers an uncached function of that name)."""
    return Function("json_array_length", source, type_=Integer)


def day_of(w: Window, column):
    """The date of a timestamp column (SQLite gives text; ``as_date`` reads both)."""
    return func.date(column) if w.dialect == "sqlite" else cast(column, Date)


def as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- who held what at a moment ---------------------------------------------------------------------

def waiting_at(w: Window, *criteria):
    """Requests waiting for an approval step at the window's end, with the step's holder (its
    party node: school:<id> / bureau:<code>), its time limit in working days and when it began.

    The holder follows from the last step row before the end: a submit or resubmit puts the request
    at step 0, an approval of step i at step i + 1 (after the last step nothing waits for approval);
    a return hands it back to the requesting school, which is not an approval."""
    rank = func.row_number().over(partition_by=RequestStep.request_id,
                                  order_by=(RequestStep.at.desc(), RequestStep.id.desc()))
    opened = select(Request.id).where(open_at(w.end), *criteria)
    last = (select(RequestStep.request_id, RequestStep.action, RequestStep.step, RequestStep.at,
                   rank.label("rn"))
            .where(RequestStep.at < w.end, RequestStep.request_id.in_(opened))).subquery()
    index = case((last.c.action == "approve", last.c.step + 1), else_=0)
    waiting = or_(last.c.action.in_(("submit", "resubmit")),
                  and_(last.c.action == "approve", last.c.step + 1 < chain_length()))
    return (select(Request.id.label("rid"), chain_item(w, index, "node").label("holder"),
                   cast(chain_item(w, index, "days"), Integer).label("days"), last.c.at.label("since"))
            .join(last, last.c.request_id == Request.id)
            .where(last.c.rn == 1, waiting)).subquery()


def holder_level(held):
    """The level of a holder node (school, county, city or province), for ``waiting_at`` rows."""
    return case((held.c.holder.like("school:%"), literal("school", String)),
                else_=func.coalesce(Jurisdiction.level, literal("county", String)))

