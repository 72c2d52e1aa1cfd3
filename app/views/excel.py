"""Excel in and out: the template, imports (upload, progress, report, commit, resume), exports and
the printable confirmation forms."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Response, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access
from sqlalchemy import select

from ..documents.archive import WorkbookRefused
from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models import ImportJob, School
from ..services.exchange import confirm_forms, export_requests, imports
from ..services.exchange.import_report import annotated
from ..services.operations import job_tasks, jobs
from ..services.policy import rulesets
from ..services.record import personal_data
from ..web.common import actor, attachment, find_or_404, interface, now
from ..web.labels import flash_problems
from .base import ScopedModelView
from .export_requests import held_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS = {"uploaded": t("已上传", "uploaded"), "checking": t("检查中", "checking"),
          "checked": t("已检查", "checked"), "committing": t("导入中", "importing"),
          "done": t("已完成", "done"), "refused": t("已拒绝", "refused"), "failed": t("中断", "failed")}

PURPOSE = {"students": t("学生信息", "students"), "admissions": t("录取名单", "admission list")}


def _download_file(write, name: str) -> Response:
    """Write a large workbook to a temporary file (flat memory) and stream it; the file goes away
    once sent."""
    handle, raw = tempfile.mkstemp(suffix=".xlsx", dir=current_app.config.get("INSTANCE_DIR"))
    os.close(handle)
    path = Path(raw)
    try:
        write(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise

    def chunks():
        try:
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    yield block
        finally:
            path.unlink(missing_ok=True)

    return attachment(chunks(), name, XLSX, **{"Content-Length": str(path.stat().st_size)})


def _made_by_job(view, what: export_requests.What):
    """A held export: its page (409, naming the rule); one too large for a web request: a job makes
    it and the job's page links the download; None: small enough to make now."""
    who, at = actor(), now()
    plan = export_requests.assess(db.session, rulesets.current(db.session), who, what, at)
    if plan.reasons:
        return held_page(view, export_requests.ExportHeld(plan.reasons), what)
    if plan.rows <= current_app.config.get("XUEJI_EXPORT_INLINE_ROWS", 2000):
        return None
    run = job_tasks.export_later(db.session, who, what, at, held=False)
    jobs.launch(run)
    return redirect(url_for("JobView.show", pk=run.id))


def _school_for(code: str | None):
    """A school inside the account's subtree: the named one, or the account's own."""
    who = actor()
    if not code and not who.school_id:
        return None
    return find_or_404(School, School.code == code if code else School.id == who.school_id)


