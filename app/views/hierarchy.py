"""Admin pages for jurisdictions, schools, grades and classes."""

from __future__ import annotations

from ..extensions import db
from ..i18n import t
from ..models import Grade, Jurisdiction, School, SchoolClass
from ..services.organisation import hierarchy
from ..web.common import actor, interface
from ..web.labels import code_formatter
from .base import ScopedModelView
from .forms import code_field, code_list_field

L = {
    "code": t("代码", "Code"), "name": t("名称", "Name"),
    "level": t("级别", "Level"), "parent": t("上级", "Parent"),
    "stages": t("学段", "Stages"), "kind": t("办学类型", "Kind"),
    "ownership": t("举办者类型", "Ownership"),
    "jurisdiction": t("主管教育行政部门", "Supervising bureau"),
    "address": t("地址", "Address"), "school": t("学校", "School"),
    "stage": t("学段", "Stage"), "number": t("序号", "Number"),
    "grade": t("年级", "Grade"), "entry_year": t("入学年份", "Entry year"),
    "head_teacher": t("班主任", "Head teacher"),
    "province_code": t("省", "Province"), "city_code": t("市", "City"),
    "county_code": t("县", "County"),
}


def _stages(value: str) -> str:
    return "、".join(code_formatter("stage")(s) for s in (value or "").split(",") if s)


class _HierarchyView(ScopedModelView):
    label_columns = L

    def pre_add(self, item):
        self._prepare(item, adding=True)

    def pre_update(self, item):
        self._prepare(item, adding=False)

    def pre_delete(self, item):
        hierarchy.prepare_delete(db.session, item, actor())


class SchoolClassView(_HierarchyView):
    route_base = "/classes"
    datamodel = interface(SchoolClass)
    class_permission_name = "SchoolClass"
    list_title = t("班级", "Classes")
    noun = t("班级", "class")
    list_columns = ["name", "school", "grade", "entry_year", "head_teacher"]
    add_columns = edit_columns = ["grade", "number", "name", "entry_year", "head_teacher"]
    show_columns = ["name", "school", "grade", "number", "entry_year", "head_teacher"]
    search_columns = ["name", "school", "school_id", "grade", "entry_year"]
    description_columns = {"name": t("留空则自动生成，如“2026级1班”",
                                             "Left blank: generated, e.g. 2026级1班")}

    def _prepare(self, item, adding):
        hierarchy.prepare_class(db.session, item, actor(), adding=adding)


class GradeView(_HierarchyView):
    route_base = "/grades"
    datamodel = interface(Grade)
    class_permission_name = "Grade"
    list_title = t("年级", "Grades")
    noun = t("年级", "grade")
    list_columns = ["name", "school", "stage", "number"]
    add_columns = edit_columns = ["school", "number", "name"]
    show_columns = ["name", "school", "stage", "number"]
    search_columns = ["school", "school_id", "stage", "number"]
    formatters_columns = {"stage": code_formatter("stage")}
    related_views = [SchoolClassView]

    def _prepare(self, item, adding):
        hierarchy.prepare_grade(db.session, item, actor(), adding=adding)


class SchoolView(_HierarchyView):
    route_base = "/schools"
    datamodel = interface(School)
    class_permission_name = "School"
    list_title = t("学校", "Schools")
    noun = t("学校", "school")
    list_columns = ["code", "name", "stages", "kind", "ownership", "jurisdiction"]
    add_columns = edit_columns = ["code", "name", "stages", "kind", "ownership", "jurisdiction",
                                  "address"]
    show_columns = add_columns + ["province_code", "city_code", "county_code"]
    search_columns = ["code", "name", "kind", "ownership", "jurisdiction"]
    add_form_extra_fields = edit_form_extra_fields = {
        "stages": code_list_field("stage", L["stages"]),
        "kind": code_field("school_kind", L["kind"], True),
        "ownership": code_field("ownership", L["ownership"], True),
    }
    formatters_columns = {"stages": _stages, "kind": code_formatter("school_kind"),
                          "ownership": code_formatter("ownership")}
    related_views = [GradeView, SchoolClassView]

    def _prepare(self, item, adding):
        hierarchy.prepare_school(db.session, item, actor(), adding=adding)


class JurisdictionView(_HierarchyView):
    route_base = "/jurisdictions"
    datamodel = interface(Jurisdiction)
    class_permission_name = "Jurisdiction"
    list_title = t("行政区划", "Jurisdictions")
    noun = t("行政区划", "jurisdiction")
    list_columns = ["code", "name", "level", "parent"]
    add_columns = edit_columns = ["code", "name", "level", "parent"]
    show_columns = ["code", "name", "level", "parent", "province_code", "city_code", "county_code"]
    search_columns = ["code", "name", "level", "parent"]
    add_form_extra_fields = edit_form_extra_fields = {
        "level": code_field("jurisdiction_level", L["level"], True)}
    formatters_columns = {"level": code_formatter("jurisdiction_level")}
    related_views = [SchoolView]
    base_order = ("code", "asc")

    def _prepare(self, item, adding):
        hierarchy.prepare_jurisdiction(db.session, item, actor(), adding=adding)
