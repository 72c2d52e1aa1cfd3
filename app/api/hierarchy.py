"""REST resources for jurisdictions, schools, grades and classes."""

from __future__ import annotations

from ..extensions import db
from ..models import Grade, Jurisdiction, School, SchoolClass
from ..services.organisation import hierarchy
from ..web.common import actor, interface
from .base import ScopedApi


class _HierarchyApi(ScopedApi):
    def pre_add(self, item):
        self._prepare(item, adding=True)

    def pre_update(self, item):
        self._prepare(item, adding=False)

    def pre_delete(self, item):
        hierarchy.prepare_delete(db.session, item, actor())


class JurisdictionApi(_HierarchyApi):
    resource_name = "jurisdiction"
    datamodel = interface(Jurisdiction)
    class_permission_name = "Jurisdiction"
    list_columns = ["id", "code", "name", "level", "parent_id"]
    show_columns = list_columns + ["province_code", "city_code", "county_code"]
    add_columns = edit_columns = ["code", "name", "level", "parent"]
    search_columns = ["code", "name", "level"]

    def _prepare(self, item, adding):
        hierarchy.prepare_jurisdiction(db.session, item, actor(), adding=adding)


class SchoolApi(_HierarchyApi):
    resource_name = "school"
    datamodel = interface(School)
    class_permission_name = "School"
    list_columns = ["id", "code", "name", "stages", "kind", "ownership", "jurisdiction.code",
                    "county_code", "city_code", "province_code"]
    show_columns = list_columns + ["address"]
    add_columns = edit_columns = ["code", "name", "stages", "kind", "ownership", "jurisdiction",
                                  "address"]
    search_columns = ["code", "name", "kind", "ownership", "county_code", "city_code"]

    def _prepare(self, item, adding):
        hierarchy.prepare_school(db.session, item, actor(), adding=adding)


class GradeApi(_HierarchyApi):
    resource_name = "grade"
    datamodel = interface(Grade)
    class_permission_name = "Grade"
    list_columns = show_columns = ["id", "school_id", "stage", "number", "name"]
    add_columns = edit_columns = ["school", "number", "name"]
    search_columns = ["school", "stage", "number"]

    def _prepare(self, item, adding):
        hierarchy.prepare_grade(db.session, item, actor(), adding=adding)


class SchoolClassApi(_HierarchyApi):
    resource_name = "class"
    datamodel = interface(SchoolClass)
    class_permission_name = "SchoolClass"
    list_columns = show_columns = ["id", "school_id", "grade_id", "number", "name", "entry_year",
                                   "head_teacher"]
    add_columns = edit_columns = ["grade", "number", "name", "entry_year", "head_teacher"]
    search_columns = ["school", "grade", "name", "entry_year"]

    def _prepare(self, item, adding):
        hierarchy.prepare_class(db.session, item, actor(), adding=adding)
