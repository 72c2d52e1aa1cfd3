"""Students: create a record with a temporary number, edit it, delete it -- each gated by the rules.

The functions named ``prepare_*`` validate, ask the rule engine and stage their writes in the
session without committing, so FAB's form hooks can call them inside the page's one transaction;
``create`` and ``update`` are the same use cases for the API, the CLI and imports, each one
transaction of its own (or part of the caller's).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...documents.pinyin import pinyin
from ...errors import Conflict, Forbidden, Problem, ValidationFailed
from ...fields import ALL_STUDENT_FIELDS, IDENTITY_FIELDS, STUDENT_FIELD_BY_NAME
from ...i18n import t
from ...models import AuditEvent, FamilyMember, RegistryNumber, SchoolClass, Student
from ...models.base import local_now
from ...policy import Decision
from ..common.actors import Actor
from ..common.transaction import transactional
from ..policy import rulesets as policy
from . import personal_data, registry_numbers
from .validation import family_problems, field_problems

PERSONAL = {f.name for f in ALL_STUDENT_FIELDS if f.personal}


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


def _duplicate_problems(session: Session, student: Student, actor: Actor) -> list[Problem]:
    """Another record holds this ID number: said in full only inside the actor's jurisdiction."""
    if not student.id_blind:
        return []
    other = session.scalar(select(Student).where(Student.id_blind == student.id_blind,
                                                 Student.id != (student.id or 0)))
    if other is None:
        return []
    return [personal_data.duplicate_problem(session, actor, other, hint_transfer=student.id is None)]


def _check_actor(actor: Actor, student: Student, verb: str) -> None:
    actor.require("Student", verb)
    if student.school is not None and not actor.sees_school(student.school):
        raise Forbidden(t("只能管理本辖区的学生", "outside your jurisdiction"), "school")


def _blanks_to_none(*records) -> None:
    """A blank text item is no value: '' from a form and None from an import must be one thing."""
    for record in records:
        for attr in inspect(record).mapper.column_attrs:
            if not all(c.nullable for c in attr.columns):
                continue
            value = getattr(record, attr.key)
            if isinstance(value, str) and not value.strip():
                setattr(record, attr.key, None)


def _fill_derived(student: Student) -> None:
    if not student.name_pinyin and student.name:
        student.name_pinyin = pinyin(student.name)


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)


def actor_facts(actor: Actor) -> dict:
    """What the rules may ask about who acts: the function and level of the account's role."""
    role = actor.roles[0] if actor.roles else None
    return {"actor_role": role.function if role else None, "actor_level": role.level if role else None}


REGISTRATION_KINDS = {"new": "register_new", "in_school": "register_in_school",
                      "returnee": "register_returnee"}


def registration_action(student: Student, asked: str | None = None) -> str:
    """What registration this is: returnees (来华归国) say so; first-graders are new students
    (小学新生注册); everybody else is an in-school registration."""
    if asked in REGISTRATION_KINDS:
        return REGISTRATION_KINDS[asked]
    grade = student.grade
    return "register_new" if grade is not None and grade.number == 1 else "register_in_school"


def _registration_decision(session: Session, student: Student, actor: Actor,
                           now: datetime, asked: str | None) -> Decision:
    size = policy.seated(session, student.school_class.id) if student.school_class else None
    return policy.decide(session, policy.facts(
        registration_action(student, asked), now, student.school, stage=student.grade.stage,
        status="in_school", birth_date=student.birth_date, grade=student.grade.number,
        class_size=size, **actor_facts(actor)))


def prepare_new(session: Session, student: Student, members: list[FamilyMember], actor: Actor,
                now: datetime, registration: str | None = None) -> Student:
    """Validate a new record with its family, ask the rules, give it a temporary number; no commit."""
    with session.no_autoflush:
        _blanks_to_none(student, *members)
        problems = _place(session, student)
        _check_actor(actor, student, "add")
        problems += field_problems(session, student, now.date())
        problems += family_problems(session, student, members)
        problems += _duplicate_problems(session, student, actor)
        decision = None
        if student.school_class is not None and student.grade is not None:
            decision = _registration_decision(session, student, actor, now, registration)
            problems += policy.violation_problems(decision)
        _raise_if(problems)
        for seq, member in enumerate(members, start=1):
            member.seq = seq
            student.members.append(member)
        student.status = student.status or "in_school"
        student.created_by_id = actor.user_id
        _fill_derived(student)
        registry_numbers.issue_temporary(session, student, actor.username)
        student.registered = False
        session.add(student)
        _flush_new(session)  # the audit row carries the record's id, not only its uid
        audit(session, actor, "create", student, summary=f"新建学籍 {student.name}",
              rule_version=decision.rule_version if decision else None)
        if decision is not None:  # the registration review (注册核办) starts with the record
            from ..requests.workflow import open_registration

            open_registration(session, student, actor, now, decision,
                              registration_action(student, registration))
    return student


