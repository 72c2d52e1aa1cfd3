"""The data layer under every page and resource: Flask-AppBuilder's SQLAlchemy interface whose
writes go through the transaction helper, database errors made readable, a stable order for every
list, ids and filter values that the database can hold, and numbers that always serialise."""

from __future__ import annotations

import decimal
from contextlib import nullcontext

from flask import current_app, g, has_app_context
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
from sqlalchemy import false, func, literal_column, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import ColumnProperty, joinedload, selectinload
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


def _like_escaped(value: str) -> str:
    """``value`` inside a LIKE pattern (``escape="\\"``): its own ``%`` and ``_`` matched as themselves."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PrefixFilter(FilterStartsWith):
    """Starts with: ``LIKE 'value%'`` when the value has no letter with a case (a Chinese name),
    which a ``text_pattern_ops`` index answers at once; ``ILIKE`` otherwise.  PostgreSQL takes no
    index prefix from ILIKE past a multibyte character, so ILIKE '张%' read a million rows.  The
    value's own ``%`` and ``_`` are matched as themselves."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        pattern = _like_escaped(str(value)) + "%"
        caseless = str(value).upper() == str(value).lower()
        return query.filter(field.like(pattern, escape="\\") if caseless else field.ilike(pattern, escape="\\"))


class SchoolNamed(BaseFilter):
    """A school named in words, where a select of every school would be too long (above a county a
    province's 1,500): rows whose school's code starts with the value or whose name contains it,
    among the schools in the account's jurisdiction only.

    The schools are looked up first (one read of the school table), and the rows are asked for by
    those schools' ids and, when they all lie in one county (or one city), by that county's code
    too: a list in id order then reads that county's index (``ix_student_county_id``) instead of
    walking the whole province's primary key until 25 of a few distant schools' rows turn up, as
    PostgreSQL's plan for ``school_id IN (SELECT ...) ORDER BY id LIMIT 25`` did (130 ms to 2 s)."""

    name = t("代码开头或名称包含", "code starts with, or name contains")
    arg_name = "school_named"
    MOST_LISTED = 500  # more schools than this: asked for by a subquery (spread widely, found at once)

    def apply(self, query, value):
        from ..models import School
        from ..security.scoping import current_scope

        words = str(value).strip() if value is not None else ""
        if not words:
            return query  # blank: no filter, as FAB's own text filters
        pattern, scope = _like_escaped(words), current_scope()
        named = select(School.id, School.city_code, School.county_code).where(
            scope.clause(School),
            or_(School.code.like(pattern + "%", escape="\\"), School.name.ilike(f"%{pattern}%", escape="\\")))
        column = getattr(self.model, self.column_name)
        schools = self._schools(query.session, named.order_by(School.id).limit(self.MOST_LISTED + 1),
                                (scope.level, scope.code, scope.school_id, words))
        if not schools:
            return query.filter(false())
        if len(schools) > self.MOST_LISTED:
            return query.filter(column.in_(named.with_only_columns(School.id)))
        query = query.filter(column.in_([s.id for s in schools]))
        for level in ("county_code", "city_code"):  # the narrowest jurisdiction holding them all
            codes = {getattr(s, level) for s in schools}
            if len(codes) == 1 and None not in codes and hasattr(self.model, level):
                return query.filter(getattr(self.model, level) == codes.pop())
        return query

    @staticmethod
    def _schools(session, lookup, key: tuple) -> list:
        """The schools named, looked up once a request (``key``: the scope and the words): FAB
        applies the filter to the page's count and again to its rows."""
        found = g.setdefault("xueji_schools_named", {}) if has_app_context() else {}
        if key not in found:
            found[key] = session.execute(lookup).all()
        return found[key]


def _names_school(datamodel, col_name: str) -> bool:
    """Whether ``col_name`` is a column holding a school's id (a foreign key to ``school.id``)."""
    column = getattr(getattr(datamodel.obj, col_name, None), "property", None)
    if not isinstance(column, ColumnProperty):
        return False
    return any(fk.column.table.name == "school" and fk.column.name == "id"
               for c in column.columns for fk in getattr(c, "foreign_keys", ()))


