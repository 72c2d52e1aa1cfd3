"""The landing page: who you are, where you sit, and what your jurisdiction holds."""

from __future__ import annotations

from flask import g
from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import t
from ..models import School, Student
from ..security.roles import ROLES
from ..security.scoping import current_scope
from ..services.organisation import codes as code_tables


class HomeView(IndexView):
    index_template = "xueji/index.html"

    @expose("/")
    def index(self):
        user = getattr(g, "user", None)
        summary = None
        if user is not None and user.is_authenticated:
            summary = self._summary(user)
        return self.render_template(self.index_template, appbuilder=self.appbuilder, summary=summary)

    def _summary(self, user) -> dict:
        scope = current_scope()
        specs = [ROLES[r.name] for r in user.roles if r.name in ROLES]
        roles = [t(s.label, s.label_en) for s in specs]
        counts = []
        if any(s.function != "sysadmin" for s in specs):
            rows = db.session.execute(select(Student.status, func.count()).where(scope.clause(Student))
                                      .group_by(Student.status)).all()
            labels = code_tables.labels(db.session, "student_status")
            counts = [(labels.get(s, s), n) for s, n in sorted(rows)]
        schools = db.session.scalar(select(func.count()).select_from(School)
                                    .where(scope.clause(School)))
        return {"roles": roles, "bound_to": getattr(user, "bound_to", ""), "counts": counts,
                "schools": schools}
