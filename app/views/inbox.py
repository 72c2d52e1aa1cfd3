"""待办: what waits for the account -- steps to decide (one by one or in bulk), its school's requests
returned for correction or waiting to be pulled -- its requests in progress, and its messages,
read or unread."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models import Request
from ..models.requests import OPEN
from ..security.inputs import MAX_PAGE
from ..services.common.paging import page_of
from ..services.requests import messages
from ..services.requests import workflow as svc
from ..web.common import actor, now
from .request_subject import STATUS, held_by, kind_label, name_holders

PAGE = 50  # rows of each inbox table on one page
MINE = 50  # one's own requests in progress shown (newest)
FIXES = ("returned", "awaiting_pull")


def _page_arg(name: str) -> int:
    """A page number from the query string (from 0; anything else is the first page)."""
    value = request.args.get(name, type=int) or 0
    return min(max(value, 0), MAX_PAGE)


class InboxView(BaseView):
    """待办: what waits for my decision or my correction, oldest first, with deadlines; my messages."""

    route_base = "/inbox"
    default_view = "index"
    class_permission_name = "Request"
    method_permission_name = {"index": "list", "bulk": "decide", "read_all": "list"}

    @expose("/")
    @has_access
    def index(self):
        """Each table a page at a time (?page= the steps to decide, ?fixes_page= the returned and
        waiting ones), oldest first, with its total: a bureau's inbox may hold hundreds."""
        who = actor()
        items = page_of(db.session, svc.inbox_query(who, ("pending",)), page=_page_arg("page"),
                        size=PAGE, options=(selectinload(Request.origin_school),))
        fixes = page_of(db.session, svc.inbox_query(who, FIXES), page=_page_arg("fixes_page"),
                        size=PAGE, options=(selectinload(Request.steps),))
        mine = db.session.scalars(select(Request).where(
            Request.requester_id == who.user_id, Request.status.in_(OPEN))
            .order_by(Request.id.desc()).limit(MINE)).all()
        name_holders(r.holder for r in mine)
        return self.render_template(
            "xueji/inbox.html", items=items, fixes=fixes, mine=mine,
            notes=messages.listing(db.session, who), unread=messages.unread(db.session, who),
            kind_label=kind_label, held_by=held_by, status=STATUS, today=now().date())

    @expose("/bulk", methods=["POST"])
    @has_access
    def bulk(self):
        who, verdict = actor(), request.form.get("verdict", "")
        comment = request.form.get("comment") or None
        done, failed = [], []
        for rid in request.form.getlist("rowid", type=int):
            try:
                svc.decide(db.session, rid, who, verdict, now(), comment=comment)
                done.append(rid)
            except DomainError as exc:
                failed.append((rid, str(exc)))
        flash(t(f"成功 {len(done)} 件", f"{len(done)} decided"), "success")
        for rid, why in failed:
            flash(f"#{rid}: {why}", "danger")
        return redirect(url_for("InboxView.index"))

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self):
        count = messages.mark_all_read(db.session, actor())
        flash(t(f"已将 {count} 条消息标为已读", f"{count} messages marked read"), "success")
        return redirect(url_for("InboxView.index"))
