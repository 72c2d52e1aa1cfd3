"""REST for admission lists (录取名单): upload a list (checked, and committed unless a dry run),
read a list's outcome, commit a checked list; the bureau's duplicate admissions and their
resolution.  Same services, rules and scope as the pages."""

from __future__ import annotations

import base64
import binascii

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.validate import Length, Range

from ..errors import DomainError, NotFound
from ..extensions import db
from ..i18n import t
from ..models import School
from ..services.schoolyear import admission_cases, admissions
from ..web.common import actor, now

MAX_FILE = 40 * 2**20


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class UploadBody(_Strict):
    filename = fields.String(required=True, validate=Length(min=1, max=200))
    content_base64 = fields.String(required=True, validate=Length(min=1, max=MAX_FILE * 4 // 3 + 4))
    dry_run = fields.Boolean(load_default=False)
    valid_only = fields.Boolean(load_default=False)


class CommitBody(_Strict):
    valid_only = fields.Boolean(load_default=False)


class ResolveBody(_Strict):
    keep = fields.Integer(required=True, strict=True, validate=Range(min=1, max=2**31 - 1))
    reason = fields.String(required=True, validate=Length(min=1, max=300))


def _job_dict(job) -> dict:
    return {"id": job.id, "filename": job.filename, "status": job.status, "rows": job.rows_total,
            "valid": job.rows_valid, "invalid": job.rows_invalid, "created": job.created,
            "pulled": job.updated, "unchanged": job.unchanged, "message": job.message,
            "review": job.request_id, "problems": (job.problems or [])[:1000]}


class AdmissionApi(BaseApi):
    resource_name = "admission"
    class_permission_name = "Admission"
    allow_browser_login = False
    method_permission_name = {"upload": "add", "show": "add", "commit": "add", "duplicates": "resolve",
                              "resolve": "resolve"}

    def _body(self, schema: Schema) -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise _BadBody(t("请求体须为 JSON 对象", "the body must be a JSON object"))
        try:
            return schema.load(data)
        except ValidationError as exc:
            field = next(iter(exc.messages), None)
            raise _BadBody(t(f"字段 {field} 不正确：{exc.messages[field]}",
                             f"{field}: {exc.messages[field]}"), field) from None

    def _answer(self, fn, pk: int | None = None):
        if pk is not None and pk > 2**31 - 1:  # row ids are 32-bit: no such list
            return self.response(404, message=str(t("没有该录取名单", "no such admission list")))
        try:
            return fn()
        except DomainError as exc:
            return self.response(exc.status, **exc.as_json())

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def upload(self):
        """Upload a list ({filename, content_base64, dry_run, valid_only}) into one's own school:
        every row checked, then committed unless ``dry_run``."""
        def run():
            body = self._body(UploadBody())
            try:
                data = base64.b64decode(body["content_base64"], validate=True)
            except (binascii.Error, ValueError):
                raise _BadBody(t("content_base64 不是有效的 Base64", "content_base64 is not base64"),
                               "content_base64") from None
            school = db.session.get(School, actor().school_id) if actor().school_id else None
            if school is None:
                raise NotFound(t("录取名单由学校上传", "a school uploads its admission list"))
            job = admissions.run(db.session, school=school, actor=actor(), filename=body["filename"],
                                 data=data, now=now(), dry=body["dry_run"], valid_only=body["valid_only"])
            return self.response(200, **_job_dict(job))
        return self._answer(run)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def show(self, pk):
        """One admission list of one's own school: its counts, problems and outcome."""
        return self._answer(lambda: self.response(200, **_job_dict(admissions.job(db.session, actor(), pk))), pk)

    @expose("/<int:pk>/commit", methods=["POST"])
    @protect()
    @safe
    def commit(self, pk):
        """Commit a checked list ({valid_only})."""
        def run():
            body = self._body(CommitBody())
            job = admissions.job(db.session, actor(), pk)
            admissions.commit(db.session, job, actor(), now(), valid_only=body["valid_only"])
            return self.response(200, **_job_dict(job))
        return self._answer(run, pk)

    @expose("/duplicates", methods=["GET"])
    @protect()
    @safe
    def duplicates(self):
        """The duplicate admissions one's bureau decides (the lowest over the schools concerned)."""
        return self._answer(lambda: self.response(
            200, result=[c.as_dict() for c in admission_cases.cases(db.session, actor())]))

    @expose("/duplicates/resolve", methods=["POST"])
    @protect()
    @safe
    def resolve(self):
        """Keep the child at the school of admission ``keep``; the others are dropped with ``reason``."""
        def run():
            body = self._body(ResolveBody())
            case = admission_cases.resolve(db.session, actor(), body["keep"], body["reason"], now())
            return self.response(200, **case.as_dict())
        return self._answer(run)


class _BadBody(DomainError):
    status = 400
