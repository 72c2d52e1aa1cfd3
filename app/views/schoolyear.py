"""升级: the promotion batch of a bureau's node — what blocks it, what it would move, the run and
its undo."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..services.operations import job_tasks, jobs
from ..services.schoolyear import promotion
from ..web.common import actor, now
from ..web.labels import flash_problems, problem_text, problems_text


def _node() -> str:
    return (request.values.get("node") or actor().scope.code or "").strip()


class PromotionView(BaseView):
    """学年升级 of one's node (or a node below it)."""

    route_base = "/year/promote"
    default_view = "index"
    class_permission_name = "Promotion"
    method_permission_name = {"index": "list", "run": "add", "undo": "add"}

    @expose("/")
    @has_access
    def index(self):
        code, plan, error = _node(), None, None
        try:
            plan = promotion.plan(db.session, actor(), code, now())
        except DomainError as exc:
            error = problems_text(exc)
        runs = promotion.runs(db.session, actor(), plan.node_code if plan else None)
        may_run = any(r.function == "registrar" for r in actor().roles)
        return self.render_template("xueji/year_promote.html", plan=plan, code=code, error=error,
                                    runs=runs, may_run=may_run, problem_text=problem_text)

    @expose("/run", methods=["POST"])
    @has_access
    def run(self):
        code = _node()
        try:
            run = job_tasks.promote_later(db.session, actor(), code, now())
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("PromotionView.index", node=code))
        jobs.launch(run)
        return redirect(url_for("JobView.show", pk=run.id))

    @expose("/undo/<int:run_id>", methods=["POST"])
    @has_access
    def undo(self, run_id: int):
        code = _node()
        try:
            out = promotion.undo(db.session, actor(), run_id, now())
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("PromotionView.index", node=code))
        flash(t(f"已撤销升级批次 {run_id}：恢复 {out['students_restored']} 名学生、"
                f"{out['classes_restored']} 个班；升级后已离校的 {out['students_left']} 名学生未恢复",
                f"run {run_id} undone: {out['students_restored']} students restored, "
                f"{out['students_left']} who left since were not"), "success")
        return redirect(url_for("PromotionView.index", node=code))
