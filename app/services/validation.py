"""Checking one student record: required items, code tables, formats, ID agreement, family.

Every problem is collected (never just the first), each naming its field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Iterable

from sqlalchemy.orm import Session

from ..errors import Problem
from ..fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS
from ..i18n import t
from ..models import FamilyMember, Student
from . import codes as code_tables
from .identity import (
    OTHER_ID,
    RESIDENT_ID,
    email_problem,
    id_agreement_problems,
    phone_problem,
    postcode_problem,
    region_problem,
    resident_id_problem,
)

# 随班就读 code -> the 残疾类型 codes it agrees with (REFERENCE.md §3)
INCLUSIVE_AGREES = {"0": {"0"}, "1": {"1"}, "2": {"2"}, "3": {"5"}, "4": {"3", "4", "6", "7", "8"}}
MAX_AGE = 30


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _value(student: Student, name: str):
    if name == "school_code":
        return student.school_id or student.school
    if name == "class_name":
        return student.class_id or student.school_class
    return getattr(student, name)


def field_problems(session: Session, student: Student, today: date) -> list[Problem]:
    """Every problem with the record's own items (required, codes, formats, agreements)."""
    problems: list[Problem] = []
    for spec in ALL_STUDENT_FIELDS:
        value = _value(student, spec.name)
        if _blank(value):
            optional_id = spec.name == "id_number" and student.id_type == OTHER_ID
            if spec.required and not optional_id:
                problems.append(Problem(t(f"{spec.header}为必填项", f"{spec.label_en} is required"), spec.name, "required"))
            continue
        problems += _format_problems(session, spec, value)
    problems += _identity_problems(student, today)
    problems += _agreement_problems(student)
    return problems


def _format_problems(session: Session, spec, value) -> list[Problem]:
    msg = None
    if spec.kind == "code" and str(value) not in code_tables.codes(session, spec.code_table):
        msg = t(f"{spec.header}的值 {value!r} 不在代码表中", f"{spec.label_en}: {value!r} is not a valid code")
    elif spec.kind == "region":
        msg = region_problem(str(value))
    elif spec.kind == "phone":
        msg = phone_problem(str(value))
    elif spec.kind == "postcode":
        msg = postcode_problem(str(value))
    elif spec.kind == "email":
        msg = email_problem(str(value))
    elif spec.kind == "number":
        try:
            if Decimal(str(value)) < 0:
                msg = t("不能为负数", "must not be negative")
        except InvalidOperation:
            msg = t("须为数字", "must be a number")
    elif spec.max_length and isinstance(value, str) and len(value) > spec.max_length:
        msg = t(f"最长 {spec.max_length} 个字符", f"at most {spec.max_length} characters")
    return [Problem(msg, spec.name, "format")] if msg else []


def _identity_problems(student: Student, today: date) -> list[Problem]:
    problems = []
    born = student.birth_date
    if born and (born > today or (today.year - born.year) > MAX_AGE):
        problems.append(Problem(t("出生日期不合理", "implausible birth date"), "birth_date", "format"))
    number = student.id_number
    if student.id_type == RESIDENT_ID and number:
        why = resident_id_problem(number)
        if why:
            problems.append(Problem(why, "id_number", "invalid_id"))
        else:
            problems += [Problem(m, f, "id_mismatch") for f, m in
                         id_agreement_problems(number, born, student.gender)]
    return problems


def _agreement_problems(student: Student) -> list[Problem]:
    inclusive, disability = student.inclusive_schooling, student.disability
    if _blank(inclusive) or _blank(disability):
        return []
    special = student.school is not None and student.school.kind == "special"
    if inclusive == "0" and special:
        return []
    if disability not in INCLUSIVE_AGREES.get(inclusive, set()):
        return [Problem(t("随班就读与残疾类型不一致", "inclusive schooling disagrees with disability type"),
                        "inclusive_schooling", "agreement")]
    return []


def member_problems(session: Session, member: FamilyMember, prefix: str = "") -> list[Problem]:
    """Problems of one family member; ``prefix`` names it (成员1) in messages."""
    problems = []
    for spec in MEMBER_FIELDS:
        value = getattr(member, spec.name)
        label = f"{prefix}{spec.header}"
        if _blank(value):
            if spec.required and not (spec.kind == "bool" and value is False):
                problems.append(Problem(t(f"{label}为必填项", f"{prefix} {spec.label_en} is required"), f"{prefix}{spec.name}", "required"))
            continue
        for p in _format_problems(session, spec, value):
            problems.append(Problem(p.message, f"{prefix}{spec.name}", p.code))
    if member.id_type == RESIDENT_ID and member.id_number:
        why = resident_id_problem(member.id_number)
        if why:
            problems.append(Problem(f"{prefix}{why}", f"{prefix}id_number", "invalid_id"))
    return problems


def family_problems(session: Session, student: Student, members: Iterable[FamilyMember]) -> list[Problem]:
    members = list(members)
    problems: list[Problem] = []
    for n, member in enumerate(members, start=1):
        problems += member_problems(session, member, f"成员{n}")
    if not any(m.is_guardian for m in members):
        problems.append(Problem(t("至少须有一名监护人", "at least one family member must be a guardian"),
                                "members", "guardian"))
    if student.id_type == OTHER_ID and not any(m.id_number for m in members):
        problems.append(Problem(t("学生证件类型为“其他”时，须填写家庭成员的身份证件号",
                                  "a family member's ID number is required when the student has none"),
                                "members", "member_id_required"))
    return problems




def field_value_problems(session: Session, spec, value) -> list[Problem]:
    """One new value for one item (a key-field change asks for exactly this)."""
    if _blank(value):
        if spec.required and spec.name != "id_number":
            return [Problem(t(f"{spec.header}为必填项", f"{spec.label_en} is required"), spec.name,
                            "required")]
        return []
    if spec.kind in ("date", "month"):
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return [Problem(t(f"{spec.header}须为日期 YYYY-MM-DD", f"{spec.label_en} must be a date"),
                            spec.name, "format")]
        return []
    return _format_problems(session, spec, value)
