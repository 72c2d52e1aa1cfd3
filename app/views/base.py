"""The base of every admin page: scoped, CSRF-safe, errors mapped in one place, each write one
transaction."""

from __future__ import annotations

from flask import abort, flash, has_request_context, redirect, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, get_page_size_args
from wtforms import StringField

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..security.scoping import SCOPED, current_scope
from ..services.common.transaction import transaction
from ..web.common import scoped_relations
from ..web.data import XuejiInterface, sortable
from ..web.labels import Formatters, flash_problems, form_field, problem_text
from .display import CountedListWidget, titled


class ScopedModelView(ModelView):
    """A ModelView whose lists, pages, selects, searches and actions stay inside the jurisdiction."""

    base_filters = SCOPED
    page_size = 25
    list_widget = CountedListWidget  # says when the total is an estimate
    noun = None  # what one row is (t("年级", "grade")): the add / edit / show titles say it

    def __init__(self, **kwargs):
        if type(self.datamodel) is SQLAInterface:  # FAB's account view brings its own: use ours
            self.datamodel = XuejiInterface(self.datamodel.obj, self.datamodel.session)
        rel = scoped_relations(self.datamodel)
        self.add_form_query_rel_fields = {**rel, **(self.add_form_query_rel_fields or {})}
        self.edit_form_query_rel_fields = {**rel, **(self.edit_form_query_rel_fields or {})}
        self.search_form_query_rel_fields = {**rel, **(self.search_form_query_rel_fields or {})}
        words = {c: label for c, label in self.WIDE_SEARCHES.items() if c in (self.search_columns or ())}
        self.search_form_extra_fields = {**{c: StringField(label, widget=BS3TextFieldWidget())
                                            for c, label in words.items()}, **(self.search_form_extra_fields or {})}
        self.label_columns = {**words, **(self.label_columns or {})}
        super().__init__(**kwargs)
        self.order_columns = sortable(self.datamodel, self.order_columns)  # no header sorts by a relation
        self.formatters_columns = Formatters(self.formatters_columns)  # None shown as nothing, ...
        self.datamodel.eager = tuple(c for c in self.list_columns if self.datamodel.is_relation(c))
        self.datamodel.estimate_counts = True  # a long list's total: 约 N (XuejiInterface.query_count)

    # search boxes that pick one row of a model with too many rows above a county (a province's
    # 27,000 classes, 8,000 grades, 1,500 schools): offered to county and school accounts only;
    # above a county a school is named in words instead (WIDE_SEARCHES: ``school_id``, searched
    # by the school's code or name, data.SchoolNamed), where a view lists it in search_columns
    NARROW_PICKERS = ("grade", "school_class", "school")
    WIDE_SEARCHES = {"school_id": t("学校（代码或名称）", "School (code or name)")}

    def _get_search_widget(self, form=None, exclude_cols=None, widgets=None):
        """FAB's search widget, without the pickers too long for the account's scope (the widget
        renders every column it includes, whatever ``exclude_cols`` says)."""
        widgets = widgets or {}
        left_out = self.WIDE_SEARCHES if current_scope().level in ("county", "school") else self.NARROW_PICKERS
        widgets["search"] = self.search_widget(
            route_base=self.route_base, form=form, exclude_cols=exclude_cols or [], filters=self._filters,
            include_cols=[c for c in self.search_columns if c not in left_out])
        return widgets

    def _init_titles(self):
        """新增年级 / 编辑年级 / 查看年级, where FAB would title them "Add Grade" and so on."""
        noun = self.noun or self.list_title
        if noun is not None:
            self.add_title = self.add_title or titled("新增", "Add", noun)
            self.edit_title = self.edit_title or titled("编辑", "Edit", noun)
            self.show_title = self.show_title or titled("查看", "Show", noun)
        super()._init_titles()

    def action_available(self, name: str) -> bool:
        """Whether the signed-in account can ever use list action ``name`` (beyond holding its
        permission); an action it cannot use shows no button and its post is refused."""
        return True

    def get_action_permission_name(self, name: str) -> str:
        permission = super().get_action_permission_name(name)
        if has_request_context() and not self.action_available(name):
            return "action_not_available"  # in no base_permissions: FAB hides and refuses it
        return permission

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
        for problem in exc.problems:
            name = form_field(problem.field)
            field = getattr(form, name, None) if name else None
            if field is not None and hasattr(field, "errors"):
                where = f"（{problem.source}）" if problem.source else ""
                field.errors = list(field.errors or []) + [f"{problem.message}{where}"]
            else:  # an item the form does not show: named in words above the form
                flash(problem_text(problem), "danger")

    # The page's one transaction (as Django admin's changeform_view runs in one atomic block):
    # the pre_* hook stages the services' checks and audit rows, the interface's add or edit
    # joins it, and the helper commits both or rolls both back.
    def _save(self, form, item, adding: bool) -> bool:
        try:
            with transaction(db.session):
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
                item = self.get_or_404(pk)
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            self.update_redirect()
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self.related_widgets(item, widgets)

    def _delete(self, pk):
        item = self.get_or_404(pk)
        try:
            with transaction(db.session):  # the hook and the delete: one transaction, as in _save
                self.pre_delete(item)
                self.datamodel.delete(item)
        except DomainError as exc:
            flash_problems(exc)
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
        return self.actions[name].func(self.get_or_404(pk))

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name),
                                             self.class_permission_name):
            flash(as_unicode(FLAMSG_ERR_SEC_ACCESS_DENIED), "danger")
            return redirect(".")
        items = [self.get_or_404(self._deserialize_pk_if_composite(pk))
                 for pk in request.form.getlist("rowid")]
        return self.actions[name].func(items)

