"""The landing page: who you are, where you sit, what your jurisdiction holds -- and each role's own
figures: a registrar's to-do and data quality, a supervisor's key indicators of last month with
their trend (from the monthly report, ``app.services.reports.monthly``)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from flask import g, url_for
from flask_appbuilder import IndexView, expose
from sqlalchemy import false, func, select
from werkzeug.routing import BuildError

from ..documents.report_words import change_text, number
from ..errors import DomainError
from ..extensions import db
from ..i18n import english, t
from ..models import ProblemCase, Request, School, Student
from ..security.roles import allowed
from ..security.scoping import account_roles, current_scope
from ..services.organisation import codes as code_tables
from ..services.record import tally
from ..services.reports import monthly
from ..services.reports.plain import figure_dict
from ..services.reports.window import month_of, previous_month
from ..web.common import actor, now

# the supervisor's tiles, in this order; the trend lines are the report's own key figures
KEY_FIGURES = ("students_on_record", "new_registrations", "transfers_in", "transfers_out",
               "completion_share", "approvals_pending", "approvals_overdue")
OPEN_PROBLEMS = ("open", "arbitration")


class _Reports:
    """Last month's reports of the nodes supervisors sit at, kept a few minutes per process.

    A past month's report is reproducible (its stock from the month-end snapshot, its flows from
    the history up to the month's end), so a copy stays true; the landing page is opened all day
    and the full report costs a few hundred milliseconds."""

    def __init__(self, size: int = 128, seconds: float = 600.0):
        self.size, self.seconds = size, seconds
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


REPORTS = _Reports()


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
        specs = account_roles(user)  # custom roles too
        roles = [t(s.label, s.label_en) for s in specs]
        functions = {s.function for s in specs}
        counts = []
        if any(allowed(s, "Student", "read") for s in specs):  # never an administrator's
            # summed from the per-school tally the triggers keep: a few rows per school, not one
            # index entry per student of a province
            labels = code_tables.labels(db.session, "student_status")
            counts = [(labels.get(s, s), n) for s, n in tally.by_status(db.session, scope)]
        schools = db.session.scalar(select(func.count()).select_from(School)
                                    .where(scope.clause(School)))
        return {"roles": roles, "bound_to": getattr(user, "bound_to", ""), "counts": counts,
                "schools": schools,
                "registrar": _registrar(scope) if "registrar" in functions else None,
                "supervisor": _supervisor() if "supervisor" in functions else None}


def _registrar(scope) -> dict:
    """A registrar's to-do (what its inbox holds, by state) and its jurisdiction's data quality."""
    who = actor()
    todo = {"pending": 0, "returned": 0, "awaiting_pull": 0}
    if who.node is not None:
        todo.update(db.session.execute(
            select(Request.status, func.count()).where(
                Request.status.in_(tuple(todo)), Request.holder_node == who.node,
                Request.holder_role.in_(who.functions), scope.clause(Request))
            .group_by(Request.status)).all())
    # two counts, each through its small partial index (ix_student_unregistered / _temporary),
    # not one pass over every record of the jurisdiction
    unregistered, temporary = db.session.execute(select(
        _students(scope, Student.registered == false()), _students(scope, Student.registry_kind == "L"))).one()
    problems = db.session.scalar(select(func.count()).select_from(ProblemCase).where(
        ProblemCase.status.in_(OPEN_PROBLEMS), scope.clause(ProblemCase)))
    return {"todo": todo, "problems": problems, "unregistered": int(unregistered),
            "temporary": int(temporary)}


def _students(scope, condition):
    """How many records of the scope meet ``condition``, as a scalar subquery."""
    return select(func.count()).select_from(Student).where(condition, scope.clause(Student)) \
        .scalar_subquery()


def _supervisor() -> dict | None:
    """Last month's key figures of the supervisor's node with their month-over-month change, and
    the report's trend lines as JSON for the chart; None when no report can be made."""
    who = actor()
    if not who.may("Report", "read"):
        return None
    month = previous_month(month_of(now()))
    key = (who.scope.level, who.scope.code, who.scope.school_id, month, english())
    report = REPORTS.get(key)
    if report is None:
        try:
            report = monthly.compute(db.session, who, None, month)
        except DomainError:
            return None
        REPORTS.put(key, report)
    figures = [_tile(report.figure(k)) for k in KEY_FIGURES if any(f.key == k for f in report.figures)]
    trend_keys = [f.key for f in report.figures if report.trend.get(f.key)]
    chart = {"figures": [figure_dict(f) | {"table": None} for f in report.figures if f.key in trend_keys],
             "trend": {k: [list(p) for p in report.trend[k]] for k in trend_keys}}
    try:
        link = url_for("ReportView.monthly", node=report.node_code, month=report.period)
    except BuildError:  # the report page is not registered (a bare test app)
        link = None
    return {"period": report.period, "node": report.node_name, "figures": figures, "chart": chart,
            "link": link}


def _tile(figure) -> dict:
    """A key figure as the landing page shows it: its value and change as text."""
    return {"key": figure.key, "name": figure.name, "definition": figure.definition, "unit": figure.unit,
            "value": number(figure.value, figure.unit), "change": change_text(figure) or "—",
            "flagged": figure.flagged, "flag_note": figure.flag_note}
