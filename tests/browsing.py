"""Browsing the app as a person would, with the test client: the menu of an account, every page
it opens, every link, button and form on those pages, and the words a page shows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from app.security.routes import ROUTES

# the separation of duties' two functions (三权分立) are browsed at one level: their pages are
# the same at every level
DEMO_USERS = [f"{level}_{function}" for level in ("prov", "city", "county", "school")
              for function in ("registrar", "supervisor", "admin")] + ["county_secadmin", "county_auditor"]
ROLE_OF = {f"{p}_{f}": f"{lv}_{'sysadmin' if f == 'admin' else f}"
           for p, lv in (("prov", "province"), ("city", "city"), ("county", "county"),
                         ("school", "school"))
           for f in ("registrar", "supervisor", "admin", "secadmin", "auditor")}
HIDDEN = {"script", "style", "textarea", "pre", "code", "template"}  # not read as prose
# Flask-AppBuilder's English words a Chinese page must not show
DENYLIST = ("Search", "Add Filter", "Delete", "Edit", "Show", "Back", "Record Count",
            "No records found", "True", "False", "None", "Cancel", "OK", "Are you sure")
DENIED = re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(w) for w in DENYLIST) + r")(?![A-Za-z])")
RAW = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")  # in_school
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class Page(HTMLParser):
    """A page read once: the menu's links, the body's links and forms, the visible words (text
    in <code>, <pre>, <textarea> and in an element marked lang="en" is not prose of the page)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.menu: list[str] = []
        self.links: list[str] = []
        self.forms: list[Form] = []
        self.words: list[str] = []
        self.actions: list[str] = []  # FAB list actions offered (their menu items)
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, hidden, in the navbar)
        self._select: str | None = None
        self.feed(html)

    @property
    def _hidden(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    @property
    def _nav(self) -> bool:
        return bool(self._stack) and self._stack[-1][2]

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        hidden = self._hidden or tag in HIDDEN or a.get("lang", "zh").startswith("en")
        nav = self._nav or "navbar-collapse" in a.get("class", "")
        if tag not in VOID:
            self._stack.append((tag, hidden, nav))
        self._read(tag, a, hidden, nav)

    def handle_startendtag(self, tag, attrs):
        self._read(tag, {k: v or "" for k, v in attrs}, self._hidden, self._nav)

    def _read(self, tag, a, hidden, nav):
        if tag == "a" and a.get("href") and not a["href"].startswith(("#", "javascript", "mailto")):
            (self.menu if nav else self.links).append(a["href"])
        m = re.match(r"(\w+)_menu_item$", a.get("class", ""))
        if tag == "a" and m:
            self.actions.append(m.group(1))
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        if tag in ("input", "select", "textarea") and self.forms and a.get("name"):
            if tag == "select":
                self._select = a["name"]
            elif a.get("type") not in ("checkbox", "radio", "file", "submit") or "checked" in a:
                self.forms[-1].fields.setdefault(a["name"], a.get("value", ""))
        if tag == "option" and self._select and self.forms:
            self.forms[-1].fields.setdefault(self._select, a.get("value", ""))
        if not hidden:
            for name in ("title", "placeholder", "alt"):
                if a.get(name):
                    self.words.append(a[name])
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.words.append(a["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.words.append(data.strip())

    @property
    def text(self) -> str:
        return " | ".join(self.words)


def raw_words(text: str, usernames: set[str]) -> set[str]:
    """snake_case tokens in visible text (a column or key shown raw), accounts' names apart."""
    return set(RAW.findall(text)) - usernames


def problems_zh(text: str, usernames: set[str]) -> set[str]:
    """What a page's visible ``text`` shows that a Chinese page must not: FAB's English, raw names."""
    return set(DENIED.findall(text)) | raw_words(text, usernames)


def served_problems(pages, usernames: set[str]) -> list[str]:
    """What pages served as (method, path, status, locale, html) showed that no page may: a server
    error, Flask-AppBuilder's English or a raw column name on a Chinese page (a page asked for in
    English is English)."""
    found = []
    for method, path, status, locale, html in pages:
        if status >= 500:
            found.append(f"{method} {path} answered {status}")
        elif locale.startswith("zh") and (words := problems_zh(Page(html).text, usernames)):
            found.append(f"{method} {path} shows {sorted(words)}")
    return found


def pattern(url: str) -> str:
    """A URL with its numbers and query taken out: one page of each kind is enough."""
    return re.sub(r"\d+", "N", urlsplit(url).path)


def endpoint_of(app, url: str, method: str) -> str | None:
    """The endpoint a URL and method reach, or None."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(url).path, method=method.upper())
    except Exception:
        return None
    return endpoint


def role_may(app, role: str, url: str, method: str) -> bool:
    """The route table lets ``role`` use ``url`` with ``method``."""
    route = ROUTES.get(endpoint_of(app, url, method) or "")
    return route is not None and method.upper() in route.methods and role in route.roles


@dataclass
class Visit:
    url: str
    status: int
    page: Page | None  # None for a download or a redirect
    came_from: str


def _get(client, url: str, came_from: str) -> Visit:
    response = client.get(url)
    html = response.mimetype == "text/html" and response.status_code < 300
    return Visit(url, response.status_code, Page(response.get_data(as_text=True)) if html else None,
                 came_from)


def _own(url: str) -> bool:
    return not urlsplit(url).netloc and not url.startswith(("/lang/", "/logout"))


DOWNLOADS = {"ImportView.template", "ImportView.students_xlsx", "ImportView.confirmation",
             "ImportView.report", "RequestView.attachment", "ProblemCaseView.evidence",
             "StudentView.photo"}


def browse(app, client, downloads: bool = True) -> tuple[list[Visit], list[tuple[str, str, str]]]:
    """Every page an account's menu opens, every link and GET form on those pages (one of each
    kind; files too unless ``downloads`` is False), and the POST forms met on the way as (page,
    method, action) -- posting them would do the work, so callers check them against the route
    table instead."""
    home = _get(client, "/", "")
    entries = [u for u in home.page.menu if _own(u)]
    visits, posts, seen = [home], [], {pattern(u) for u in entries}
    for entry in entries:
        first = _get(client, entry, "menu")
        visits.append(first)
        if first.page is None:
            continue
        targets = [urljoin(entry, u) for u in first.page.links if _own(u)]
        for form in first.page.forms:
            if not form.action:
                continue  # FAB's search form: the page itself again
            action = urljoin(entry, form.action)
            if form.method == "post":
                posts.append((entry, "post", action))
            else:
                targets.append(f"{action}?{urlencode(form.fields)}" if form.fields else action)
        for url in targets:
            if "/delete/" in url:
                posts.append((entry, "post", url))  # FAB's delete link posts a hidden form
            elif not downloads and endpoint_of(app, url, "GET") in DOWNLOADS:
                continue
            elif pattern(url) not in seen:
                seen.add(pattern(url))
                visits.append(_get(client, url, entry))
    return visits, posts
