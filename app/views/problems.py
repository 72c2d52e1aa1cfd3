"""Problem records (问题学籍): the list for each level, a case's page with its records and actions."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models import ProblemCase
from ..services.operations import job_tasks, jobs
from ..services.record import problems as svc
from ..web.common import actor, interface, now
from ..web.labels import flash_problems
from .base import ScopedModelView

KIND = {"invalid_id": t("身份证号错误", "invalid ID"), "duplicate_id": t("有身份证号重复", "duplicate ID"),
        "duplicate_no_id": t("无身份证号重复", "duplicate without ID")}
STATUS = {"open": t("待处理", "open"), "arbitration": t("仲裁中", "arbitration"),
          "resolved": t("已处理", "resolved")}


class ProblemCaseView(ScopedModelView):
    route_base = "/problems"
    datamodel = interface(ProblemCase)
    class_permission_name = "ProblemCase"
    base_permissions = ["can_list", "can_show", "can_edit"]
    method_permission_name = {"confirm": "edit", "withdraw": "edit", "arbitrate": "edit",
                              "detect": "edit", "evidence": "show"}
    list_title = t("问题学籍", "Problem records")
    list_template = "xueji/problem_list.html"
    list_columns = ["id", "kind", "status", "resolution", "detected_at", "resolved_at"]
    search_columns = ["kind", "status", "detected_at"]
    base_order = ("id", "desc")
    label_columns = {"id": t("编号", "No."), "kind": t("类型", "Kind"), "status": t("状态", "Status"),
                     "resolution": t("处理方式", "Resolution"), "detected_at": t("发现时间", "Found"),
                     "resolved_at": t("处理时间", "Resolved")}
    formatters_columns = {"kind": lambda k: KIND.get(k, k), "status": lambda s: STATUS.get(s, s)}

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        case = self.get_or_404(pk)
        return self.render_template("xueji/problem_show.html", case=case, kind=KIND, status=STATUS,
                                    who=actor(), schools=_schools(case))

    def _act(self, pk, fn):
        try:
            fn()
            flash(t("已处理", "done"), "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("ProblemCaseView.show", pk=pk))

    @expose("/<int:pk>/confirm/<int:mid>", methods=["POST"])
    @has_access
    def confirm(self, pk, mid):
        upload = request.files.get("evidence")
        return self._act(pk, lambda: svc.confirm(db.session, pk, mid, actor(), now(),
                                                 evidence=upload if upload and upload.filename else None,
                                                 comment=request.form.get("comment")))

    @expose("/<int:pk>/withdraw/<int:mid>", methods=["POST"])
    @has_access
    def withdraw(self, pk, mid):
        return self._act(pk, lambda: svc.withdraw(db.session, pk, mid, actor(), now(),
                                                  comment=request.form.get("comment")))

    @expose("/<int:pk>/arbitrate/<int:mid>", methods=["POST"])
    @has_access
    def arbitrate(self, pk, mid):
        return self._act(pk, lambda: svc.arbitrate(db.session, pk, mid, actor(), now(),
                                                   comment=request.form.get("comment")))

    @expose("/<int:pk>/evidence/<int:mid>")
    @has_access
    def evidence(self, pk, mid):
        member = next((m for m in self.get_or_404(pk).members if m.id == mid), None)
        if member is None or member.evidence_enc is None:
            abort(404)
        return Response(svc.read_evidence(member), mimetype=member.evidence_type,
                        headers={"Cache-Control": "no-store"})

    @expose("/detect", methods=["POST"])
    @has_access
    def detect(self):
        if actor().scope.level not in ("province", "city", "county"):
            abort(403)
        run = job_tasks.detect_later(db.session, actor(), now())
        jobs.launch(run)
        return redirect(url_for("JobView.show", pk=run.id))


def _schools(case) -> dict:
    from ..models import School

    return {m.id: db.session.get(School, m.school_id) for m in case.members}
