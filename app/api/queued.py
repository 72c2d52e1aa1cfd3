"""REST for queued requests (排队业务): the queue of the account's jurisdiction and withdrawing one.
A request joins the queue through ``POST /api/v1/request/`` with ``queue: true``."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe

from ..extensions import db
from ..services.requests import queue
from ..web.common import actor, now
from .common import DomainApi

STATUSES = ("queued", "released", "failed", "cancelled")


class QueuedRequestApi(DomainApi):
    resource_name = "queued_request"
    class_permission_name = "Request"
    method_permission_name = {"get_list": "list", "get": "show", "cancel": "add"}

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """Queued requests of the account's jurisdiction, the next to open first (?status=)."""
        status = request.args.get("status")
        if status and status not in STATUSES:
            return self.response_400(message=f"status must be one of {', '.join(STATUSES)}")
        rows = queue.listing(db.session, actor(), status=status)
        return self.response(200, count=len(rows), result=[queue.as_dict(r) for r in rows])

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk):
        return self.answer(lambda: {"result": queue.as_dict(queue.load(db.session, actor(), pk))})

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    @safe
    def cancel(self, pk):
        """The filing school withdraws a queued request before it is released."""
        return self.answer(lambda: {"result": queue.as_dict(queue.cancel(db.session, pk, actor(), now()))})
