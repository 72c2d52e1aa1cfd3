"""Which node a report is about (province, city, county or school), whether the actor may read it,
and the columns that put a row under it or under one of its children (the drill-down)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Forbidden, NotFound, ValidationFailed
from ...i18n import t
from ...models import Jurisdiction, School
from ...security.roles import LEVELS
from ..common.actors import Actor

CHILD_LEVEL = {"province": "city", "city": "county", "county": "school"}


@dataclass(frozen=True)
class Node:
    """A report's node: its level, code (6-digit division or 10-digit school), name and chain."""

    level: str
    code: str
    name: str
    province_code: str
    city_code: str | None = None
    county_code: str | None = None
    school_id: int | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """The division codes from the province down (the rule files' chain)."""
        return tuple(c for c in (self.province_code, self.city_code, self.county_code) if c)

    @property
    def child_level(self) -> str | None:
        return CHILD_LEVEL.get(self.level)

    @property
    def id(self) -> int | None:
        """A school node's school id (what a scope compares a school by)."""
        return self.school_id

    def key(self):
        """The value of this node's own column (see ``columns``): its code, or a school's id."""
        return self.school_id if self.level == "school" else self.code

    def where(self, columns: dict):
        """The condition putting a row under this node, given the row's chain ``columns``
        (level -> column, with "school" the school's id column)."""
        return columns[self.level] == self.key()

    def child_column(self, columns: dict):
        """The column whose value names the child a row falls under (None for a school)."""
        return columns[self.child_level] if self.child_level else None


@dataclass(frozen=True)
class Child:
    """One child of a node in the drill-down: the key rows carry for it, its code and name."""

    key: object  # a division code, or a school's id
    code: str
    name: str
    level: str


def _of_school(school: School) -> Node:
    return Node("school", school.code, school.name, school.province_code, school.city_code,
                school.county_code, school.id)


def _of_jurisdiction(node: Jurisdiction) -> Node:
    return Node(node.level, node.code, node.name, node.province_code, node.city_code, node.county_code)


def _missing(code: str) -> NotFound:
    return NotFound(t(f"没有编码为 {code} 的单位，或不在本辖区", f"no node {code} in your jurisdiction"),
                    "node")


def find(session: Session, code: str) -> Node:
    """The node of a 6-digit division code or a 10-digit school code, or NotFound naming ``node``."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) not in (6, 10):
        raise ValidationFailed(t("单位编码须为 6 位行政区划代码或 10 位学校标识码",
                                 "node must be a 6-digit division code or a 10-digit school code"), "node")
    if len(code) == 10:
        school = session.scalar(select(School).where(School.code == code))
        if school is None:
            raise _missing(code)
        return _of_school(school)
    row = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    if row is None:
        raise _missing(code)
    return _of_jurisdiction(row)


def own(session: Session, actor: Actor) -> Node | None:
    """The node the actor's account is bound to (None: no node, e.g. the system actor)."""
    scope = actor.scope
    if scope.level == "school":
        school = session.get(School, scope.school_id)
        return _of_school(school) if school is not None else None
    if scope.code:
        row = session.scalar(select(Jurisdiction).where(Jurisdiction.code == scope.code))
        return _of_jurisdiction(row) if row is not None else None
    return None


def contains(actor: Actor, node: Node) -> bool:
    """Whether ``node`` is the actor's own node or lies below it (the scope's own test: a node
    answers it as the school or the jurisdiction it stands for)."""
    if node.level == "school":
        return actor.scope.contains_school(node)
    return actor.scope.contains_jurisdiction(node)


def readable(session: Session, actor: Actor, code: str) -> Node:
    """The node ``code`` if the actor may read its reports: its own node or one below it.
    Outside the jurisdiction it is simply not there (NotFound); an actor without the report's
    permission is Forbidden."""
    if not actor.may("Report", "read"):
        raise Forbidden(t("无权查看统计报表", "your role may not read reports"))
    node = find(session, code)
    if not contains(actor, node):
        raise _missing(code)
    return node


def children(session: Session, node: Node) -> list[Child]:
    """The node's children in the drill-down: a province's cities, a city's counties, a county's
    schools (by code); a school has none."""
    if node.level == "county":
        rows = session.execute(select(School.id, School.code, School.name)
                               .where(School.county_code == node.code).order_by(School.code))
        return [Child(sid, code, name, "school") for sid, code, name in rows]
    if node.level in ("province", "city"):
        level = CHILD_LEVEL[node.level]
        rows = session.execute(select(Jurisdiction.code, Jurisdiction.name).where(
            Jurisdiction.level == level, getattr(Jurisdiction, f"{node.level}_code") == node.code)
            .order_by(Jurisdiction.code))
        return [Child(code, code, name, level) for code, name in rows]
    return []


def _label(code: str, name: str, depth: int) -> tuple[str, str]:
    return code, f"{'　' * depth}{name}（{code}）"


def pickable(session: Session, actor: Actor, current: str | None = None) -> list[tuple[str, str]]:
    """The nodes an account picks a report of, indented under its own: its own node, the divisions
    below it, and a county's schools (others are reached by the drill-down), plus ``current``."""
    own_node = own(session, actor)
    if own_node is None:
        return []
    out = [_label(own_node.code, own_node.name, 0)]
    if own_node.level in ("province", "city"):
        rows = session.execute(select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.level).where(
            getattr(Jurisdiction, f"{own_node.level}_code") == own_node.code,
            Jurisdiction.code != own_node.code).order_by(Jurisdiction.code))
        out += [_label(code, name, LEVELS.index(level) - LEVELS.index(own_node.level))
                for code, name, level in rows]
    elif own_node.level == "county":
        out += [_label(c.code, c.name, 1) for c in children(session, own_node)]
    if current and current not in {code for code, _ in out}:
        node = find(session, current)
        out.append(_label(node.code, node.name, 1))
    return out


def parent_within(session: Session, actor: Actor, code: str) -> Node | None:
    """The node above ``code``, when the account may read it (the way back up the drill-down)."""
    node = find(session, code)
    parent = {"school": node.county_code or node.city_code, "county": node.city_code,
              "city": node.province_code}.get(node.level)
    if not parent or parent == node.code:
        return None
    try:
        up = find(session, parent)
    except (NotFound, ValidationFailed):
        return None
    return up if contains(actor, up) else None
