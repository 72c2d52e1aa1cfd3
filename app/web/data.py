"""The data layer under every page and resource: Flask-AppBuilder's SQLAlchemy interface whose
writes go through the transaction helper, database errors made readable, a stable order for every
list, ids and filter values that the database can hold, and numbers that always serialise."""

from __future__ import annotations

import decimal
from contextlib import nullcontext

from flask_appbuilder.api.convert import Model2SchemaConverter
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import (
    FilterRelation,
    FilterStartsWith,
    SQLAFilterConverter,
    get_field_setup_query,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from marshmallow import ValidationError, fields
from marshmallow_sqlalchemy.fields import Related, RelatedList
from sqlalchemy import false, func
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import ColumnProperty, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict, DomainError
from ..i18n import t
from ..security.inputs import as_db_int
from ..services.common.transaction import transaction
from ..text import normalize_id

# blind-index column -> what its keyed hash was made of
BLIND_PURPOSES = {"id_blind": "id_number", "registry_blind": "registry_no",
                  "number_blind": "registry_no"}
TEXT_OPERATORS = {"sw", "ew", "ct", "nsw", "new", "nct"}
_NOTHING = object()  # a filter value no row can match


class BlindEquals(BaseFilter):
    """Exact search through a blind index: the value itself is never stored in clear."""

    name = t("等于", "Equal to")
    arg_name = "exact"

    def apply(self, query, value):
        from ..models.base import keyring

        purpose = BLIND_PURPOSES[self.column_name]
        digest = keyring().blind_index(purpose, normalize_id(str(value)))
        return query.filter(getattr(self.model, self.column_name) == digest)


def _typed(flt: BaseFilter, value):
    """A filter value as its column holds it: ids and integers within INTEGER, text as text."""
    if value is None or value == "":
        return value  # blank: Flask-AppBuilder's own meaning (no filter, or IS NULL)
    if isinstance(flt, FilterRelation) or flt.datamodel.is_integer(flt.column_name):
        if isinstance(value, list):
            return [n for n in map(as_db_int, value) if n is not None]
        number = as_db_int(value)
        return _NOTHING if number is None else number
    if flt.arg_name in TEXT_OPERATORS:
        return str(value)
    return value


_SAFE: dict[type, type] = {}


def _safe(cls: type) -> type:
    """``cls`` with its value typed first: a value of the wrong type matches nothing."""
    if cls not in _SAFE:
        def apply(self, query, value):
            value = _typed(self, value)
            return query.filter(false()) if value is _NOTHING else cls.apply(self, query, value)

        _SAFE[cls] = type(cls.__name__, (cls,), {"apply": apply})
    return _SAFE[cls]


class PrefixFilter(FilterStartsWith):
    """Starts with: ``LIKE 'value%'`` when the value has no letter with a case (a Chinese name),
    which a ``text_pattern_ops`` index answers at once; ``ILIKE`` otherwise.  PostgreSQL takes no
    index prefix from ILIKE past a multibyte character, so ILIKE '张%' read a million rows.  The
    value's own ``%`` and ``_`` are matched as themselves."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        pattern = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        caseless = str(value).upper() == str(value).lower()
        return query.filter(field.like(pattern, escape="\\") if caseless else field.ilike(pattern, escape="\\"))


class XuejiFilterConverter(SQLAFilterConverter):
    def convert(self, col_name):
        if col_name in BLIND_PURPOSES:
            return [BlindEquals(col_name, self.datamodel)]
        filters = super().convert(col_name)
        return None if filters is None else [
            _safe(PrefixFilter if type(f) is FilterStartsWith else type(f))(col_name, self.datamodel)
            for f in filters]


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


def _is_column(model, name: str) -> bool:
    return isinstance(getattr(getattr(model, name, None), "property", None), ColumnProperty)


def sortable(datamodel, columns) -> list[str]:
    """The columns an ORDER BY can use: the model's own, or one of a many-to-one relation's
    (``school.code``); never a relation itself, a property or a masked value."""
    def usable(name: str) -> bool:
        if "." not in name:
            return _is_column(datamodel.obj, name)
        root, leaf = name.split(".", 1)
        return (datamodel.is_relation_many_to_one(root)
                and _is_column(datamodel.get_related_model(root), leaf))

    return [c for c in columns or () if usable(c)]


class XuejiInterface(SQLAInterface):
    """FAB's data interface: each write one transaction (through the helper), database errors
    turned into readable conflicts."""

    filter_converter_class = XuejiFilterConverter
    eager: tuple[str, ...] = ()  # the relations a page's list shows (set by the page)

    def apply_all(self, query, *args, **kwargs):
        """The relations the list shows, loaded for the whole page in one query each (not one
        query per row, as each row's lazy load would)."""
        query = super().apply_all(query, *args, **kwargs)
        return query.options(*(selectinload(getattr(self.obj, name)) for name in self.eager))

    def query_count(self, query, filters=None, select_columns=None):
        """The rows a list pages through, counted as ``SELECT count(*) FROM <table> WHERE <scope,
        search>``: not over a subquery of every column joined to the relations the list shows
        (FAB's; outer many-to-one joins never change the count), so an index can answer it."""
        query = self.apply_filters(query, self.get_inner_filters(filters))
        return query.with_entities(func.count()).order_by(None).scalar()

    def get(self, id, filters=None, select_columns=None, outer_default_load=False):
        """No row for an id no INTEGER column can hold ("abc", 2**40): None, as for any miss."""
        if not self.is_pk_composite() and self.is_integer(self.get_pk_name()):
            id = as_db_int(id)
            if id is None:
                return None
        return super().get(id, filters, select_columns, outer_default_load)

    def get_related_obj(self, col_name, value):
        number = as_db_int(value)
        return None if number is None else super().get_related_obj(col_name, number)

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        """Every list in a stable order: the primary key when nothing else is asked for (FAB adds
        it as the tie-breaker behind any other column), so pages never repeat or skip rows."""
        if not order_column:
            order_column, order_direction = self.get_pk_name(), "asc"
        return super().query(filters, order_column, order_direction, page, page_size,
                             select_columns, outer_default_load)

    # FAB's add, edit and delete commit inside the interface: here they stage the write
    # (commit=False) and flush it inside the one transaction helper, which commits. A page or a
    # resource runs its pre_* hook in the same transaction (ScopedModelView._save, ScopedApi._domain):
    # the write joins it. ``commit=False`` from a caller leaves the commit to that caller's
    # transaction. Database errors come out as readable conflicts, after the rollback.
    def _write(self, fn, item, commit):
        try:
            with transaction(self.session) if commit else nullcontext():
                fn(item, commit=False)
                self.session.flush()
        except DomainError:
            raise
        except Exception as exc:
            readable = _readable(exc)
            if readable is exc:
                raise
            raise readable from None

    def add(self, item, commit=True):
        self._write(super().add, item, commit)

    def edit(self, item, commit=True):
        self._write(super().edit, item, commit)

    def delete(self, item, commit=True):
        self._write(super().delete, item, commit)


def _readable(exc: Exception) -> Exception:
    """A database error (or FAB's wrapper of one) as the conflict a user can act on; any other
    error as it is."""
    cause = exc.__cause__
    if isinstance(exc, StaleDataError):
        return Conflict(t("记录已被他人修改，请刷新后重试", "changed by someone else; reload and retry"))
    if isinstance(exc, IntegrityError) or isinstance(cause, IntegrityError):
        return friendly_integrity(exc if isinstance(exc, IntegrityError) else cause)
    if isinstance(cause, StaleDataError):
        return Conflict(t("记录已被他人修改，请刷新后重试", "changed by someone else"))
    if isinstance(exc, SQLAlchemyError) or isinstance(cause, SQLAlchemyError):
        return Conflict(t("数据库拒绝了此操作", "the database refused the change"))
    return exc


class ShownDecimal(fields.Decimal):
    """A stored number its column's scale cannot format (a row written before the range check,
    or by SQLite, which does not enforce precision) is shown as it is instead of failing."""

    def _serialize(self, value, attr, obj, **kwargs):
        try:
            return super()._serialize(value, attr, obj, **kwargs)
        except (decimal.InvalidOperation, ValueError, OverflowError):
            return str(value)


class RelatedId(Related):
    """A related row named by the id of a row that exists: anything else (an object, 7.5, 2**40,
    an unknown id) is a 422 naming the field, where marshmallow-sqlalchemy would hand it to the
    database or make up a new, empty row."""

    def _deserialize(self, value, *args, **kwargs):
        number = as_db_int(value)
        if number is None:
            raise ValidationError(str(t("须为记录的 id（整数）", "must be the id (a whole number) of a record")))
        row = super()._deserialize(number, *args, **kwargs)
        if not sa_inspect(row).persistent:
            raise ValidationError(str(t(f"没有 id 为 {number} 的记录", f"there is no record with id {number}")))
        return row


class XuejiSchemaConverter(Model2SchemaConverter):
    def _column2field(self, datamodel, column, nested=True, parent_schema_name=None):
        field = super()._column2field(datamodel, column, nested, parent_schema_name)
        # same settings, stricter load or more forgiving dump: swap the class, keep the field
        if type(field) is fields.Decimal:
            field.__class__ = ShownDecimal
        elif type(field) is Related:
            field.__class__ = RelatedId
        elif isinstance(field, RelatedList) and type(field.inner) is Related:
            field.inner.__class__ = RelatedId
        return field
