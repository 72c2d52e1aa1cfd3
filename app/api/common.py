"""What every REST resource over the use cases shares: strict bodies checked by schema (a wrong
type, an out-of-range id or an unknown key is a 400 naming the field), and an answer that is the use
case's result, or its refusal (a DomainError, the transaction rolled back) as JSON."""

from __future__ import annotations

import base64
import binascii

from flask import Response, request
from flask_appbuilder.api import BaseApi
from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.validate import Length, Range

from ..errors import DomainError, Problem
from ..i18n import t
from ..security.inputs import DB_INT_MAX, MAX_PAGE
from ..services.common import paging as paging_rules

MAX_ID = DB_INT_MAX  # row ids are 32-bit integer columns


class BadInput(DomainError):
    """The body is not what the endpoint takes (a type, a range, an unknown key)."""

    status = 400


class Whole(fields.Integer):
    """A JSON integer in range: not a string, a float or true/false."""

    def __init__(self, low: int = 1, high: int = MAX_ID, **kwargs):
        super().__init__(strict=True, validate=Range(min=low, max=high), **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class Scalar(fields.Field):
    """One item's new value: text, a number, true/false or null -- never a list or an object."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, (str, int, float, bool)):
            raise ValidationError("must be text, a number, true/false or null")
        return value


def text(size: int, **kwargs) -> fields.String:
    return fields.String(validate=Length(max=size), **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _flat(messages) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in messages.items())
    if isinstance(messages, (list, tuple)):
        return " ".join(_flat(m) for m in messages)
    return str(messages)


def load(schema: type[Schema], data) -> dict:
    """``data`` checked by ``schema``, or BadInput naming each field that is wrong."""
    try:
        return schema().load(data)
    except ValidationError as err:
        raise BadInput([Problem(t(f"{field}：类型或取值不正确（{_flat(why)}）", f"{field}: {_flat(why)}"),
                                field, "invalid") for field, why in err.messages.items()]) from None


def decoded(value: str, field: str) -> bytes:
    """A file sent as Base64 text, or BadInput naming ``field``."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(t(f"{field} 不是有效的 Base64", f"{field} is not base64"), field) from None


def json_body(*, optional: bool = False) -> dict:
    """The request's JSON object (``optional``: an empty body is {}), or BadInput."""
    if optional and not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadInput(t("请求须为 JSON 对象", "the body must be a JSON object"))
    return data


def _whole_arg(name: str, low: int, high: int, default: int) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise BadInput(t(f"{name} 须为 {low} 到 {high} 之间的整数", f"{name} must be a whole number {low}–{high}"),
                       name)
    return int(raw)


def paging() -> tuple[int, int]:
    """The page a list is asked for: ``?page=`` (from 0) and ``?page_size=`` (1 to 100, 25 if not
    given), or BadInput naming the argument."""
    return (_whole_arg("page", 0, MAX_PAGE, 0),
            _whole_arg("page_size", 1, paging_rules.MOST_PER_PAGE, paging_rules.PAGE_SIZE))


def paged(page: paging_rules.Page, result: list) -> dict:
    """A list's answer: this page's rows, and the total count to page through."""
    return {"count": page.total, "page": page.page, "page_size": page.size, "result": result}


def body(schema: type[Schema]) -> dict:
    """The request's JSON body (none: {}) checked by ``schema``."""
    return load(schema, request.get_json(silent=True) if request.get_data() else {})


class DomainApi(BaseApi):
    """A REST resource answering with use cases: JWT only, each answer the use case's JSON."""

    allow_browser_login = False

    def answer(self, work, status: int = 200):
        """``work()``'s dict as the JSON body with ``status`` (a response it makes passes as it is),
        or its DomainError's status and JSON."""
        try:
            result = work()
        except DomainError as exc:  # the use case has rolled its own transaction back
            return self.response(exc.status, **exc.as_json())
        return result if isinstance(result, Response) else self.response(status, **result)
