"""学校统计表: classes and students on record by grade and gender, and the groups the bulletin
counts (ethnic minorities, migrant children, out-of-county hukou, left-behind children, hukou nature,
entry mode, orphans, martyrs' children, subsidies, disability, problem records), one row per child of
the node -- a province's cities, a city's counties, a county's schools, a school's grades -- and a
total row.

Two set-based queries whatever the size of the node: the students grouped by (child, grade, gender)
with one SUM(CASE ...) per column, and the classes grouped by (child, grade).  Python only adds up
those groups (at most children x 13 grades x 3 genders of them).  Students on record (在籍) are the
monthly report's: in school, suspended (休学 keeps the record and the seat) and resuming.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ...models import Grade, SchoolClass, Student
from ..common.actors import Actor
from ..organisation import codes
from . import nodes
from .words import grade as grade_words
from .words import words

ON_RECORD = ("in_school", "suspended", "resuming")  # 在籍, as the monthly report counts them
MALE, FEMALE = "1", "2"
GRADES = tuple(range(0, 13))  # 0: preschool


@dataclass(frozen=True)
class Column:
    """One column of the table: its key, the header group above it ("" for none) and its label."""

    key: str
    group: str
    label: str


@dataclass(frozen=True)
class Row:
    """One row: a child node (or a grade of a school), its values in the columns' order, and the
    node code to drill down to (None where there is nothing below)."""

    code: str
    name: str
    values: tuple[int, ...]
    drill: str | None = None


@dataclass(frozen=True)
class Statistics:
    """The school statistics table of one node, as it stood at ``as_of``."""

    node_code: str
    node_name: str
    node_level: str
    as_of: datetime
    row_label: str  # what a row is: 单位 / 学校 / 年级
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: Row
    trail: tuple[tuple[str, str], ...] = ()  # (code, name) of the readable nodes above, top first

    def as_dict(self) -> dict:
        """The table as JSON: its columns (key, group, label), each row's values by column key."""
        keys = [c.key for c in self.columns]

        def row(r: Row) -> dict:
            return {"code": r.code, "name": r.name, "drill": r.drill,
                    "values": dict(zip(keys, r.values, strict=True))}

        return {"node": self.node_code, "name": self.node_name, "level": self.node_level,
                "as_of": self.as_of.isoformat(), "row_label": self.row_label,
                "columns": [{"key": c.key, "group": c.group, "label": c.label} for c in self.columns],
                "rows": [row(r) for r in self.rows], "total": row(self.total)}

    def value(self, code: str, key: str) -> int:
        """The value of ``key`` in the row ``code`` (the total row: the node's own code)."""
        index = [c.key for c in self.columns].index(key)
        row = self.total if code == self.node_code else next(r for r in self.rows if r.code == code)
        return row.values[index]


# -- the columns ---------------------------------------------------------------------------------

def _yes(flag):
    return flag.is_(True)


def _filled(column):
    return and_(column.is_not(None), column != "")


def _code_columns(session: Session, table: str, prefix: str, group: str, skip=()) -> list:
    """One column per code of a code table, headed by the code's name (a name two codes share
    gets its code: 其他（12）, 其他（99）)."""
    pairs = [(c, label) for c, label in codes.choices(session, table) if c not in skip]
    names = [label for _c, label in pairs]
    out = []
    for code, label in pairs:
        shown = f"{label}（{code}）" if names.count(label) > 1 else label
        out.append((Column(f"{prefix}_{code}", group, shown), getattr(Student, prefix) == code))
    return out


def _category_columns(session: Session) -> list[tuple[Column, object]]:
    """(column, condition) for every counted group of students, in the table's order."""
    s = Student
    left = words("留守儿童", "Left-behind children")
    nature, entry = words("户口性质", "Hukou nature"), words("入学方式", "Entry mode")
    aid = words("资助", "Subsidies")
    out = [
        (Column("minority", "", words("少数民族", "Ethnic minorities")),
         and_(_filled(s.ethnicity), s.ethnicity != "01")),
        (Column("migrant", "", words("随迁子女", "Migrant children")), _yes(s.migrant_child)),
        (Column("out_of_county", "", words("县外户籍", "Hukou outside the county")),
         and_(_filled(s.hukou_location), func.substr(s.hukou_location, 1, 6) != s.county_code)),
    ]
    out += _code_columns(session, "left_behind", "left_behind", left, skip=("0",))
    out.append((Column("left_behind", left, words("合计", "Total")),
                and_(_filled(s.left_behind), s.left_behind != "0")))
    out += _code_columns(session, "hukou_nature", "hukou_nature", nature)
    out += _code_columns(session, "entry_mode", "entry_mode", entry)
    out += [
        (Column("orphan", "", words("孤儿", "Orphans")), _yes(s.orphan)),
        (Column("martyr_child", "", words("烈士子女", "Martyrs' children")), _yes(s.martyr_child)),
        (Column("needs_subsidy", aid, words("需要资助", "Need a subsidy")), _yes(s.needs_subsidy)),
        (Column("receives_subsidy", aid, words("享受资助", "Receive a subsidy")), _yes(s.receives_subsidy)),
        (Column("disability", "", words("残疾", "Disability")),
         and_(_filled(s.disability), s.disability != "0")),
        (Column("problem", "", words("问题学籍", "Problem records")), _yes(s.problem)),
    ]
    return out


def _total_columns() -> list[Column]:
    group = words("合计", "Total")
    return [Column("classes", group, words("班级数", "Classes")),
            Column("students", group, words("学生数", "Students")),
            Column("boys", group, words("男", "Boys")), Column("girls", group, words("女", "Girls"))]


