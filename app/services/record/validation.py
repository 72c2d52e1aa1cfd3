"""Checking one student record: required items, code tables, formats, ID agreement, family.

The checks work on plain values (``{field name: value}``), so a form, the API and a 100,000-row
import run exactly the same rules; every problem is collected, each naming its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from ... import clock
from ...errors import Problem
from ...fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS
from ...i18n import t
from .identity import (
    OTHER_ID,
    RESIDENT_ID,
    email_problem,
    id_agreement_problems,
    phone_problem,
    postcode_problem,
    region_problem,
    resident_id_check,
    resident_id_problem,
)

if TYPE_CHECKING:  # the row checks import no ORM: an import's worker processes run them light
    from sqlalchemy.orm import Session

    from ...models import FamilyMember, Student

# 随班就读 code -> the 残疾类型 codes it agrees with (REFERENCE.md §3)
INCLUSIVE_AGREES = {"0": {"0"}, "1": {"1"}, "2": {"2"}, "3": {"5"}, "4": {"3", "4", "6", "7", "8"}}
MAX_AGE = 30


@dataclass(frozen=True)
class Context:
    """What the checks need beyond the values: the code tables, today, the kind of school."""

    codes: Callable[[str], set]
    today: date
    special_school: bool = False


def context(session: Session, today: date, school=None) -> Context:
    from ..organisation import codes as code_tables

    return Context(lambda table: code_tables.codes(session, table), today,
                   school is not None and school.kind == "special")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# -- one value -------------------------------------------------------------------------------------

_CHECKED_KINDS = frozenset({"code", "region", "place", "phone", "postcode", "email", "number"})


def format_problems(spec, value, ctx: Context, field: str | None = None) -> list[Problem]:
    """Problems of one present value of one item."""
    kind, msg = spec.kind, None
    if kind not in _CHECKED_KINDS and not spec.max_length:
        return []  # most items of a record: nothing to check but presence (an import asks 46 a row)
    if kind == "code" and str(value) not in ctx.codes(spec.code_table):
        msg = t(f"{spec.header}的值 {value!r} 不在代码表中", f"{spec.label_en}: {value!r} is not a valid code")
    elif kind == "region" or (kind == "place" and str(value).isdigit()):
        msg = region_problem(str(value))  # a place given as a code must be a division's
    elif kind == "phone":
        msg = phone_problem(str(value))
    elif kind == "postcode":
        msg = postcode_problem(str(value))
    elif kind == "email":
        msg = email_problem(str(value))
    elif kind == "number":
        msg = number_problem(value, number_limit(spec.name))
    elif spec.max_length and isinstance(value, str) and len(value) > spec.max_length:
        msg = t(f"最长 {spec.max_length} 个字符", f"at most {spec.max_length} characters")
    return [Problem(msg, field or spec.name, "format")] if msg else []


NUMBER_LIMITS: dict[str, Decimal | None] = {}  # an import's workers get them from their parent


def number_limit(name: str) -> Decimal | None:
    """The largest value the Numeric(p, s) column of that item holds: 9999.99 for Numeric(6, 2)."""
    if name not in NUMBER_LIMITS:
        NUMBER_LIMITS[name] = _number_limit(name)
    return NUMBER_LIMITS[name]


def _number_limit(name: str) -> Decimal | None:
    from sqlalchemy import Float, Numeric

    from ...models import FamilyMember, Student

    for table in (Student.__table__, FamilyMember.__table__):
        column = table.columns.get(name)
        kind = getattr(column, "type", None)
        if isinstance(kind, Numeric) and not isinstance(kind, Float) and kind.precision:
            scale = kind.scale or 0
            return Decimal(10) ** (kind.precision - scale) - Decimal(10) ** -scale
    return None


def number_problem(value, limit: Decimal | None):
    """Why ``value`` is not a number from 0 to ``limit`` (None: it is)."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return t("须为数字", "must be a number")
    if not number.is_finite():
        return t("须为数字", "must be a number")
    if number < 0:
        return t("不能为负数", "must not be negative")
    if limit is not None and number > limit:
        return t(f"须在 0 到 {limit} 之间", f"must be between 0 and {limit}")
    return None


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
    return format_problems(spec, value, context(session, clock.today()))


# -- a whole record ------------------------------------------------------------------------------

def record_problems(values: Mapping, ctx: Context) -> list[Problem]:
    """Every problem with a record's own items (required, codes, formats, agreements)."""
    problems: list[Problem] = []
    id_type = values.get("id_type")
    for spec in ALL_STUDENT_FIELDS:
        value = values.get(spec.name)
        if _blank(value):
            optional_id = spec.name == "id_number" and id_type == OTHER_ID
            school_of_class = spec.name == "school_code" and _blank(values.get("class_name"))
            if spec.required and not (optional_id or school_of_class):  # the class names it
                problems.append(Problem(t(f"{spec.header}为必填项", f"{spec.label_en} is required"),
                                        spec.name, "required"))
            continue
        problems += format_problems(spec, value, ctx)
    return problems + _identity_problems(values, ctx) + _agreement_problems(values, ctx)


