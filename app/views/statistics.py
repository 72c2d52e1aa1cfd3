"""统计报表 → 学校统计表 (the statistics table of a node, its drill-down and its xlsx) and 关注名单
(who left and was received nowhere, transfers waiting to be pulled, dropouts by month)."""

from __future__ import annotations

from flask import abort, flash, request
from flask_appbuilder import BaseView, expose, has_access

from ..documents import statistics_xlsx
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..i18n import english
from ..services.reports import statistics, watch
from ..web.common import actor, attachment, now

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _computed(compute):
    """``compute(code)`` for the node the query string names; another jurisdiction's node is a
    404, a bad code a message naming ``node`` over the account's own node."""
    code = (request.args.get("node") or "").strip() or None
    try:
        return compute(code)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except ValidationFailed as exc:
        flash(str(exc), "danger")
    try:
        return compute(None)
    except (NotFound, Forbidden, ValidationFailed):
        abort(404)


class StatisticsView(BaseView):
    """学校统计表: one row per child node (per grade for a school) and a total row."""

    route_base = "/reports/statistics"
    default_view = "index"
    class_permission_name = "Report"
    method_permission_name = {"index": "list", "xlsx": "download"}

    @expose("/")
    @has_access
    def index(self):
        stats = _computed(lambda code: statistics.school_statistics(db.session, actor(), code, now()))
        return self.render_template("xueji/report_statistics.html", stats=stats,
                                    groups=_groups(stats.columns))

    @expose("/xlsx")
    @has_access
    def xlsx(self):
        stats = _computed(lambda code: statistics.school_statistics(db.session, actor(), code, now()))
        data = statistics_xlsx.to_bytes(stats, "en" if english() else "zh")
        return attachment(data, f"学校统计表-{stats.node_code}.xlsx", XLSX)


class WatchView(BaseView):
    """关注名单: students who left and are on record nowhere, transfers not pulled, dropouts."""

    route_base = "/reports/watch"
    default_view = "index"
    class_permission_name = "Report"
    method_permission_name = {"index": "list"}

    @expose("/")
    @has_access
    def index(self):
        lists = _computed(lambda code: watch.watch_lists(db.session, actor(), code, now()))
        return self.render_template("xueji/report_watch.html", lists=lists, most=watch.MOST)


def _groups(columns) -> list[tuple[str, int, int]]:
    """The first header row: (words, columns spanned, rows spanned) -- a group over its columns,
    or a column of no group over both header rows."""
    out: list[list] = []
    for column in columns:
        if column.group and out and out[-1][0] == column.group and out[-1][2] == 1:
            out[-1][1] += 1
        elif column.group:
            out.append([column.group, 1, 1])
        else:
            out.append([column.label, 1, 2])
    return [tuple(g) for g in out]
