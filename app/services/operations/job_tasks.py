"""The kinds of job (``jobs.task``): each a thin call of the use case that does the work, with the
job's progress passed on.  Imported wherever jobs run: the web application and the worker."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ...errors import RuleViolation
from ...models import ImportJob, JobRun, School
from ..common.transaction import transaction, transactional
from ..exchange import confirm_forms, export_requests, imports
from ..organisation import identity
from ..policy import rulesets
from ..record import problems
from ..reports import snapshot, stored
from ..schoolyear import admissions, promotion
from . import backups
from .jobs import TASKS, Cancelled, said, start, task


def _import_job(session, params) -> ImportJob:
    return session.get(ImportJob, params["import_job"])


def _interrupted(session, job: ImportJob, status: str, message: str) -> None:
    """A cancelled check (refused: upload again) or commit (failed: resumable from its last
    checkpoint), saying why it stopped."""
    with transaction(session):  # the interrupted batch has rolled back with its own transaction
        job = session.get(ImportJob, job.id)
        job.status, job.message = status, message


def _counts(job: ImportJob) -> dict:
    if job.status == "refused" and job.message:
        summary = said(job.message, job.message)
    elif job.status in ("checked", "refused") and not job.created:
        summary = said(f"检查 {job.rows_total} 行：正确 {job.rows_valid} 行，有问题 {job.rows_invalid} 行",
                       f"{job.rows_total} rows checked: {job.rows_valid} valid, {job.rows_invalid} with problems")
    else:
        summary = said(f"导入完成：新增 {job.created} 人，更新 {job.updated} 人",
                       f"imported: {job.created} created, {job.updated} updated")
    return {"status": job.status, "rows_total": job.rows_total, "rows_valid": job.rows_valid,
            "rows_invalid": job.rows_invalid, "created": job.created, "updated": job.updated,
            "summary": summary}


@task("import_check", "导入检查", "Import check")
def import_check(session, params, progress, actor, now):
    job = _import_job(session, params)
    try:
        if job.purpose == admissions.PURPOSE:
            admissions.dry_run(session, job, now)
        else:
            imports.dry_run(session, job, now, progress=lambda j: progress(j.rows_checked))
    except Cancelled as stop:
        _interrupted(session, job, "refused", str(stop))
        raise
    return _counts(job)


@task("import_commit", "导入提交", "Import commit")
def import_commit(session, params, progress, actor, now):
    job = _import_job(session, params)
    valid_only = bool(params.get("valid_only"))
    try:
        if job.purpose == admissions.PURPOSE:
            admissions.commit(session, job, actor, now, valid_only=valid_only)
        else:
            progress(job.rows_done, job.rows_total)
            imports.commit(session, job, actor, now, valid_only=valid_only, claimed=True,
                           progress=lambda j: progress(j.rows_done, j.rows_total))
    except Cancelled as stop:
        _interrupted(session, job, "failed", str(stop))
        raise
    return _counts(job)


@task("problems_detect", "问题学籍检测", "Problem-record detection")
def problems_detect(session, params, progress, actor, now):
    found = problems.detect(session, now)
    return {**found, "summary": said(
        f"新发现问题学籍 {found['opened']} 个，已消除 {found['closed']} 个，现有 {found['open']} 个",
        f"{found['opened']} problem records found, {found['closed']} gone, {found['open']} open")}


@task("promotion", "升级", "Promotion")
def promotion_run(session, params, progress, actor, now):
    outcome = promotion.promote(session, actor, params["node"], now, progress=progress)
    r = outcome.run
    summary = (said(f"本学年已升级（批次 {r.id}），本次未移动任何学生",
                 f"already promoted this year (run {r.id}): nobody moved") if outcome.already else
               said(f"升级批次 {r.id}：本次 {outcome.schools_now} 所学校、{outcome.students_now} 名学生升级",
                 f"run {r.id}: {outcome.students_now} students in {outcome.schools_now} schools moved up"))
    return {**promotion.run_dict(r), "schools_now": outcome.schools_now,
            "students_now": outcome.students_now, "already": outcome.already, "summary": summary}


@task("report_close", "月末快照", "Month-end snapshot")
def report_close(session, params, progress, actor, now):
    row = snapshot.close_month(session, params["month"], now=now, by=actor.username)
    return {"month": f"{row.month:%Y-%m}", "taken_at": row.taken_at.isoformat(timespec="seconds"),
            "summary": said(f"{row.month:%Y-%m} 月末快照已生成", f"month-end snapshot of {row.month:%Y-%m} taken")}


@task("report_monthly", "月报生成", "Monthly report")
def report_monthly(session, params, progress, actor, now):
    row = stored.generate(session, actor, params["node"], params["month"], now=now,
                          job_run_id=progress.run_id, progress=progress)
    name, month = row.data["zh"]["node"]["name"], f"{row.month:%Y-%m}"
    return {"node": row.node_code, "month": month, "monthly_report": row.id, "millis": row.millis,
            "summary": said(f"{name} {month} 月报已生成", f"the report of {name} for {month} is generated")}


@task("backup", "数据库备份", "Database backup")
def nightly_backup(session, params, progress, actor, now):
    manifest = backups.backup_as_configured(session, current_app.config)
    return {"file": manifest.file, "size": manifest.size, "sha256": manifest.sha256,
            "tables": len(manifest.tables),
            "summary": said(f"已备份：{manifest.file}，{manifest.size} 字节", f"backed up: {manifest.file}, {manifest.size} bytes")}


@task("seal_dormant", "封存长期未用账号", "Seal dormant accounts")
def dormant_accounts(session, params, progress, actor, now):
    sealed = identity.seal_dormant(session, now)
    return {"sealed": sealed, "summary": said(f"封存 {sealed} 个长期未使用的账号", f"{sealed} dormant accounts sealed")}


@task("export_expiry", "过期导出清理", "Expired exports wiped")
def expired_exports(session, params, progress, actor, now):
    wiped = export_requests.expire_due(session, now)
    return {"expired": wiped, "summary": said(f"{wiped} 个已过期的导出文件已清除", f"{wiped} expired export files wiped")}


def _export_what(session, params) -> export_requests.What:
    school = session.scalar(select(School).where(School.code == params["school"])) if params.get("school") else None
    return export_requests.What(params["kind"], school, params.get("class_id"))


def _export(session, params, actor, now, *, held: bool) -> dict:
    """Make an export's file in a job: filed for approval (``held``), or made approved at once
    unless the rules hold it by now (the window filled while it waited)."""
    what = _export_what(session, params)
    if what.kind == "students":
        maker = export_requests.file if held else export_requests.make
        req = maker(session, rulesets.current(session), actor, what, now)
    else:
        req = (confirm_forms.request if held else confirm_forms.make)(session, actor, what, now)
    out = {"export_request": req.id, "rows": req.rows}
    if held:
        return {**out, "summary": said(f"已提交导出申请 #{req.id}（{req.rows} 人），等待学籍主管领导审批",
                                       f"export request {req.id} filed ({req.rows} students), waiting for a supervisor")}
    if req.needs_approval:
        return {**out, "summary": said(f"导出已转为导出申请 #{req.id}（{req.rows} 人），等待学籍主管领导审批",
                                       f"export {req.id} ({req.rows} students) now needs a supervisor's approval")}
    return {**out, "download": True, "summary": said(f"导出文件已生成（{req.rows} 人），可下载",
                                                      f"the export is ready ({req.rows} students): download it")}


@task("export_file", "导出申请（生成文件）", "Export request (making the file)")
def export_file(session, params, progress, actor, now):
    return _export(session, params, actor, now, held=True)


@task("export_make", "导出（生成文件）", "Export (making the file)")
def export_make(session, params, progress, actor, now):
    """An export no rule holds, too large for a web request: the file made and stored approved."""
    return _export(session, params, actor, now, held=False)


KINDS = tuple(TASKS)  # every kind above, registered on import


# -- what pages, the API and the command line start ----------------------------------------------

@transactional
def check_upload(session, *, school, actor, filename: str, data: bytes, now,
                 purpose: str = "students") -> tuple[ImportJob, JobRun]:
    """Store an upload and queue its check, in one transaction."""
    upload = admissions.upload if purpose == admissions.PURPOSE else imports.upload
    job = upload(session, school=school, actor=actor, filename=filename, data=data)
    session.flush()
    return job, start(session, "import_check", {"import_job": job.id}, actor, now=now, at=job.school,
                      subject=f"import_job:{job.id}")


@transactional
def commit_upload(session, job: ImportJob, actor, now, *, valid_only: bool = False) -> JobRun:
    """Queue the commit of a checked upload; a student import is claimed first (two clicks start
    one commit), an admission list claims itself when it runs (one transaction)."""
    if job.purpose != admissions.PURPOSE:
        imports.claim(session, job, actor, valid_only=valid_only)
    return start(session, "import_commit", {"import_job": job.id, "valid_only": valid_only}, actor,
                 now=now, at=job.school, subject=f"import_job:{job.id}")


@transactional
def promote_later(session, actor, code: str, now) -> JobRun:
    """Queue the promotion of node ``code`` once the rules and the blockers allow it now (the
    refusal is immediate; the job checks again when it runs)."""
    plan = promotion.plan(session, actor, code, now)
    promotion.require_runner(actor)
    if not plan.allowed:
        raise RuleViolation(plan.problems)
    return start(session, "promotion", {"node": code}, actor, now=now, at=promotion.node_of(session, actor, code),
                 subject=f"node:{code}")


@transactional
def detect_later(session, actor, now) -> JobRun:
    """Queue problem-record detection for a bureau's registrar (the whole registry is checked: a
    duplicate crosses any boundary; each account then sees its own cases)."""
    return start(session, "problems_detect", {}, actor, now=now, at=actor.place(session), subject="problems")


@transactional
def export_later(session, actor, what, now, *, held: bool = True) -> JobRun:
    """Queue the making of a held export's file (a county's students can be tens of thousands of
    rows); the job files the request for approval once the file is made.  ``held=False``: an
    export no rule holds, too large to make inside a web request; the job stores it approved."""
    return start(session, "export_file" if held else "export_make",
                 {"kind": what.kind, "school": what.school.code if what.school else None,
                  "class_id": what.class_id}, actor, now=now,
                 at=what.school or actor.place(session), subject=f"export:{what.kind}")
