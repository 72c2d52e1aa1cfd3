"""REST for data-quality verification (数据质量核查) under /api/v1/quality/: the campaigns (the
province opens and closes them), a campaign's progress at a node, and a school's marks and scans.
Scoped like the pages: another region's campaign, node, class or student is a 404."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length, OneOf, Regexp

from ..errors import ValidationFailed
from ..extensions import db
from ..i18n import t
from ..services.quality import campaigns, forms, progress
from ..web.common import actor, now
from .common import DomainApi, Strict, body, decoded


class CampaignBody(Strict):
    """POST /api/v1/quality/campaigns: the region (6-digit division code) and the dates."""

    region = fields.String(required=True, validate=Regexp(r"^\d{6}$"))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    name = fields.String(validate=Length(max=100), allow_none=True)
    note = fields.String(validate=Length(max=300), allow_none=True)


class MarkBody(Strict):
    """POST /api/v1/quality/campaigns/<id>/marks: a whole class or one student."""

    mark = fields.String(required=True, validate=OneOf(forms.MARKS))
    class_id = fields.Integer(strict=True, allow_none=True)
    student_id = fields.Integer(strict=True, allow_none=True)
    corrected = fields.Boolean(allow_none=True)


class ScanBody(Strict):
    """POST /api/v1/quality/campaigns/<id>/scans/<student_id>: the photo, base64."""

    content_base64 = fields.String(required=True)


def _campaign(row, day) -> dict:
    return {"id": row.id, "name": row.name, "region": row.region_code, "starts_on": row.starts_on.isoformat(),
            "ends_on": row.ends_on.isoformat(), "status": row.status, "state": campaigns.state(row, day),
            "opened_by": row.opened_by, "closed_by": row.closed_by,
            "closed_at": row.closed_at.isoformat() if row.closed_at else None}


class QualityApi(DomainApi):
    resource_name = "quality"
    class_permission_name = "QualityCampaign"
    method_permission_name = {"listing": "get", "open": "post", "close": "post", "progress": "get",
                              "sheet": "mark", "mark": "mark", "scan": "mark"}

    @expose("/campaigns", methods=["GET"])
    @protect()
    @safe
    def listing(self):
        """The campaigns the account sees (its region's, and those covering its node), newest first."""
        day = now().date()
        return self.answer(lambda: {"result": [_campaign(c, day) for c in
                                                     campaigns.visible(db.session, actor())]})

    @expose("/campaigns", methods=["POST"])
    @protect()
    @safe
    def open(self):
        """Open a campaign for a division of the province (province registrar or administrator)."""
        def work():
            data = body(CampaignBody)
            row = campaigns.open_campaign(db.session, actor(), region=data["region"], starts_on=data["starts_on"],
                                          ends_on=data["ends_on"], name=data.get("name"),
                                          note=data.get("note"), now=now())
            return _campaign(row, now().date())
        return self.answer(work, 201)

    @expose("/campaigns/<int:pk>/close", methods=["POST"])
    @protect()
    @safe
    def close(self, pk):
        """Close a campaign: marking and uploading stop at once."""
        return self.answer(lambda: _campaign(campaigns.close_campaign(db.session, actor(), pk, now()),
                                                   now().date()))

    @expose("/campaigns/<int:pk>/progress", methods=["GET"])
    @protect()
    @safe
    def progress(self, pk):
        """Issued / returned / entered per child of ?node= (default: one's own node or the region),
        the total, and the schools that lag (lowest entered share)."""
        node = (request.args.get("node") or "").strip() or None
        return self.answer(lambda: progress.progress(db.session, actor(), pk, now(), node).as_dict())

    @expose("/campaigns/<int:pk>/classes/<int:class_id>", methods=["GET"])
    @protect()
    @safe
    def sheet(self, pk, class_id):
        """A class of one's own school: each in-school student's marks in the campaign."""
        return self.answer(lambda: forms.sheet(db.session, actor(), pk, class_id).as_dict())

    @expose("/campaigns/<int:pk>/marks", methods=["POST"])
    @protect()
    @safe
    def mark(self, pk):
        """Mark a whole class (class_id) or one student (student_id) issued, returned or entered."""
        def work():
            data = body(MarkBody)
            if data.get("student_id") is not None:
                form = forms.mark_student(db.session, actor(), student_id=data["student_id"], mark=data["mark"],
                                          now=now(), campaign_id=pk, corrected=data.get("corrected"))
                return {"campaign": pk, "student_id": form.student_id, "mark": data["mark"],
                        "corrected": form.corrected}
            if data.get("class_id") is None:
                raise ValidationFailed(t("须给出 class_id 或 student_id", "give class_id or student_id"),
                                       "class_id")
            return forms.mark_class(db.session, actor(), class_id=data["class_id"], mark=data["mark"],
                                    now=now(), campaign_id=pk, corrected=data.get("corrected")).as_dict()
        return self.answer(work)

    @expose("/campaigns/<int:pk>/scans/<int:student_id>", methods=["POST"])
    @protect()
    @safe
    def scan(self, pk, student_id):
        """Upload the photo of a student's signed form (JPEG or PNG, base64)."""
        def work():
            data = body(ScanBody)
            form = forms.upload_scan(db.session, actor(), student_id=student_id,
                                     data=decoded(data["content_base64"], "content_base64"), now=now(),
                                     campaign_id=pk)
            return {"campaign": pk, "student_id": student_id, "type": form.scan_type, "size": form.scan_size,
                    "sha256": form.scan_sha256}
        return self.answer(work, 201)
