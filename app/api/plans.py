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
from flask_appbuilder.api import expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length, OneOf

from ..extensions import db
from ..services.schoolyear import plan_apply, plan_changes, plans
from ..web.common import actor, now
from .common import DomainApi, Strict, Whole, json_body, load, text


class PlannedClass(Strict):
    name = text(40, required=True)
    cap = Whole(1, 1000, required=True)


def _classes() -> fields.List:
    return fields.List(fields.Nested(PlannedClass), required=True, validate=Length(min=1, max=60))


class PlanBody(Strict):
    """POST /api/v1/enrollment_plan/."""

    school = text(10, required=True)
    school_year = Whole(2000, 2100, required=True)
    grade = Whole(1, 12, required=True)
    classes = _classes()
    seats = Whole(0, 100000, required=True)


class ChangeBody(Strict):
    """POST /api/v1/enrollment_plan/<id>/change."""

    classes = _classes()
    seats = Whole(0, 100000, required=True)
    reason = text(500, required=True)


class DecisionBody(Strict):
    comment = text(500, allow_none=True)


class Listing(Strict):
    year = Whole(2000, 2100)
    school = text(10)
    status = fields.String(validate=OneOf(("pending", "approved", "rejected")))


class EnrollmentPlanApi(DomainApi):
    resource_name = "enrollment_plan"
    class_permission_name = "EnrollmentPlan"
    method_permission_name = {"listing": "list", "get": "show", "set_plan": "edit", "apply": "edit",
                              "change_list": "list", "request_change": "add", "decide": "edit"}

    def _args(self) -> dict:
        """The query's arguments, checked (?year= a year, ?status= a known status)."""
        raw: dict = dict(request.args.items())
        if str(raw.get("year", "")).isdigit():
            raw["year"] = int(raw["year"])
        return load(Listing, raw)

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
        return self.answer(run)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk):
        return self.answer(lambda: {"result": plans.plan_dict(plans.get_plan(db.session, actor(), pk))})

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def set_plan(self):
        """Set a school's plan: {school, school_year, grade, classes: [{name, cap}], seats}."""
        def run():
            data = load(PlanBody, json_body())
            plan = plans.set_plan(db.session, actor(), school_code=data["school"],
                                  school_year=data["school_year"], grade=data["grade"],
                                  classes=data["classes"], seats=data["seats"], now=now())
            return {"id": plan.id, "result": plans.plan_dict(plan)}
        return self.answer(run)

    @expose("/<int:pk>/apply", methods=["POST"])
    @protect()
    @safe
    def apply(self, pk):
        """Create the grade and the plan's classes not yet created (again: nothing)."""
        return self.answer(lambda: {"result": plan_apply.apply_plan(db.session, actor(), pk, now())})

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
        return self.answer(run)

    @expose("/<int:pk>/change", methods=["POST"])
    @protect()
    @safe
    def request_change(self, pk):
        """The school asks to change its plan: {classes: [{name, cap}], seats, reason}."""
        def run():
            data = load(ChangeBody, json_body())
            change = plan_changes.request_change(db.session, actor(), pk, classes=data["classes"],
                                                 seats=data["seats"], reason=data["reason"], now=now())
            return {"id": change.id, "result": plan_changes.change_dict(change)}
        return self.answer(run, 201)

    @expose("/change/<int:pk>/<string:verdict>", methods=["POST"])
    @protect()
    @safe
    def decide(self, pk, verdict):
        """approve or reject a change request: {comment?} (a rejection needs one)."""
        def run():
            data = load(DecisionBody, json_body(optional=True))
            change = plan_changes.decide_change(db.session, actor(), pk, verdict, now(),
                                                comment=data.get("comment"))
            return {"result": plan_changes.change_dict(change)}
        return self.answer(run)
