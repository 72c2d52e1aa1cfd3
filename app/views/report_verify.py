"""报表核验: anyone uploads a report file and learns whether it is unaltered and who signed it off,
or what changed; the page publishes every node's public keys.  Beside it, the supervisor's sign-off
(签发) of a month's report and the download of the signed xlsx and PDF."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from werkzeug.routing import BuildError

from ..errors import DomainError
from ..extensions import db
from ..i18n import english, t
from ..services.reports import nodes, signing
from ..web.common import actor, attachment, now

MIMES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "pdf": "application/pdf"}


def _keys() -> list:
    return sorted(signing.published_keys(), key=lambda k: (k.node, k.valid_from))


class ReportVerifyView(BaseView):
    """Public: no sign-in needed to check a file, as anyone holding one may want to."""

    route_base = "/reports/verify"
    default_view = "index"

    @expose("/")
    def index(self):
        return self.render_template("xueji/report_verify.html", verdict=None, keys=_keys(), filename=None)

    @expose("/", methods=["POST"])
    def check(self):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(t("请选择要核验的文件（file）", "choose the file to check (file)"), "danger")
            return redirect(url_for("ReportVerifyView.index"))
        data = upload.stream.read(signing.files.MAX_UPLOAD + 1)
        verdict = signing.verify_file(data)
        return self.render_template("xueji/report_verify.html", verdict=verdict, keys=_keys(),
                                    filename=upload.filename)


def may_sign_off(report) -> bool:
    """Whether the signed-in account is offered 签发 on ``report``'s page: a draft of a past month,
    and the account a supervisor of that very node (the service checks again)."""
    if report.status != "draft" or getattr(report, "live", False):
        return False
    who = actor()
    if not who.may("Report", "sign") or "supervisor" not in who.functions:
        return False
    own = nodes.own(db.session, who)
    return own is not None and own.code == report.node_code


def _back(node: str | None, month: str | None):
    """To the month's report page (Part of the monthly report), else the verify page."""
    try:
        return redirect(url_for("ReportView.monthly", node=node, month=month))
    except BuildError:  # the monthly report page is not registered in this build
        return redirect(url_for("ReportVerifyView.index"))


class ReportSignoffView(BaseView):
    """签发 a month's report (its node's supervisor) and download its signed files (its readers)."""

    route_base = "/reports/signoff"
    default_view = "download"
    class_permission_name = "Report"
    method_permission_name = {"sign": "sign", "download": "download"}

    @expose("/", methods=["POST"])
    @has_access
    def sign(self):
        node, month = request.form.get("node", ""), request.form.get("month", "")
        try:
            row = signing.sign_off(db.session, actor(), node_code=node, month=month, now=now())
        except DomainError as exc:
            if exc.status in (403, 404):  # not its node's supervisor / not in its jurisdiction
                abort(exc.status, description=str(exc))
            for problem in exc.problems:
                flash(str(problem), "danger")
            return _back(node, month)
        flash(t(f"已签发 {row.month:%Y-%m} 月报（密钥 {row.key_id}）",
                f"the report of {row.month:%Y-%m} is signed off (key {row.key_id})"), "success")
        return _back(node, month)

    @expose("/file")
    @has_access
    def download(self):
        """The signed xlsx (?format=xlsx) or PDF (?format=pdf) of a signed-off month."""
        node = request.args.get("node") or ""
        month, kind = request.args.get("month") or "", request.args.get("format") or "xlsx"
        try:
            data, name = signing.signed_export(db.session, actor(), node_code=node, month=month, kind=kind,
                                               now=now(), lang="en" if english() else "zh")
        except DomainError as exc:
            if exc.status in (403, 404):  # another jurisdiction's report is not there
                abort(exc.status)
            for problem in exc.problems:
                flash(str(problem), "danger")
            return _back(node, month)
        return attachment(data, name, MIMES[kind])
