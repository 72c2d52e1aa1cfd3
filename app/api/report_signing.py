"""REST for signing a month's report off (签发): POST /api/v1/report/signoff {node, month} by the
supervisor of that node; GET the same path (?node=&month=) says whether and by whom it was."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length, Regexp

from ..errors import NotFound
from ..extensions import db
from ..i18n import t
from ..services.reports import nodes, signing
from ..web.common import actor, now
from .common import DomainApi, Strict, body


class SignoffBody(Strict):
    """POST /api/v1/report/signoff: the node's code and the month (YYYY-MM)."""

    node = fields.String(required=True, validate=[Length(min=6, max=10), Regexp(r"^\d+$")])
    month = fields.String(required=True, validate=Regexp(r"^\d{4}-\d{2}$"))


def _dump(row) -> dict:
    return {"node": row.node_code, "level": row.node_level, "month": f"{row.month:%Y-%m}",
            "status": "signed", "signed_by": row.signer, "signed_at": row.signed_at.isoformat(),
            "key_id": row.key_id, "digest": row.digest}


class ReportSignoffApi(DomainApi):
    resource_name = "report"
    class_permission_name = "Report"
    method_permission_name = {"signoff": "sign", "signoff_state": "get"}

    @expose("/signoff", methods=["POST"])
    @protect()
    @safe
    def signoff(self):
        """Sign the month's report of a node off (its own supervisor only, a past month, once)."""
        def work():
            data = body(SignoffBody)
            return _dump(signing.sign_off(db.session, actor(), node_code=data["node"],
                                          month=data["month"], now=now()))
        return self.answer(work, 201)

    @expose("/signoff", methods=["GET"])
    @protect()
    @safe
    def signoff_state(self):
        """Whether the month's report of a node (?node=&month=) is signed off, by whom, when."""
        def work():
            node = nodes.readable(db.session, actor(), request.args.get("node", ""))
            row = signing.signoff_of(db.session, node.code,
                                     signing.month_start(request.args.get("month", "")))
            if row is None:
                raise NotFound(t("该月报尚未签发", "this report is not signed off"), "month")
            return _dump(row)
        return self.answer(work)