def required_items() -> frozenset[str]:
    """The student items a blank record is refused for: what a form stars (asked of the checks
    themselves, so a form never keeps a second list)."""
    return _required(record_problems({}, Context(lambda _table: set(), date.min)))


def required_member_items() -> frozenset[str]:
    """The same for a family member who is given at all."""
    return _required(member_values_problems({}, Context(lambda _table: set(), date.min)))


def _required(problems: list[Problem]) -> frozenset[str]:
    return frozenset(str(p.field) for p in problems if p.code == "required")


def _identity_problems(values: Mapping, ctx: Context) -> list[Problem]:
    problems = []
    born, number = values.get("birth_date"), values.get("id_number")
    if born and (born > ctx.today or (ctx.today.year - born.year) > MAX_AGE):
        problems.append(Problem(t("出生日期不合理", "implausible birth date"), "birth_date", "format"))
    if values.get("id_type") == RESIDENT_ID and number:
        why, holds = resident_id_check(number)  # stdnum once a row
        if why:
            problems.append(Problem(why, "id_number", "invalid_id"))
        else:
            problems += [Problem(m, f, "id_mismatch") for f, m in
                         id_agreement_problems(number, born, values.get("gender"), holds)]
    return problems


def _agreement_problems(values: Mapping, ctx: Context) -> list[Problem]:
    inclusive, disability = values.get("inclusive_schooling"), values.get("disability")
    if _blank(inclusive) or _blank(disability):
        return []
    if inclusive == "0" and ctx.special_school:
        return []
    if disability not in INCLUSIVE_AGREES.get(inclusive, set()):
        return [Problem(t("随班就读与残疾类型不一致", "inclusive schooling disagrees with disability type"),
                        "inclusive_schooling", "agreement")]
    return []


def member_values_problems(values: Mapping, ctx: Context, prefix: str = "") -> list[Problem]:
    """Problems of one family member; ``prefix`` names it (成员1) in messages and fields."""
    problems = []
    for spec in MEMBER_FIELDS:
        value = values.get(spec.name)
        if _blank(value):
            if spec.required and not (spec.kind == "bool" and value is False):
                problems.append(Problem(t(f"{prefix}{spec.header}为必填项",
                                          f"{prefix} {spec.label_en} is required"),
                                        f"{prefix}{spec.name}", "required"))
            continue
        problems += format_problems(spec, value, ctx, f"{prefix}{spec.name}")
    if values.get("id_type") == RESIDENT_ID and values.get("id_number"):
        why = resident_id_problem(values["id_number"])
        if why:
            problems.append(Problem(f"{prefix}{why}", f"{prefix}id_number", "invalid_id"))
    return problems


def family_values_problems(student: Mapping, members: list[Mapping], ctx: Context) -> list[Problem]:
    problems: list[Problem] = []
    for n, member in enumerate(members, start=1):
        problems += member_values_problems(member, ctx, f"成员{n}")
    if not any(m.get("is_guardian") for m in members):
        problems.append(Problem(t("至少须有一名监护人", "at least one family member must be a guardian"),
                                "members", "guardian"))
    if student.get("id_type") == OTHER_ID and not any(m.get("id_number") for m in members):
        problems.append(Problem(t("学生证件类型为“其他”时，须填写家庭成员的身份证件号",
                                  "a family member's ID number is required when the student has none"),
                                "members", "member_id_required"))
    return problems


# -- the same checks on model objects --------------------------------------------------------------

def student_values(student: Student) -> dict:
    values = {spec.name: getattr(student, spec.name) for spec in ALL_STUDENT_FIELDS
              if spec.kind not in ("school", "class")}
    values["school_code"] = student.school_id or student.school
    values["class_name"] = student.class_id or student.school_class
    return values


def member_values(member: FamilyMember) -> dict:
    return {spec.name: getattr(member, spec.name) for spec in MEMBER_FIELDS}


def field_problems(session: Session, student: Student, today: date) -> list[Problem]:
    return record_problems(student_values(student), context(session, today, student.school))


def member_problems(session: Session, member: FamilyMember, prefix: str = "") -> list[Problem]:
    return member_values_problems(member_values(member), context(session, clock.today()), prefix)


def family_problems(session: Session, student: Student, members: Iterable[FamilyMember]) -> list[Problem]:
    return family_values_problems({"id_type": student.id_type}, [member_values(m) for m in members],
                                  context(session, clock.today(), student.school))