def _grade_columns(grades) -> list[Column]:
    out = []
    for number in grades:
        group = grade_words(number)
        out += [Column(f"g{number}_classes", group, words("班级数", "Classes")),
                Column(f"g{number}_students", group, words("学生数", "Students")),
                Column(f"g{number}_girls", group, words("其中女", "Of whom girls"))]
    return out


# -- the queries ---------------------------------------------------------------------------------

def _chain(model) -> dict:
    return {"province": model.province_code, "city": model.city_code, "county": model.county_code,
            "school": model.school_id}


def _row_key(node: nodes.Node, model):
    """What a row of this node is keyed by: the child's column, or the grade for a school."""
    return Grade.number if node.level == "school" else node.child_column(_chain(model))


def _student_groups(session: Session, node: nodes.Node, conditions: list) -> list:
    """[(row key, grade, gender, students, count per condition ...)] -- one GROUP BY query."""
    key = _row_key(node, Student)
    sums = [func.sum(case((c, 1), else_=0)) for c in conditions]
    query = (select(key, Grade.number, Student.gender, func.count(), *sums)
             .select_from(Student).outerjoin(Grade, Grade.id == Student.grade_id)
             .where(node.where(_chain(Student)), Student.status.in_(ON_RECORD))
             .group_by(key, Grade.number, Student.gender))
    return session.execute(query).all()


def _class_groups(session: Session, node: nodes.Node) -> list:
    """[(row key, grade, classes)] -- one GROUP BY query."""
    key = _row_key(node, SchoolClass)
    query = (select(key, Grade.number, func.count(SchoolClass.id))
             .select_from(SchoolClass).join(Grade, Grade.id == SchoolClass.grade_id)
             .where(node.where(_chain(SchoolClass))).group_by(key, Grade.number))
    return session.execute(query).all()


# -- adding up -----------------------------------------------------------------------------------

def _add(cells: dict, key, column: str, n) -> None:
    row = cells.setdefault(key, {})
    row[column] = row.get(column, 0) + int(n or 0)


def _tally(students: list, classes: list, categories: list[Column]) -> tuple[dict, set]:
    """{row key: {column key: value}} and the grades present."""
    cells: dict = {}
    grades: set = set()
    for key, number, gender, n, *counts in students:
        grades.add(number)
        _add(cells, key, "students", n)
        _add(cells, key, "boys" if gender == MALE else "girls" if gender == FEMALE else "other", n)
        _add(cells, key, f"g{number}_students", n)
        if gender == FEMALE:
            _add(cells, key, f"g{number}_girls", n)
        for column, value in zip(categories, counts, strict=True):
            _add(cells, key, column.key, value)
    for key, number, n in classes:
        grades.add(number)
        _add(cells, key, "classes", n)
        _add(cells, key, f"g{number}_classes", n)
    return cells, grades


def _rows(session: Session, node: nodes.Node, cells: dict, grades: set) -> list[tuple]:
    """(key, code, name, drill) of every row: the node's children (or a school's grades), then
    any key the data holds that is not one of them (rows directly under the node)."""
    if node.level == "school":
        numbers = sorted(grades - {None}) + ([None] if None in grades else [])
        return [(n, "" if n is None else str(n), grade_words(n), None) for n in numbers]
    out = [(c.key, c.code, c.name, c.code) for c in nodes.children(session, node)]
    known = {c[0] for c in out}
    stray = sorted((k for k in cells if k not in known), key=lambda k: (k is None, str(k)))
    out += [(k, "" if k is None else str(k), words("直属及其他", "Directly under, other"), None)
            for k in stray]
    return out


def compute(session: Session, node: nodes.Node, now: datetime) -> Statistics:
    """The table of ``node`` (already checked readable) as the records stand now."""
    category_pairs = _category_columns(session)
    categories = [c for c, _cond in category_pairs]
    students = _student_groups(session, node, [cond for _c, cond in category_pairs])
    cells, grades = _tally(students, _class_groups(session, node), categories)
    by_grade = [] if node.level == "school" else _grade_columns(sorted(g for g in grades if g is not None))
    columns = tuple(_total_columns() + by_grade + categories)
    rows = tuple(Row(code, name, tuple(cells.get(key, {}).get(c.key, 0) for c in columns), drill)
                 for key, code, name, drill in _rows(session, node, cells, grades))
    total = Row(node.code, words("合计", "Total"),
                tuple(sum(r.values[i] for r in rows) for i in range(len(columns))))
    label = {"province": words("市（州）", "City"), "city": words("县（区）", "County"),
             "county": words("学校", "School"), "school": words("年级", "Grade")}[node.level]
    return Statistics(node.code, node.name, node.level, now, label, columns, rows, total)


def school_statistics(session: Session, actor: Actor, code: str | None, now: datetime) -> Statistics:
    """The statistics table of the node ``code`` (default: the actor's own node), if the actor may
    read it: another jurisdiction's node is NotFound, a role without reports Forbidden."""
    node = target(session, actor, code)
    return replace(compute(session, node, now), trail=trail(session, actor, node))


def trail(session: Session, actor: Actor, node: nodes.Node) -> tuple[tuple[str, str], ...]:
    """The nodes above ``node`` the actor may read, top first (the way back up)."""
    out = []
    for code in node.codes:
        if code != node.code:
            above = nodes.find(session, code)
            if nodes.contains(actor, above):
                out.append((above.code, above.name))
    return tuple(out)


def target(session: Session, actor: Actor, code: str | None) -> nodes.Node:
    """The node a request names, or the actor's own, checked readable by the actor."""
    if not code:
        own = nodes.own(session, actor)
        if own is None:
            return nodes.readable(session, actor, "")  # no node: the readable check names it
        code = own.code
    return nodes.readable(session, actor, code)
