"""关键信息变更: new values for controlled items of a registered record, applied at the last approval
(identity items run the duplicate check at filing and again when they are applied)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....errors import Conflict, Problem
from ....fields import IDENTITY_FIELDS, STUDENT_FIELD_BY_NAME
from ....i18n import t
from ....models import Student
from ...policy import rulesets as policy
from .base import Kind


@dataclass(frozen=True)
class ChangeField(Kind):
    """The payload names the items and their new values; ``before`` keeps the old ones."""

    def prepare(self, session, student, origin, payload, target_class, actor) -> list[Problem]:
        """The class checks, then: controlled items only, each with a valid new value."""
        return (super().prepare(session, student, origin, payload, target_class, actor)
                or _controlled_only(session, student, origin, payload)
                or change_problems(session, student, payload, actor))

    def facts(self, student, origin, payload, target_class) -> dict:
        """The engine checks the items asked for against the controlled list."""
        return {**super().facts(student, origin, payload, target_class), "changed_fields": tuple(payload)}

    def before(self, student, payload) -> dict:
        """The items' values as they are now."""
        return {name: getattr(student, name, None) for name in payload}

    def summary(self, payload, target_class) -> str:
        """The items' names, never their values."""
        fields = "、".join(STUDENT_FIELD_BY_NAME[f].header for f in payload if f in STUDENT_FIELD_BY_NAME)
        return f"{self.label}：{fields}"[:300]

    def apply(self, session, req, student, actor, now) -> None:
        """Write the new values, after the duplicate check again: IDs move meanwhile."""
        if set(req.payload) & set(IDENTITY_FIELDS):
            problems = identity_problems(session, student, req.payload, actor)
            if problems:
                raise Conflict(problems)
        for name, value in req.payload.items():
            setattr(student, name, _date(value) if STUDENT_FIELD_BY_NAME[name].kind in ("date", "month")
                    else value)

    def audited(self, req) -> dict:
        """Every item changed; a personal one without its value."""
        return {name: {"changed": True} if STUDENT_FIELD_BY_NAME[name].personal else {"new": value}
                for name, value in req.payload.items()}


def _controlled_only(session, student, origin, payload) -> list[Problem]:
    """A change request is for controlled items of a registered record; the rest is edited."""
    if not student.registered:
        return [Problem(t("注册核办尚未完成，可直接修改", "registration is still under review: edit "
                                                   "the record directly"), "payload", "not_registered")]
    controlled = policy.current(session).effective(*policy.codes_of(origin)).controlled
    return [Problem(t(f"“{STUDENT_FIELD_BY_NAME[n].header}”不是受控字段，可直接修改",
                      f"{n} is not controlled: edit it directly"), n, "not_controlled")
            for n in payload if n in STUDENT_FIELD_BY_NAME and n not in controlled]


def change_problems(session: Session, student: Student, payload: dict, actor) -> list[Problem]:
    """A key-field change: known items, valid new values, and the duplicate check for identity."""
    from ...record.validation import field_value_problems

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
    from ...record.identity import RESIDENT_ID, id_agreement_problems, normalize_id, resident_id_problem

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
    from ....models.base import keyring

    digest = keyring().blind_index("id_number", number)
    other = session.scalar(select(Student).where(Student.id_blind == digest, Student.id != student.id))
    if other is not None:
        from ...record.personal_data import duplicate_problem

        problems.append(duplicate_problem(session, actor, other))
    return problems


def _date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


DECLARED = (ChangeField("change_field", "关键信息变更申请", asks=("payload", "reason", "evidence")),)