def _flush_new(session: Session) -> None:
    """Flush the new record; a twin that won the race is a conflict (the transaction rolls back)."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(t("与已有记录重复（学籍号或身份证件号），请重试",
                         "duplicates an existing record (registry or ID number); retry")) from None


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


def edited_items(changes: dict) -> tuple[str, ...]:
    """The record's items (catalogue names) behind changed columns: id_number_enc -> id_number."""
    names = {k[:-4] if k.endswith("_enc") else k for k in changes}
    return tuple(sorted(n for n in names if n in STUDENT_FIELD_BY_NAME))


def _edit_decision(session: Session, student: Student, changes: dict, actor: Actor,
                   now: datetime) -> Decision:
    from ..requests import holds  # a record under review waits for its reviewer (the rules say)

    moved = inspect(student).attrs.school_class.history.has_changes() or "class_id" in changes
    size = policy.seated(session, student.school_class.id) if moved and student.school_class else None
    return policy.decide(session, policy.facts(
        "edit_field", now, student.school, stage=student.grade.stage if student.grade else None,
        status=student.status, changed_fields=edited_items(changes), class_size=size,
        registered=bool(student.registered), **actor_facts(actor),
        **holds.facts(holds.holding(session, student), session)))


def prepare_update(session: Session, student: Student, actor: Actor, now: datetime) -> dict:
    """Validate a direct edit, refuse controlled items and full classes; audit what changed."""
    with session.no_autoflush:  # a flush would erase the attribute history we audit
        _blanks_to_none(student, *student.members)
        changes = changed_fields(student)
        problems = _place(session, student)
        _check_actor(actor, student, "edit")
        if {"registry_no_enc", "registry_blind", "registry_kind", "uid"} & changes.keys():
            raise ValidationFailed(t("学籍号不能直接修改", "the registry number cannot be edited"),
                                   "registry_no")
        problems += field_problems(session, student, now.date())
        problems += _duplicate_problems(session, student, actor)
        decision = _edit_decision(session, student, changes, actor, now)
        problems += policy.violation_problems(decision)
        _raise_if(problems)
        _fill_derived(student)
        audit(session, actor, "update", student, changes=_auditable(changes),
              rule_version=decision.rule_version)
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
    return bool(set(edited_items(changes)) & set(IDENTITY_FIELDS))


def prepare_delete(session: Session, student: Student, actor: Actor, now: datetime) -> None:
    """Delete a record if the rules allow it (a formal number needs the province's switch);
    the number stays issued and is never given again."""
    _check_actor(actor, student, "delete")
    decision = policy.decide(session, policy.facts(
        "delete_record", now, student.school, registry_kind=student.registry_kind,
        status=student.status, **actor_facts(actor)))
    if not decision.allowed:
        raise Forbidden(policy.violation_problems(decision))
    session.execute(
        RegistryNumber.__table__.update()
        .where(RegistryNumber.number_blind == student.registry_blind,
               RegistryNumber.retired_at.is_(None))
        .values(retired_at=local_now(), retired_reason="record deleted")
    )
    from ..requests.workflow import cancel_open_registration

    cancel_open_registration(session, student, actor, now)
    audit(session, actor, "delete", student, rule_version=decision.rule_version,
          summary=f"删除学籍 {student.name} {student.registry_no_masked}")


def audit(session: Session, actor: Actor, action: str, student: Student, *, changes=None,
          summary: str | None = None, rule_version: int | None = None) -> None:
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                           entity="student", entity_id=student.id, entity_uid=student.ensure_uid(),
                           school_id=student.school_id
                           or (student.school.id if student.school else None),
                           changes=changes, summary=summary, rule_version=rule_version))


def get_in_scope(session: Session, actor: Actor, student_id, field: str | None = None) -> Student:
    return actor.fetch(session, Student, student_id or 0,
                       t("学生不存在或不在本辖区", "no such student in your jurisdiction"), field=field)


@transactional
def create(session: Session, student: Student, members: list[FamilyMember], actor: Actor,
           now: datetime, registration: str | None = None) -> Student:
    """A new record with its family, as one transaction (see ``prepare_new``)."""
    return prepare_new(session, student, members, actor, now, registration)


@transactional
def update(session: Session, student: Student, actor: Actor, now: datetime) -> dict:
    """A direct edit already applied to ``student``, as one transaction (see ``prepare_update``)."""
    return prepare_update(session, student, actor, now)


@transactional
def approve_registration(session: Session, student: Student, actor: Actor, now: datetime):
    """Approve the step of this record's registration review that waits for the actor; one
    transaction."""
    from ...models import Request
    from ..requests.workflow import REGISTRATIONS, decide

    req = session.scalar(select(Request).where(Request.open_student_id == student.id,
                                               Request.kind.in_(REGISTRATIONS)))
    if req is None:
        raise Conflict(t("该学籍没有待核办的注册", "no registration of this record waits for review"))
    return decide(session, req.id, actor, "approve", now)


def field_label(name: str) -> str:
    spec = STUDENT_FIELD_BY_NAME.get(name)
    return spec.header if spec else name
