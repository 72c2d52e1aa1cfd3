"""Base classes for every admin view and REST API: scoped, CSRF-safe, errors mapped in one place."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, g, redirect, request
from flask_appbuilder import ModelRestApi, ModelView, expose
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.urltools import (
    get_filter_args,
    get_order_args,
    get_page_args,
    get_page_size_args,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict, DomainError
from ..extensions import db
from ..i18n import t
from ..security.scoping import SCOPED, scopable
from ..services.actors import Actor
from ..text import normalize_id

MAX_PAGE_SIZE = 500


def guard_list_arguments() -> None:
    """FAB turns page_* / psize_* arguments into OFFSET and LIMIT unchecked: refuse bad ones."""
    for key, value in request.args.items():
        if key.startswith(("page_", "psize_")):
            if not value.isdigit() or (key.startswith("psize_") and not 0 < int(value) <= MAX_PAGE_SIZE):
                abort(400, description=f"{key} must be a whole number (page size 1–{MAX_PAGE_SIZE})")


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


# blind-index column -> what its keyed hash was made of
BLIND_PURPOSES = {"id_blind": "id_number", "registry_blind": "registry_no",
                  "number_blind": "registry_no"}


class BlindEquals(BaseFilter):
    """Exact search through a blind index: the value itself is never stored in clear."""

    name = t("等于", "Equal to")
    arg_name = "exact"

    def apply(self, query, value):
        from ..models.base import keyring

        purpose = BLIND_PURPOSES[self.column_name]
        digest = keyring().blind_index(purpose, normalize_id(value))
        return query.filter(getattr(self.model, self.column_name) == digest)


class XuejiFilterConverter(SQLAFilterConverter):
    def convert(self, col_name):
        if col_name in BLIND_PURPOSES:
            return [BlindEquals(col_name, self.datamodel)]
        return super().convert(col_name)


def friendly_integrity(exc: IntegrityError) -> Conflict:
    text = str(exc.orig).lower()
    if "registry_blind" in text or "number_blind" in text:
        return Conflict(t("学籍号已被占用", "registry number already taken"), "registry_no")
    if "id_blind" in text:
        return Conflict(t("该身份证件号已注册", "this ID number is already registered"), "id_number")
    if "unique" in text or "duplicate" in text:
        return Conflict(t("与已有记录重复", "duplicates an existing record"))
    if "foreign key" in text:
        return Conflict(t("仍有关联记录，不能删除或修改", "other records still refer to this one"))
    return Conflict(t("数据不符合约束", "the data violates a database constraint"))


class XuejiInterface(SQLAInterface):
    """FAB's data interface, with database errors turned into readable conflicts."""

    filter_converter_class = XuejiFilterConverter

    def _guard(self, fn, item, commit):
        try:
            fn(item, commit=commit)
        except DomainError:
            raise
        except StaleDataError:
            self.session.rollback()
            raise Conflict(t("记录已被他人修改，请刷新后重试", "changed by someone else; reload and retry"))
        except IntegrityError as exc:
            self.session.rollback()
            raise friendly_integrity(exc) from None
        except Exception as exc:
            cause = exc.__cause__
            self.session.rollback()
            if isinstance(cause, IntegrityError):
                raise friendly_integrity(cause) from None
            if isinstance(cause, StaleDataError):
                raise Conflict(t("记录已被他人修改，请刷新后重试", "changed by someone else")) from None
            if isinstance(exc, SQLAlchemyError) or isinstance(cause, SQLAlchemyError):
                raise Conflict(t("数据库拒绝了此操作", "the database refused the change")) from None
            raise

    def add(self, item, commit=True):
        self._guard(super().add, item, commit)

    def edit(self, item, commit=True):
        self._guard(super().edit, item, commit)

    def delete(self, item, commit=True):
        self._guard(super().delete, item, commit)


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
        rel = _scoped_relations(self.datamodel)
        self.add_form_query_rel_fields = {**rel, **(self.add_form_query_rel_fields or {})}
        self.edit_form_query_rel_fields = {**rel, **(self.edit_form_query_rel_fields or {})}
        self.search_form_query_rel_fields = {**rel, **(self.search_form_query_rel_fields or {})}
        super().__init__(**kwargs)

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


class ScopedApi(ModelRestApi):
    """A REST resource, JWT only, scoped like the views, errors as JSON naming the field."""

    base_filters = SCOPED
    allow_browser_login = False
    page_size = 50

    def __init__(self):
        rel = _scoped_relations(self.datamodel)
        self.add_query_rel_fields = {**rel, **(self.add_query_rel_fields or {})}
        self.edit_query_rel_fields = {**rel, **(self.edit_query_rel_fields or {})}
        super().__init__()

    def _domain(self, fn, *args):
        try:
            return fn(*args)
        except DomainError as exc:
            db.session.rollback()
            return self.response(exc.status, **exc.as_json())

    def post_headless(self):
        return self._domain(super().post_headless)

    def put_headless(self, pk):
        return self._domain(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._domain(super().delete_headless, pk)
