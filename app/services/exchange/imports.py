"""Importing the official template: upload, dry run (every row checked, nothing written), commit in
batches (all-or-nothing, or only the valid rows), resumable, idempotent.

A re-import of the same file changes nothing: rows are matched to the school's records by ID number
(blind index), or by name, gender and birth date where there is none; a corrected row updates its
record.  New records wait in one registration review for the whole file (注册核办).
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, scoped_session

from ...documents import template as template_workbook
from ...documents.reader import Sheet, WorkbookRefused, check_rows
from ...errors import Conflict, Forbidden, ValidationFailed
from ...heap import settled
from ...i18n import t
from ...models import ImportJob, School, SchoolClass
from ...models.base import local_now
from ..common.actors import Actor
from ..common.transaction import transaction, transactional
from ..organisation import codes as code_tables
from . import import_cells, import_checked, import_chunks, import_pool, import_writes
from .import_checked import Checked
from .import_rows import Checker, Row

BATCH = 1000  # rows of an admission list checked together
CHECKPOINT = 4_000  # rows written per transaction, each with its checkpoint (two of the reader's chunks)
KEEP_PROBLEMS = 50_000  # enough to annotate every bad cell of a large file
STALE = timedelta(minutes=10)  # a commit that has not checkpointed for this long died: it may resume


def template(session: Session, school: School | None) -> bytes:
    """The official template to fill, with the school's classes in the class drop-down."""
    labels = {table: [label for _, label in pairs]
              for table, pairs in code_tables.template_labels(session).items()}
    classes = list(session.scalars(select(SchoolClass.name).where(SchoolClass.school_id == school.id)
                                   .order_by(SchoolClass.name))) if school else []
    return template_workbook.build(labels, classes)


def _file(job: ImportJob) -> bytes:
    return bytes(import_checked.workbook(job))


@transactional
def upload(session: Session, *, school: School, actor: Actor, filename: str, data: bytes) -> ImportJob:
    """Keep the workbook (encrypted) as a job, one transaction; refuse it at once if it is not a
    sane .xlsx."""
    actor.require("ImportJob", "add")
    if not actor.sees_school(school):
        raise Forbidden(t("只能为本校导入", "only into your own school"), "school")
    try:
        Sheet(data)  # the cheap checks: type, size, zip bomb, readable, a header
        check_rows(data)
    except WorkbookRefused as exc:
        raise ValidationFailed(t(exc.zh, exc.en), "file") from None
    job = ImportJob(school=school, created_by=actor.username, created_by_id=actor.user_id,
                    filename=filename[:200], size=len(data), sha256=hashlib.sha256(data).hexdigest())
    import_checked.seal(job, data)
    job.refresh_chain()
    session.add(job)
    return job


def sheet_of(job: ImportJob, data: bytes | memoryview | None = None) -> Sheet:
    sheet = Sheet(_file(job) if data is None else bytes(data))
    layout = sheet.layout
    if layout.missing:
        raise ValidationFailed(t(f"缺少必需的列：{'、'.join(layout.missing)}",
                                 f"missing required columns: {', '.join(layout.missing)}"), "file")
    if layout.duplicate:
        raise ValidationFailed(t(f"列重复：{'、'.join(layout.duplicate)}",
                                 f"columns given twice: {', '.join(layout.duplicate)}"), "file")
    return sheet


@contextmanager
def loaded_objects_kept(session):
    """Checkpoint commits without expiring what the checker holds (the school's classes...): else
    every batch would reload them one query at a time."""
    real = session() if isinstance(session, scoped_session) else session
    before, real.expire_on_commit = real.expire_on_commit, False
    try:
        yield
    finally:
        real.expire_on_commit = before


def batches(sheet: Sheet):
    batch = []
    for number, cells in sheet.rows():
        batch.append((number, cells))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def uploader(session: Session, job: ImportJob) -> Actor:
    """Who the dry run checks for: the account that uploaded the file."""
    from ...models import XuejiUser

    user = session.get(XuejiUser, job.created_by_id) if job.created_by_id else None
    return Actor.of(user) if user is not None else Actor.system(job.created_by)


