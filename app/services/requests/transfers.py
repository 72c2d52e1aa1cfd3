"""Finding a student to receive: the one deliberate look outside the receiving school's subtree.

Only an exact registry number (required across provinces, as the national system asks), or an
exact ID number with the matching name, finds a record; what comes back is the least a registrar
needs to file the transfer, and every look-up is logged.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Forbidden, NotFound, ValidationFailed
from ...i18n import t
from ...models import Student
from ...models.base import keyring
from ...text import normalize_id
from ..common.actors import Actor
from ..common.transaction import transactional
from ..record import personal_data


@transactional
def lookup(session: Session, actor: Actor, *, registry_no: str | None = None,
           id_number: str | None = None, name: str | None = None) -> Student:
    """The one record the exact keys find, for a receiving school's registrar; the look-up is
    logged and committed (it stays logged whatever the filing that follows does)."""
    if actor.school_id is None or "registrar" not in actor.functions:
        raise Forbidden(t("转入申请由转入学校学籍管理员发起", "the receiving school's registrar looks up"))
    ring = keyring()
    if registry_no:
        query = select(Student).where(Student.registry_blind == ring.blind_index(
            "registry_no", normalize_id(registry_no)))
    elif id_number and name:
        query = select(Student).where(Student.id_blind == ring.blind_index(
            "id_number", normalize_id(id_number)), Student.name == name.strip())
    else:
        raise NotFound(t("请输入学籍号，或身份证件号与姓名", "give the registry number, or ID number and name"))
    student = session.scalar(query)
    if student is None:
        raise NotFound(t("未找到该学生", "no such student"))
    keys = ["registry_no"] if registry_no else ["id_number", "name"]
    personal_data.log_view(session, actor, student, keys, "lookup")
    return student


def lookup_for(session: Session, actor: Actor, kind, *, registry_no: str | None = None,
               id_number: str | None = None, name: str | None = None) -> Student:
    """The look-up a kind filed for another school's student takes: the registry number alone
    where the kind says so (跨省就学 quotes the national number), else either key."""
    if kind.by_registry_no:
        if not registry_no:
            raise ValidationFailed(t(f"{kind.label}须输入全国学籍号",
                                     "give the national registry number"), "registry_no")
        return lookup(session, actor, registry_no=registry_no)
    return lookup(session, actor, registry_no=registry_no, id_number=id_number, name=name)


def card(student: Student) -> dict:
    """What the receiving school sees before filing: no personal data beyond the name."""
    return {"id": student.id, "name": student.name, "registry_no": student.registry_no_masked,
            "school": student.school.name, "school_code": student.school.code,
            "grade": student.grade.name if student.grade else None,
            "status": student.status}
