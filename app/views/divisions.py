"""What the division picker asks: the divisions in force under a code, as JSON."""

from __future__ import annotations

from flask import jsonify, request
from flask_appbuilder import BaseView, expose, has_access

from ..i18n import t
from ..services.organisation import divisions


class DivisionView(BaseView):
    """GET /divisions/children?parent=43 -> [{"code": "430100", "name": "长沙市"}, ...]; no
    parent: the provinces.  Public names, no jurisdiction rows: asked by whoever fills forms."""

    route_base = "/divisions"
    class_permission_name = "Student"
    method_permission_name = {"children": "add"}  # the school registrars, who fill the forms

    @expose("/children")
    @has_access
    def children(self):
        parent = request.args.get("parent", "").strip()
        try:
            found = divisions.children(parent)
        except KeyError:
            return jsonify(message=str(t(f"parent：不是行政区划代码：{parent[:20]!r}",
                                         f"parent: not a division code: {parent[:20]!r}"))), 400
        return jsonify([{"code": d.code, "name": d.name} for d in found])
