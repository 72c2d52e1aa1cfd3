"""What each kind of request checks when it starts, and does to the record when it is approved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Problem
from ...fields import IDENTITY_FIELDS, STUDENT_FIELD_BY_NAME
from ...i18n import t
from ...models import AuditEvent, Request, SchoolClass, Student
from ...policy.vocab import ACTIONS
from ..policy import rulesets as policy
from ..record import registry_numbers
from . import parties

# the status a change leaves the student in
STATUS_AFTER = {"suspend": "suspended", "dropout": "dropout", "withdraw": "left_other",
                "expel": "left_other", "abroad": "abroad", "death": "deceased", "resume": "in_school"}
NEEDS_CLASS = ("transfer", "skip")
REGISTRATIONS = ("register_new", "register_in_school", "register_returnee")


# -- at the start ---------------------------------------------------------------------------------

def prepare(session: Session, kind: str, student: Student, origin, payload: dict,
            target_class, actor) -> list[Problem]:
    """Problems with what the request asks for (the rules are asked separately)."""
    if kind in NEEDS_CLASS and target_class is None:
        return [Problem(t("请选择转入/升入的班级", "choose the class"), "target_class", "required")]
    if target_class is not None:
        problems = _class_problems(kind, student, origin, target_class)
        if problems:
            return problems
    if kind == "change_field":
        return _controlled_only(session, student, origin, payload) or change_problems(
            session, student, payload, actor)
    return []


def _controlled_only(session, student, origin, payload) -> list[Problem]:
    """A change request is for controlled items of a registered record; the rest is edited."""
    if not student.registered:
        return [Problem(t("注册核办尚未完成，可直接修改", "registration is still under review: edit "
                                                   "the record directly"), "payload", "not_registered")]
    controlled = policy.current(session).effective(*policy.codes_of(origin)).controlled
    return [Problem(t(f"“{STUDENT_FIELD_BY_NAME[n].header}”不是受控字段，可直接修改",
                      f"{n} is not controlled: edit it directly"), n, "not_controlled")
            for n in payload if n in STUDENT_FIELD_BY_NAME and n not in controlled]


def _class_problems(kind, student, origin, klass) -> list[Problem]:
    if klass.school_id != origin.id:
        return [Problem(t("班级须属于本校", "the class must belong to your school"), "target_class")]
    step = {"skip": 1, "repeat": -1}.get(kind, 0)
    wanted = student.grade.number + step
    if student.grade is not None and klass.grade.number != wanted:
        return [Problem(t(f"须选择{wanted}年级的班级", f"choose a class of grade {wanted}"),
                        "target_class", "grade")]
    return []


def change_problems(session: Session, student: Student, payload: dict, actor) -> list[Problem]:
    """A key-field change: known items, valid new values, and the duplicate check for identity."""
    from ..record.validation import field_value_problems

    if not payload:
        return [Problem(t("请填写要变更的字段", "nothing to change"), "payload", "required")]
    problems: list[Problem] = []
    for name, value in payload.items():
        spec = STUDENT_FIELD_BY_NAME.get(name)
        if spec is None or spec.kind in ("school", "class", "photo", "grade"):
            problems.append(Problem(t(f"不能申请变更 {name}", f"{name} cannot be changed"), name))
            continue
        problems += field_value_problems(session, spec, value)
    if not problems and set(payload) & set(IDENTITY_FIELDS):
        problems += identity_problems(session, student, payload, actor)
    return problems


def identity_problems(session: Session, student: Student, payload: dict, actor) -> list[Problem]:
    """The record as it would be: ID valid and agreeing, and no other record holds the ID (named
    only to an ``actor`` whose jurisdiction holds it)."""
    from ..record.identity import RESIDENT_ID, id_agreement_problems, normalize_id, resident_id_problem

    id_type = payload.get("id_type", student.id_type)
    number = normalize_id(payload.get("id_number", student.id_number) or "")
    born = _date(payload.get("birth_date")) or student.birth_date
    gender = payload.get("gender", student.gender)
    if id_type != RESIDENT_ID or not number:
        return []
    why = resident_id_problem(number)
    if why:
        return [Problem(why, "id_number", "invalid_id")]
    problems = [Problem(m, f, "id_mismatch") for f, m in id_agreement_problems(number, born, gender)]
    from ...models.base import keyring

    digest = keyring().blind_index("id_number", number)
    other = session.scalar(select(Student).where(Student.id_blind == digest, Student.id != student.id))
    if other is not None:
        from ..record.personal_data import duplicate_problem

        problems.append(duplicate_problem(session, actor, other))
    return problems


def _date(value):
    from datetime import date

    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def summary(kind: str, payload: dict, target_class) -> str:
    """What the request is about, without personal values (lists show it)."""
    name = ACTIONS.get(kind, (kind,))[0]
    if kind == "change_field":
        fields = "、".join(STUDENT_FIELD_BY_NAME[f].header for f in payload if f in STUDENT_FIELD_BY_NAME)
        return f"{name}：{fields}"[:300]
    if target_class is not None:
        return f"{name} → {target_class.school.name} {target_class.name}"[:300]
    return name


# -- at the end -------------------------------------------------------------------------------------

def complete(session: Session, req: Request, actor, now: datetime) -> None:
    """The last approval: apply the request to the record(s), close it, tell the parties."""
    student = req.student
    before = _snapshot(student)
    if req.kind == "transfer" and req.variant == "cross_province":
        req.status = "awaiting_pull"  # the receiving school pulls the file (调档)
        req.holder_node, req.holder_role, req.due_on = parties.school_node(req.origin_school), "registrar", None
        _notify_all(session, req, "四方核办完成，待转入学校调档")
        return
    _apply(session, req, student, actor, now)
    req.status = "done"
    req.closed_at = now
    req.open_student = None
    req.open_student_id = None
    req.holder_node = req.holder_role = req.due_on = None
    _audit_change(session, req, actor, before, _snapshot(student))
    _notify_all(session, req, "已办结")


def _apply(session, req, student, actor, now) -> None:
    kind = req.kind
    if kind in REGISTRATIONS:
        for record in _registering(session, req):
            registry_numbers.formalize(session, record, actor.username)
            record.registered = True
            if record is not req.student:  # a record of an import: its own history says so too
                session.add(AuditEvent(user_id=actor.user_id, username=actor.username,
                                       action="registered", entity="student", entity_id=record.id,
                                       entity_uid=record.uid, school_id=record.school_id,
                                       summary=f"#{req.id} {req.summary or ''}"[:300],
                                       rule_version=req.rule_version))
    elif kind == "change_field":
        if set(req.payload) & set(IDENTITY_FIELDS):  # the duplicate check again: IDs move meanwhile
            problems = identity_problems(session, student, req.payload, actor)
            if problems:
                raise Conflict(problems)
        for name, value in req.payload.items():
            setattr(student, name, _date(value) if STUDENT_FIELD_BY_NAME[name].kind in ("date", "month")
                    else value)
    elif kind == "transfer":
        move(session, req, actor, now)
    elif kind == "repeat":
        if req.target_class is not None:  # after this year's promotion: back down a grade now
            _seat(session, student, req.target_class)
        else:
            student.hold_back = True  # before it: stays in this grade at the next promotion
    elif kind == "skip":
        _seat(session, student, req.target_class)
    elif kind == "resume":
        _seat(session, student, req.target_class or student.school_class)
        student.status = "in_school"
    elif kind in STATUS_AFTER:
        student.status = STATUS_AFTER[kind]


def _seat(session: Session, student: Student, klass: SchoolClass | None) -> None:
    """Place a student in a class, if a seat is left under the cap (the class row is locked)."""
    if klass is None:
        return
    cap = policy.current(session).effective(*policy.codes_of(klass.school)).caps.get(klass.grade.stage)
    taken = policy.seated(session, klass.id)
    if cap is not None and student.class_id != klass.id and taken + 1 > cap.value:
        raise Conflict(t(f"班级已满（上限 {cap.value} 人，{cap.source}）",
                         f"the class is full (cap {cap.value}, {cap.source})"), "target_class")
    student.school, student.grade, student.school_class = klass.school, klass.grade, klass


def move(session: Session, req: Request, actor, now: datetime) -> None:
    """A transfer moves the one record (and its whole history) to the receiving school."""
    student = req.student
    if student.status != "in_school":
        raise Conflict(t("学生已不在校，不能转入", "the student is no longer in school"))
    _seat(session, student, req.target_class)


def rejected(session: Session, req: Request, actor, now: datetime) -> None:
    """A registration that is not approved: the temporary record goes, its number stays retired."""
    if req.kind not in REGISTRATIONS:
        return
    from ...models import RegistryNumber
    from ...models.base import local_now

    for student in _registering(session, req):
        session.execute(RegistryNumber.__table__.update()
                        .where(RegistryNumber.number_blind == student.registry_blind,
                               RegistryNumber.retired_at.is_(None))
                        .values(retired_at=local_now(), retired_reason="registration rejected"))
        if req.student is student:
            req.student = None
            req.student_id = None
        session.delete(student)


def _registering(session: Session, req: Request) -> list[Student]:
    """The records a registration review decides: its student, or every record of an import."""
    job = (req.payload or {}).get("import_job")
    if job is None:
        return [req.student] if req.student is not None and not req.student.registered else []
    return list(session.scalars(select(Student).where(Student.import_job_id == job,
                                                      Student.registered.is_(False))))


def _snapshot(student: Student | None) -> dict:
    if student is None:
        return {}
    return {"status": student.status, "school_id": student.school_id, "grade_id": student.grade_id,
            "class_id": student.class_id, "registry_kind": student.registry_kind,
            "registered": student.registered, "hold_back": student.hold_back}


def _audit_change(session, req, actor, before, after) -> None:
    changes = {k: {"old": before.get(k), "new": v} for k, v in after.items() if before.get(k) != v}
    if req.kind == "change_field":
        for name in req.payload:
            spec = STUDENT_FIELD_BY_NAME[name]
            changes[name] = {"changed": True} if spec.personal else {"new": req.payload[name]}
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=f"apply_{req.kind}",
                           entity="student", entity_id=req.student_id, entity_uid=req.student_uid,
                           school_id=req.student.school_id if req.student else None, changes=changes,
                           summary=f"#{req.id} {req.summary or ''}"[:300], rule_version=req.rule_version))


def _notify_all(session, req, message) -> None:
    from .workflow import notify

    nodes = {parties.school_node(req.origin_school)}
    if req.other_school is not None:
        nodes.add(parties.school_node(req.other_school))
    nodes |= {step["node"] for step in req.chain}
    for node in sorted(nodes):
        notify(session, node, req, f"{message}：{ACTIONS.get(req.kind, (req.kind,))[0]} · {req.student_name}")
