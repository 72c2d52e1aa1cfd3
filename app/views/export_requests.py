"""导出审批: exports the rules hold, filed from the export page; a supervisor of the node or one
above approves or refuses them on the request's page, and the requester downloads the file."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models import ExportRequest, School
from ..services.exchange import export_requests, exports
from ..services.operations import job_tasks, jobs
from ..web.common import actor, attachment, find_or_404, interface, now
from ..web.labels import flash_problems
from .base import ScopedModelView

STATUS = export_requests.STATUS_WORDS
KIND = {"students": t("学生信息", "students"), "confirmation_xlsx": t("确认表 Excel", "forms (Excel)"),
        "confirmation_pdf": t("确认表 PDF", "forms (PDF)")}


def held_page(view, exc: export_requests.ExportHeld, what: export_requests.What):
    """409: the export waits for approval, each rule named, and the form that files the request."""
    page = view.render_template("xueji/export_held.html", problems=exc.problems, kind=what.kind,
                                school=what.school.code if what.school else "", class_id=what.class_id or "")
    return page, 409


class ExportRequestView(ScopedModelView):
    route_base = "/exports/requests"
    datamodel = interface(ExportRequest)
    class_permission_name = "ExportRequest"
    base_permissions = ["can_list", "can_show", "can_add", "can_decide"]
    method_permission_name = {"file": "add", "approve": "decide", "refuse": "decide", "download": "show"}
    list_title = t("导出审批", "Export approvals")
    noun = t("导出申请", "export request")
    list_columns = ["id", "kind", "scope_code", "rows", "username", "requested_at", "status", "decided_by",
                    "decided_at"]
    base_order = ("id", "desc")
    search_columns = ["status", "username", "requested_at"]
    label_columns = {"id": "#", "kind": t("类型", "Kind"), "scope_code": t("范围", "Scope"),
                     "rows": t("人数", "Students"), "username": t("申请人", "Requested by"),
                     "requested_at": t("申请时间", "Requested"), "status": t("状态", "Status"),
                     "decided_by": t("审批人", "Decided by"), "decided_at": t("审批时间", "Decided")}
    formatters_columns = {"status": lambda s: STATUS.get(s, s), "kind": lambda k: KIND.get(k, k)}

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        return self._page(self.get_or_404(pk))

    def _page(self, req, status: int = 200):
        who = actor()
        mine = req.username == who.username
        return self.render_template(
            "xueji/export_request.html", req=req, status=STATUS, kind=KIND, mine=mine,
            may_decide=req.status == "pending" and not mine and who.may("ExportRequest", "decide"),
            may_download=mine and req.status in export_requests.DOWNLOADABLE and req.file_enc is not None,
        ), status

    @expose("/file", methods=["POST"])
    @has_access
    def file(self):
        """File the export the rules held (students, or a school's or class's forms)."""
        kind, form = request.form.get("kind", ""), request.form
        if kind not in exports.KINDS:
            flash(t("导出类型不正确", "unknown export kind"), "danger")
            return redirect(url_for("ImportView.exports"))
        school = find_or_404(School, School.code == form["school"]) if form.get("school") else None
        if school is None and kind != "students":
            abort(404)  # confirmation forms are a school's
        what = export_requests.What(kind, school,
                                    int(form["class_id"]) if form.get("class_id", "").isdigit() else None)
        try:
            run = job_tasks.export_later(db.session, actor(), what, now())
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("ImportView.exports"))
        jobs.launch(run)  # the file is made by the job worker (at once in the demo)
        db.session.refresh(run)
        if run.status == "failed":
            flash(run.message or t("导出申请未能提交", "the export request failed"), "danger")
            return redirect(url_for("ImportView.exports"))
        if run.status != "done":
            return redirect(url_for("JobView.show", pk=run.id))
        req_id = run.result["export_request"]
        flash(t(f"已提交导出申请 #{req_id}，等待学籍主管领导审批", f"export request {req_id} filed"), "success")
        return redirect(url_for("ExportRequestView.show", pk=req_id))

    def _decide(self, pk, approve: bool):
        self.get_or_404(pk)  # another jurisdiction's request is not there
        try:
            req = export_requests.decide(db.session, actor(), pk, approve=approve, now=now(),
                                         note=request.form.get("note"))
        except DomainError as exc:
            flash_problems(exc)
        else:
            flash(t(f"导出申请 #{pk} {STATUS[req.status]}", f"export request {pk} {req.status}"), "success")
        return redirect(url_for("ExportRequestView.show", pk=pk))

    @expose("/approve/<int:pk>", methods=["POST"])
    @has_access
    def approve(self, pk):
        return self._decide(pk, True)

    @expose("/refuse/<int:pk>", methods=["POST"])
    @has_access
    def refuse(self, pk):
        return self._decide(pk, False)

    @expose("/download/<int:pk>")
    @has_access
    def download(self, pk):
        """The approved file, for its requester only; otherwise the page says why (403/409)."""
        self.get_or_404(pk)
        try:
            data, req = export_requests.download(db.session, actor(), pk, now())
        except DomainError as exc:
            flash_problems(exc)
            return self._page(self.get_or_404(pk), exc.status)
        return attachment(data, req.filename, req.content_type)
