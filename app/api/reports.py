"""REST for the monthly report (月报), answered from the stored report (never computed in the request):

* GET /api/v1/report/monthly?node=CODE&month=YYYY-MM -- 200 with the stored report (and ``stored``:
  when, by whom and by which job it was made); 202 with the job while it is being generated; 404
  (field ``month``) when it was never generated, naming where to ask for it;
* POST /api/v1/report/monthly {node, month} -- 202 with the ``report_monthly`` job that generates it
  (again); follow it at /api/v1/job/<id>.

Scoped as the page: another jurisdiction's node is a 404."""

from __future__ import annotations

from flask import request, url_for
from flask_appbuilder.api import expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length, Regexp

from ..extensions import db
from ..services.operations import jobs
from ..services.reports import stored
from ..services.reports.window import previous_month
from ..web.common import actor, now
from ..web.monthly_report import absent, lang, stored_dict
from .common import DomainApi, Strict, body


class GenerateBody(Strict):
    """POST /api/v1/report/monthly: the node's code (default: one's own) and the month (YYYY-MM)."""

    node = fields.String(validate=[Length(min=6, max=10), Regexp(r"^\d+$")])
    month = fields.String(required=True, validate=Regexp(r"^\d{4}-\d{2}$"))


class ReportApi(DomainApi):
    resource_name = "report"
    class_permission_name = "Report"
    method_permission_name = {"monthly": "get", "generate": "generate"}

    @expose("/monthly", methods=["GET"])
    @protect()
    @safe
    def monthly(self):
        """The stored monthly report of ?node= (a 6-digit division or 10-digit school code; default:
        one's own node) for ?month= (YYYY-MM; default: last month)."""
        def work():
            code = (request.args.get("node") or "").strip() or None
            month = (request.args.get("month") or "").strip() or \
                f"{previous_month(now().date().replace(day=1)):%Y-%m}"
            who = actor()
            node, first = stored.asked(db.session, who, code, month, now())
            row = stored.find(db.session, who, node, first)
            if row is None:
                answer, status = absent(node, first, stored.pending(db.session, who, node, first),
                                        url_for("ReportApi.generate"))
                return self.response(status, **answer)
            return stored_dict(row, stored.report_of(db.session, row, lang()))
        return self.answer(work)

    @expose("/monthly", methods=["POST"])
    @protect()
    @safe
    def generate(self):
        """Queue the generation of a node's month (a registrar or supervisor who may read it)."""
        def work():
            data = body(GenerateBody)
            run = stored.queue(db.session, actor(), data.get("node"), data["month"], now=now())
            jobs.launch(run)
            db.session.refresh(run)
            return self.response(202, job=jobs.view(run), job_url=url_for("JobApi.get", pk=run.id))
        return self.answer(work)

