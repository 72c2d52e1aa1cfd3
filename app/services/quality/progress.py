"""The progress of a campaign at one node (省 → 市 → 县 → 学校 → 班级): the in-school students
of each child of the node inside the campaign's region, and how many of their forms were issued,
returned (with corrections) and entered, with the schools that lag the most (lowest entered share).

Each table is one set-based query: the students LEFT JOIN their form in the campaign, grouped by
the child (or the school) with COUNT of each mark; rows in a stable order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from ...errors import NotFound
from ...i18n import t
from ...models import QualityCampaign, QualityForm, School, SchoolClass, Student
from ..common.actors import Actor
from ..reports import nodes
from . import campaigns

COLUMNS = {"province": Student.province_code, "city": Student.city_code,
           "county": Student.county_code, "school": Student.school_id}
LAGGING = 5  # schools listed as lagging behind


@dataclass(frozen=True)
class Counts:
    students: int = 0
    issued: int = 0
    returned: int = 0
    corrected: int = 0
    entered: int = 0
    scanned: int = 0

    @property
    def entered_share(self) -> float:
        return self.entered / self.students if self.students else 0.0

    def plus(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(self.__dict__.values(), other.__dict__.values(), strict=True)))

    def as_dict(self) -> dict:
        return {**self.__dict__, "entered_share": round(self.entered_share, 4)}


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    counts: Counts
    drill: str | None = None  # the node to drill down to

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "drill": self.drill, **self.counts.as_dict()}


@dataclass(frozen=True)
class Progress:
    campaign_id: int
    campaign: str
    state: str
    node_code: str
    node_name: str
    node_level: str
    rows: tuple[Row, ...]
    total: Counts
    lagging: tuple[Row, ...]
    up: str | None = None  # the node above, when the viewer may read it and it is in the region

    def row(self, code: str) -> Row:
        return next(r for r in self.rows if r.code == code)

    def as_dict(self) -> dict:
        return {"campaign": self.campaign_id, "name": self.campaign, "state": self.state,
                "node": self.node_code, "node_name": self.node_name, "level": self.node_level,
                "up": self.up, "rows": [r.as_dict() for r in self.rows], "total": self.total.as_dict(),
                "lagging": [r.as_dict() for r in self.lagging]}


def _measures(form):
    return (func.count(Student.id), func.count(form.c.issued_at), func.count(form.c.returned_at),
            func.sum(case((form.c.corrected.is_(True), 1), else_=0)), func.count(form.c.entered_at),
            func.count(form.c.scan_at))


def _counts(values) -> Counts:
    return Counts(*(int(v or 0) for v in values))


def _base(campaign: QualityCampaign, node: nodes.Node, form):
    """Students in school under ``node`` and in the campaign's region, with their form."""
    region = COLUMNS[campaign.jurisdiction.level] == campaign.region_code
    return (select().select_from(Student).outerjoin(form, form.c.student_id == Student.id)
            .where(Student.status == "in_school", node.where(COLUMNS), region))


def _node(session: Session, actor: Actor, campaign: QualityCampaign, code: str | None) -> nodes.Node:
    """The node asked for (default: the viewer's own, or the region when the viewer is above it),
    readable by the viewer and inside the campaign's region."""
    if code:
        node = nodes.find(session, code)
    else:
        own = nodes.own(session, actor)
        node = own if own is not None and campaign.region_code in own.codes else \
            nodes.find(session, campaign.region_code)
    if not (actor.is_system or nodes.contains(actor, node)) or campaign.region_code not in node.codes:
        raise NotFound(t(f"单位 {code} 不在本辖区或不在该核查活动的区域内",
                         f"{code} is outside your jurisdiction or the campaign"), "node")
    return node


def _children(session: Session, node: nodes.Node) -> list[nodes.Child]:
    if node.level != "school":
        return nodes.children(session, node)
    rows = session.execute(select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == node.school_id)
                           .order_by(SchoolClass.grade_id, SchoolClass.number, SchoolClass.id))
    return [nodes.Child(cid, str(cid), name, "class") for cid, name in rows]


def progress(session: Session, actor: Actor, campaign_id, now: datetime, node_code: str | None = None,
             lagging: int = LAGGING) -> Progress:
    """The campaign's progress table at a node, its total, and the schools that lag."""
    campaign = campaigns.get(session, actor, campaign_id)
    node = _node(session, actor, campaign, (node_code or "").strip() or None)
    form = select(QualityForm).where(QualityForm.campaign_id == campaign.id).subquery()
    key = Student.class_id if node.level == "school" else COLUMNS[node.child_level]
    found = {k: _counts(v) for k, *v in session.execute(
        _base(campaign, node, form).add_columns(key, *_measures(form)).group_by(key))}
    rows = tuple(Row(c.code, c.name, found.get(c.key, Counts()), c.code if c.level != "class" else None)
                 for c in _children(session, node))
    total = Counts()
    for counts in found.values():
        total = total.plus(counts)
    return Progress(campaign.id, campaign.name, campaigns.state(campaign, now.date()), node.code,
                    node.name, node.level, rows, total,
                    _lagging(session, campaign, node, form, lagging) if node.level != "school" else (),
                    _up(session, actor, campaign, node))


def _lagging(session: Session, campaign: QualityCampaign, node: nodes.Node, form, limit: int
             ) -> tuple[Row, ...]:
    """The schools under ``node`` with the lowest share of forms entered (then by code)."""
    share = cast(func.count(form.c.entered_at), Float) / func.count(Student.id)
    query = (_base(campaign, node, form).join(School, School.id == Student.school_id)
             .add_columns(School.code, School.name, *_measures(form))
             .group_by(School.id, School.code, School.name).order_by(share, School.code).limit(limit))
    return tuple(Row(code, name, _counts(values), code) for code, name, *values in session.execute(query))


def _up(session: Session, actor: Actor, campaign: QualityCampaign, node: nodes.Node) -> str | None:
    above = nodes.parent_within(session, actor, node.code)
    return above.code if above is not None and campaign.region_code in above.codes else None


def region_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """The divisions a province account may open a campaign for: its own and those below it."""
    if not actor.may(campaigns.RESOURCE, "add"):
        return []
    return [(code, label) for code, label in nodes.pickable(session, actor) if len(code) == 6]
