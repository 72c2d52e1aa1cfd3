"""The base of every model REST resource: JWT only, scoped like the pages, searches that name a
real column and operator, errors as JSON naming the field, each write one transaction."""

from __future__ import annotations

from flask_appbuilder import ModelRestApi
from flask_appbuilder.exceptions import InvalidColumnFilterFABException, InvalidOperationFilterFABException
from sqlalchemy.exc import DataError

from ..errors import DomainError, NotFound
from ..extensions import db
from ..i18n import t
from ..security.scoping import SCOPED
from ..services.common.transaction import transaction
from ..web.common import scoped_relations
from ..web.data import XuejiSchemaConverter, sortable

LISTED_OPERATORS = {"in", "not_in"}  # the filters whose value is a list


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
    # the columns a listed property reads (a masked value its ciphertext and row uid): selected
    # with the page, or each row loads them one query at a time
    row_needs: tuple[str, ...] = ()

    def __init__(self):
        rel = scoped_relations(self.datamodel)
        self.add_query_rel_fields = {**rel, **(self.add_query_rel_fields or {})}
        self.edit_query_rel_fields = {**rel, **(self.edit_query_rel_fields or {})}
        super().__init__()
        self.order_columns = sortable(self.datamodel, self.order_columns)

    def _handle_columns_args(self, args, default_select_columns, default_response_columns):
        """The columns the client picks (``select_columns``), and what its listed properties read."""
        select, response = super()._handle_columns_args(args, default_select_columns,
                                                        default_response_columns)
        return select + [c for c in self.row_needs if c not in select], response

    def get_or_404(self, pk):
        """The row, if it is inside the jurisdiction; else NotFound (a JSON 404, never 403)."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            raise NotFound("Not found")
        return item

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
        """One write as one transaction: FAB's pre_* hook (the services' checks and audit rows)
        and the interface's add, edit or delete (which joins it) commit together or not at all."""
        try:
            with transaction(db.session):
                return fn(*args)
        except DomainError as exc:
            return self.response(exc.status, **exc.as_json())
        except DataError:  # a value the column cannot hold that no check caught: still the caller's
            return self.response_400(message=str(t("有数值超出字段允许的范围或格式",
                                                   "a value does not fit its column")))

    def post_headless(self):
        return self._domain(super().post_headless)

    def put_headless(self, pk):
        return self._domain(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._domain(super().delete_headless, pk)

    def _read(self, fn, *args, **kwargs):
        """A read refused by a use case (a look-up while keys rotate, say): its status and JSON,
        never FAB's 500."""
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:  # nothing written: the request's session ends with it
            return self.response(exc.status, **exc.as_json())

    def get_list_headless(self, **kwargs):
        return self._read(super().get_list_headless, **kwargs)

    def get_headless(self, pk, **kwargs):
        return self._read(super().get_headless, pk, **kwargs)
