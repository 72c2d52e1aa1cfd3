"""Problem records (问题学籍): found by set-based detection, resolved by evidence, change or deletion.

Three kinds: an invalid resident ID; one ID held by several records (only one may survive; when two
bureaus both insist, their nearest common superior decides); and records without an ID sharing name,
gender and birth date (they may all be confirmed as different people).  A problem record can do no
other business: the rule engine refuses it (national code 2003).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound, ValidationFailed
from ...i18n import t
from ...models import ProblemCase, ProblemMember, School, Student
from ...models.base import keyring
from ...security.crypto import aad_for
from ..common.actors import Actor
from ..common.transaction import transactional
from .identity import RESIDENT_ID, resident_id_problem

BATCH = 2000
OPEN = ("open", "arbitration")
STICKY = ("distinct", "evidence")  # resolutions that hold while the same records stay as they are


# -- detection ------------------------------------------------------------------------------------

def _invalid_ids(session: Session) -> dict[str, list[int]]:
    """{group key: [student id]} for every resident ID that does not validate (decrypted in batches)."""
    ring, found, last = keyring(), {}, 0
    table = Student.__table__
    while True:
        rows = session.execute(select(table.c.id, table.c.uid, table.c.id_number_enc)
                               .where(table.c.id > last, table.c.id_type == RESIDENT_ID,
                                      table.c.id_number_enc.is_not(None))
                               .order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return found
        for row in rows:
            number = ring.decrypt(row.id_number_enc, aad_for("student", "id_number_enc", row.uid))
            if resident_id_problem(number) is not None:
                found[f"invalid:{row.uid}"] = [row.id]
        last = rows[-1].id


def _duplicate_ids(session: Session) -> dict[str, list[int]]:
    dup = select(Student.id_blind).where(Student.id_blind.is_not(None)).group_by(
        Student.id_blind).having(func.count() > 1)
    groups: dict[str, list[int]] = defaultdict(list)
    for sid, blind in session.execute(select(Student.id, Student.id_blind)
                                      .where(Student.id_blind.in_(dup)).order_by(Student.id)):
        groups[blind].append(sid)
    return groups


def _duplicates_without_id(session: Session) -> dict[str, list[int]]:
    no_id = (Student.id_number_enc.is_(None)) | (Student.id_type != RESIDENT_ID)
    dup = select(Student.name, Student.gender, Student.birth_date).where(no_id).group_by(
        Student.name, Student.gender, Student.birth_date).having(func.count() > 1)
    keys = {tuple(row) for row in session.execute(dup)}
    groups: dict[str, list[int]] = defaultdict(list)
    if not keys:
        return groups
    ring = keyring()
    for sid, name, gender, born in session.execute(
            select(Student.id, Student.name, Student.gender, Student.birth_date).where(no_id)
            .order_by(Student.id)):
        if (name, gender, born) in keys:
            groups[ring.blind_index("person", f"{name}|{gender}|{born}")].append(sid)
    return groups


@transactional
def detect(session: Session, now: datetime) -> dict[str, int]:
    """Find every problem, open cases for new ones, close the ones that went away; one transaction."""
    found = {"invalid_id": _invalid_ids(session), "duplicate_id": _duplicate_ids(session),
             "duplicate_no_id": _duplicates_without_id(session)}
    opened = closed = 0
    for kind, groups in found.items():
        for key, ids in groups.items():
            opened += _open_case(session, kind, key, ids, now)
    for case in session.scalars(select(ProblemCase).where(ProblemCase.status.in_(OPEN))):
        if case.group_key not in found[case.kind]:
            _resolve(session, case, "changed", "detection", now)
            closed += 1
    _refresh_flags(session)
    return {"opened": opened, "closed": closed,
            "open": session.scalar(select(func.count()).select_from(ProblemCase)
                                   .where(ProblemCase.status.in_(OPEN)))}


def _open_case(session: Session, kind: str, key: str, ids: list[int], now: datetime) -> int:
    case = session.scalar(select(ProblemCase).where(ProblemCase.kind == kind, ProblemCase.group_key == key)
                          .order_by(ProblemCase.id.desc()))
    members = set(ids)
    if case is not None:
        held = {m.student_id for m in case.members}
        # an open case grows; a settled one (the same records confirmed) is not opened again
        if case.status in OPEN or (case.resolution in STICKY and members <= held):
            for sid in members - held:
                case.members.append(_member(session, sid))
            return 0
    case = ProblemCase(kind=kind, group_key=key, status="open", detected_at=now)
    case.members = [_member(session, sid) for sid in sorted(members)]
    session.add(case)
    return 1


def _member(session: Session, student_id: int) -> ProblemMember:
    student = session.get(Student, student_id)
    return ProblemMember(student_id=student.id, student_uid=student.uid, school_id=student.school_id)


def _refresh_flags(session: Session) -> None:
    """A record is a problem record while one of its cases is open (set-based, both ways)."""
    session.flush()
    flagged = select(ProblemMember.student_id).join(ProblemCase).where(
        ProblemCase.status.in_(OPEN), ProblemMember.stance.not_in(("confirmed", "won")))
    session.execute(update(Student).where(Student.id.in_(flagged), Student.problem.is_(False))
                    .values(problem=True).execution_options(synchronize_session=False))
    session.execute(update(Student).where(~Student.id.in_(flagged), Student.problem.is_(True))
                    .values(problem=False).execution_options(synchronize_session=False))


def _resolve(session: Session, case: ProblemCase, resolution: str, by: str, now: datetime) -> None:
    case.status, case.resolution, case.resolved_by, case.resolved_at = "resolved", resolution, by, now


# -- resolution -----------------------------------------------------------------------------------

def load(session: Session, actor: Actor, case_id: int) -> ProblemCase:
    return actor.fetch(session, ProblemCase, case_id,
                       t("问题学籍不存在或不在本辖区", "no such problem record in your jurisdiction"))


def _bureau_of(session: Session, member: ProblemMember) -> str:
    return session.get(School, member.school_id).jurisdiction.code


def _may_speak_for(session: Session, actor: Actor, member: ProblemMember) -> None:
    if "registrar" not in actor.functions or actor.node != f"bureau:{_bureau_of(session, member)}":
        raise Forbidden(t("由该学籍所在学校的主管教育部门学籍管理员处理",
                          "the bureau of the record's school decides for it"))


def _evidence(member: ProblemMember, upload) -> None:
    from ..requests.attachments import MAX_BYTES, sniff

    name, data = upload if isinstance(upload, tuple) else (upload.filename, upload.read(MAX_BYTES + 1))
    if len(data) > MAX_BYTES or sniff(data) is None:
        raise ValidationFailed(t("佐证材料须为不超过 5 MB 的 PDF、JPEG 或 PNG",
                                 "evidence must be a PDF, JPEG or PNG under 5 MB"), "evidence")
    member.evidence_name, member.evidence_type = name[:200], sniff(data)
    member.evidence_enc = keyring().encrypt_bytes(data, aad_for("problem_member", "evidence_enc",
                                                                f"{member.case_id}:{member.id}"))


@transactional
def confirm(session: Session, case_id: int, member_id: int, actor: Actor, now: datetime, *,
            evidence, comment: str | None = None) -> ProblemCase:
    """佐证: the record's bureau stands by it, with evidence (a police certificate, say)."""
    case = load(session, actor, case_id)
    if case.status != "open" or case.resolution == "arbitrated":
        raise Conflict(t(f"问题学籍 #{case.id} 当前为“{case.status}”", f"case {case.id} is '{case.status}'"))
    member = next((m for m in case.members if m.id == member_id), None)
    if member is None:
        raise NotFound(t("该记录不在此问题学籍中", "that record is not part of this case"))
    _may_speak_for(session, actor, member)
    if evidence is None:
        raise ValidationFailed(t("请上传佐证材料", "evidence is required"), "evidence")
    _evidence(member, evidence)
    member.stance, member.decided_by, member.decided_at, member.comment = (
        "insist" if case.kind == "duplicate_id" else "confirmed", actor.username, now, comment)
    _settle(session, case, actor, now)
    return _flagged(session, case)


