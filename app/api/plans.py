"""REST for enrollment plans (招生计划): list and read the plans of one's jurisdiction, set and
apply a school's plan (a bureau's registrar), ask for a change (the school's registrar), decide a
change (its bureau's registrar).  Same service, rules and scope as the page.

    GET  /api/v1/enrollment_plan/?year=&school=        POST /api/v1/enrollment_plan/
    GET  /api/v1/enrollment_plan/<id>                  POST /api/v1/enrollment_plan/<id>/apply
    GET  /api/v1/enrollment_plan/change/?status=&year= POST /api/v1/enrollment_plan/<id>/change
    POST /api/v1/enrollment_plan/change/<id>/approve|reject
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length, OneOf

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..services.schoolyear import plan_apply, plan_changes, plans
from ..web.common import actor, now
from .requests import BadInput, Strict, Whole, _load, _text


class PlannedClass(Strict):
    name = _text(40, required=True)
    cap = Whole(1, 1000, required=True)


def _classes() -> fields.List:
    return fields.List(fields.Nested(PlannedClass), required=True, validate=Length(min=1, max=60))


class PlanBody(Strict):
    """POST /api/v1/enrollment_plan/."""

    school = _text(10, required=True)
    school_year = Whole(2000, 2100, required=True)
    grade = Whole(1, 12, required=True)
    classes = _classes()
    seats = Whole(0, 100000, required=True)


class ChangeBody(Strict):
    """POST /api/v1/enrollment_plan/<id>/change."""

    classes = _classes()
    seats = Whole(0, 100000, required=True)
    reason = _text(500, required=True)


class DecisionBody(Strict):
    comment = _text(500, allow_none=True)


class Listing(Strict):
    year = Whole(2000, 2100)
    school = _text(10)
    status = fields.String(validate=OneOf(("pending", "approved", "rejected")))


class EnrollmentPlanApi(BaseApi):
    resource_name = "enrollment_plan"
    class_permission_name = "EnrollmentPlan"
    allow_browser_login = False
    method_permission_name = {"listing": "list", "get": "show", "set_plan": "edit", "apply": "edit",
                              "change_list": "list", "request_change": "add", "decide": "edit"}

    def _run(self, fn, status=200):
        try:
            body = fn()
        except DomainError as exc:  # the use case has rolled its own transaction back
            return self.response(exc.status, **exc.as_json())
        return self.response(status, **body)

    def _json(self, *, optional: bool = False) -> dict:
        if optional and not request.get_data():
            return {}
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadInput(t("请求须为 JSON 对象", "the body must be a JSON object"))
        return data

    def _args(self) -> dict:
        """The query's arguments, checked (?year= a year, ?status= a known status)."""
        raw: dict = dict(request.args.items())
        if str(raw.get("year", "")).isdigit():
            raw["year"] = int(raw["year"])
        return _load(Listing, raw)

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def listing(self):
        """The plans of the jurisdiction (a school: its own), ?year= and ?school= to narrow."""
        def run():
            args = self._args()
            rows = plans.plans(db.session, actor(), school_year=args.get("year"),
                               school_code=args.get("school"))
            return {"count": len(rows), "result": [plans.plan_dict(p) for p in rows]}
        return self._run(run)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk):
        return self._run(lambda: {"result": plans.plan_dict(plans.get_plan(db.session, actor(), pk))})

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def set_plan(self):
        """Set a school's plan: {school, school_year, grade, classes: [{name, cap}], seats}."""
        def run():
            data = _load(PlanBody, self._json())
            plan = plans.set_plan(db.session, actor(), school_code=data["school"],
                                  school_year=data["school_year"], grade=data["grade"],
                                  classes=data["classes"], seats=data["seats"], now=now())
            return {"id": plan.id, "result": plans.plan_dict(plan)}
        return self._run(run)

    @expose("/<int:pk>/apply", methods=["POST"])
    @protect()
    @safe
    def apply(self, pk):
        """Create the grade and the plan's classes not yet created (again: nothing)."""
        return self._run(lambda: {"result": plan_apply.apply_plan(db.session, actor(), pk, now())})

    @expose("/change/", methods=["GET"])
    @protect()
    @safe
    def change_list(self):
        """The change requests of the jurisdiction, newest first (?status=&year=)."""
        def run():
            args = self._args()
            rows = plan_changes.changes(db.session, actor(), status=args.get("status"),
                                        school_year=args.get("year"))
            return {"count": len(rows), "result": [plan_changes.change_dict(c) for c in rows]}
        return self._run(run)

    @expose("/<int:pk>/change", methods=["POST"])
    @protect()
    @safe
    def request_change(self, pk):
        """The school asks to change its plan: {classes: [{name, cap}], seats, reason}."""
        def run():
            data = _load(ChangeBody, self._json())
            change = plan_changes.request_change(db.session, actor(), pk, classes=data["classes"],
                                                 seats=data["seats"], reason=data["reason"], now=now())
            return {"id": change.id, "result": plan_changes.change_dict(change)}
        return self._run(run, 201)

    @expose("/change/<int:pk>/<string:verdict>", methods=["POST"])
    @protect()
    @safe
    def decide(self, pk, verdict):
        """approve or reject a change request: {comment?} (a rejection needs one)."""
        def run():
            data = _load(DecisionBody, self._json(optional=True))
            change = plan_changes.decide_change(db.session, actor(), pk, verdict, now(),
                                                comment=data.get("comment"))
            return {"result": plan_changes.change_dict(change)}
        return self._run(run)
