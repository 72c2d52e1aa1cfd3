"""Admission lists (录取名单): a school uploads its list in the official template, sees every row
checked (dry run, nothing written), then commits it as one transaction.

Each admitted person becomes an in-school student of an entry-grade class (1, 7 or 10): a person
without a record gets a new one, reviewed as a registration (注册核办) like an import's; a person
whose lower-stage record is finished (graduated, completed) or who is a kindergarten child going
to first grade keeps the one lifelong record, pulled into the school, and the old record's
destination (去向) names it.  A person admitted by a second school is a duplicate admission: the
database holds one standing admission per person and school year (``admission.live_key`` is
unique), the second school's row waits for the bureau (``admission_cases``), nobody is registered
twice.  Uploads are import jobs (``purpose`` admissions): the same reader, limits and report.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...documents import template as template_workbook
from ...documents.reader import WorkbookRefused
from ...errors import Conflict, Forbidden, Problem, ValidationFailed
from ...i18n import t
from ...models import Grade, ImportJob, School, SchoolClass
from ..common.actors import Actor
from ..common.transaction import transaction, transactional
from ..exchange import import_writes, imports
from ..organisation import codes as code_tables
from . import admission_writes
from .admission_rows import ENTRY_GRADES, AdmissionChecker, AdmissionRow, note, problem_dicts, summary

PURPOSE = "admissions"
NOTES = ("录取名单：每行一名被录取的学生，班级须为本校起始年级（一年级、初一、高一）的班级；须填写居民身份证件号。",
         "已有学籍的学生（本省初中、小学毕业生，幼儿园大班儿童）按身份证件号接续原学籍，"
         "只需填写姓名、性别、出生日期、身份证件类型、身份证件号和班级，其余列可不填。",
         "同一学生被两所及以上学校录取的，列为重复录取，由共同的主管教育部门裁定，不重复注册。")


def template(session: Session, school: School | None) -> bytes:
    """The admission list to fill: the official template, the school's entry-grade classes in the
    class drop-down, and how a pulled record's row may be short."""
    labels = {table: [label for _, label in pairs]
              for table, pairs in code_tables.template_labels(session).items()}
    classes = list(session.scalars(
        select(SchoolClass.name).join(Grade, Grade.id == SchoolClass.grade_id)
        .where(SchoolClass.school_id == school.id, Grade.number.in_(ENTRY_GRADES))
        .order_by(SchoolClass.name))) if school else []
    return template_workbook.build(labels, classes, title="录取名单", notes=NOTES)


def _own_school(actor: Actor, school: School) -> None:
    actor.require("ImportJob", "add")
    if not actor.is_system and actor.school_id != school.id:
        raise Forbidden(t("只能为本校导入录取名单", "only your own school's admission list"), "school")


@transactional
def upload(session: Session, *, school: School, actor: Actor, filename: str, data: bytes) -> ImportJob:
    """Keep the list (encrypted) as an import job of purpose admissions; refuse an insane file."""
    _own_school(actor, school)
    job = imports.upload(session, school=school, actor=actor, filename=filename, data=data)
    job.purpose = PURPOSE
    return job


def jobs(session: Session, actor: Actor, limit: int = 50) -> list[ImportJob]:
    """The admission lists the account may see, newest first."""
    return list(session.scalars(select(ImportJob).where(ImportJob.purpose == PURPOSE,
                                                        actor.scope.clause(ImportJob))
                                .order_by(ImportJob.id.desc()).limit(limit)))


def job(session: Session, actor: Actor, job_id: int) -> ImportJob:
    """One admission list inside the account's jurisdiction, or NotFound."""
    return actor.find(session, ImportJob, t("没有该录取名单", "no such admission list"),
                      ImportJob.id == job_id, ImportJob.purpose == PURPOSE)


# -- the dry run -----------------------------------------------------------------------------------

def dry_run(session: Session, job: ImportJob, now: datetime) -> ImportJob:
    """Check every row for the uploader; write only the job's counts, problems and notes."""
    with transaction(session):
        job.status, job.rows_checked = "checking", 0
    try:
        _check_all(session, job, now)
    except (ValidationFailed, WorkbookRefused) as exc:
        with transaction(session):
            job.status, job.message = "refused", str(exc)[:500]
    return job


