"""Writing an admission list: each person's standing admission claimed under the unique key (a
concurrent list's claim waits for it), new records inserted as the import inserts them, finished
records taken over (one UPDATE per class), duplicates listed, the registration review opened."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...i18n import t
from ...models import Admission, AuditEvent, ImportJob, Request, School, Student
from ..common.actors import Actor
from ..exchange import import_writes
from ..requests.starting import open_batch_registration
from .admission_rows import ON_RECORD, PULLABLE, AdmissionChecker, AdmissionRow, live_key, summary

CHUNK = 500  # admission rows per INSERT statement


def write(session: Session, job: ImportJob, checker: AdmissionChecker, rows: list[AdmissionRow],
           actor: Actor, now: datetime) -> dict:
    """Admit the checked rows (inside the caller's transaction); the counts by outcome."""
    year = checker.year
    todo = [r for r in rows if not r.already]
    _free_stale(session, [r.stale.id for r in todo if r.stale is not None], now)
    won = _claim(session, job, [r for r in todo if r.holder is None], year, actor, now)
    _late_holders(session, [r for r in todo if r.holder is None and r.id_blind not in won], year)
    new = [r for r in todo if r.id_blind in won and r.pull is None]
    pulled = [r for r in todo if r.id_blind in won and r.pull is not None]
    duplicates = [r for r in todo if r.id_blind not in won]
    if new:
        import_writes.insert_new(session, job, new, actor, now)
        _link_new(session, job, new, won)
        session.flush()  # the job's count with them: the pulls below expire what is loaded
    _pull(session, job.school, pulled, year, actor, now)
    _duplicates(session, job, duplicates, year, actor, now)
    if new:
        kind = "register_new" if all(r.grade_number == 1 for r in new) else "register_in_school"
        job.request_id = open_batch_registration(session, job, actor, now, kind).id
    counts = {"new": len(new), "pulled": len(pulled), "duplicate": len(duplicates),
              "already": len(rows) - len(todo)}
    job.updated, job.unchanged = len(pulled), counts["already"]
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action="admit_list",
                           entity="school", entity_id=job.school_id, school_id=job.school_id,
                           changes={"job": job.id, "new": counts["new"], "pulled": counts["pulled"],
                                    "duplicate": counts["duplicate"], "unchanged": counts["already"]},
                           summary=f"录取名单 {job.filename}：{summary(counts)}"[:300]))
    return counts


def _admission(job: ImportJob, row: AdmissionRow, year: int, actor: Actor, now: datetime, *,
               live: bool) -> dict:
    school = job.school
    return {"school_year": year, "id_blind": row.id_blind, "live_key": live_key(year, row.id_blind) if live else None,
            "school_id": school.id, "import_job_id": job.id, "row_number": row.number,
            "name": (row.pull.name if row.pull is not None else row.values.get("name") or "")[:50],
            "grade_number": row.grade_number, "class_id": row.klass.id,
            "student_id": row.pull.id if row.pull is not None and live else None,
            "outcome": ("pulled" if row.pull is not None else "new") if live else "none",
            "status": "admitted" if live else "duplicate", "created_at": now, "created_by": actor.username,
            "province_code": school.province_code, "city_code": school.city_code,
            "county_code": school.county_code}


def _free_stale(session: Session, ids: list[int], now: datetime) -> None:
    """Admissions whose new record a registration review rejected (the record is gone) no longer
    hold the person."""
    if ids:
        session.execute(update(Admission).where(Admission.id.in_(ids), Admission.student_id.is_(None))
                        .values(live_key=None, status="dropped", decided_at=now,
                                reason="注册核办未通过，学籍已删除")
                        .execution_options(synchronize_session=False))


def _claim(session: Session, job: ImportJob, rows: list[AdmissionRow], year: int, actor: Actor,
           now: datetime) -> dict[str, int]:
    """Insert each person's standing admission, skipping those another school's list holds (a
    concurrent one included: the unique key waits for it); {blind: admission id} of those won."""
    won: dict[str, int] = {}
    dialect = session.connection().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    for start in range(0, len(rows), CHUNK):
        values = [_admission(job, r, year, actor, now, live=True) for r in rows[start:start + CHUNK]]
        statement = (upsert(Admission.__table__).values(values)
                     .on_conflict_do_nothing(index_elements=["live_key"])
                     .returning(Admission.__table__.c.id, Admission.__table__.c.id_blind))
        won.update({blind: aid for aid, blind in session.execute(statement)})
    return won


