"""Input guards: the path, the list arguments, rison and every JSON body are checked before a view
runs, so input no column could hold answers a 4xx naming the parameter, never a stack trace.

Flask-AppBuilder's REST methods turn any exception into a 500 (``@safe``), so for the API the
checks must come before the view: a ``before_request`` hook, not an error handler.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse

import prison
from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter

from ..i18n import t

# Every integer column is a 4-byte INTEGER: PostgreSQL refuses a larger value (SQLite does not), so
# no id, number or count in a path, a query or a body may go beyond it.
DB_INT_MAX = 2**31 - 1
MAX_DEPTH = 20  # the deepest body the API takes (a student with members) is 3 levels
MAX_PAGE = 100_000  # page × page size stays far inside the database's OFFSET
MAX_PAGE_SIZE = 500
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_FILTER_ARG = re.compile(r"_flt_(\d)_(.*)")


class BoundedInt(IntegerConverter):
    """``<int:...>`` beyond an INTEGER column matches no route (404) instead of reaching the database."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def as_db_int(value) -> int | None:
    """``value`` as an INTEGER column holds it (an int, or a string of digits), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value) if isinstance(value, int) else int(str(value).strip(), 10)
    except ValueError:
        return None
    return number if -DB_INT_MAX - 1 <= number <= DB_INT_MAX else None


def _refuse(zh: str, en: str, status: int = 400):
    abort(status, description=str(t(zh, en)))


# -- decoded JSON and rison values -------------------------------------------------------------------

def _text_problem(text: str, where: str) -> str | None:
    if "\x00" in text:
        return str(t(f"{where}：含空字符（\\u0000）", f"{where}: contains a NUL character (\\u0000)"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return str(t(f"{where}：含无效字符（孤立的代理项）", f"{where}: contains an invalid character "
                                                       "(a lone surrogate)"))
    return None


def _join(where: str, key) -> str:
    shown = str(key).encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return f"{where}[{key}]" if isinstance(key, int) else (f"{where}.{shown}" if where else shown)


def value_problem(value, where: str = "") -> str | None:
    """What in a decoded JSON or rison value no column can hold (nesting, a lone surrogate, a NUL,
    a number beyond an INTEGER column or not finite), naming where it is; None when all is well."""
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return str(t(f"JSON 嵌套超过 {MAX_DEPTH} 层", f"JSON nested deeper than {MAX_DEPTH} levels"))
        if isinstance(item, dict):
            for key, inner in item.items():
                problem = _text_problem(key, _join(path, key))
                if problem:
                    return problem
                stack.append((inner, _join(path, key), depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, _join(path, n), depth + 1) for n, inner in enumerate(item))
        elif isinstance(item, str):
            problem = _text_problem(item, path or "JSON")
            if problem:
                return problem
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            if not math.isfinite(item) or abs(item) > DB_INT_MAX:
                return str(t(f"{path or 'JSON'}：数值超出范围（±{DB_INT_MAX}）",
                             f"{path or 'JSON'}: number out of range (±{DB_INT_MAX})"))
    return None


# -- the JSON body of an API call --------------------------------------------------------------------

def _check_json_body() -> None:
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)
    raw = request.get_data(cache=True)  # reading past the limit is a 413 too (chunked bodies)
    if not raw.strip() or not request.is_json:
        return
    try:
        data = json.loads(raw)
    except RecursionError:
        _refuse(f"JSON 嵌套超过 {MAX_DEPTH} 层", f"JSON nested deeper than {MAX_DEPTH} levels")
    except ValueError:
        _refuse("请求内容不是有效的 JSON", "the body is not valid JSON")
    if not isinstance(data, dict):
        _refuse("请求须为 JSON 对象", "the body must be a JSON object")
    problem = value_problem(data)
    if problem:
        abort(400, description=problem)


# -- ?q= (rison, or JSON) of an API call -------------------------------------------------------------

def _parse_q(raw: str):
    """Parse ``q`` exactly as Flask-AppBuilder will: rison, then (if allowed) JSON."""
    try:
        return prison.loads(raw)
    except prison.decoder.ParserException:  # only this one makes FAB try JSON; "(((" recurses
        if not current_app.config.get("FAB_API_ALLOW_JSON_QS", True):
            raise
        return json.loads(urllib.parse.parse_qs(f"q={raw}")["q"][0])


def _whole(value, name: str, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        _refuse(f"q.{name} 须为 {low} 到 {high} 之间的整数", f"q.{name} must be a whole number {low}–{high}")


def _check_q() -> None:
    raw = request.args.get("q")
    if not raw:
        return
    try:
        value = _parse_q(raw)
    except Exception:
        _refuse("参数 q 不是有效的 rison 或 JSON", "q is not valid rison or JSON")
    if not isinstance(value, dict):
        _refuse("参数 q 须为对象，如 (page:0)", "q must be an object, e.g. (page:0)")
    problem = value_problem(value, "q")
    if problem:
        abort(400, description=problem)
    if "page" in value:
        _whole(value["page"], "page", 0, MAX_PAGE)
    if "page_size" in value:
        _whole(value["page_size"], "page_size", 1, current_app.config.get("FAB_API_MAX_PAGE_SIZE", MAX_PAGE_SIZE))
    filters = value.get("filters", [])
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        _refuse("q.filters 须为筛选条件的列表", "q.filters must be a list of (col:…,opr:…,value:…)")
    for n, spec in enumerate(filters):
        item, listed = spec.get("value"), spec.get("opr") in ("in", "not_in")
        if isinstance(item, dict) or (isinstance(item, list) and not listed):
            _refuse(f"q.filters[{n}].value 须为单个值", f"q.filters[{n}].value must be a single value")


# -- the list arguments of a page --------------------------------------------------------------------

def _view():
    """The Flask-AppBuilder view serving this request (its endpoints are bound methods)."""
    endpoint = current_app.view_functions.get(request.endpoint or "")
    return getattr(endpoint, "__self__", None)


def _views_by_name() -> dict:
    return {type(v).__name__: v for v in current_app.appbuilder.baseviews}


def _check_list_args() -> None:
    from ..web.data import sortable

    views = None
    for key, value in request.args.items(multi=True):
        problem = _text_problem(value, key)
        if problem:
            abort(400, description=problem)
        if key.startswith(("page_", "psize_")):
            high = MAX_PAGE if key.startswith("page_") else MAX_PAGE_SIZE
            low = 0 if key.startswith("page_") else 1
            if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
                _refuse(f"{key} 须为 {low} 到 {high} 之间的整数", f"{key} must be a whole number {low}–{high}")
        elif key.startswith("_oc_"):
            views = views if views is not None else _views_by_name()
            view = views.get(key[4:])
            if hasattr(view, "datamodel") and not (value in (view.order_columns or ())
                                                   and sortable(view.datamodel, [value])):
                _refuse(f"{key}：不能按 {value} 排序", f"{key}: cannot sort by {value!r}")
        elif _FILTER_ARG.fullmatch(key):
            _check_filter_arg(key)


def _check_filter_arg(key: str) -> None:
    index, column = _FILTER_ARG.fullmatch(key).groups()
    filters = getattr(_view(), "_filters", None)
    choices = filters.get_search_filters().get(column) if filters is not None else None
    if choices is not None and int(index) >= len(choices):  # FAB picks the filter by this index
        _refuse(f"{key}：没有第 {index} 种筛选", f"{key}: there is no filter number {index}")


def _check_form() -> None:
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            problem = _text_problem(value, key)
            if problem:
                abort(400, description=problem)


def check_request() -> None:
    """Refuse what no view could serve; run before every view."""
    _check_list_args()
    if request.path.startswith("/api/"):
        _check_q()
        if request.method in WRITES:
            _check_json_body()
    elif request.method in WRITES:
        _check_form()


def install(app: Flask) -> None:
    """Bounded ``<int:>`` path parts and the request check; call before any view is registered."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(check_request)
