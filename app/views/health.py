"""GET /health: the bare status for a load balancer (200 healthy, 503 not), no sign-in needed and
nothing personal in it (app.services.operations.health)."""

from __future__ import annotations

from flask import jsonify
from flask_appbuilder import BaseView, expose

from ..extensions import db
from ..services.operations import health, jobs


class HealthView(BaseView):
    route_base = "/health"
    default_view = "index"

    @expose("")
    def index(self):
        healthy, figures = health.check(db.session, jobs.mode())
        return jsonify(figures), 200 if healthy else 503