def dry_run(session: Session, job: ImportJob, now: datetime, progress=None) -> ImportJob:
    """Check every row for the uploader, write nothing but the job's counts and problems; each
    batch's progress is a transaction of its own (the page's progress bar reads it)."""
    with transaction(session):
        job.status, job.rows_checked = "checking", 0
    try:
        _check_all(session, job, now, progress)
    except (ValidationFailed, WorkbookRefused) as exc:  # its own transaction has rolled back
        with transaction(session):
            job.status, job.message = "refused", str(exc)
    return job


def _prepared(session: Session, job: ImportJob, now: datetime, actor: Actor, *, kept: bool = False
              ) -> tuple[Sheet | None, Checker, Checked | None]:
    """The sheet, the checker and the dry run's result of a job, in a transaction (the planner's
    statistics refreshed).  ``kept``: a commit, which writes the rows the dry run kept if it can --
    then with no sheet (None) and no workbook decrypted, the layout the dry run read."""
    with transaction(session):
        checked = import_checked.result(job) if kept else None
        layout = checked.layout() if checked is not None else None
        checker = Checker(session, job.school, layout, now, actor) if layout else None
        sheet = None
        if checker is None or not import_checked.kept_rows_usable(checked, checker):
            data = import_checked.workbook(job)  # a dry run, or a key or the rules changed since
            session.expire(job, ["file_enc"])  # the sealed copy is not needed while the rows are read
            sheet = sheet_of(job, data)
            checker = Checker(session, job.school, sheet.layout, now, actor)
        import_writes.refresh_statistics(session)
        return sheet, checker, checked


def _check_all(session: Session, job: ImportJob, now: datetime, progress) -> None:
    total = valid = 0
    problems: list[dict] = []
    with import_pool.Workers(job.size) as workers, loaded_objects_kept(session), settled():
        sheet, checker, _ = _prepared(session, job, now, uploader(session, job))
        ring = checker.ring
        result = Checked(checker.ruleset.digest, import_checked.actor_key(checker), seats=dict(checker.seats),
                         key=ring.active, profile=ring.profile, head=Checked.head_of(sheet.layout))
        with transaction(session):
            import_chunks.clear(session, job)  # an earlier dry run's, and its result
            import_checked.record(job, None)
        sealing = import_cells.Sealing.of(ring)  # new records encrypted by the workers, once
        for seq, rows in enumerate(workers.read_rows(sheet, checker.reader, sealing=sealing, keep_for=job.id)):
            with transaction(session):  # a checkpoint: the counts so far, the chunk's valid rows kept
                for row in import_checked.decide(session, checker, rows):
                    total += 1
                    valid += row.ok
                    result.note(row)
                    problems += [{"row": row.number, "column": c, "message": m, "code": k}
                                 for c, m, k in row.problems][: max(0, KEEP_PROBLEMS - len(problems))]
                result.chunks += (import_chunks.store(session, job, seq, rows.packed) if rows.packed
                                  else import_chunks.keep(session, job, seq, rows))
                job.rows_checked = total
            if progress:
                progress(job)
    job_level = [f"{message}（{source}）" for message, source in checker.job_problems.values()]
    with transaction(session):
        job.rows_total, job.rows_valid, job.rows_invalid = total, valid, total - valid
        job.problems, job.status = problems, ("refused" if job_level else "checked")
        job.message = "；".join(job_level) or None
        if job_level:
            import_chunks.clear(session, job)
        import_checked.record(job, result)


def stalled(job: ImportJob) -> bool:
    """A commit whose worker died (no checkpoint for STALE): it can be resumed."""
    return job.status == "committing" and job.updated_at < local_now() - STALE


