"""REST for the monthly report (月报): GET /api/v1/report/monthly?node=CODE&month=YYYY-MM -- the same
report as the page, scoped the same way (another jurisdiction's node is a 404)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe

from ..errors import DomainError
from ..extensions import db
from ..services.reports import monthly, plain
from ..services.reports.window import previous_month
from ..web.common import actor, now


class ReportApi(BaseApi):
    resource_name = "report"
    class_permission_name = "Report"
    allow_browser_login = False
    method_permission_name = {"monthly": "get"}

    @expose("/monthly", methods=["GET"])
    @protect()
    @safe
    def monthly(self):
        """The monthly report of ?node= (a 6-digit division or 10-digit school code; default: one's
        own node) for ?month= (YYYY-MM; default: last month), as of the month's end."""
        code = (request.args.get("node") or "").strip() or None
        month = (request.args.get("month") or "").strip() or \
            f"{previous_month(now().date().replace(day=1)):%Y-%m}"
        try:
            report = monthly.compute(db.session, actor(), code, month, now=now())
        except DomainError as exc:
            return self.response(exc.status, **exc.as_json())
        return self.response(200, **plain.as_dict(report))
