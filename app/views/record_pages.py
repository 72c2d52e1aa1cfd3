"""What the student pages add to a scoped page: the record's own page after a save, and the
registration-review button only for an account some review can wait for."""

from __future__ import annotations

from flask import g, redirect, url_for

from ..extensions import db
from ..services.policy import reviewers
from ..services.requests.kinds import REGISTRATIONS
from ..web.common import actor


class LandsOnRecord:
    """After adding or editing a record, its page (FAB would go back to the page before the form)."""

    def _save(self, form, item, adding: bool) -> bool:
        saved = super()._save(form, item, adding)
        if saved:
            g.xueji_saved_pk = item.id
        return saved

    def _record_page(self):
        pk = g.get("xueji_saved_pk")
        if pk is None:
            return redirect(self.get_redirect())
        return redirect(url_for(f"{type(self).__name__}.show", pk=pk))

    def post_add_redirect(self):
        return self._record_page()

    def post_edit_redirect(self):
        return self._record_page()


class RegistrationReviewAction:
    """注册核办通过 is offered to an account the rules in force make a party to some registration
    review of its jurisdiction (a school's supervisor, the county's registrar), to nobody else."""

    review_actions = ("approve_registration",)

    def action_available(self, name: str) -> bool:
        if name not in self.review_actions:
            return super().action_available(name)
        if "xueji_reviews" not in g:
            g.xueji_reviews = reviewers.may_take_a_step(db.session, actor(), REGISTRATIONS)
        return g.xueji_reviews
