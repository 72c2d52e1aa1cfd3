"""招生计划: a bureau's registrar sets and applies the plans of the schools below it and decides
their change requests; a school sees its own plans and asks for a change."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models.school import GRADE_NAMES
from ..policy.vocab import STAGE_ZH
from ..services.schoolyear import plan_apply, plan_changes, plans
from ..web.common import actor, now
from ..web.labels import flash_problems, problem_text


def _year() -> int:
    try:
        return int(request.values.get("year") or plans.plan_year(now()))
    except ValueError:
        return plans.plan_year(now())


class EnrollmentPlanView(BaseView):
    """The plans of one school year: per school and entry grade, and the change requests."""

    route_base = "/year/plans"
    default_view = "index"
    class_permission_name = "EnrollmentPlan"
    method_permission_name = {"index": "list", "set_plan": "edit", "apply": "edit",
                              "decide": "edit", "request_change": "add"}

    @expose("/")
    @has_access
    def index(self):
        who, year = actor(), _year()
        rows = plans.plans(db.session, who, school_year=year)
        bureau = who.scope.level in ("province", "city", "county")
        schools = plans.schools_below(db.session, who) if bureau else []
        by_key = {(p.school_id, p.grade): p for p in rows}
        slots = [(s, g, by_key.get((s.id, g))) for s in schools for g in plans.entry_grades(s)]
        return self.render_template(
            "xueji/enrollment_plans.html", year=year, plans=rows, slots=slots, bureau=bureau,
            may_edit=who.may("EnrollmentPlan", "edit"), may_ask=who.may("EnrollmentPlan", "add"),
            changes=plan_changes.changes(db.session, who, school_year=year), grade_names=GRADE_NAMES,
            stage_zh=STAGE_ZH, problem_text=problem_text)

    def _back(self, year=None):
        return redirect(url_for("EnrollmentPlanView.index", year=year or _year()))

    def _run(self, fn, done):
        """Run a use case; its refusal, or ``done(result)``, flashed on the plans page."""
        try:
            result = fn()
        except DomainError as exc:
            flash_problems(exc)
        else:
            flash(done(result), "success")
        return self._back()

    @expose("/set", methods=["POST"])
    @has_access
    def set_plan(self):
        form = request.form
        return self._run(lambda: plans.set_plan(
            db.session, actor(), school_code=form.get("school", ""), school_year=form.get("year"),
            grade=form.get("grade"), classes=plans.parse_specs([form.get("classes", "")]),
            seats=form.get("seats"), now=now()), lambda _: t("招生计划已保存", "plan saved"))

    @expose("/apply/<int:plan_id>", methods=["POST"])
    @has_access
    def apply(self, plan_id: int):
        return self._run(lambda: plan_apply.apply_plan(db.session, actor(), plan_id, now()),
                         lambda out: t(f"已按计划建班：新建 {out['classes_created']} 个班",
                                       f"{out['classes_created']} classes created"))

    @expose("/request/<int:plan_id>", methods=["POST"])
    @has_access
    def request_change(self, plan_id: int):
        form = request.form
        return self._run(lambda: plan_changes.request_change(
            db.session, actor(), plan_id, classes=plans.parse_specs([form.get("classes", "")]),
            seats=form.get("seats"), reason=form.get("reason"), now=now()),
            lambda _: t("变更申请已提交，等待主管教育部门审批", "change requested"))

    @expose("/decide/<int:change_id>", methods=["POST"])
    @has_access
    def decide(self, change_id: int):
        verdict = request.form.get("verdict", "")
        return self._run(lambda: plan_changes.decide_change(
            db.session, actor(), change_id, verdict, now(), comment=request.form.get("comment")),
            lambda c: t("已同意变更，计划已更新" if c.status == "approved" else "已不同意，计划不变",
                        f"change {c.status}"))
