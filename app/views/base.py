"""Base classes for every admin view and REST API: scoped, CSRF-safe, errors mapped in one place."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, g, redirect, request
from flask_appbuilder import ModelRestApi, ModelView, expose
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.exceptions import InvalidColumnFilterFABException, InvalidOperationFilterFABException
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, get_page_size_args
from sqlalchemy.exc import DataError

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..security.scoping import SCOPED, scopable
from ..services.common.actors import Actor
from .data import XuejiInterface, XuejiSchemaConverter, sortable

LISTED_OPERATORS = {"in", "not_in"}  # the filters whose value is a list


def attachment(body, name: str, mime: str, **headers) -> Response:
    """A download under its (Chinese) file name, never cached: the bodies are personal data."""
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store",
        **headers})


def actor() -> Actor:
    return Actor.of(getattr(g, "user", None))


def now() -> datetime:
    """The time business happens at: local time of the configured zone (a fixed one in tests)."""
    fixed = current_app.config.get("XUEJI_FIXED_NOW")
    if fixed:
        return datetime.fromisoformat(fixed)
    return datetime.now(ZoneInfo(current_app.config.get("XUEJI_TIMEZONE", "Asia/Shanghai"))
                        ).replace(tzinfo=None)


def interface(model) -> XuejiInterface:
    return XuejiInterface(model, db.session)


def _scoped_relations(datamodel) -> dict:
    return {c: SCOPED for c in datamodel.get_columns_list()
            if datamodel.is_relation(c) and scopable(datamodel.get_related_model(c))}


class ScopedModelView(ModelView):
    """A ModelView whose lists, pages, selects, searches and actions stay inside the jurisdiction."""

    base_filters = SCOPED
    page_size = 25

    def __init__(self, **kwargs):
        if type(self.datamodel) is SQLAInterface:  # FAB's account view brings its own: use ours
            self.datamodel = XuejiInterface(self.datamodel.obj, self.datamodel.session)
        rel = _scoped_relations(self.datamodel)
        self.add_form_query_rel_fields = {**rel, **(self.add_form_query_rel_fields or {})}
        self.edit_form_query_rel_fields = {**rel, **(self.edit_form_query_rel_fields or {})}
        self.search_form_query_rel_fields = {**rel, **(self.search_form_query_rel_fields or {})}
        super().__init__(**kwargs)
        self.order_columns = sortable(self.datamodel, self.order_columns)  # no header sorts by a relation

    def get_method_permission(self, method_name: str) -> str:
        """A method the route table does not serve shows no button: FAB decides '+', edit and
        delete buttons by permission alone, and a permission may serve another route too."""
        if self.include_route_methods is not None and method_name not in self.include_route_methods:
            return "route_not_served"
        return super().get_method_permission(method_name)

    def get_or_404(self, pk):
        """The row, if it is inside the jurisdiction; else 404 (never 403: it is not there)."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item

    def related_widgets(self, item, widgets):
        """The related lists (a school's classes, a student's family) under a record."""
        return self._get_related_views_widgets(item, filters={}, orders=get_order_args(),
                                               pages=get_page_args(),
                                               page_sizes=get_page_size_args(), widgets=widgets)

    # FAB flashes a hook's error and throws the typed form away; a registrar with forty items
    # to fill keeps them: problems go next to their fields and the form is shown again.
    def _attach(self, form, exc: DomainError) -> None:
        db.session.rollback()
        for problem in exc.problems:
            field = getattr(form, problem.field, None) if problem.field else None
            if field is not None and hasattr(field, "errors"):
                where = f"（{problem.source}）" if problem.source else ""
                field.errors = list(field.errors or []) + [f"{problem.message}{where}"]
            else:
                flash(str(problem), "danger")

    def _save(self, form, item, adding: bool) -> bool:
        try:
            form.populate_obj(item)
            (self.pre_add if adding else self.pre_update)(item)
            (self.datamodel.add if adding else self.datamodel.edit)(item)
        except DomainError as exc:
            self._attach(form, exc)
            return False
        (self.post_add if adding else self.post_update)(item)
        flash(self.add_row_message if adding else self.edit_row_message, "success")
        return True

    def _add(self):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                self.process_form(form, True)
                if self._save(form, self.datamodel.obj(), adding=True):
                    return None
        else:
            self.update_redirect()
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.get_or_404(pk)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            self._fill_form_exclude_cols(exclude_cols, form)
            form._id = pk
            if form.validate():
                self.process_form(form, False)
                if self._save(form, item, adding=False):
                    return None
                item = self.datamodel.get(pk, self._base_filters)
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            self.update_redirect()
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self.related_widgets(item, widgets)

    def _delete(self, pk):
        item = self.get_or_404(pk)
        try:
            self.pre_delete(item)
            self.datamodel.delete(item)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            self.post_delete(item)
            flash(self.delete_row_message, "success")
        self.update_redirect()

    # FAB loads action rows by primary key without base_filters: load them through the scope.
    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if not self.is_get_mutation_allowed():
            flash(as_unicode(FLAMSG_ERR_SEC_ACCESS_DENIED), "danger")
            return redirect(self.get_redirect())
        if name not in self.actions:
            abort(404)
        pk = self._deserialize_pk_if_composite(pk)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name),
                                             self.class_permission_name):
            flash(as_unicode(FLAMSG_ERR_SEC_ACCESS_DENIED), "danger")
            return redirect(".")
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return self.actions[name].func(item)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name),
                                             self.class_permission_name):
            flash(as_unicode(FLAMSG_ERR_SEC_ACCESS_DENIED), "danger")
            return redirect(".")
        items = []
        for pk in request.form.getlist("rowid"):
            item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
            if item is None:
                abort(404)
            items.append(item)
        return self.actions[name].func(items)


