"""Structured logs: one JSON object per line, each carrying the request id of the request it
belongs to (the caller's ``X-Request-ID`` when it is a plain token, else a new one, and echoed in
the response), and one line per request: method, path, status, milliseconds, account id.

Never personal data: no query string (searches carry names and ID numbers), no form or JSON body,
no account name -- the id alone, which the audit log resolves for those allowed to read it -- and
for a database error the statement without its values or the server's quote of the row."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from sqlalchemy.exc import DBAPIError

TOKEN = re.compile(r"^[A-Za-z0-9_.-]{8,64}$")
ACCESS = logging.getLogger("xueji.request")


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line: time, level, logger, message, request id, extra fields."""

    FIELDS = ("method", "path", "status", "ms", "user_id")

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                "logger": record.name, "msg": record.getMessage(),
                "request_id": getattr(record, "request_id", None) or request_id()}
        line.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
            error = record.exc_info[1]
            if isinstance(error, DBAPIError):  # the server's message quotes the row ("Failing row
                # contains ..."): keep the kind, the SQLSTATE and the statement, never the values
                line["exc"] = (f"{type(error).__name__} sqlstate={getattr(error.orig, 'sqlstate', None)} "
                               f"statement={error.statement}")
        return json.dumps(line, ensure_ascii=False)


def _begin() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if TOKEN.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _end(response):
    rid = g.get("request_id")
    if rid:
        response.headers["X-Request-ID"] = rid
        user = getattr(g, "user", None)
        ACCESS.info("request", extra={
            "request_id": rid, "method": request.method, "path": request.path, "status": response.status_code,
            "ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1),
            "user_id": getattr(user, "id", None)})
    return response


def install(app: Flask) -> None:
    """Request ids on every request; JSON lines on stderr when XUEJI_LOG_JSON is on."""
    app.before_request(_begin)
    app.after_request(_end)
    if app.config.get("XUEJI_LOG_JSON"):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.handlers = [h for h in root.handlers if not getattr(h, "xueji_json", False)]
        handler.xueji_json = True
        root.addHandler(handler)
        root.setLevel(logging.INFO)
