"""毕业: the school's final-grade cohort, who can graduate and who cannot (and why), and one action
that graduates all who can (senior secondary: sent to the bureau for review); 结业 for the ticked
students kept back by the graduation conditions."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..policy.vocab import STAGE_ZH
from ..services.schoolyear import completion, graduation
from ..web.common import actor, now
from ..web.labels import flash_problems, problem_text


class GraduationView(BaseView):
    """毕业办理 of one's own school."""

    route_base = "/year/graduate"
    default_view = "index"
    class_permission_name = "Request"
    method_permission_name = {"index": "add", "run": "add", "complete": "add"}

    def _school_id(self) -> int:
        school_id = actor().school_id
        if school_id is None:
            abort(404)
        return school_id

    @expose("/")
    @has_access
    def index(self):
        try:
            outcome = graduation.cohort(db.session, actor(), self._school_id(), now())
        except DomainError:
            abort(404)
        return self.render_template("xueji/year_graduate.html", outcome=outcome, stage_zh=STAGE_ZH,
                                    problem_text=problem_text)

    @expose("/run", methods=["POST"])
    @has_access
    def run(self):
        try:
            outcome = graduation.graduate(db.session, actor(), self._school_id(), now())
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("GraduationView.index"))
        for problem in outcome.refused:
            flash(problem_text(problem), "danger")
        if not outcome.refused:
            flash(t(f"已毕业 {outcome.graduated} 人，报主管教育部门审核 {outcome.reviews} 人",
                    f"{outcome.graduated} graduated, {outcome.reviews} sent to the bureau for review"),
                  "success")
        return redirect(url_for("GraduationView.index"))

    @expose("/complete", methods=["POST"])
    @has_access
    def complete(self):
        ids = [int(v) for v in request.form.getlist("student") if v.isdigit()]
        try:
            outcome = completion.complete(db.session, actor(), self._school_id(), now(),
                                          student_ids=ids)
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("GraduationView.index"))
        for problem in outcome.refused:
            flash(problem_text(problem), "danger")
        for r in outcome.results:
            if r["result"] != "completed":
                flash(f"{r['name'] or r['student_id']}：{r['reason']}", "warning")
        if not outcome.refused:
            flash(t(f"已结业 {outcome.completed} 人", f"{outcome.completed} completed"), "success")
        return redirect(url_for("GraduationView.index"))