_CONVERTED: dict[tuple, tuple[type, ...] | None] = {}


class XuejiFilterConverter(SQLAFilterConverter):
    """The filters of a column: FAB's, typed (``_safe``), blind-index and school searches our own.
    A column's filter classes depend on its model alone, so they are worked out once: FAB asks for
    every column of the model each time it joins or copies a list's filters (three times a page)."""

    def convert(self, col_name):
        key = (type(self.datamodel), self.datamodel.obj, col_name)
        if key not in _CONVERTED:
            _CONVERTED[key] = self._classes(col_name)
        classes = _CONVERTED[key]
        return None if classes is None else [cls(col_name, self.datamodel) for cls in classes]

    def _classes(self, col_name) -> tuple[type, ...] | None:
        if col_name in BLIND_PURPOSES:
            return (BlindEquals,)
        if _names_school(self.datamodel, col_name):  # school_id: searched by the school's code or name
            return (SchoolNamed,)
        filters = super().convert(col_name)
        return None if filters is None else tuple(
            _safe(PrefixFilter if type(f) is FilterStartsWith else type(f)) for f in filters)


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


class Estimate(int):
    """A list's total that PostgreSQL's planner estimated instead of counting: the page says
    "约 N 条" (``approximate``) and its pager runs to the estimate's last page."""

    approximate = True


class XuejiInterface(SQLAInterface):
    """FAB's data interface: each write one transaction (through the helper), database errors
    turned into readable conflicts."""

    filter_converter_class = XuejiFilterConverter
    eager: tuple[str, ...] = ()  # the relations a page's list shows (set by the page)
    joined: tuple[str, ...] = ()  # many-to-one relations a row's shown property reads: in the page's query
    # a page's list (set by the page, never a REST resource, whose count stays exact): above
    # XUEJI_LIST_EXACT_COUNT_MAX rows on PostgreSQL its total is the planner's estimate
    estimate_counts = False

    def apply_all(self, query, *args, **kwargs):
        """The relations the list shows, loaded for the whole page in one query each (not one
        query per row, as each row's lazy load would); ``joined`` ones in the page's own query."""
        query = super().apply_all(query, *args, **kwargs)
        return query.options(*(selectinload(getattr(self.obj, name)) for name in self.eager),
                             *(joinedload(getattr(self.obj, name)) for name in self.joined))

    def query_count(self, query, filters=None, select_columns=None):
        """The rows a list pages through, counted as ``SELECT count(*) FROM <table> WHERE <scope,
        search>``: not over a subquery of every column joined to the relations the list shows
        (FAB's; outer many-to-one joins never change the count), so an index can answer it.

        A page's list with an exact-count limit (``_exact_count_limit``) counts at most that many
        rows plus one: up to the limit the count is exact, whatever the search; past it the total
        is the planner's estimate of the same query (an ``Estimate``), so a province's list does
        not read a million index entries on every page view."""
        query = self.apply_filters(query.select_from(self.obj), self.get_inner_filters(filters)).order_by(None)
        limit = self._exact_count_limit()
        if limit is None:
            return query.with_entities(func.count()).scalar()
        rows = query.with_entities(literal_column("1")).limit(limit + 1).subquery()
        found = self.session.scalar(select(func.count()).select_from(rows))
        if found <= limit:
            return found
        return Estimate(max(limit + 1, self._planned_rows(query)))

    def _exact_count_limit(self) -> int | None:
        """The most rows a page's list counts exactly (XUEJI_LIST_EXACT_COUNT_MAX), on PostgreSQL
        only (SQLite has no estimate to offer); None: count every row."""
        if not self.estimate_counts or not has_app_context():
            return None
        limit = current_app.config.get("XUEJI_LIST_EXACT_COUNT_MAX") or 0
        dialect = self.session.get_bind().dialect.name
        return int(limit) if limit > 0 and dialect == "postgresql" else None

    def _planned_rows(self, query) -> int:
        """The rows PostgreSQL's planner expects ``query`` to return (its EXPLAIN, not run)."""
        statement = query.with_entities(literal_column("1")).statement
        connection = self.session.connection()
        compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
        return int(plan[0]["Plan"]["Plan Rows"])

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
