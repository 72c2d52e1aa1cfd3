"""录取名单: a school uploads its admission list (the official template), sees every row checked,
commits it; the bureau resolves duplicate admissions (重复录取)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models import School
from ..security.inputs import as_db_int
from ..services.operations import job_tasks, jobs
from ..services.schoolyear import admission_cases, admissions
from ..web.common import actor, attachment, now
from ..web.labels import flash_problems
from .excel import STATUS, XLSX


def _own_school() -> School:
    school_id = actor().school_id
    if school_id is None:
        abort(404)
    return db.session.scalar(select(School).where(School.id == school_id))


class AdmissionView(BaseView):
    """导入录取名单 of one's own school."""

    route_base = "/admissions"
    default_view = "index"
    class_permission_name = "Admission"
    base_permissions = ["can_add", "can_resolve"]
    method_permission_name = {"index": "add", "upload": "add", "job": "add", "commit": "add",
                              "template": "add", "duplicates": "resolve", "resolve": "resolve"}

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("xueji/admission_index.html", school=_own_school(), status=STATUS,
                                    jobs=admissions.jobs(db.session, actor()))

    @expose("/template")
    @has_access
    def template(self):
        return attachment(admissions.template(db.session, _own_school()), "录取名单模板.xlsx", XLSX)

    @expose("/upload", methods=["POST"])
    @has_access
    def upload(self):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(t("请选择文件", "choose a file"), "danger")
            return redirect(url_for("AdmissionView.index"))
        try:
            job, run = job_tasks.check_upload(db.session, school=_own_school(), actor=actor(),
                                              filename=upload.filename, data=upload.read(), now=now(),
                                              purpose=admissions.PURPOSE)
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("AdmissionView.index"))
        jobs.launch(run)
        return redirect(url_for("AdmissionView.job", pk=job.id))

    @expose("/job/<int:pk>")
    @has_access
    def job(self, pk):
        try:
            job = admissions.job(db.session, actor(), pk)
        except DomainError:
            abort(404)
        return self.render_template("xueji/admission_job.html", job=job, status=STATUS)

    @expose("/job/<int:pk>/commit", methods=["POST"])
    @has_access
    def commit(self, pk):
        try:
            job = admissions.job(db.session, actor(), pk)  # one's own school's list, or not found
        except DomainError:
            abort(404)
        valid_only = request.form.get("mode") == "valid_only"
        jobs.launch(job_tasks.commit_upload(db.session, job, actor(), now(), valid_only=valid_only))
        return redirect(url_for("AdmissionView.job", pk=pk))

    @expose("/duplicates")
    @has_access
    def duplicates(self):
        cases = admission_cases.cases(db.session, actor())
        return self.render_template("xueji/admission_duplicates.html", cases=cases)

    @expose("/duplicates/resolve", methods=["POST"])
    @has_access
    def resolve(self):
        try:
            keep = as_db_int(request.form.get("keep") or "")
            if keep is None or keep < 1:
                raise ValueError(keep)
            case = admission_cases.resolve(db.session, actor(), keep, request.form.get("reason", ""), now())
            kept = next(r.school.name for r in case.rows if r.status == "admitted")
            flash(t(f"已裁定：{case.name} 由 {kept} 录取", f"resolved: {kept} keeps the student"), "success")
        except DomainError as exc:
            flash_problems(exc)
        except ValueError:
            flash(t("请选择保留录取的学校", "pick the school that keeps the student"), "danger")
        return redirect(url_for("AdmissionView.duplicates"))
