"""Problem records (问题学籍) in the report: found and resolved within the month and open at its end, by
kind, from each case's detected_at / resolved_at -- a case counts under every node one of its
records' schools lies in."""

from __future__ import annotations

from sqlalchemy import and_, case, distinct, func, null, or_, select

from ...models import ProblemCase, ProblemMember, School
from ...models.problems import KINDS
from . import words
from .model import Table
from .window import Result, Window

SCHOOL = {"province": School.province_code, "city": School.city_code, "county": School.county_code,
          "school": School.id}
STATES = ("found", "resolved", "open")


def _rows(w: Window) -> dict:
    """Cases under the node found, resolved and open: by kind for the node (each case once), and
    by child -- two GROUP BYs over the cases' records' schools."""
    p = ProblemCase
    flags = {
        "found": and_(p.detected_at >= w.start, p.detected_at < w.end),
        "resolved": and_(p.resolved_at >= w.start, p.resolved_at < w.end),
        "open": and_(p.detected_at < w.end, or_(p.resolved_at.is_(None), p.resolved_at >= w.end)),
    }
    child = w.node.child_column(SCHOOL)
    sub = (select(p.id.label("cid"), p.kind.label("kind"),
                  (child if child is not None else null()).label("child"),
                  *(case((flag, 1), else_=0).label(name) for name, flag in flags.items()))
           .select_from(ProblemMember).join(p, p.id == ProblemMember.case_id)
           .join(School, School.id == ProblemMember.school_id)
           .where(w.node.where(SCHOOL))).subquery()
    counts = [func.count(distinct(case((sub.c[name] == 1, sub.c.cid)))) for name in STATES]
    by_kind = {kind: dict(zip(STATES, row, strict=True)) for kind, *row in
               w.session.execute(select(sub.c.kind, *counts).group_by(sub.c.kind))}
    by_child = {} if child is None else {c: dict(zip(STATES, row, strict=True)) for c, *row in
                                         w.session.execute(select(sub.c.child, *counts).group_by(sub.c.child))}
    return {"kinds": by_kind, "children": by_child}


def _table(rows: dict) -> Table:
    header = (words.words("类型", "Kind"), words.words("本月发现", "Found"), words.words("本月解决", "Resolved"),
              words.words("月末未解决", "Open at month end"))
    kinds = rows["kinds"]
    return Table(header, tuple((words.w(words.PROBLEM.get(k, (k, k))),
                                *(int(kinds.get(k, {}).get(s) or 0) for s in STATES)) for k in KINDS))


def _figure(state: str):
    def compute(w: Window) -> Result:
        rows = w.once("problems", _rows)
        return Result(sum(int(v[state]) for v in rows["kinds"].values()), _table(rows),
                      {c: int(v[state]) for c, v in rows["children"].items()})
    return compute


problems_found = _figure("found")
problems_resolved = _figure("resolved")
problems_open = _figure("open")
