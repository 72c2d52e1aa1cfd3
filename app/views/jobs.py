"""任务: long work queued for the job worker -- its progress (done of total, percent, time left),
its outcome, and a cancel button for its starter."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..services.operations import jobs
from ..web.common import actor
from ..web.labels import flash_problems

STATUS = {"queued": t("排队中", "Queued"), "running": t("执行中", "Running"), "done": t("已完成", "Done"),
          "failed": t("失败", "Failed"), "cancelled": t("已取消", "Cancelled")}


class JobView(BaseView):
    route_base = "/jobs"
    default_view = "index"
    class_permission_name = "Job"
    method_permission_name = {"index": "show", "show": "show", "progress": "show", "cancel": "cancel"}

    def _run(self, pk: int):
        try:
            return jobs.get(db.session, actor(), pk)
        except DomainError:
            abort(404)

    @expose("/")
    @has_access
    def index(self):
        runs = [jobs.view(r) for r in jobs.recent(db.session, actor())]
        return self.render_template("xueji/jobs.html", runs=runs, status=STATUS)

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self.render_template("xueji/job.html", job=jobs.view(self._run(pk)), status=STATUS)

    @expose("/<int:pk>/progress")
    @has_access
    def progress(self, pk: int):
        return jsonify(jobs.view(self._run(pk)))

    @expose("/<int:pk>/cancel", methods=["POST"])
    @has_access
    def cancel(self, pk: int):
        try:
            jobs.cancel(db.session, actor(), pk)
            flash(t("已请求取消：正在执行的任务在当前批次结束后停止", "cancel requested: a running job stops after its current batch"),
                  "info")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("JobView.show", pk=pk))
