"""REST for the school year's batches: graduation (毕业) and completion (结业) of a school's
final-grade cohort, and the promotion batch (升级) of a bureau's node.  Same services, rules and
scope as the pages; JWT only; a refusal is JSON naming the field or the rule's file:line.

    GET  /api/v1/graduation/cohort[?school=CODE]        the cohort, each student's eligibility
    POST /api/v1/graduation/graduate {school?, dry_run?}  graduate every student who can
    POST /api/v1/graduation/complete {school?, students?, dry_run?}  结业, one result per student
    GET  /api/v1/promotion/plan?node=CODE                 what blocks it, what would move
    POST /api/v1/promotion/run {node, dry_run?}           run (or resume) it; dry run: the plan
    POST /api/v1/promotion/undo {run}                     undo a run
    GET  /api/v1/promotion/runs[?node=CODE]               the runs one may see, newest first
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length, Regexp
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..i18n import t
from ..models import School
from ..services.operations import job_tasks, jobs
from ..services.schoolyear import completion, graduation, promotion
from ..web.common import actor, now
from .common import DomainApi, Strict, Whole, body

SCHOOL_CODE = [Length(equal=10), Regexp(r"^\d{10}$")]
NODE_CODE = [Length(equal=6), Regexp(r"^\d{6}$")]


class Flag(fields.Boolean):
    """A JSON true or false: not "yes", 1 or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class GraduateBody(Strict):
    school = fields.String(validate=SCHOOL_CODE)
    dry_run = Flag()


class CompleteBody(GraduateBody):
    students = fields.List(Whole(), validate=Length(max=2000))


class RunBody(Strict):
    node = fields.String(required=True, validate=NODE_CODE)
    dry_run = Flag()


class UndoBody(Strict):
    run = Whole(required=True)


def _school_id(code: str | None) -> int:
    """The school named by its code, or the actor's own; the service checks the scope."""
    code = (code or "").strip()
    if not code:
        if actor().school_id is None:
            raise NotFound(t("请指定学校代码", "name the school"), "school")
        return actor().school_id
    school_id = db.session.scalar(select(School.id).where(School.code == code)) \
        if len(code) == 10 and code.isdigit() else None
    if school_id is None:
        raise NotFound(t("学校不存在或不在管辖范围内", "no such school in your jurisdiction"), "school")
    return school_id


class GraduationApi(DomainApi):
    resource_name = "graduation"
    class_permission_name = "Request"  # the school's registrar files the school's business
    method_permission_name = {"cohort": "post", "graduate": "post", "complete": "post"}

    @expose("/cohort", methods=["GET"])
    @protect()
    @safe
    def cohort(self):
        """The final-grade cohort of one's school: each student, whether they can graduate, and
        why not (unmet conditions with the rule's file:line); the rules' refusal of the cohort."""
        return self.answer(lambda: graduation.cohort(
            db.session, actor(), _school_id(request.args.get("school")), now()).as_dict())

    @expose("/graduate", methods=["POST"])
    @protect()
    @safe
    def graduate(self):
        """Graduate every student of the cohort who can (senior secondary: a bureau review each);
        422 naming the rule when the rules refuse the cohort."""
        def work():
            data = body(GraduateBody)
            return self._refused_or(graduation.graduate(
                db.session, actor(), _school_id(data.get("school")), now(),
                dry_run=data.get("dry_run", False)))
        return self.answer(work)

    @expose("/complete", methods=["POST"])
    @protect()
    @safe
    def complete(self):
        """结业 for the students named (default: all kept back by the conditions alone), with
        one result per student."""
        def work():
            data = body(CompleteBody)
            return self._refused_or(completion.complete(
                db.session, actor(), _school_id(data.get("school")), now(),
                student_ids=data.get("students"), dry_run=data.get("dry_run", False)))
        return self.answer(work)

    def _refused_or(self, outcome):
        """The outcome, or 422 naming the rules' refusals of the cohort, with the outcome."""
        if outcome.refused:
            return self.response(422, message="; ".join(str(p) for p in outcome.refused),
                                 errors=[p.as_dict() for p in outcome.refused],
                                 outcome=outcome.as_dict())
        return outcome.as_dict()


class PromotionApi(DomainApi):
    resource_name = "promotion"
    class_permission_name = "Promotion"
    method_permission_name = {"plan": "get", "runs": "get", "run": "post", "undo": "post"}

    @expose("/plan", methods=["GET"])
    @protect()
    @safe
    def plan(self):
        """The plan of ?node= (default: one's own): the rules' decision, blockers, per school."""
        code = (request.args.get("node") or actor().scope.code or "").strip()
        return self.answer(lambda: promotion.plan(db.session, actor(), code, now()).as_dict())

    @expose("/run", methods=["POST"])
    @protect()
    @safe
    def run(self):
        """Run (or resume) the promotion of a node as a job: 202 with the job (follow it at
        /api/v1/job/<id>; its result is the run); ``dry_run``: the plan, nothing written.
        Refused (422) outside the rules' window or while blockers stand, naming the rule."""
        def work():
            data = body(RunBody)
            if data.get("dry_run"):
                promotion.require_runner(actor())
                return promotion.plan(db.session, actor(), data["node"], now()).as_dict()
            run = job_tasks.promote_later(db.session, actor(), data["node"], now())
            jobs.launch(run)
            db.session.refresh(run)
            return self.response(202, job=jobs.view(run))
        return self.answer(work)

    @expose("/undo", methods=["POST"])
    @protect()
    @safe
    def undo(self):
        """Undo a run: students still on record go back, those who left are counted."""
        return self.answer(lambda: promotion.undo(db.session, actor(), body(UndoBody)["run"], now()))

    @expose("/runs", methods=["GET"])
    @protect()
    @safe
    def runs(self):
        """The runs one may see (of ?node= if given), newest first."""
        def work():
            code = (request.args.get("node") or "").strip() or None
            if code is not None:
                code = promotion.node_of(db.session, actor(), code).code
            rows = promotion.runs(db.session, actor(), code)
            return {"result": [promotion.run_dict(r) for r in rows], "count": len(rows)}
        return self.answer(work)
