"""REST for one's messages (消息): the notices of one's school or bureau, each read or unread for the
account itself, and marking them read -- the same service as the inbox page."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length

from ..extensions import db
from ..i18n import t
from ..services.requests import messages
from ..web.common import actor
from .common import BadInput, DomainApi, Strict, Whole, body

MOST = 200  # messages in one answer


class Marking(Strict):
    """POST /api/v1/message/read: exactly one of ids, request_id, all."""

    ids = fields.List(Whole(), validate=Length(min=1, max=500))
    request_id = Whole()
    all = fields.Boolean(strict=True)


def _dump(item: messages.Message) -> dict:
    notice = item.notice
    return {"id": notice.id, "request_id": notice.request_id, "message": notice.message,
            "at": notice.at.isoformat(), "read": item.read}


class MessageApi(DomainApi):
    resource_name = "message"
    class_permission_name = "Request"
    method_permission_name = {"listing": "list", "read": "list"}

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def listing(self):
        """One's messages, newest first (?unread=1 for the unread ones only, ?limit=1..200)."""
        who = actor()
        limit = min(max(request.args.get("limit", default=30, type=int) or 30, 1), MOST)
        rows = messages.listing(db.session, who, limit,
                                unread_only=request.args.get("unread") in ("1", "true"))
        return self.response(200, count=len(rows), unread=messages.unread(db.session, who),
                             result=[_dump(r) for r in rows])

    @expose("/read", methods=["POST"])
    @protect()
    @safe
    def read(self):
        """Mark messages read for oneself: {ids: [..]}, {request_id}, or {all: true}."""
        def work():
            data = body(Marking)
            given = [k for k in ("ids", "request_id", "all") if data.get(k) not in (None, False)]
            if len(given) != 1:
                raise BadInput(t("请给出 ids、request_id 或 all 之一", "give one of ids, request_id, all"))
            who = actor()
            if data.get("all"):
                count = messages.mark_all_read(db.session, who)
            else:
                count = messages.mark_read(db.session, who, request_id=data.get("request_id"),
                                           ids=data.get("ids"))
            return {"marked": count, "unread": messages.unread(db.session, who)}
        return self.answer(work)
