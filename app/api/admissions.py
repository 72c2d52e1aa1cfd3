"""REST for admission lists (录取名单): upload a list (checked, and committed unless a dry run),
read a list's outcome, commit a checked list; the bureau's duplicate admissions and their
resolution.  Same services, rules and scope as the pages."""

from __future__ import annotations

from flask_appbuilder.api import expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length

from ..errors import NotFound
from ..extensions import db
from ..i18n import t
from ..models import School
from ..services.schoolyear import admission_cases, admissions
from ..web.common import actor, now
from .common import DomainApi, Strict, Whole, decoded, json_body, load

MAX_FILE = 40 * 2**20


class UploadBody(Strict):
    filename = fields.String(required=True, validate=Length(min=1, max=200))
    content_base64 = fields.String(required=True, validate=Length(min=1, max=MAX_FILE * 4 // 3 + 4))
    dry_run = fields.Boolean(load_default=False)
    valid_only = fields.Boolean(load_default=False)


class CommitBody(Strict):
    valid_only = fields.Boolean(load_default=False)


class ResolveBody(Strict):
    keep = Whole(required=True)
    reason = fields.String(required=True, validate=Length(min=1, max=300))


def _job_dict(job) -> dict:
    return {"id": job.id, "filename": job.filename, "status": job.status, "rows": job.rows_total,
            "valid": job.rows_valid, "invalid": job.rows_invalid, "created": job.created,
            "pulled": job.updated, "unchanged": job.unchanged, "message": job.message,
            "review": job.request_id, "problems": (job.problems or [])[:1000]}


class AdmissionApi(DomainApi):
    resource_name = "admission"
    class_permission_name = "Admission"
    method_permission_name = {"upload": "add", "show": "add", "commit": "add", "duplicates": "resolve",
                              "resolve": "resolve"}

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def upload(self):
        """Upload a list ({filename, content_base64, dry_run, valid_only}) into one's own school:
        every row checked, then committed unless ``dry_run``."""
        def run():
            body = load(UploadBody, json_body())
            data = decoded(body["content_base64"], "content_base64")
            school = db.session.get(School, actor().school_id) if actor().school_id else None
            if school is None:
                raise NotFound(t("录取名单由学校上传", "a school uploads its admission list"))
            job = admissions.run(db.session, school=school, actor=actor(), filename=body["filename"],
                                 data=data, now=now(), dry=body["dry_run"], valid_only=body["valid_only"])
            return _job_dict(job)
        return self.answer(run)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def show(self, pk):
        """One admission list of one's own school: its counts, problems and outcome."""
        return self.answer(lambda: _job_dict(admissions.job(db.session, actor(), pk)))

    @expose("/<int:pk>/commit", methods=["POST"])
    @protect()
    @safe
    def commit(self, pk):
        """Commit a checked list ({valid_only})."""
        def run():
            body = load(CommitBody, json_body())
            job = admissions.job(db.session, actor(), pk)
            admissions.commit(db.session, job, actor(), now(), valid_only=body["valid_only"])
            return _job_dict(job)
        return self.answer(run)

    @expose("/duplicates", methods=["GET"])
    @protect()
    @safe
    def duplicates(self):
        """The duplicate admissions one's bureau decides (the lowest over the schools concerned)."""
        return self.answer(lambda: {"result": [c.as_dict() for c in admission_cases.cases(db.session,
                                                                                          actor())]})

    @expose("/duplicates/resolve", methods=["POST"])
    @protect()
    @safe
    def resolve(self):
        """Keep the child at the school of admission ``keep``; the others are dropped with ``reason``."""
        def run():
            body = load(ResolveBody, json_body())
            case = admission_cases.resolve(db.session, actor(), body["keep"], body["reason"], now())
            return case.as_dict()
        return self.answer(run)
