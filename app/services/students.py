"""Students: validate a record, create it with a temporary number, edit it, delete it.

The functions named ``prepare_*`` validate and stage their writes in the session without committing,
so FAB's form hooks can call them inside FAB's own transaction; ``create``/``update``/``delete``
are the same use cases for the API, the CLI and the seed, and they commit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Iterable

from pypinyin import lazy_pinyin
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from ..errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from ..fields import ALL_STUDENT_FIELDS, IDENTITY_FIELDS, MEMBER_FIELDS, STUDENT_FIELD_BY_NAME
from ..i18n import t
from ..models import AuditEvent, FamilyMember, RegistryNumber, SchoolClass, Student
from ..models.base import utcnow
from . import codes as code_tables
from . import registry_numbers
from .actors import Actor
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
PERSONAL = {f.name for f in ALL_STUDENT_FIELDS if f.personal}
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


def _place(session: Session, student: Student) -> list[Problem]:
    """Class → grade and school; the class must belong to the student's school."""
    klass = student.school_class
    if klass is None and student.class_id:
        klass = session.get(SchoolClass, student.class_id)
    if klass is None:
        return []
    if student.school_id and klass.school_id != student.school_id:
        return [Problem(t(f"班级“{klass.name}”不属于本校", f"class {klass.name} belongs to another school"),
                        "school_class", "class_school")]
    student.school = klass.school
    student.grade = klass.grade
    if klass.grade.stage not in klass.school.stage_list:
        return [Problem(t("学校不开设该学段", "the school does not serve this stage"), "school_class", "stage")]
    return []


def _duplicate_problems(session: Session, student: Student) -> list[Problem]:
    if not student.id_blind:
        return []
    other = session.scalar(select(Student).where(Student.id_blind == student.id_blind,
                                                 Student.id != (student.id or 0)))
    if other is None:
        return []
    return [Problem(t(f"该身份证件号已在 {other.school.name} 注册，学籍号 {other.registry_no_masked}",
                      f"this ID number is already registered at {other.school.name} "
                      f"({other.registry_no_masked}); request a transfer instead"),
                    "id_number", "duplicate_id")]


def _check_actor(actor: Actor, student: Student, verb: str) -> None:
    actor.require("Student", verb)
    if student.school is not None and not actor.sees_school(student.school):
        raise Forbidden(t("只能管理本辖区的学生", "outside your jurisdiction"), "school")


def _fill_derived(student: Student) -> None:
    if _blank(student.name_pinyin) and student.name:
        student.name_pinyin = " ".join(lazy_pinyin(student.name)).title()


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)


def prepare_new(session: Session, student: Student, members: list[FamilyMember], actor: Actor,
                today: date) -> Student:
    """Validate a new record with its family, give it a temporary number; no commit."""
    with session.no_autoflush:
        return _prepare_new(session, student, members, actor, today)


def _prepare_new(session: Session, student: Student, members: list[FamilyMember], actor: Actor,
                 today: date) -> Student:
    problems = _place(session, student)
    _check_actor(actor, student, "add")
    problems += field_problems(session, student, today)
    problems += family_problems(session, student, members)
    problems += _duplicate_problems(session, student)
    _raise_if(problems)
    for seq, member in enumerate(members, start=1):
        member.seq = seq
        student.members.append(member)
    student.status = student.status or "in_school"
    student.created_by_id = actor.user_id
    _fill_derived(student)
    registry_numbers.issue_temporary(session, student, actor.username)
    session.add(student)
    audit(session, actor, "create", student, summary=f"新建学籍 {student.name}")
    return student


def changed_fields(student: Student) -> dict[str, tuple]:
    """{attribute: (old, new)} of the record's own items changed in this session."""
    state = inspect(student)
    changes = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes() and attr.key not in ("updated_at", "version"):
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                changes[attr.key] = (old, new)
    return changes


