"""The route table put to work: views register only the methods it chooses, and a request for
anything else is refused before it reaches a view."""

from __future__ import annotations

import logging

from flask import Flask, abort, request
from flask_appbuilder import AppBuilder

from .routes import ROUTES, chosen, differences, methods_of_view

log = logging.getLogger(__name__)


class XuejiAppBuilder(AppBuilder):
    """An AppBuilder whose every view — ours and Flask-AppBuilder's own — serves exactly the
    methods the route table names for it (none, for a view the table does not know)."""

    def _check_and_init(self, baseview):
        if isinstance(baseview, type):
            view = baseview.__new__(baseview)
            view.include_route_methods = methods_of_view(baseview.__name__)
            view.__init__()  # permissions are collected from the chosen methods only
        else:  # Flask-AppBuilder builds a few of its security views itself before adding them
            view = baseview
            view.include_route_methods = methods_of_view(type(view).__name__)
        _drop_unreachable_actions(view)
        return view


def _drop_unreachable_actions(view) -> None:
    """A list action is reached through the view's action routes: without them, the action and
    its permission go too (no button that cannot work, no permission nobody can use)."""
    actions = getattr(view, "actions", None)
    if not actions or view.include_route_methods & {"action", "action_post"}:
        return
    unused = {view.get_action_permission_name(name) for name in actions}
    view.actions = {}
    view.base_permissions = [p for p in view.base_permissions if p not in unused]


def _refuse_unchosen() -> None:
    if request.url_rule is None:
        return  # no such URL: Flask answers 404 itself
    if not chosen(request.endpoint, request.method):
        abort(405 if request.endpoint in ROUTES else 404)


def install(app: Flask) -> None:
    """Refuse every request the table does not hold (run first of all before-request hooks)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unchosen)


def report(app: Flask) -> None:
    """Say at start-up where the running app and the table disagree: a rule the table does not
    hold is refused, and a test fails until it is chosen or removed."""
    for line in differences(app):
        log.warning("app/security/routes.py: %s", line)
