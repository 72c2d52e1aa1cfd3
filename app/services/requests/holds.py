"""A record under review: the open request that holds a student, who holds that request now, and
what the rule engine hears of it when somebody edits the record directly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, literal, select, union_all
from sqlalchemy.orm import Session

from ... import clock
from ...errors import RuleViolation
from ...i18n import t
from ...models import ImportJob, Jurisdiction, Request, School, Student
from ...models.requests import OPEN
from ...policy.vocab import ROLE_ZH
from ..policy import rulesets as policy
from . import kinds

ROLE_EN = {"registrar": "registrar", "supervisor": "registry supervisor"}


def holding(session: Session, student: Student) -> Request | None:
    """The open request of ``student``: its own, or its import's batch registration review."""
    if student.id is None:
        return None
    req = session.scalar(select(Request).where(Request.open_student_id == student.id))
    if req is None and student.import_job_id is not None and not student.registered:
        req = session.scalar(select(Request).join(ImportJob, ImportJob.request_id == Request.id)
                             .where(ImportJob.id == student.import_job_id, Request.status.in_(OPEN)))
    return req


def in_school(session: Session, school_id: int) -> dict[int, Request]:
    """{student id: open request} of every held student of a school (an import asks once)."""
    own = session.execute(select(Student.id, Request).join(Request, Request.open_student_id == Student.id)
                          .where(Student.school_id == school_id)).all()
    batch = session.execute(
        select(Student.id, Request).join(ImportJob, ImportJob.id == Student.import_job_id)
        .join(Request, Request.id == ImportJob.request_id)
        .where(Student.school_id == school_id, Student.registered.is_(False),
               Request.status.in_(OPEN))).all()
    return {**dict(batch), **dict(own)}


def require_editable(session: Session, student: Student | None, now: datetime | None = None) -> None:
    """Refuse a direct edit of a record under review (a family member, a photo) as the rules say:
    RuleViolation naming the request and the rule; the record's own items ask in ``prepare_update``."""
    req = holding(session, student) if student is not None else None
    if req is None:
        return
    decision = policy.decide(session, policy.facts(
        "edit_field", now or clock.now(), student.school, status=student.status,
        registered=bool(student.registered), **facts(req, session)))
    problems = [p for p in policy.violation_problems(decision) if p.code == "under_review"]
    if problems:
        raise RuleViolation(problems)


def facts(req: Request | None, session: Session | None = None) -> dict:
    """What the engine hears of a student's open request: its status and how users name it."""
    if req is None:
        return {}
    return {"open_request": req.status, "open_request_ref": describe(req, session)}


def describe(req: Request, session: Session | None = None) -> str:
    """业务 #12 在校生注册，待 芙蓉区育英小学 · 学籍主管领导 核办 (Chinese, as the engine speaks)."""
    where = {"returned": "已退回发起学校修改", "awaiting_pull": "待转入学校调档"}.get(req.status)
    if where is None:
        holder = holder_zh(session, req) if session is not None else None
        where = f"待 {holder} 核办" if holder else "审批中"
    return f"业务 #{req.id} {kinds.label(req.kind)}，{where}"


def party_name(session: Session, node: str | None) -> str:
    """What users call a party: the school's name, or its bureau's (芙蓉区教育局, 湖南省教育厅)."""
    kind, _, key = (node or "").partition(":")
    if kind == "school" and key.isdigit():
        school = session.get(School, int(key))
        return school.name if school is not None else node
    if kind == "bureau":
        place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == key))
        if place is None:
            return key
        return place.name + ("教育厅" if place.level == "province" else "教育局")
    return node or ""


def party_names(session: Session, nodes) -> dict[str, str]:
    """``party_name`` of each node, read in one statement (the schools and the bureaus together)
    however many rows of a page name them, and whichever kinds they are."""
    schools = {int(k) for kind, _, k in (n.partition(":") for n in nodes if n) if kind == "school"
               and k.isdigit()}
    bureaus = {k for kind, _, k in (n.partition(":") for n in nodes if n) if kind == "bureau"}
    names: dict[str, str] = {}
    if schools or bureaus:
        both = union_all(
            select(literal("school").label("kind"), cast(School.id, String).label("key"), School.name,
                   literal("").label("level")).where(School.id.in_(schools)),
            select(literal("bureau"), Jurisdiction.code, Jurisdiction.name, Jurisdiction.level)
            .where(Jurisdiction.code.in_(bureaus)))
        for kind, key, name, level in session.execute(both):
            names[f"{kind}:{key}"] = name if kind == "school" else name + (
                "教育厅" if level == "province" else "教育局")
    return {n: names.get(n, n.partition(":")[2] if n.startswith("bureau:") else n)
            for n in nodes if n}


def holder_labels(session: Session, holders) -> dict:
    """``holder_label`` of each (node, role), for a page of requests at once."""
    holders = {h for h in holders if h and h[0]}
    names = party_names(session, {node for node, _ in holders})
    return {(node, role): t(f"{names[node]} · {ROLE_ZH.get(role, role)}",
                            f"{names[node]} · {ROLE_EN.get(role, role)}") for node, role in holders}


def holder_zh(session: Session, req: Request) -> str:
    """Who holds a request now, in Chinese: "芙蓉区教育局 · 学籍主管领导" ("" once it is closed)."""
    if not req.holder_node:
        return ""
    return f"{party_name(session, req.holder_node)} · {ROLE_ZH.get(req.holder_role, req.holder_role)}"


def holder_label(session: Session, node: str | None, role: str | None):
    """Who holds a request now, in the reader's language ("" when nobody does)."""
    if not node:
        return ""
    name = party_name(session, node)
    return t(f"{name} · {ROLE_ZH.get(role, role)}", f"{name} · {ROLE_EN.get(role, role)}")
