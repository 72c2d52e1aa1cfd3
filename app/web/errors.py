"""Error pages: a refusal or a failure in the reader's language, in the app's layout, with the
way back; under /api/ the same answer as JSON."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import current_app, g, jsonify, render_template, request
from flask_login import current_user
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from ..i18n import t

log = logging.getLogger(__name__)

TITLES = {
    400: (t("请求有误", "Bad request"), t("提交的内容无法处理，请检查后重试。",
                                       "What was sent cannot be handled; check it and try again.")),
    403: (t("无权访问", "Not allowed"), t("您的账号没有打开此页面或执行此操作的权限。",
                                      "Your account may not open this page or do this.")),
    404: (t("找不到页面", "Not found"), t("页面或记录不存在，或不在您的辖区内。",
                                      "The page or record does not exist, or is outside your jurisdiction.")),
    405: (t("不支持的操作", "Not allowed here"), t("此页面不接受这样的请求。",
                                             "This page does not take this kind of request.")),
    409: (t("操作冲突", "Conflict"), t("记录已被他人修改，请刷新后重试。",
                                   "The record was changed meanwhile; reload and try again.")),
    413: (t("上传文件过大", "Upload too large"), t("文件超过了允许的大小。", "The file is larger than allowed.")),
    500: (t("系统出错", "Something went wrong"),
          t("系统出现意外错误，已记录在日志中。请返回重试；如果一再出现，请联系系统管理员。",
            "An unexpected error occurred and was logged. Go back and try again; if it happens "
            "again, tell your system administrator.")),
}


def wants_json() -> bool:
    """REST calls answer in JSON (everything under /api/, and requests sending JSON)."""
    return request.path.startswith("/api/") or request.is_json


def _back() -> str | None:
    """The page the reader came from, when it is one of ours."""
    referrer = request.referrer
    if not referrer:
        return None
    here, there = urlsplit(request.host_url), urlsplit(referrer)
    same = (there.scheme, there.netloc) == (here.scheme, here.netloc)
    return referrer if same and referrer != request.url else None


def page(code: int, messages: list[str] | None = None):
    """The error page of ``code``: what happened, why, and the way back (``messages``: the
    reasons the application gave, shown instead of the general explanation)."""
    title, explanation = TITLES.get(code, TITLES[500 if code >= 500 else 400])
    messages = [str(m) for m in messages or [explanation]]
    appbuilder = current_app.appbuilder
    if "user" not in g:  # refused before Flask-AppBuilder's own hook named the account
        g.user = current_user
    try:
        html = render_template("xueji/error.html", code=code, title=title, messages=messages,
                               back=_back(), appbuilder=appbuilder,
                               base_template=appbuilder.base_template)
    except Exception:  # the layout itself failed (its menu reads the database): words only
        log.exception("the error page of %s could not be drawn in the layout", code)
        html = (f"<!DOCTYPE html><h1>{escape(title)}</h1>"
                + "".join(f"<p>{escape(m)}</p>" for m in messages) + "<p><a href='/'>首页</a></p>")
    return html, code


def own_description(exc: HTTPException) -> str | None:
    """The reason a view gave to abort() (werkzeug's stock English sentence is not one)."""
    stock = type(exc).description
    return exc.description if exc.description and exc.description != stock else None


def http_answer(exc: HTTPException):
    """A refusal: JSON under /api/, else the page."""
    if request.path.startswith("/api/"):
        return jsonify(message=exc.description), exc.code
    reason = own_description(exc)
    return page(exc.code or 500, [reason] if reason else None)