def _chosen_filter(searchable: dict, column: str, operator: str, value) -> type:
    """The filter class a REST search names, or the FAB exception its 400 carries."""
    if column not in searchable:
        raise InvalidColumnFilterFABException(str(t(
            f"不能按列 {column!r} 筛选（可用：{', '.join(sorted(searchable))}）",
            f"cannot filter on column {column!r} (searchable: {', '.join(sorted(searchable))})")))
    choices = {f.arg_name: type(f) for f in searchable[column]}
    if operator not in choices:
        raise InvalidOperationFilterFABException(str(t(
            f"列 {column!r} 不支持筛选运算符 {operator!r}（可用：{', '.join(choices)}）",
            f"filter operator {operator!r} is not allowed on column {column!r} (allowed: {', '.join(choices)})")))
    listed = operator in LISTED_OPERATORS
    if isinstance(value, list) != listed:
        raise InvalidOperationFilterFABException(str(t(
            f"{column} {operator} 的值须为{'列表' if listed else '单个值'}",
            f"the value of {column} {operator} must be {'a list' if listed else 'a single value'}")))
    return choices[operator]


class ScopedApi(ModelRestApi):
    """A REST resource, JWT only, scoped like the views, errors as JSON naming the field."""

    base_filters = SCOPED
    allow_browser_login = False
    page_size = 50
    model2schemaconverter = XuejiSchemaConverter

    def __init__(self):
        rel = _scoped_relations(self.datamodel)
        self.add_query_rel_fields = {**rel, **(self.add_query_rel_fields or {})}
        self.edit_query_rel_fields = {**rel, **(self.edit_query_rel_fields or {})}
        super().__init__()
        self.order_columns = sortable(self.datamodel, self.order_columns)

    def _handle_filters_args(self, rison_args):
        """Each filter names a searchable column and one of its operators, or the call is a 400
        naming it: FAB silently skips an operator it does not know, so a mistyped search
        answered with the whole jurisdiction."""
        self._filters.clear_filters()
        searchable = self._filters.get_search_filters()
        for spec in rison_args.get("filters", []):
            chosen = _chosen_filter(searchable, spec["col"], spec["opr"], spec["value"])
            self._filters.add_filter(spec["col"], chosen, spec["value"])
        return self._filters.get_joined_filters(self._base_filters)

    def _domain(self, fn, *args):
        try:
            return fn(*args)
        except DomainError as exc:
            db.session.rollback()
            return self.response(exc.status, **exc.as_json())
        except DataError:  # a value the column cannot hold that no check caught: still the caller's
            db.session.rollback()
            return self.response_400(message=str(t("有数值超出字段允许的范围或格式",
                                                   "a value does not fit its column")))

    def post_headless(self):
        return self._domain(super().post_headless)

    def put_headless(self, pk):
        return self._domain(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._domain(super().delete_headless, pk)
