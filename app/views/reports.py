"""统计报表 → 月报: the monthly report of a node the account sees (its own by default, last month by
default), each figure with its definition beside it, its breakdown and month-over-month change, the
drill-down to the node's children, and the report as JSON for the charts."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..services.reports import monthly, nodes, plain
from ..services.reports.window import previous_month
from ..web.common import actor, now


def _asked() -> tuple[str | None, str]:
    """The node and month the page was asked for (defaults: the account's node, last month)."""
    month = (request.args.get("month") or "").strip() or f"{previous_month(now().date().replace(day=1)):%Y-%m}"
    return (request.args.get("node") or "").strip() or None, month


class ReportView(BaseView):
    """The monthly report (月报): page and JSON, scoped to the account's node and below."""

    route_base = "/reports"
    default_view = "monthly"
    class_permission_name = "Report"
    method_permission_name = {"monthly": "list", "monthly_json": "list"}

    @expose("/monthly")
    @has_access
    def monthly(self):
        code, month = _asked()
        who = actor()
        report = monthly.compute(db.session, who, code, month, now=now())
        data = plain.as_dict(report)
        return self.render_template(
            "xueji/report_monthly.html", report=report, data=data,
            pickable=nodes.pickable(db.session, who, report.node_code),
            up=nodes.parent_within(db.session, who, report.node_code),
            json_url=url_for("ReportView.monthly_json", node=report.node_code, month=report.period))

    @expose("/monthly.json")
    @has_access
    def monthly_json(self):
        code, month = _asked()
        try:
            report = monthly.compute(db.session, actor(), code, month, now=now())
        except DomainError as exc:
            return jsonify(exc.as_json()), exc.status
        return jsonify(plain.as_dict(report))
