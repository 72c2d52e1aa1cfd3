"""The confirmation forms of a campaign, per student: issued (已发放), returned with or without
corrections (已收回), entered (已录入), and the scan of the signed form -- marked for a whole class
at once (set-based: one INSERT of the missing rows, one UPDATE) or for one student.

A mark needs the one before it (a form is returned after it was issued, entered after it came
back).  Corrections to controlled items are not entered here: they are filed as key-field change
requests (关键信息变更), which the bureau reviews one by one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import String, and_, cast, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...errors import Conflict, NotFound, ValidationFailed
from ...i18n import t
from ...models import AuditEvent, QualityCampaign, QualityForm, School, SchoolClass, Student
from ...models.base import keyring
from ...security.crypto import aad_for
from ...security.inputs import as_db_int
from ..common.actors import Actor
from ..common.transaction import transactional
from ..record import photos
from . import campaigns

MARKS = ("issued", "returned", "entered")
MARK_ZH = {"issued": "已发放", "returned": "已收回", "entered": "已录入"}
BEFORE = {"returned": "issued", "entered": "returned"}  # the mark each one needs first
ACTION = "enter_corrections"  # the engine's action of every mark and upload
SCAN_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Marked:
    """What a bulk mark did: forms marked now, already marked, refused for want of the mark before."""

    campaign_id: int
    mark: str
    marked: int
    already: int
    skipped: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _at(mark: str):
    return getattr(QualityForm, f"{mark}_at")


def _check_mark(mark: str) -> None:
    if mark not in MARKS:
        raise ValidationFailed(t("标记须为已发放、已收回或已录入", "mark must be issued, returned or entered"),
                               "mark")


def _school_of(session: Session, actor: Actor) -> School:
    actor.require(campaigns.RESOURCE, "mark")
    school = session.get(School, actor.school_id) if actor.school_id else None
    if school is None:
        raise NotFound(t("只有学校的学籍管理员可以登记确认表", "only a school registrar marks forms"), "school")
    return school


def _campaign(session: Session, actor: Actor, school: School, now: datetime, campaign_id,
              action: str = ACTION) -> QualityCampaign:
    chosen = campaigns.get(session, actor, campaign_id) if campaign_id not in (None, "") else None
    campaign = campaigns.gate(session, actor, school, now, action, campaign=chosen)
    campaigns.hold(session, campaign)
    return campaign


def _ensure(session: Session, campaign: QualityCampaign, students) -> None:
    """The form rows of ``students`` (a SELECT of student ids) in the campaign, one INSERT for
    those missing; a row another transaction adds meanwhile is left as it is."""
    uid = literal("q") + cast(literal(campaign.id), String) + literal("-") + cast(Student.id, String)
    source = select(literal(campaign.id), Student.id, Student.school_id, uid, Student.province_code,
                    Student.city_code, Student.county_code).where(
        Student.id.in_(students), Student.id.not_in(
            select(QualityForm.student_id).where(QualityForm.campaign_id == campaign.id)))
    maker = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(maker(QualityForm.__table__).from_select(
        ["campaign_id", "student_id", "school_id", "uid", "province_code", "city_code", "county_code"],
        source).on_conflict_do_nothing())


def _values(mark: str, actor: Actor, now: datetime, corrected: bool | None) -> dict:
    values = {f"{mark}_at": now, f"{mark}_by": actor.username}
    if mark == "returned":
        values["corrected"] = bool(corrected)
    return values


def _audit(actor: Actor, school: School, action: str, entity: str, entity_id: int, changes: dict,
           summary: str) -> AuditEvent:
    return AuditEvent(user_id=actor.user_id, username=actor.username, action=action, entity=entity,
                      entity_id=entity_id, school_id=school.id, changes=changes, summary=summary[:300])


@transactional
def mark_class(session: Session, actor: Actor, *, class_id, mark: str, now: datetime,
               campaign_id=None, corrected: bool | None = None) -> Marked:
    """Mark every in-school student of one class of the actor's school (a form not yet at the mark
    before is left out and counted as skipped); one transaction, one audit row."""
    _check_mark(mark)
    school = _school_of(session, actor)
    klass = session.scalar(select(SchoolClass).where(SchoolClass.id == _int(class_id),
                                                     SchoolClass.school_id == school.id))
    if klass is None:
        raise NotFound(t("班级不存在或不属于本校", "no such class in your school"), "class_id")
    campaign = _campaign(session, actor, school, now, campaign_id)
    students = select(Student.id).where(Student.class_id == klass.id, Student.status == "in_school")
    _ensure(session, campaign, students)
    mine = and_(QualityForm.campaign_id == campaign.id, QualityForm.student_id.in_(students))
    ready = _at(BEFORE[mark]).is_not(None) if mark in BEFORE else literal(True)
    marked = session.execute(update(QualityForm).where(mine, _at(mark).is_(None), ready)
                             .values(**_values(mark, actor, now, corrected))
                             .execution_options(synchronize_session=False)).rowcount
    counted = select(func.count()).select_from(QualityForm).where(mine)
    already = session.scalar(counted.where(_at(mark).is_not(None))) - marked
    skipped = session.scalar(counted.where(_at(mark).is_(None)))
    outcome = Marked(campaign.id, mark, marked, already, skipped)
    session.add(_audit(actor, school, "quality_mark", "school_class", klass.id,
                       {"campaign": campaign.id, **outcome.as_dict()},
                       f"{klass.name}确认表{MARK_ZH[mark]}：{marked} 人（核查活动 #{campaign.id}）"))
    return outcome


def _int(value) -> int:
    return as_db_int(value) or 0  # nothing an INTEGER column cannot hold reaches the query


def _student(session: Session, actor: Actor, school: School, student_id) -> Student:
    student = session.scalar(select(Student).where(Student.id == _int(student_id),
                                                   Student.school_id == school.id))
    if student is None:
        raise NotFound(t("学生不存在或不在本校", "no such student in your school"), "student")
    return student


def _form(session: Session, campaign: QualityCampaign, student: Student) -> QualityForm:
    _ensure(session, campaign, select(Student.id).where(Student.id == student.id))
    return session.scalar(select(QualityForm).where(QualityForm.campaign_id == campaign.id,
                                                    QualityForm.student_id == student.id)
                          .with_for_update())


@transactional
def mark_student(session: Session, actor: Actor, *, student_id, mark: str, now: datetime,
                 campaign_id=None, corrected: bool | None = None) -> QualityForm:
    """Mark one student's form (returned: say whether the parents corrected it; marking it
    returned again changes only that)."""
    _check_mark(mark)
    school = _school_of(session, actor)
    student = _student(session, actor, school, student_id)
    campaign = _campaign(session, actor, school, now, campaign_id)
    form = _form(session, campaign, student)
    before = BEFORE.get(mark)
    if before and getattr(form, f"{before}_at") is None:
        raise ValidationFailed(t(f"{student.name}的确认表尚未{MARK_ZH[before]}，须先标记{MARK_ZH[before]}",
                                 f"mark the form {before} first"), "mark")
    done = getattr(form, f"{mark}_at")
    if done is not None and not (mark == "returned" and bool(corrected) != bool(form.corrected)):
        raise Conflict(t(f"{student.name}的确认表已于 {done:%Y-%m-%d %H:%M} 标记为{MARK_ZH[mark]}",
                         f"the form is {mark} already"), "mark")
    values = _values(mark, actor, now, corrected) if done is None else {"corrected": bool(corrected)}
    for key, value in values.items():
        setattr(form, key, value)
    words = f"{MARK_ZH[mark]}" + ("（有更正）" if mark == "returned" and corrected else "")
    session.add(_audit(actor, school, "quality_mark", "student", student.id,
                       {"campaign": campaign.id, "mark": mark, "corrected": form.corrected},
                       f"{student.name}确认表{words}（核查活动 #{campaign.id}）"))
    return form


@transactional
def upload_scan(session: Session, actor: Actor, *, student_id, data: bytes, now: datetime,
                campaign_id=None) -> QualityForm:
    """Store the photo or scan of a student's signed form: JPEG or PNG, size-limited, encrypted and
    bound to its form row (a later upload replaces it)."""
    school = _school_of(session, actor)
    student = _student(session, actor, school, student_id)
    limit = current_app.config.get("XUEJI_FORM_SCAN_MAX_BYTES", SCAN_MAX_BYTES)
    if not data:
        raise ValidationFailed(t("请选择签字确认表的照片", "choose the photo of the signed form"), "file")
    if len(data) > limit:
        raise ValidationFailed(t(f"照片不能超过 {limit // 1024} KB", "the photo is too large"), "file")
    mime = photos.sniff(data)
    if mime is None:
        raise ValidationFailed(t("签字确认表须为 JPEG 或 PNG 图片", "the form must be a JPEG or PNG image"),
                               "file")
    campaign = _campaign(session, actor, school, now, campaign_id)
    form = _form(session, campaign, student)
    form.scan_enc = keyring().encrypt_bytes(data, aad_for("quality_form", "scan_enc", form.uid))
    form.scan_type, form.scan_size = mime, len(data)
    form.scan_sha256, form.scan_at, form.scan_by = hashlib.sha256(data).hexdigest(), now, actor.username
    session.add(_audit(actor, school, "quality_scan", "student", student.id,
                       {"campaign": campaign.id, "scan": form.scan_sha256[:12], "size": len(data)},
                       f"上传{student.name}的签字确认表（核查活动 #{campaign.id}）"))
    return form


def read_scan(session: Session, actor: Actor, campaign_id, student_id) -> tuple[bytes, str, Student]:
    """The scan of a student's signed form, decrypted, for the actor's own school."""
    school = _school_of(session, actor)
    campaign = campaigns.get(session, actor, campaign_id)
    student = _student(session, actor, school, student_id)
    form = session.scalar(select(QualityForm).where(QualityForm.campaign_id == campaign.id,
                                                    QualityForm.student_id == student.id))
    if form is None or form.scan_enc is None:
        raise NotFound(t("该学生没有上传签字确认表", "no scan for this student"), "file")
    data = keyring().decrypt_bytes(form.scan_enc, aad_for("quality_form", "scan_enc", form.uid))
    return data, form.scan_type, student


# -- the school's page: a class and its students' marks -----------------------------------------

@dataclass(frozen=True)
class Line:
    """One student of a class, with the marks of the campaign's form (None: not yet)."""

    student_id: int
    name: str
    seat_no: str | None
    issued_at: datetime | None
    returned_at: datetime | None
    corrected: bool | None
    entered_at: datetime | None
    scanned: bool

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        for key in ("issued_at", "returned_at", "entered_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


@dataclass(frozen=True)
class Sheet:
    """A class of the actor's school in a campaign: its students, the counts of each mark."""

    campaign_id: int
    class_id: int
    class_name: str
    lines: tuple[Line, ...]

    def count(self, mark: str) -> int:
        return sum(1 for line in self.lines if getattr(line, f"{mark}_at") is not None)

    def as_dict(self) -> dict:
        return {"campaign": self.campaign_id, "class_id": self.class_id, "class_name": self.class_name,
                "students": len(self.lines), **{m: self.count(m) for m in MARKS},
                "corrected": sum(1 for line in self.lines if line.corrected),
                "scanned": sum(1 for line in self.lines if line.scanned),
                "lines": [line.as_dict() for line in self.lines]}


def classes(session: Session, actor: Actor) -> list[SchoolClass]:
    """The actor's school's classes, by grade and number."""
    school = _school_of(session, actor)
    return list(session.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id)
                                .order_by(SchoolClass.grade_id, SchoolClass.number, SchoolClass.id)))


def sheet(session: Session, actor: Actor, campaign_id, class_id) -> Sheet:
    """The in-school students of one class of the actor's school and their forms' marks."""
    school = _school_of(session, actor)
    campaign = campaigns.get(session, actor, campaign_id)
    klass = session.scalar(select(SchoolClass).where(SchoolClass.id == _int(class_id),
                                                     SchoolClass.school_id == school.id))
    if klass is None:
        raise NotFound(t("班级不存在或不属于本校", "no such class in your school"), "class_id")
    form = select(QualityForm).where(QualityForm.campaign_id == campaign.id).subquery()
    rows = session.execute(
        select(Student.id, Student.name, Student.class_seat_no, form.c.issued_at, form.c.returned_at,
               form.c.corrected, form.c.entered_at, form.c.scan_at)
        .outerjoin(form, form.c.student_id == Student.id)
        .where(Student.class_id == klass.id, Student.status == "in_school")
        .order_by(Student.class_seat_no, Student.id))
    lines = tuple(Line(sid, name, seat, issued, returned, corrected, entered, scan is not None)
                  for sid, name, seat, issued, returned, corrected, entered, scan in rows)
    return Sheet(campaign.id, klass.id, klass.name, lines)
