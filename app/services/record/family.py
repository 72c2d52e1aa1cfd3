"""Family members: at least one, at least one guardian, each checked like the student's own items."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import Forbidden, Problem, ValidationFailed
from ...fields import MEMBER_FIELDS
from ...i18n import t
from ...models import AuditEvent, FamilyMember
from ..common.actors import Actor
from ..common.transaction import transactional
from ..requests.holds import require_editable
from .validation import member_problems


def member_from_values(values: dict) -> FamilyMember | None:
    """A member from {field: value}; None when every value is blank (member 2 left empty)."""
    if all(v in (None, "") for v in values.values()):
        return None
    member = FamilyMember()
    for spec in MEMBER_FIELDS:
        value = values.get(spec.name)
        if spec.kind == "bool":
            value = value in ("1", 1, True, "是", "true")
        setattr(member, spec.name, value if value != "" else None)
    return member


def members_from_form(item, prefixes) -> list[FamilyMember]:
    """The family members typed on the student form (fields m1_*, m2_*)."""
    members = []
    for prefix, _zh, _en in prefixes:
        values = {spec.name: getattr(item, prefix + spec.name, None) for spec in MEMBER_FIELDS}
        member = member_from_values(values)
        if member is not None:
            members.append(member)
    return members


def _check(actor: Actor, member: FamilyMember, verb: str) -> None:
    actor.require("FamilyMember", verb)
    student = member.student
    if student is None or not actor.sees_school(student.school):
        raise Forbidden(t("只能管理本辖区学生的家庭成员", "outside your jurisdiction"), "student")


def _audit(session: Session, actor: Actor, action: str, member: FamilyMember) -> None:
    student = member.student
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                           entity="family_member", entity_id=member.id,
                           entity_uid=student.ensure_uid(), school_id=student.school_id,
                           summary=f"{member.name} ({student.name})"))


def prepare_member(session: Session, member: FamilyMember, actor: Actor, *, adding: bool) -> None:
    """Validate an added or edited member; the family must keep a guardian."""
    _check(actor, member, "add" if adding else "edit")
    require_editable(session, member.student)  # not behind the back of a request's reviewer
    problems = member_problems(session, member)
    others = [m for m in member.student.members if m is not member]
    if not member.is_guardian and not any(m.is_guardian for m in others):
        problems.append(Problem(t("至少须有一名监护人", "at least one guardian"), "is_guardian", "guardian"))
    if problems:
        raise ValidationFailed(problems)
    if adding and not member.seq:
        member.seq = 1 + (session.scalar(select(func.max(FamilyMember.seq))
                                         .where(FamilyMember.student_id == member.student.id)) or 0)
    if adding:  # the audit row names the member by id: give it one
        session.add(member)
        session.flush()
    _audit(session, actor, "add_member" if adding else "update_member", member)


@transactional
def save_member(session: Session, member: FamilyMember, actor: Actor, *, adding: bool) -> FamilyMember:
    """Add or edit a member (its values already set) as one transaction, audited."""
    with session.no_autoflush:
        prepare_member(session, member, actor, adding=adding)
    session.add(member)
    return member


def prepare_delete(session: Session, member: FamilyMember, actor: Actor) -> None:
    _check(actor, member, "delete")
    require_editable(session, member.student)
    others = [m for m in member.student.members if m is not member]
    if not others:
        raise ValidationFailed(t("至少须保留一名家庭成员", "a student keeps at least one family member"))
    if member.is_guardian and not any(m.is_guardian for m in others):
        raise ValidationFailed(t("不能删除唯一的监护人", "cannot remove the only guardian"))
    _audit(session, actor, "delete_member", member)