def claim(session: Session, job: ImportJob, actor: Actor, *, valid_only: bool = False,
          purpose: str = "students") -> None:
    """Take the job for one committer: a conditional update, so two clicks (or two tabs, or two
    servers) start one commit; a stalled one may be taken over.  Commits the claim.  A job of
    another ``purpose`` (an admission list) is committed by its own service only."""
    actor.require("ImportJob", "add")
    if (job.purpose or "students") != purpose:
        raise Conflict(t("该文件是录取名单，请在“导入录取名单”中提交" if job.purpose == "admissions"
                         else "该文件不是录取名单", f"this job is a {job.purpose} upload"))
    if job.rows_invalid and not valid_only:
        raise ValidationFailed(t(f"有 {job.rows_invalid} 行存在问题：请修改后重新上传，或选择只导入正确的行",
                                 f"{job.rows_invalid} rows have problems: fix them or import only the valid rows"))
    claimable = or_(ImportJob.status.in_(("checked", "failed")),
                    (ImportJob.status == "committing") & (ImportJob.updated_at < local_now() - STALE))
    with transaction(session):
        taken = session.execute(update(ImportJob).where(ImportJob.id == job.id, claimable).values(
            status="committing", mode="valid_only" if valid_only else "all", message=None,
            updated_at=local_now()).execution_options(synchronize_session=False)).rowcount
    session.refresh(job)
    if not taken:
        busy = job.status == "committing"
        raise Conflict(t("该导入正在进行中" if busy else f"导入任务当前为“{job.status}”，不能提交",
                         "the import is already running" if busy else f"the job is '{job.status}'"))


def commit(session: Session, job: ImportJob, actor: Actor, now: datetime, *, valid_only: bool = False,
           progress=None, claimed: bool = False) -> ImportJob:
    """Write the checked rows in batches, each with its checkpoint; call again to resume.
    ``claimed``: the caller has already taken the job with ``claim``."""
    if not claimed:
        claim(session, job, actor, valid_only=valid_only)
    try:
        _write_all(session, job, actor, now, valid_only, progress)
    except Exception as exc:  # the batch that failed has rolled back; the ones before stay
        with transaction(session):
            job.status, job.message = "failed", str(exc)[:500]
        raise
    return job


def _write_all(session: Session, job: ImportJob, actor: Actor, now: datetime, valid_only: bool,
               progress) -> None:
    with loaded_objects_kept(session), settled():
        sheet, checker, checked = _prepared(session, job, now, actor, kept=True)
        reuse = import_checked.reusable(checked, checker)
        kept = sheet is None
        recheck = import_checked.Recheck(checker, checked if reuse else None)
        skip = frozenset(checked.invalid) if reuse else frozenset()
        pending: list[Row] = []
        # the dry run's rows as it kept them; else (rules or keys changed since) the workbook again
        with import_pool.Workers(0 if kept else job.size) as workers:
            source = (import_chunks.rows(session, job, checker.school.code, after=job.rows_done, skip=skip) if kept
                      else workers.read_rows(sheet, checker.reader, check=not reuse, after=job.rows_done,
                                             skip=skip, sealing=import_cells.Sealing.of(checker.ring)))
            for rows in source:
                pending += rows
                while len(pending) >= CHECKPOINT:
                    _write_batch(session, job, recheck, pending[:CHECKPOINT], actor, now, valid_only, progress)
                    pending = pending[CHECKPOINT:]
            if pending:
                _write_batch(session, job, recheck, pending, actor, now, valid_only, progress)
    with transaction(session):
        import_writes.open_review(session, job, actor, now)
        import_chunks.clear(session, job)
        job.status = "done"
        job.message = None if reuse else import_checked.RECHECKED


def _write_batch(session, job, recheck, rows: list[Row], actor, now, valid_only, progress) -> None:
    """Rows re-checked where the database may have moved, written, and the checkpoint: one
    transaction."""
    with transaction(session):
        if import_writes.statistics_due(job.rows_done, rows[-1].number):
            import_writes.refresh_statistics(session)  # the tables have doubled since the last
        for start in range(0, len(rows), BATCH):
            recheck(session, rows[start:start + BATCH])
        if any(not r.ok for r in rows) and not valid_only:
            raise Conflict(t("数据已变化，请重新检查", "the data changed since the check: check again"))
        import_writes.write(session, job, [r for r in rows if r.ok], actor, now)
        job.rows_done = rows[-1].number
    if progress:
        progress(job)


def run(session: Session, *, school: School, actor: Actor, filename: str, data: bytes, now: datetime,
        dry: bool, valid_only: bool = False) -> ImportJob:
    """The whole thing, as the command line does it."""
    job = dry_run(session, upload(session, school=school, actor=actor, filename=filename, data=data), now)
    if not dry and job.status == "checked" and (valid_only or not job.rows_invalid):
        commit(session, job, actor, now, valid_only=valid_only)
    return job