def prepare_update(session: Session, student: Student, actor: Actor, today: date) -> dict:
    """Validate an edited record; audit what changed (personal values never in clear)."""
    with session.no_autoflush:  # a flush would erase the attribute history we audit
        changes = changed_fields(student)
        problems = _place(session, student)
        _check_actor(actor, student, "edit")
        if {"registry_no_enc", "registry_blind", "registry_kind", "uid"} & changes.keys():
            raise ValidationFailed(t("学籍号不能直接修改", "the registry number cannot be edited"),
                                   "registry_no")
        problems += field_problems(session, student, today)
        problems += _duplicate_problems(session, student)
        _raise_if(problems)
        _fill_derived(student)
        audit(session, actor, "update", student, changes=_auditable(changes))
    return changes


def _auditable(changes: dict[str, tuple]) -> dict:
    out = {}
    for key, (old, new) in changes.items():
        name = key[:-4] if key.endswith("_enc") else key
        if key.endswith("_enc") or key.endswith("_blind") or name in PERSONAL:
            out[name] = {"changed": True}
        else:
            out[name] = {"old": _jsonable(old), "new": _jsonable(new)}
    return out


def _jsonable(value):
    if isinstance(value, (date, Decimal)):
        return str(value)
    if isinstance(value, bytes):
        return "<binary>"
    return value


def identity_changed(changes: dict) -> bool:
    keys = {k[:-4] if k.endswith("_enc") else k for k in changes}
    return bool(keys & set(IDENTITY_FIELDS))


def prepare_delete(session: Session, student: Student, actor: Actor) -> None:
    """Only a record with a temporary number may be deleted by a school; the number stays issued."""
    _check_actor(actor, student, "delete")
    if student.registry_kind != "L":
        raise Forbidden(t(f"已有正式学籍号 {student.registry_no_masked} 的学籍不能删除，须经省级核准",
                          "a record with a formal number can only be removed by the province"))
    session.execute(
        RegistryNumber.__table__.update()
        .where(RegistryNumber.number_blind == student.registry_blind,
               RegistryNumber.retired_at.is_(None))
        .values(retired_at=utcnow(), retired_reason="record deleted")
    )
    audit(session, actor, "delete", student, summary=f"删除学籍 {student.name} {student.registry_no_masked}")


def audit(session: Session, actor: Actor, action: str, student: Student, *, changes=None,
          summary: str | None = None) -> None:
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                           entity="student", entity_id=student.id, entity_uid=student.ensure_uid(),
                           school_id=student.school_id
                           or (student.school.id if student.school else None),
                           changes=changes, summary=summary))


def get_in_scope(session: Session, actor: Actor, student_id: int) -> Student:
    student = session.scalar(select(Student).where(Student.id == student_id,
                                                   actor.scope.clause(Student)))
    if student is None:
        raise NotFound(t("学生不存在或不在本辖区", "no such student in your jurisdiction"))
    return student


def create(session: Session, student: Student, members: list[FamilyMember], actor: Actor,
           today: date) -> Student:
    try:
        prepare_new(session, student, members, actor, today)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return student


def issue_formal_number(session: Session, student: Student, actor: Actor) -> str:
    """A bureau registrar approves the record's formal number (G + ID, or J)."""
    actor.require("Student", "issue_number")
    if not actor.sees_school(student.school):
        raise NotFound(t("学生不存在或不在本辖区", "no such student in your jurisdiction"))
    if student.status != "in_school":
        raise Conflict(t("只能为在校生发放正式学籍号", "only for students in school"))
    old = student.registry_no_masked
    registry_numbers.formalize(session, student, actor.username)
    audit(session, actor, "issue_number", student,
          changes={"registry_no": {"old": old, "new": student.registry_no_masked}})
    return student.registry_no


def field_label(name: str) -> str:
    spec = STUDENT_FIELD_BY_NAME.get(name)
    return spec.header if spec else name
