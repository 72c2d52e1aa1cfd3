"""Stock indicators, counted from the month-end snapshot (or the live rows of the current month):
students on record by stage and grade, the bulletin's grade ratios, accounts active and dormant."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select

from ...models import Graduation
from . import words
from .flows import graduates_by
from .model import Table
from .snapshot import chain_columns, stock
from .window import Result, Window, share

ON_RECORD = ("in_school", "suspended", "resuming")  # 在籍: in school, suspended, coming back
MALE, FEMALE = "1", "2"


def _grouped(w: Window, subject: str, keys, *criteria):
    """Sum of the stock's counts under the node by ``keys`` (names of the stock's columns), for the
    node and by child: ([(keys..., n)], [(child, keys..., n)]) -- one GROUP BY by child and keys."""
    src = stock(w, subject)
    cols = chain_columns(src)
    child = w.node.child_column(cols)
    by = ([child] if child is not None else []) + [src.c[k] for k in keys]
    rows = w.session.execute(select(*by, func.sum(src.c["count"]))
                             .where(w.node.where(cols), *(c(src) for c in criteria)).group_by(*by)).all()
    if child is None:
        return [(*key, int(n)) for *key, n in rows], []
    total: dict = defaultdict(int)
    for _child, *key, n in rows:
        total[tuple(key)] += int(n)
    return [(*key, n) for key, n in total.items()], [(c, *key, int(n)) for c, *key, n in rows]


def _on_record(src):
    return src.c.status.in_(ON_RECORD)


def _students(w: Window):
    return _grouped(w, "student", ("stage", "grade", "gender"), _on_record)


def students_on_record(w: Window) -> Result:
    """在籍学生数 by stage and grade, boys and girls."""
    if not w.has_stock:
        return Result(None)
    total, per_child = w.once("students", _students)
    cells: dict = defaultdict(lambda: [0, 0, 0])
    for stage, grade, gender, n in total:
        row = cells[(stage, grade)]
        row[0 if gender == MALE else 1 if gender == FEMALE else 2] += int(n)
    order = sorted(cells, key=lambda k: (k[1] is None, k[1] if k[1] is not None else 99))
    rows = tuple((words.stage(s), words.grade(g), cells[(s, g)][0], cells[(s, g)][1], sum(cells[(s, g)]))
                 for s, g in order)
    children: dict = defaultdict(int)
    for child, _stage, _grade, _gender, n in per_child:
        children[child] += int(n)
    header = (words.words("学段", "Stage"), words.words("年级", "Grade"), words.words("男", "Boys"),
              words.words("女", "Girls"), words.words("合计", "Total"))
    return Result(sum(r[-1] for r in rows), Table(header, rows), dict(children))


def _by_grade(w: Window) -> tuple[dict, dict]:
    total, per_child = w.once("students", _students)
    node: dict = defaultdict(int)
    children: dict = defaultdict(lambda: defaultdict(int))
    for _stage, grade, _gender, n in total:
        node[grade] += int(n)
    for child, _stage, grade, _gender, n in per_child:
        children[child][grade] += int(n)
    return node, children


def grade_ratio(upper: int, lower: int):
    """Students on record in grade ``upper`` ÷ those in grade ``lower``, in percent."""
    def compute(w: Window) -> Result:
        if not w.has_stock:
            return Result(None)
        node, children = _by_grade(w)
        table = Table((words.words("年级", "Grade"), words.words("在籍学生", "On record")),
                      ((words.grade(upper), node[upper]), (words.grade(lower), node[lower])))
        return Result(share(node[upper], node[lower]), table,
                      {c: share(g[upper], g[lower]) for c, g in children.items()})
    return compute


def _primary_graduates(w: Window) -> tuple[int, dict]:
    """Students who graduated from grade 6 in the twelve months before the window's end."""
    _by, per_child = graduates_by(w, w.end - timedelta(days=365), Graduation.grade_number == 6)
    return sum(_by.values()), per_child


def grade7_per_primary_graduate(w: Window) -> Result:
    """初一在籍学生 ÷ 近一年小学毕业生."""
    if not w.has_stock:
        return Result(None)
    node, children = _by_grade(w)
    graduates, per_child = _primary_graduates(w)
    table = Table((words.words("项目", "Item"), words.words("人数", "Students")),
                  ((words.grade(7), node[7]), (words.words("近一年小学毕业生", "Primary graduates, last 12 months"),
                                               graduates)))
    keys = set(children) | set(per_child)
    return Result(share(node[7], graduates), table,
                  {c: share(children[c][7] if c in children else 0, per_child.get(c, 0)) for c in keys})


def _accounts(w: Window):
    return _grouped(w, "account", ("school_id", "province_code", "city_code", "county_code", "status"))


def _account_level(school_id, province, city, county) -> str:
    if school_id is not None:
        return "school"
    return "county" if county else "city" if city else "province"


def _account_figure(status: str):
    def compute(w: Window) -> Result:
        if not w.has_stock:
            return Result(None)
        total, per_child = w.once("accounts", _accounts)
        cells: dict = defaultdict(lambda: defaultdict(int))
        for school_id, province, city, county, state, n in total:
            cells[_account_level(school_id, province, city, county)][state] += int(n)
        states = ("active", "dormant", "disabled")
        rows = tuple((words.level(lv), *(cells[lv][s] for s in states))
                     for lv in ("province", "city", "county", "school") if lv in cells)
        header = (words.words("层级", "Level"), words.words("活跃", "Active"), words.words("休眠", "Dormant"),
                  words.words("停用", "Disabled"))
        children: dict = defaultdict(int)
        for child, *_keys, state, n in per_child:
            if state == status:
                children[child] += int(n)
        return Result(sum(cells[lv][status] for lv in cells), Table(header, rows), dict(children))
    return compute


accounts_active = _account_figure("active")
accounts_dormant = _account_figure("dormant")
