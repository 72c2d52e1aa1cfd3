"""关注名单 (watch lists) of a node: students who left their school and are on record nowhere
(转出、退学、出境、辍学 not received anywhere), transfers approved but not yet pulled by the receiving
school, and dropouts per school and month over the last 12 months.

Names are shown, as in the registry's lists; registry and ID numbers only masked (the student
list's masks), so the lists show no item in full and log no personal-data view.  Each list is one
set-based query; masking decrypts only the rows shown (at most ``MOST``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, extract, func, or_, select
from sqlalchemy.orm import Session, aliased

from ...models import Grade, Request, School, Student
from ..common.actors import Actor
from ..organisation import codes
from . import nodes
from .statistics import ON_RECORD, target, trail
from .words import grade as grade_words
from .words import words

LEFT = ("transferred_out", "left_other", "abroad", "dropout", "missing")  # left, not graduated
LEAVING_KINDS = ("dropout", "withdraw", "expel", "abroad")  # the requests that end in LEFT
MOST = 500  # rows of a list shown; the count says how many there are
MONTHS = 12


@dataclass(frozen=True)
class Departed:
    """A student who left (status LEFT) and is on record at no school."""

    student_id: int
    school_code: str
    school_name: str
    name: str
    gender: str
    grade: str
    status: str
    left_on: date | None  # the day the leaving request was approved (None: no request, e.g. imported)
    registry_no: str  # masked
    id_number: str  # masked


@dataclass(frozen=True)
class Waiting:
    """A transfer approved by every party whose file the receiving school has not pulled yet."""

    request_id: int
    name: str
    registry_no: str  # masked
    from_school: str
    to_school: str
    since: date | None
    days: int | None


@dataclass(frozen=True)
class DropoutRow:
    code: str
    name: str
    counts: tuple[int, ...]  # per month, oldest first

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class WatchLists:
    node_code: str
    node_name: str
    node_level: str
    as_of: datetime
    departed: tuple[Departed, ...]
    departed_count: int  # all of them (``departed`` holds at most MOST)
    waiting: tuple[Waiting, ...]
    months: tuple[str, ...]  # YYYY-MM, oldest first
    dropouts: tuple[DropoutRow, ...]  # schools with a dropout in the months
    dropout_total: DropoutRow
    trail: tuple[tuple[str, str], ...] = ()  # (code, name) of the readable nodes above, top first


def _student_chain() -> dict:
    return {"province": Student.province_code, "city": Student.city_code,
            "county": Student.county_code, "school": Student.school_id}


def _received_elsewhere():
    """Another record of the same person is on record: same ID number (blind index), or, without
    one, the same name, gender and birth date."""
    other = aliased(Student)
    same_id = and_(Student.id_blind.is_not(None), other.id_blind == Student.id_blind)
    same_person = and_(Student.id_blind.is_(None), other.name == Student.name,
                       other.gender == Student.gender, other.birth_date == Student.birth_date)
    return exists().where(other.id != Student.id, other.status.in_(ON_RECORD), or_(same_id, same_person))


def _departed_where(node: nodes.Node):
    return and_(node.where(_student_chain()), Student.status.in_(LEFT), ~_received_elsewhere())


def _departed(session: Session, node: nodes.Node) -> tuple[list[Departed], int]:
    left = (select(Request.student_id, func.max(Request.closed_at).label("left_at"))
            .where(Request.kind.in_(LEAVING_KINDS), Request.status == "done")
            .group_by(Request.student_id).subquery())
    query = (select(Student, School.code, School.name, Grade.number, left.c.left_at)
             .join(School, School.id == Student.school_id).outerjoin(Grade, Grade.id == Student.grade_id)
             .outerjoin(left, left.c.student_id == Student.id).where(_departed_where(node))
             .order_by(School.code, left.c.left_at.is_(None), left.c.left_at.desc(), Student.id)
             .limit(MOST))
    count = session.scalar(select(func.count()).select_from(Student).where(_departed_where(node)))
    status, gender = codes.labels(session, "student_status"), codes.labels(session, "gender")
    rows = [Departed(s.id, code, name, s.name, gender.get(s.gender, s.gender or ""), grade_words(number),
                     status.get(s.status, s.status), at.date() if at else None, s.registry_no_masked,
                     s.id_number_masked)
            for s, code, name, number, at in session.execute(query)]
    return rows, int(count or 0)


def _waiting(session: Session, node: nodes.Node, now: datetime) -> list[Waiting]:
    """Transfers out of the node (the sending school, ``other_school``, under it) waiting for
    the receiving school to pull the file."""
    sending = {"province": Request.other_province, "city": Request.other_city,
               "county": Request.other_county, "school": Request.other_school_id}
    sender, receiver = aliased(School), aliased(School)
    query = (select(Request, sender.name, receiver.name)
             .join(sender, sender.id == Request.other_school_id)
             .join(receiver, receiver.id == Request.origin_school_id)
             .where(Request.kind == "transfer", Request.status == "awaiting_pull", node.where(sending))
             .order_by(Request.step_started_at, Request.id).limit(MOST))
    out = []
    for req, from_school, to_school in session.execute(query):
        since = req.step_started_at.date() if req.step_started_at else None
        masked = req.student.registry_no_masked if req.student is not None else ""
        out.append(Waiting(req.id, req.student_name, masked, from_school, to_school, since,
                           (now.date() - since).days if since else None))
    return out


def _months(now: datetime) -> list[date]:
    first = date(now.year, now.month, 1)
    out = []
    for back in range(MONTHS - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        out.append(date(year, month + 1, 1))
    return out


def _dropouts(session: Session, node: nodes.Node, now: datetime) -> tuple[list[str], list[DropoutRow]]:
    """Dropouts (辍学 approved) per school and month, one GROUP BY query."""
    months = _months(now)
    year, month = divmod(months[-1].year * 12 + months[-1].month, 12)
    end = datetime(year, month + 1, 1)
    origin = {"province": Request.origin_province, "city": Request.origin_city,
              "county": Request.origin_county, "school": Request.origin_school_id}
    y, m = extract("year", Request.closed_at), extract("month", Request.closed_at)
    query = (select(Request.origin_school_id, y, m, func.count())
             .where(Request.kind == "dropout", Request.status == "done", node.where(origin),
                    Request.closed_at >= datetime(months[0].year, months[0].month, 1),
                    Request.closed_at < end)
             .group_by(Request.origin_school_id, y, m))
    index = {(d.year, d.month): i for i, d in enumerate(months)}
    cells: dict = {}
    for school_id, yy, mm, n in session.execute(query):
        cells.setdefault(school_id, [0] * MONTHS)[index[(int(yy), int(mm))]] += int(n)
    schools = session.execute(select(School.id, School.code, School.name)
                              .where(School.id.in_(list(cells) or [-1])).order_by(School.code)).all()
    rows = [DropoutRow(code, name, tuple(cells[sid])) for sid, code, name in schools]
    return [f"{d:%Y-%m}" for d in months], rows


def watch_lists(session: Session, actor: Actor, code: str | None, now: datetime) -> WatchLists:
    """The watch lists of the node ``code`` (default: the actor's own), scoped like the reports."""
    node = target(session, actor, code)
    departed, count = _departed(session, node)
    months, rows = _dropouts(session, node, now)
    total = DropoutRow(node.code, words("合计", "Total"),
                       tuple(sum(r.counts[i] for r in rows) for i in range(MONTHS)))
    return WatchLists(node.code, node.name, node.level, now, tuple(departed), count,
                      tuple(_waiting(session, node, now)), tuple(months), tuple(rows), total,
                      trail(session, actor, node))