class ImportView(ScopedModelView):
    route_base = "/imports"
    datamodel = interface(ImportJob)
    class_permission_name = "ImportJob"
    base_permissions = ["can_list", "can_show", "can_add", "can_export"]
    method_permission_name = {"template": "show", "upload": "add", "progress": "show",
                              "report": "show", "commit": "add", "students_xlsx": "export",
                              "confirmation": "export", "exports": "export"}
    list_template = "xueji/import_list.html"  # the buttons: import, template, export
    list_title = t("导入记录", "Imports")
    noun = t("导入任务", "import")
    show_title = t("导入任务", "Import")
    list_columns = ["id", "purpose", "filename", "status", "rows_total", "rows_valid", "rows_invalid", "created",
                    "updated", "unchanged", "created_by", "created_at"]
    base_order = ("id", "desc")
    search_columns = ["filename", "status", "created_by", "created_at"]
    show_columns = ["id", "filename", "status", "mode", "rows_total", "rows_valid", "rows_invalid",
                    "rows_done", "created", "updated", "unchanged", "message", "created_by", "created_at"]
    label_columns = {"id": "#", "purpose": t("类型", "Kind"), "filename": t("文件", "File"), "status": t("状态", "Status"),
                     "mode": t("导入方式", "Mode"), "rows_done": t("已导入至行", "Committed up to row"),
                     "message": t("说明", "Message"),
                     "rows_total": t("行数", "Rows"), "rows_valid": t("正确", "Valid"),
                     "rows_invalid": t("有问题", "With problems"), "created": t("新增", "Created"),
                     "updated": t("更新", "Updated"), "unchanged": t("未变", "Unchanged"),
                     "created_by": t("操作人", "By"), "created_at": t("时间", "When")}
    formatters_columns = {"status": lambda s: STATUS.get(s, s), "purpose": lambda p: PURPOSE.get(p, p)}

    @expose("/template")
    @has_access
    def template(self):
        """The official template, with the registrar's own classes in the class drop-down."""
        data = imports.template(db.session, _school_for(request.args.get("school")))
        return attachment(data, "学生信息导入模板.xlsx", XLSX)

    @expose("/upload", methods=["GET", "POST"])
    @has_access
    def upload(self):
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash(t("请选择文件", "choose a file"), "danger")
            else:
                try:
                    job, run = job_tasks.check_upload(db.session, school=_school_for(None) or abort(403),
                                                      actor=actor(), filename=upload.filename,
                                                      data=upload.read(), now=now())
                    jobs.launch(run)
                    return redirect(url_for("ImportView.show", pk=job.id))
                except DomainError as exc:
                    for problem in exc.problems:
                        flash(str(problem.message), "danger")
        return self.render_template("xueji/import_upload.html")

    @expose("/job/<int:pk>")
    @has_access
    def show(self, pk):
        """The job's page (the list's show button): counts, progress, problems, commit."""
        job = self.get_or_404(pk)
        return self.render_template("xueji/import_job.html", job=job, status=STATUS,
                                    resumable=job.status in ("checked", "failed") or imports.stalled(job),
                                    run=jobs.latest(db.session, actor(), f"import_job:{job.id}"))

    @expose("/job/<int:pk>/progress")
    @has_access
    def progress(self, pk):
        job = self.get_or_404(pk)
        return jsonify(status=job.status, rows_checked=job.rows_checked, rows_total=job.rows_total,
                       rows_done=job.rows_done, valid=job.rows_valid, invalid=job.rows_invalid,
                       created=job.created, updated=job.updated, unchanged=job.unchanged,
                       message=job.message)

    @expose("/job/<int:pk>/report")
    @has_access
    def report(self, pk):
        """The uploaded sheet again, annotated: the whole of it is personal data, so each
        download is logged naming the job."""
        job, who = self.get_or_404(pk), actor()
        if not personal_data.may_see(who):
            abort(403)
        try:
            data = annotated(db.session, job)
        except WorkbookRefused as exc:  # a file stored before today's limits, refused by them
            flash(str(exc), "danger")
            return redirect(url_for("ImportView.show", pk=pk))
        personal_data.record_job_view(db.session, who, job, "report")
        return attachment(data, f"检查结果-{job.filename}", XLSX)

    @expose("/job/<int:pk>/commit", methods=["POST"])
    @has_access
    def commit(self, pk):
        job = self.get_or_404(pk)
        valid_only = request.form.get("mode") == "valid_only"
        try:
            run = job_tasks.commit_upload(db.session, job, actor(), now(), valid_only=valid_only)
        except DomainError as exc:
            for problem in exc.problems:
                flash(str(problem.message), "danger")
            return redirect(url_for("ImportView.show", pk=pk))
        jobs.launch(run)
        return redirect(url_for("ImportView.show", pk=pk))

    @expose("/export/students")
    @has_access
    def students_xlsx(self):
        """Every student the account may see (or one school of them) in the template."""
        school = _school_for(request.args.get("school")) if request.args.get("school") or actor().school_id else None
        name = f"学生信息-{school.code if school else actor().scope.code}.xlsx"
        what = export_requests.What("students", school)
        try:
            later = _made_by_job(self, what)
            return later if later is not None else _download_file(lambda path: export_requests.deliver(
                db.session, rulesets.current(db.session), actor(), what, path, now()), name)
        except export_requests.ExportHeld as exc:  # above the rules' threshold: file a request
            return held_page(self, exc, what)

    @expose("/export/confirmation")
    @has_access
    def confirmation(self):
        school = _school_for(request.args.get("school"))
        if school is None:
            abort(404)
        pdf = request.args.get("format") == "pdf"
        what = export_requests.What(f"confirmation_{'pdf' if pdf else 'xlsx'}", school)
        try:
            confirm_forms.gate(db.session, actor(), what, now())
            later = _made_by_job(self, what)
            if later is not None:
                return later
            data = (confirm_forms.forms_pdf if pdf else confirm_forms.forms_xlsx)(db.session, actor(), school, now())
        except export_requests.ExportHeld as exc:
            return held_page(self, exc, what)
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("ImportView.exports"))  # the page the form was on
        name = f"确认表-{school.code}.{'pdf' if pdf else 'xlsx'}"
        return attachment(data, name, "application/pdf" if pdf else XLSX)

    @expose("/export/")
    @has_access
    def exports(self):
        """导出: the students of the jurisdiction or of one school, and a school's confirmation
        forms (确认表) as .xlsx or PDF."""
        schools = db.session.scalars(select(School).where(actor().scope.clause(School))
                                     .order_by(School.code)).all()
        return self.render_template("xueji/exports.html", schools=schools,
                                    own_school=actor().school_id)
