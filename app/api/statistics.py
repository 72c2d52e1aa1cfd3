"""REST for the school statistics table (学校统计表): GET /api/v1/report/statistics?node=CODE,
the same table as the page, scoped the same way (another jurisdiction's node is a 404)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe

from ..errors import DomainError
from ..extensions import db
from ..services.reports import statistics
from ..web.common import actor, now


class StatisticsApi(BaseApi):
    resource_name = "report"
    class_permission_name = "Report"
    allow_browser_login = False
    method_permission_name = {"table": "get"}

    @expose("/statistics", methods=["GET"])
    @protect()
    @safe
    def table(self):
        """The statistics table of ?node= (a 6-digit division or 10-digit school code; default:
        one's own node): one row per child node, or per grade of a school, and the total."""
        code = (request.args.get("node") or "").strip() or None
        try:
            stats = statistics.school_statistics(db.session, actor(), code, now())
        except DomainError as exc:
            return self.response(exc.status, **exc.as_json())
        return self.response(200, **stats.as_dict())
