"""排队业务: the requests filed outside their window, waiting for it to open (with the day it opens),
and those released, failed (with why) or withdrawn; the filing school withdraws one here."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..services.requests import queue
from ..web.common import actor, now
from ..web.labels import flash_problems
from .request_subject import kind_label

QUEUE_STATUS = {"queued": t("排队中", "queued"), "released": t("已提交", "submitted"),
                "failed": t("复核未通过", "refused at release"), "cancelled": t("已撤销", "withdrawn")}


class QueuedView(BaseView):
    """The queue of the account's jurisdiction: not business in progress, so not in the inbox."""

    route_base = "/queued"
    default_view = "index"
    class_permission_name = "Request"
    method_permission_name = {"index": "list", "cancel": "add"}

    @expose("/")
    @has_access
    def index(self):
        who = actor()
        return self.render_template("xueji/queued_list.html", rows=queue.listing(db.session, who),
                                    kind_label=kind_label, status=QUEUE_STATUS,
                                    may_cancel=who.school_id is not None and "registrar" in who.functions,
                                    school_id=who.school_id)

    @expose("/<int:pk>/cancel", methods=["POST"])
    @has_access
    def cancel(self, pk):
        try:
            queue.cancel(db.session, pk, actor(), now())
            flash(t(f"已撤销排队业务 #{pk}", f"queued request {pk} withdrawn"), "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("QueuedView.index"))