@transactional
def withdraw(session: Session, case_id: int, member_id: int, actor: Actor, now: datetime, *,
             comment: str | None = None) -> ProblemCase:
    """The record's bureau gives way: its school corrects the ID (变更) or deletes the record (删除)."""
    case = load(session, actor, case_id)
    member = next((m for m in case.members if m.id == member_id), None)
    if member is None or case.status not in OPEN:
        raise Conflict(t("不能撤回", "cannot withdraw"))
    _may_speak_for(session, actor, member)
    member.stance, member.decided_by, member.decided_at, member.comment = "withdrawn", actor.username, now, comment
    return _flagged(session, case)


@transactional
def arbitrate(session: Session, case_id: int, winner_id: int, actor: Actor, now: datetime, *,
              comment: str | None = None) -> ProblemCase:
    """仲裁: the nearest common superior of the insisting bureaus says which record survives."""
    case = load(session, actor, case_id)
    if case.status != "arbitration":
        raise Conflict(t("该问题学籍不在仲裁中", "this case is not waiting for arbitration"))
    if actor.node != f"bureau:{case.arbiter_code}" or "registrar" not in actor.functions:
        raise Forbidden(t(f"由共同上级 {case.arbiter_code} 仲裁", f"the common superior {case.arbiter_code} decides"))
    if not any(m.id == winner_id for m in case.members):
        raise NotFound(t("该记录不在此问题学籍中", "that record is not part of this case"))
    for m in case.members:
        m.stance = "won" if m.id == winner_id else "lost"
        m.decided_by, m.decided_at = actor.username, now
    # the case stays open until the losing records are corrected or deleted (detection closes it)
    case.status, case.resolution, case.note = "open", "arbitrated", comment
    return _flagged(session, case)


def _settle(session: Session, case: ProblemCase, actor: Actor, now: datetime) -> None:
    stances = [m.stance for m in case.members]
    if case.kind in ("invalid_id", "duplicate_no_id") and all(s == "confirmed" for s in stances):
        _resolve(session, case, "evidence" if case.kind == "invalid_id" else "distinct", actor.username, now)
    elif case.kind == "duplicate_id" and stances.count("insist") >= 2:
        case.status, case.arbiter_code = "arbitration", common_superior(
            [_bureau_of(session, m) for m in case.members if m.stance == "insist"])


def common_superior(codes: list[str]) -> str:
    """The nearest jurisdiction above every one of ``codes`` (city, else province)."""
    if len({c[:4] for c in codes}) == 1:
        return codes[0][:4] + "00"
    if len({c[:2] for c in codes}) == 1:
        return codes[0][:2] + "0000"
    return "000000"  # different provinces: the Ministry's national system arbitrates


def _flagged(session: Session, case: ProblemCase) -> ProblemCase:
    """The case, once its records' problem flags follow it (the use case's transaction commits)."""
    _refresh_flags(session)
    return case


def read_evidence(member: ProblemMember) -> bytes:
    return keyring().decrypt_bytes(member.evidence_enc, aad_for(
        "problem_member", "evidence_enc", f"{member.case_id}:{member.id}"))