def _checker(session: Session, job: ImportJob, now: datetime, actor: Actor):
    sheet = imports.sheet_of(job)
    import_writes.refresh_statistics(session)
    return sheet, AdmissionChecker(session, job.school, sheet.layout, now, actor)


def _check_all(session: Session, job: ImportJob, now: datetime) -> None:
    counts = {"new": 0, "pulled": 0, "duplicate": 0, "already": 0}
    total = valid = 0
    problems: list[dict] = []
    with imports.loaded_objects_kept(session):
        with transaction(session):
            sheet, checker = _checker(session, job, now, imports.uploader(session, job))
        for batch in imports.batches(sheet):
            with transaction(session):
                for row in checker.rows(batch):
                    total += 1
                    valid += row.ok
                    problems += problem_dicts(row)
                    if row.ok:
                        counts[_kind(row)] += 1
                        said = note(row, checker.actor)
                        if said:
                            problems.append({"row": row.number, "column": "身份证件号", "message": said,
                                             "code": "duplicate_admission" if row.holder else "already_admitted"})
                job.rows_checked = total
    refused = [f"{message}（{source}）" for message, source in checker.job_problems.values()]
    with transaction(session):
        job.rows_total, job.rows_valid, job.rows_invalid = total, valid, total - valid
        job.problems = problems[: imports.KEEP_PROBLEMS]
        job.status = "refused" if refused else "checked"
        job.message = ("；".join(refused) if refused else summary(counts))[:500]


def _kind(row: AdmissionRow) -> str:
    if row.already:
        return "already"
    if row.holder is not None:
        return "duplicate"
    return "pulled" if row.pull is not None else "new"


# -- the commit ------------------------------------------------------------------------------------

def commit(session: Session, job: ImportJob, actor: Actor, now: datetime, *,
           valid_only: bool = False) -> ImportJob:
    """Admit every checked row in one transaction (nothing half-written): claim each person's
    admission, create or pull the records, list the duplicates, open the registration review."""
    _own_school(actor, job.school)
    imports.claim(session, job, actor, valid_only=valid_only, purpose=PURPOSE)
    try:
        with imports.loaded_objects_kept(session), transaction(session):
            _lock_classes(session, job.school_id)
            sheet, checker = _checker(session, job, now, actor)
            rows = [row for batch in imports.batches(sheet) for row in checker.rows(batch)]
            if checker.job_problems:
                raise ValidationFailed([Problem(m, None, code, s or None)
                                        for code, (m, s) in checker.job_problems.items()])
            if any(not r.ok for r in rows) and not valid_only:
                raise Conflict(t("数据已变化，请重新检查", "the data changed since the check: check again"))
            counts = admission_writes.write(session, job, checker, [r for r in rows if r.ok], actor, now)
            job.status, job.rows_done = "done", rows[-1].number if rows else 0
            job.message = summary(counts)[:500]
    except Exception as exc:
        with transaction(session):
            job.status, job.message = "failed", str(exc)[:500]
        raise
    return job


def _lock_classes(session: Session, school_id: int) -> None:
    """The school's entry-grade classes, locked: two lists of one school take seats in turn."""
    session.execute(select(SchoolClass.id).join(Grade, Grade.id == SchoolClass.grade_id)
                    .where(SchoolClass.school_id == school_id, Grade.number.in_(ENTRY_GRADES))
                    .order_by(SchoolClass.id).with_for_update())


def run(session: Session, *, school: School, actor: Actor, filename: str, data: bytes, now: datetime,
        dry: bool, valid_only: bool = False) -> ImportJob:
    """Upload, check and (unless ``dry``) commit: what the command line does."""
    job = dry_run(session, upload(session, school=school, actor=actor, filename=filename, data=data), now)
    if not dry and job.status == "checked" and (valid_only or not job.rows_invalid):
        commit(session, job, actor, now, valid_only=valid_only)
    return job
