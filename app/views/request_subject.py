"""What a request's page shows of its student, so a reviewer sees what they approve: who and where
(school, grade, class, a link to the record), the key items, a change's items before and after, the
whole record a registration review registers, the records of an import's review, a transfer's two
schools.  Personal items are in full only to roles allowed to see them, and the full view is logged
once per page."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS, STUDENT_FIELD_BY_NAME
from ..i18n import t
from ..models import Student
from ..services.record import personal_data
from ..services.record.history_words import action_words, kind_words
from ..services.requests import holds, kinds
from ..web.labels import FORMATTERS, LABELS, code_formatter, label_of, yes_no
from .student_form import MEMBERS_TITLE, SECTIONS

STATUS = {"pending": t("待核办", "pending"), "returned": t("已退回", "returned"),
          "awaiting_pull": t("待调档", "awaiting pull"), "done": t("已办结", "done"),
          "rejected": t("未通过", "rejected"), "cancelled": t("已撤销", "cancelled")}
KEY_ITEMS = ("name", "gender", "birth_date", "ethnicity", "id_type", "id_number", "registry_no",
             "registry_kind", "status")
PERSONAL = {"registry_no"} | {f.name for f in ALL_STUDENT_FIELDS if f.personal}
# the record's items in the sections of its form (the national template's), the family before
# the auxiliary items as on the form; ``None`` marks where the family members go
GROUPS = tuple((t(*SECTIONS[key][0]), tuple(SECTIONS[key][1])) for key in SECTIONS if key != "other") + (
    (t(*MEMBERS_TITLE), None), (t(*SECTIONS["other"][0]), tuple(SECTIONS["other"][1])))
RECORDS_SHOWN = 500  # an import's review lists its records up to this many


def kind_label(kind: str) -> str:
    """What users read for a request kind, in their language."""
    return kind_words(kind)


def step_words(action: str) -> str:
    """A history row of a request (submit, approve, return ...) in words, as the record's history
    tells it."""
    return action_words(f"request_{action}")


def held_by(holder) -> str:
    """当前办理: the party and role holding a request ("" once nobody does); a list page names
    each party once."""
    if not holder:
        return ""
    named = g.setdefault("xueji_holders", {})
    if holder not in named:
        named[holder] = holds.holder_label(db.session, *holder)
    return named[holder]


def name_holders(holders) -> None:
    """Name the holders a page will ask ``held_by`` for, all at once (two statements at most)."""
    named = g.setdefault("xueji_holders", {})
    missing = {h for h in holders if h and h not in named}
    if missing:
        named.update(holds.holder_labels(db.session, missing))


@dataclass
class Subject:
    """The student block of a request's page."""

    student: Student | None
    link: bool = False  # the viewer's jurisdiction holds the record: link to it
    full: bool = False  # personal items in full (and the view logged)
    items: list = field(default_factory=list)  # [(label, value)] key items
    changes: list = field(default_factory=list)  # [(label, before, asked)]
    groups: list = field(default_factory=list)  # [(title, [(label, value)] or None: the family)]
    members: list = field(default_factory=list)  # [[(label, value)]] its family
    records: list = field(default_factory=list)  # an import's review: the records in it
    records_total: int = 0
    logged: list = field(default_factory=list)  # personal items shown in full


def subject(req, who) -> Subject:
    """Everything the page shows of the request's student; the full view is logged once."""
    student = req.student
    registration = req.kind in kinds.REGISTRATIONS
    job = (req.payload or {}).get("import_job") if registration else None
    out = Subject(student, full=personal_data.may_see(who))
    if student is not None and who.sees_school(student.school):
        out.link = True
        out.items = [(_label(n), _shown(out, student, n)) for n in KEY_ITEMS]
        if registration:
            out.groups = [(title, names and [(_label(n), _shown(out, student, n)) for n in names])
                          for title, names in GROUPS]
            out.members = [_member(out, m) for m in student.members]
    elif student is not None:  # a transfer's receiving side: what the look-up card showed
        out.items = [(_label("name"), student.name), (_label("registry_no"), student.registry_no_masked),
                     (_label("status"), _format("status", student.status))]
    out.changes = _changes(out, req)
    if job is not None:
        out.records, out.records_total = _records(who, job)
    if out.full and out.logged:
        personal_data.record_view(db.session, who, student, sorted(set(out.logged)), "request")
    return out


def _label(name: str):
    return LABELS.get(name) or (label_of(STUDENT_FIELD_BY_NAME[name]) if name in STUDENT_FIELD_BY_NAME
                                else name)


def _format(name: str, value) -> str:
    if value is None or value == "":
        return ""
    formatter = FORMATTERS.get(name)
    return str(formatter(value)) if formatter is not None else str(value)


def _shown(out: Subject, student, name: str) -> str:
    """One item as this viewer may see it: masked, or in full and noted for the log."""
    value = student.class_name if name == "school_class" else getattr(student, name, None)
    if name not in PERSONAL:
        return _format(name, value)
    if not out.full:
        return student.registry_no_masked if name == "registry_no" else personal_data.masked(name, value)
    if value not in (None, ""):
        out.logged.append(name)
    return "" if value is None else str(value)


def _member(out: Subject, member) -> list:
    rows = []
    for spec in MEMBER_FIELDS:
        value = getattr(member, spec.name, None)
        if spec.personal and not out.full:
            shown = personal_data.masked(spec.name, value)
        elif spec.kind == "bool":
            shown = yes_no(value)
        elif spec.code_table:
            shown = code_formatter(spec.code_table)(value) if value else ""
        else:
            shown = "" if value is None else str(value)
        if spec.personal and out.full and value:
            out.logged.append(f"member.{spec.name}")
        rows.append((label_of(spec), shown))
    return rows


def _changes(out: Subject, req) -> list:
    """A change request's items (label, value then, value asked), code items by their labels."""
    if "payload" not in kinds.get(req.kind).asks:
        return []
    before = req.before
    rows = []
    for name, asked in req.payload.items():
        if name in PERSONAL and out.full:
            out.logged.append(name)
        rows.append((_label(name), _value(out, name, before.get(name)), _value(out, name, asked)))
    return rows


def _value(out: Subject, name: str, value) -> str:
    if name in PERSONAL and not out.full:
        return personal_data.masked(name, value)
    if name in PERSONAL:
        return "" if value is None else str(value)
    return _format(name, value)


def _records(who, job_id: int) -> tuple[list, int]:
    """The records of an import's review the viewer's jurisdiction holds (the first few hundred)."""
    where = (Student.import_job_id == job_id, who.scope.clause(Student))
    total = db.session.scalar(select(func.count()).select_from(Student).where(*where)) or 0
    rows = db.session.scalars(select(Student).where(*where).options(selectinload(Student.school_class))
                              .order_by(Student.class_id, Student.id).limit(RECORDS_SHOWN)).all()
    return [{"id": r.id, "name": r.name, "gender": _format("gender", r.gender),
             "birth_date": _format("birth_date", r.birth_date), "class": r.class_name or "",
             "registry_no": r.registry_no_masked, "registered": r.registered} for r in rows], total
