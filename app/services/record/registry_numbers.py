"""The national registry number (学籍号): L temporary, G + resident ID, J built like an ID number.

Every number ever issued is a row of ``registry_number``; its unique constraint is what keeps numbers
from being reused, and the retired rows are the student's number history.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.cn import ric

from ...errors import Conflict, ValidationFailed
from ...i18n import t
from ...models import RegistryNumber, Student
from ...models.base import keyring, local_now
from ...security.masking import mask_registry_no
from ..common.sets import among
from .identity import RESIDENT_ID, resident_id_problem

_ATTEMPTS = 20


def area_code(school) -> str:
    """6-digit area code of the school's bureau."""
    return school.county_code or school.city_code or school.province_code


def temporary_number(area: str, born: date) -> str:
    """L + area + birth date + 4 random digits (no check character)."""
    return f"L{area}{born:%Y%m%d}{secrets.randbelow(10000):04d}"


def temporary_numbers(session: Session, school, births: list[date]) -> list[tuple[str, str]]:
    """Temporary numbers for a batch of new records (an import), none issued before, none twice:
    (number, its blind index) each."""
    area, ring = area_code(school), keyring()
    numbers: list[str] = [""] * len(births)
    digests: list[str] = [""] * len(births)
    pending = list(range(len(births)))
    for _ in range(_ATTEMPTS):
        for i in pending:
            numbers[i] = temporary_number(area, births[i])
            digests[i] = ring.blind_index("registry_no", numbers[i])
        asked = among(session, RegistryNumber.number_blind, [digests[i] for i in pending])
        taken = set(session.scalars(select(RegistryNumber.number_blind).where(asked)))
        seen: set[str] = set()
        pending = []
        for i, d in enumerate(digests):
            if d in taken or d in seen:
                pending.append(i)
            seen.add(d)
        if not pending:
            return list(zip(numbers, digests))
    raise Conflict(t("无法生成临时学籍号，请重试", "could not allocate a temporary number; retry"))


def j_number(area: str, born: date, seq: int) -> str:
    """J + area + birth date + 3-digit sequence + MOD 11-2 check character."""
    body = f"{area}{born:%Y%m%d}{seq:03d}"
    return f"J{body}{ric.calc_check_digit(body + '0')}"


def digest(number: str) -> str:
    """The blind index of a registry number (the number itself is stored encrypted)."""
    return keyring().blind_index("registry_no", number)


def series_of(prefix: str) -> str:
    return keyring().blind_index("registry_series", prefix)


def find(session: Session, number: str) -> RegistryNumber | None:
    return session.scalar(select(RegistryNumber).where(RegistryNumber.number_blind == digest(number)))


def _taken(session: Session, number: str) -> bool:
    return session.scalar(select(RegistryNumber.id)
                          .where(RegistryNumber.number_blind == digest(number))) is not None


def _record(session: Session, student: Student, number: str, kind: str, actor: str | None) -> None:
    now = local_now()
    if student.registry_blind and student.id is not None:
        session.execute(
            RegistryNumber.__table__.update()
            .where(RegistryNumber.number_blind == student.registry_blind,
                   RegistryNumber.retired_at.is_(None))
            .values(retired_at=now, retired_reason=f"replaced by {mask_registry_no(number)}")
        )
    series = series_of(number[:15]) if kind == "J" else None
    session.add(RegistryNumber(number=number, kind=kind, student=student, series=series,
                               student_uid=student.ensure_uid(), issued_at=now, issued_by=actor))
    student.registry_no, student.registry_kind = number, kind


def issue_temporary(session: Session, student: Student, actor: str | None) -> str:
    """Give a new record its temporary L number (no flush, no commit)."""
    area = area_code(student.school)
    pending = {o.number_blind for o in session.new if isinstance(o, RegistryNumber)}
    for _ in range(_ATTEMPTS):
        number = temporary_number(area, student.birth_date)
        if digest(number) not in pending and not _taken(session, number):
            _record(session, student, number, "L", actor)
            return number
    raise Conflict(t("无法生成临时学籍号，请重试", "could not allocate a temporary number; retry"))


def formal_number_for(session: Session, student: Student) -> tuple[str, str]:
    """The formal number a student is entitled to: (number, kind)."""
    number = student.id_number
    if student.id_type == RESIDENT_ID and number and resident_id_problem(number) is None:
        g = f"G{number}"
        owner = session.scalar(select(RegistryNumber.student_uid)
                               .where(RegistryNumber.number_blind == digest(g)))
        if owner is None or owner == student.uid:
            return g, "G"
        raise Conflict(t(f"学籍号 {mask_registry_no(g)} 已发给另一名学生，须由省级核查",
                         "the number was already issued to another record; the province must "
                         "resolve it"), "id_number")
    area = area_code(student.school)
    prefix = f"J{area}{student.birth_date:%Y%m%d}"
    seq = 1 + session.scalar(select(func.count()).select_from(RegistryNumber)
                             .where(RegistryNumber.series == series_of(prefix)))
    while _taken(session, j_number(area, student.birth_date, seq)):
        seq += 1
    if seq > 999:
        raise Conflict(t("该地区该出生日期的J号已用尽", "J numbers exhausted for this area and date"))
    return j_number(area, student.birth_date, seq), "J"


def formalize(session: Session, student: Student, actor: str | None) -> str:
    """Replace a temporary number by the formal one; the old number stays in the history."""
    if student.registry_kind in ("G", "J"):
        raise ValidationFailed(t("已是正式学籍号", "already a formal number"))
    if student.id_type == RESIDENT_ID and resident_id_problem(student.id_number or "") is not None:
        raise ValidationFailed(t("身份证号无效，不能发放正式学籍号", "invalid ID: no formal number"), "id_number")
    for _ in range(_ATTEMPTS):
        number, kind = formal_number_for(session, student)
        try:
            with session.begin_nested():
                _record(session, student, number, kind, actor)
                session.flush()
            return number
        except IntegrityError:
            if kind == "G":
                raise Conflict(t(f"学籍号 {number} 已被占用", "number already taken"), "id_number") from None
    raise Conflict(t("无法生成正式学籍号，请重试", "could not allocate a formal number; retry"))
