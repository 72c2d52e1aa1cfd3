"""Who may see personal data in full, what the others see, and the log of every such view.

A look-up (a transfer's search, a duplicate-ID check) is logged even when what follows is refused
and rolled back: its log row is written in a transaction of its own once the caller's ends without
a commit.
"""

from __future__ import annotations

import logging

from sqlalchemy import event, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ...errors import Problem
from ...i18n import t
from ...models import PersonalDataAccess
from ...models.base import local_now
from ...security.masking import mask_address, mask_id_number, mask_phone
from ..common.actors import Actor
from ..common.transaction import transactional

log = logging.getLogger(__name__)
_KEPT = "xueji.lookups"  # session.info key: look-ups to write even if the transaction rolls back


def may_see(actor: Actor) -> bool:
    return actor.may("Student", "personal_data")


def _mask_email(value: str) -> str:
    at = value.find("@")
    return value[:1] + "***" + value[at:] if at > 0 else "****"


_MASKS = {"id_number": mask_id_number, "phone": mask_phone, "email": _mask_email}


def masked(name: str, value) -> str:
    """What a viewer who may not see ``name`` in full sees of ``value``."""
    if value in (None, ""):
        return ""
    return _MASKS.get(name, mask_address)(str(value))


def _values(actor: Actor, fields: list[str], channel: str, **whom) -> dict:
    return {"at": local_now(), "user_id": actor.user_id, "username": actor.username,
            "channel": channel, "fields": ",".join(fields)[:200], **whom}


def log_view(session: Session, actor: Actor, student, fields: list[str], channel: str) -> None:
    """Record that ``actor`` saw ``fields`` of ``student`` unmasked (caller commits)."""
    if student is None:
        return
    session.add(PersonalDataAccess(**_values(actor, fields, channel, student_id=student.id,
                                             student_uid=student.uid)))


def log_job_view(session: Session, actor: Actor, job, channel: str) -> None:
    """Record that ``actor`` saw the whole uploaded sheet of import ``job`` (caller commits)."""
    session.add(PersonalDataAccess(**_values(actor, ["sheet"], channel, import_job_id=job.id)))


@transactional
def record_view(session: Session, actor: Actor, student, fields: list[str], channel: str) -> None:
    """The use case "show a record in full": its view logged, in a transaction of its own."""
    log_view(session, actor, student, fields, channel)


@transactional
def record_job_view(session: Session, actor: Actor, job, channel: str) -> None:
    """The use case "download an import's sheet": its view logged, in a transaction of its own."""
    log_job_view(session, actor, job, channel)


def log_lookup(session: Session, actor: Actor, student, fields: list[str], channel: str) -> None:
    """Record a look-up of ``student``; kept even if the caller's transaction is rolled back."""
    if student is None:
        return
    values = _values(actor, fields, channel, student_id=student.id, student_uid=student.ensure_uid())
    session.add(PersonalDataAccess(**values))
    session.info.setdefault(_KEPT, []).append(values)


BY_ID = ("该身份证件号", "this ID number", ["id_number"])
BY_PERSON = ("同姓名、性别、出生日期的学生", "a student of this name, gender and birth date",
             ["name", "gender", "birth_date"])


def duplicate_problem(session: Session, actor: Actor, other, *, hint_transfer: bool = False,
                      by: tuple = BY_ID) -> Problem:
    """What a duplicate check may tell ``actor`` of the ``other`` record it found: where, if that
    record is inside the actor's jurisdiction; else only that it is registered elsewhere.  Either
    way the look-up is logged."""
    subject_zh, subject_en, fields = by
    log_lookup(session, actor, other, fields, "dup")
    zh, en = f"{subject_zh}已在其他学校注册", f"{subject_en} is already registered elsewhere"
    if actor.sees_school(other.school):
        masked_no = other.registry_no_masked
        zh = f"{subject_zh}已在 {other.school.name}（学籍号 {masked_no}）注册"
        en = f"{subject_en} is already registered at {other.school.name} ({masked_no})"
    if hint_transfer:
        zh += "；如系转入，请凭学籍号或身份证件号与姓名发起转学申请"
        en += "; if the student is moving in, file a transfer by registry number, or ID and name"
    return Problem(t(zh, en), fields[0], "duplicate_id")


# -- look-ups outlive a rollback ------------------------------------------------------------------

@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_KEPT, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit: write its look-ups on their own."""
    if transaction.parent is not None or not session.info.get(_KEPT):
        return
    rows = session.info.pop(_KEPT)
    bind = session.get_bind(PersonalDataAccess)
    try:
        with getattr(bind, "engine", bind).begin() as conn:
            conn.execute(insert(PersonalDataAccess.__table__), rows)
    except SQLAlchemyError:
        log.exception("could not record %d personal-data look-ups", len(rows))
