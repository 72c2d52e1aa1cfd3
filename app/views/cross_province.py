"""毕业后跨省就学: the receiving school finds another province's graduate by the national registry
number, picks the entry class of the next stage and files; the approvals, the inbox and the pull
(调档) are the request pages' own."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..services.requests import kinds, transfers
from ..services.requests import workflow as svc
from ..web.common import actor, now
from ..web.labels import FORMATTERS, flash_problems
from ..web.pickers import class_choices

KIND = "enroll_cross_province"


class CrossProvinceView(BaseView):
    """毕业后跨省就学（转入）: the receiving school's filing page."""

    route_base = "/requests/cross-province-in"
    default_view = "index"
    class_permission_name = "Request"
    method_permission_name = {"index": "add"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        """Look up (POST only), then confirm the card shown; the confirmation looks up again,
        logged, and files only the record the card showed."""
        who, form = actor(), (request.form if request.method == "POST" else {})
        found = _found(who, form)
        if found is not None and form.get("confirm"):
            if form.get("found", type=int) != found.id:
                flash(t("查找结果与确认的学生不一致，请核对后重新确认", "the record found is not the one "
                        "you confirmed: check it and confirm again"), "danger")
            else:
                rid = _file(who, found, form)
                if rid is not None:
                    return redirect(url_for("RequestView.show", pk=rid))
        grade = found.grade.number + 1 if found is not None and found.grade else None
        return self.render_template(
            "xueji/cross_province_in.html", form=form, classes=class_choices(who.school_id, grade, only=True),
            found=found and {**transfers.card(found), "status": FORMATTERS["status"](found.status)})


def _found(who, form):
    """The graduate the typed registry number finds (None: nothing typed, or nobody found)."""
    if not form.get("registry_no"):
        return None
    try:
        return transfers.lookup_for(db.session, who, kinds.get(KIND),
                                    registry_no=form.get("registry_no"))
    except DomainError as exc:
        flash_problems(exc)
        return None


def _file(who, found, form) -> int | None:
    """File the request; its number, or None with the refusals flashed."""
    try:
        req = svc.start(db.session, kind=KIND, student=found, actor=who, now=now(),
                        files=[f for f in request.files.getlist("evidence") if f and f.filename],
                        note=form.get("note") or None,
                        target_class=svc.own_class(db.session, who, form.get("target_class", type=int)))
    except DomainError as exc:
        flash_problems(exc)
        return None
    flash(t(f"已提交毕业后跨省就学申请 #{req.id}", f"cross-province enrolment request {req.id} filed"),
          "success")
    return req.id