def _late_holders(session: Session, rows: list[AdmissionRow], year: int) -> None:
    """Rows whose person another list claimed since the check: they become duplicates."""
    if not rows:
        return
    holders = {a.id_blind: a for a in session.scalars(select(Admission).where(
        Admission.live_key.in_([live_key(year, r.id_blind) for r in rows])))}
    for row in rows:
        row.holder = holders.get(row.id_blind)
        if row.holder is None or row.holder.school_id == row_school(row):
            raise Conflict(t("录取名单正在被同时提交，请重新检查", "another commit got in the way: check again"))


def row_school(row: AdmissionRow) -> int | None:
    return row.klass.school_id if row.klass is not None else None


def _link_new(session: Session, job: ImportJob, rows: list[AdmissionRow], won: dict[str, int]) -> None:
    """Each new record named on its admission."""
    blinds = [r.id_blind for r in rows]
    made = session.execute(select(Student.id, Student.id_blind).where(
        Student.import_job_id == job.id, Student.id_blind.in_(blinds))).all()
    table = Admission.__table__
    session.execute(update(table).where(table.c.id == bindparam("aid")).values(student_id=bindparam("sid")),
                    [{"aid": won[blind], "sid": sid} for sid, blind in made])


def _pull(session: Session, school: School, rows: list[AdmissionRow], year: int, actor: Actor,
          now: datetime) -> None:
    """Take the records over into their classes: one UPDATE per class, the checks repeated in it
    (a record that changed since the check makes the whole list fail, nothing written)."""
    if not rows:
        return
    label = f"{school.code} {school.name}"[:200]
    by_class: dict[int, list[AdmissionRow]] = {}
    for row in rows:
        by_class.setdefault(row.klass.id, []).append(row)
    open_request = select(Request.id).where(Request.open_student_id == Student.id).exists()
    for rows_in in by_class.values():
        klass = rows_in[0].klass
        ids = [r.pull.id for r in rows_in]
        changed = session.execute(
            update(Student).where(Student.id.in_(ids), Student.status.in_(PULLABLE + ON_RECORD),
                                  Student.problem.is_(False), ~open_request)
            .values(school_id=school.id, grade_id=klass.grade_id, class_id=klass.id, status="in_school",
                    province_code=school.province_code, city_code=school.city_code,
                    county_code=school.county_code, destination=label, entry_date=date(year, 9, 1),
                    hold_back=False, version=Student.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if changed != len(ids):
            raise Conflict(t("已有学籍在检查后发生了变化，请重新检查", "a record changed since the check: check again"))
    session.execute(insert(AuditEvent), [_pull_event(r, school, actor, now) for r in rows])
    session.expire_all()


def _pull_event(row: AdmissionRow, school: School, actor: Actor, now: datetime) -> dict:
    record = row.pull
    before = f"{record.school.name} {record.grade.name if record.grade else ''}".strip()
    return {"at": now, "user_id": actor.user_id, "username": actor.username, "action": "admission_pull",
            "entity": "student", "entity_id": record.id, "entity_uid": record.uid, "school_id": school.id,
            "changes": {"school": {"old": before, "new": f"{school.name} {row.klass.name}"},
                        "status": {"old": record.status, "new": "in_school"},
                        "destination": {"old": record.destination, "new": f"{school.code} {school.name}"}},
            "summary": f"录取接续学籍：{before} → {school.name} {row.klass.name}"[:300]}


def _duplicates(session: Session, job: ImportJob, rows: list[AdmissionRow], year: int, actor: Actor,
                now: datetime) -> None:
    """The second school's rows wait for the bureau; the holder's admission is contested."""
    if not rows:
        return
    session.execute(insert(Admission.__table__),
                    [_admission(job, r, year, actor, now, live=False) for r in rows])
    session.execute(update(Admission).where(
        Admission.id.in_([r.holder.id for r in rows]), Admission.status == "admitted")
        .values(status="contested").execution_options(synchronize_session=False))
    session.execute(insert(AuditEvent), [
        {"at": now, "user_id": actor.user_id, "username": actor.username, "action": "admission_duplicate",
         "entity": "admission", "entity_id": r.holder.id, "school_id": job.school_id,
         "changes": {"schools": f"{r.holder.school.name}、{job.school.name}"},
         "summary": f"重复录取：第 {r.number} 行 {r.values.get('name') or ''} 已被其他学校录取，待教育局裁定"[:300]}
        for r in rows])
