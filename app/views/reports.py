"""统计报表 → 月报: the monthly report of a node the account sees (its own by default, last month by
default), each figure with its definition beside it, its breakdown and month-over-month change, the
drill-down to the node's children, and the report as JSON for the charts.

The page serves the report *stored* by the ``report_monthly`` job (``app.services.reports.stored``)
and never computes one: with none stored it offers to generate it (a job; the button leads to the
job's page), and with one stored it shows when it was generated and offers to generate it again."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..services.operations import jobs
from ..services.reports import nodes, stored
from ..services.reports.window import month_start, next_month, previous_month
from ..web.common import actor, attachment, now
from ..web.labels import flash_problems
from ..web.monthly_report import absent, lang, stored_dict

MIMES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "pdf": "application/pdf"}


def _asked() -> tuple[str | None, str]:
    """The node and month the page was asked for (defaults: the account's node, last month)."""
    month = (request.args.get("month") or "").strip() or f"{previous_month(now().date().replace(day=1)):%Y-%m}"
    return (request.args.get("node") or "").strip() or None, month


class ReportView(BaseView):
    """The monthly report (月报): page, JSON and files of the stored report, scoped to the account's
    node and below; generating (again) queues the job."""

    route_base = "/reports"
    default_view = "monthly"
    class_permission_name = "Report"
    method_permission_name = {"monthly": "list", "monthly_json": "list", "download": "download",
                              "generate": "generate"}

    @expose("/monthly")
    @has_access
    def monthly(self):
        code, month = _asked()
        who = actor()
        node, first = stored.asked(db.session, who, code, month, now())
        row = stored.find(db.session, who, node, first)
        report = stored.report_of(db.session, row, lang()) if row is not None else None
        return self.render_template(
            "xueji/report_monthly.html", node=node, period=f"{first:%Y-%m}", report=report, stored=row,
            data=stored_dict(row, report) if row is not None else None,
            stale=row is not None and row.live and month_start(next_month(first)) <= now(),
            pending=stored.pending(db.session, who, node, first),
            pickable=nodes.pickable(db.session, who, node.code), up=nodes.parent_within(db.session, who, node.code),
            json_url=url_for("ReportView.monthly_json", node=node.code, month=f"{first:%Y-%m}"))

    @expose("/monthly.json")
    @has_access
    def monthly_json(self):
        code, month = _asked()
        who = actor()
        try:
            node, first = stored.asked(db.session, who, code, month, now())
        except DomainError as exc:
            return jsonify(exc.as_json()), exc.status
        row = stored.find(db.session, who, node, first)
        if row is None:
            body, status = absent(node, first, stored.pending(db.session, who, node, first),
                                  url_for("ReportView.generate"))
            return jsonify(body), status
        return jsonify(stored_dict(row, stored.report_of(db.session, row, lang())))

    @expose("/monthly/generate", methods=["POST"])
    @has_access
    def generate(self):
        """Queue the generation of the node's month (again): to the job's page."""
        node, month = request.form.get("node") or None, request.form.get("month") or ""
        try:
            run = stored.queue(db.session, actor(), node, month, now=now())
        except DomainError as exc:
            if exc.status in (403, 404):
                abort(exc.status)
            flash_problems(exc)
            return redirect(url_for("ReportView.monthly", node=node, month=month))
        jobs.launch(run)
        flash(t("已提交月报生成任务", "the report is queued for generation"), "info")
        return redirect(url_for("JobView.show", pk=run.id))

    @expose("/monthly/file")
    @has_access
    def download(self):
        """The stored report's xlsx (?format=xlsx) or PDF (?format=pdf), in the reader's language."""
        code, month = _asked()
        who = actor()
        node, first = stored.asked(db.session, who, code, month, now())
        found = stored.file_of(db.session, who, node, first, request.args.get("format") or "xlsx", lang())
        return attachment(found.body, found.name, MIMES[found.kind])
