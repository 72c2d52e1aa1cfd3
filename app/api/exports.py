"""REST for exports (导出审批) under /api/v1/export_request/, JWT only, scoped like the pages:

* GET / -- the account's own export requests and, for a supervisor, every one of its jurisdiction
  it may decide (rison ``filters`` on status, kind, username, scope_code, needs_approval: an unknown
  column or operator is a 400 naming it); newest first unless ``order_column`` says otherwise;
* GET /<id> -- one of them (another jurisdiction's, or another registrar's: 404);
* POST / {kind, school?, class_id?} -- the export's file made by a job (202 with the job and, once
  done, ``export_request``): one the rules hold waits for a supervisor; one they do not is approved
  at once (``needs_approval`` false, with the rule that let it go);
* POST /<id>/approve, /<id>/refuse {note?} -- a supervisor of its node or one above, never their own;
* GET /<id>/download -- the approved file, its requester only, logged with its sha256 (header
  ``X-Content-SHA256``), within the same download limits as the page."""

from __future__ import annotations

from flask import url_for
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.filters import BaseFilter
from marshmallow import fields
from marshmallow.validate import OneOf, Regexp
from sqlalchemy import select, true

from ..errors import DomainError, NotFound
from ..extensions import db
from ..i18n import t
from ..models import ExportRequest, School, SchoolClass
from ..security.scoping import SCOPED
from ..services.exchange import confirm_forms, export_requests, exports
from ..services.operations import job_tasks, jobs
from ..services.policy import rulesets
from ..web.common import actor, attachment, interface, now
from .base import ScopedApi
from .common import Strict, Whole, body, text

COLUMNS = ["id", "kind", "scope_level", "scope_code", "class_id", "rows", "username", "requested_at", "status",
           "needs_approval", "reason", "rule_source", "decided_by", "decided_at", "note", "expires_at",
           "downloads", "filename", "size", "sha256"]


class MineOrDecidable(BaseFilter):
    """FAB base filter: the account's own requests; a supervisor's: every one in its scope."""

    name = "Mine or decidable"
    arg_name = "mine"

    def apply(self, query, value):
        who = actor()
        if who.may("ExportRequest", "decide"):
            return query.filter(true())
        mine = (ExportRequest.user_id == who.user_id if who.user_id is not None
                else ExportRequest.username == who.username)
        return query.filter(mine)


class ExportBody(Strict):
    """POST /api/v1/export_request/: what to export (a school's code for the confirmation forms)."""

    kind = fields.String(required=True, validate=OneOf(tuple(exports.KINDS)))
    school = fields.String(allow_none=True, validate=Regexp(r"^\d{10}$"))
    class_id = Whole(allow_none=True)


class DecisionBody(Strict):
    note = text(300, allow_none=True)


def _what(data: dict) -> export_requests.What:
    """The export asked for, its school and class inside the account's jurisdiction (else 404)."""
    who, school, class_id = actor(), None, data.get("class_id")
    if data.get("school"):
        school = who.find(db.session, School, t(f"没有学校 {data['school']}", f"no school {data['school']}"),
                          School.code == data["school"], field="school")
    if data["kind"] != "students" and school is None:
        raise NotFound(t("确认表须指定学校", "the confirmation forms are a school's: give school"), "school")
    if class_id is not None and (school is None or db.session.scalar(select(SchoolClass.id).where(
            SchoolClass.id == class_id, SchoolClass.school_id == school.id)) is None):
        raise NotFound(t(f"学校没有班级 #{class_id}", f"no class {class_id} in that school"), "class_id")
    return export_requests.What(data["kind"], school, class_id)


class ExportRequestApi(ScopedApi):
    resource_name = "export_request"
    datamodel = interface(ExportRequest)
    class_permission_name = "ExportRequest"
    include_route_methods = {"get", "get_list", "post_export", "decide", "download"}
    method_permission_name = {"get": "show", "get_list": "list", "post_export": "add", "decide": "decide",
                              "download": "show"}
    base_filters = [*SCOPED, ["id", MineOrDecidable, None]]
    list_columns = show_columns = COLUMNS
    search_columns = ["status", "kind", "username", "scope_code", "needs_approval"]
    order_columns = ["id", "requested_at", "status", "rows"]
    base_order = ("id", "desc")

    def _answer(self, work, status: int = 200):
        try:
            result = work()
        except DomainError as exc:  # the use case has rolled its own transaction back
            return self.response(exc.status, **exc.as_json())
        return result if not isinstance(result, dict) else self.response(status, **result)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def post_export(self):
        """Make the export's file by a job: held for a supervisor, or approved at once."""
        def work():
            what, who, at = _what(body(ExportBody)), actor(), now()
            if what.kind != "students":
                confirm_forms.gate(db.session, who, what, at)
            plan = export_requests.assess(db.session, rulesets.current(db.session), who, what, at)
            run = job_tasks.export_later(db.session, who, what, at, held=bool(plan.reasons))
            jobs.launch(run)
            db.session.refresh(run)
            return {"job": jobs.view(run), "job_url": url_for("JobApi.get", pk=run.id),
                    "held": [v.as_dict() for v in plan.reasons],
                    "export_request": (run.result or {}).get("export_request")}
        return self._answer(work, 202)

    @expose("/<int:pk>/<string:verdict>", methods=["POST"])
    @protect()
    @safe
    def decide(self, pk, verdict):
        """approve / refuse {note?}: a supervisor of the export's node or one above."""
        def work():
            if verdict not in ("approve", "refuse"):
                raise NotFound(t(f"没有操作 {verdict}", f"no action {verdict}: approve or refuse"), "verdict")
            note = body(DecisionBody).get("note")
            self.get_or_404(pk)
            req = export_requests.decide(db.session, actor(), pk, approve=verdict == "approve", now=now(), note=note)
            return {"result": self._dump(req)}
        return self._answer(work)

    @expose("/<int:pk>/download", methods=["GET"])
    @protect()
    @safe
    def download(self, pk):
        """The approved file, for its requester only; logged with its sha256."""
        def work():
            self.get_or_404(pk)
            data, req = export_requests.download(db.session, actor(), pk, now())
            return attachment(data, req.filename, req.content_type, **{"X-Content-SHA256": req.sha256})
        return self._answer(work)

    @staticmethod
    def _dump(req: ExportRequest) -> dict:
        out = {}
        for name in COLUMNS:
            value = getattr(req, name)
            out[name] = value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else value
        return out
