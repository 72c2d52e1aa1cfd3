"""Browser-level fixtures: the seeded session app served over HTTP with CSRF on, driven by the
Debian packages' headless Chromium and chromedriver (never a downloaded browser).

``live``    the session's seeded database served by a second app built like production
            (WTF_CSRF_ENABLED=True) on a free localhost port, in a background thread.
``browser`` one Chromium per session, cookies cleared before each test; a test fails when the
            server thread raised while serving it, with the server's traceback in the message.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import traceback
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_MISSING = next((f"{p} is missing: apt-get install -y chromium chromium-driver"
                        for p in (CHROMIUM, CHROMEDRIVER) if not os.path.isfile(p)), None)
# The machine is offline: without the background-networking switches Chromium stalls.
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1400,1000")
WAIT_SECONDS = 10

# Selenium Manager is never needed (the driver path is always given); should anything still
# reach it, it must not go online to fetch a browser or driver.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")


def _root_conftest(config):
    """tests/conftest.py as loaded by pytest (both conftests are plain modules named conftest)."""
    wanted = Path(__file__).resolve().parents[1] / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and Path(path).resolve() == wanted:
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


@dataclass
class Live:
    """The served app: its URL, the seeded session app for database checks, server errors."""

    url: str
    app: object  # the session app (same database as the served one)
    password: str
    errors: list = field(default_factory=list)
    pages: list = field(default_factory=list)  # every HTML page served: (method, path, status, locale, html)
    lock: threading.RLock | None = None  # set when both apps share one in-memory SQLite connection

    @contextmanager
    def db(self):
        """A session on the shared database, in the session app's context."""
        from app.extensions import db

        with self.lock or nullcontext(), self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.rollback()
                db.session.remove()


def _serving_app(session_app):
    """The app the browser talks to: same database, CSRF enabled as in production."""
    from sqlalchemy.pool import StaticPool

    from app import create_app
    from app.extensions import db
    from config import TestConfig

    uri = session_app.config["SQLALCHEMY_DATABASE_URI"]
    overrides = {"WTF_CSRF_ENABLED": True, "SQLALCHEMY_DATABASE_URI": uri,
                 "INSTANCE_DIR": tempfile.mkdtemp(prefix="xueji-e2e-")}
    lock = None
    with session_app.app_context():
        engine = db.engine
        in_memory = (engine.url.get_backend_name() == "sqlite"
                     and engine.url.database in (None, "", ":memory:"))
        if in_memory:
            # An in-memory database lives in one connection: hand that connection to the second
            # app, and serialise requests (and the tests' own queries) on it.
            raw = engine.raw_connection()
            shared = raw.driver_connection
            raw.close()
            overrides["SQLALCHEMY_ENGINE_OPTIONS"] = {"creator": lambda: shared,
                                                      "poolclass": StaticPool}
            lock = threading.RLock()
    serving = create_app(TestConfig, **overrides)
    assert serving.config["WTF_CSRF_ENABLED"] is True
    return serving, lock, in_memory


@pytest.fixture(scope="session")
def live(app, request):
    """Serve the seeded database on a free localhost port (werkzeug, threaded) with CSRF on."""
    from flask import got_request_exception
    from werkzeug.serving import make_server

    serving, lock, in_memory = _serving_app(app)
    errors: list[str] = []

    def record(sender, exception, **_extra):
        errors.append("".join(traceback.format_exception(exception)))

    got_request_exception.connect(record, serving, weak=False)
    pages: list = []

    @serving.after_request
    def keep_page(response):
        """Every HTML page the browser is served, to be read once the test is done."""
        from flask import request as asked
        from flask_babel import get_locale

        if response.mimetype == "text/html" and not response.direct_passthrough:
            pages.append((asked.method, asked.full_path.rstrip("?"), response.status_code,
                          str(get_locale() or ""), response.get_data(as_text=True)))
        return response

    if lock is not None:
        inner = serving.wsgi_app

        def serialised(environ, start_response):
            with lock:
                return inner(environ, start_response)

        serving.wsgi_app = serialised
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)  # one line per asset request otherwise
    server = make_server("127.0.0.1", 0, serving, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield Live(url=f"http://127.0.0.1:{server.server_port}", app=app,
               password=_root_conftest(request.config).PASSWORD, errors=errors, pages=pages,
               lock=lock)
    server.shutdown()
    thread.join(timeout=10)
    access_log.setLevel(level)
    shutil.rmtree(serving.config["INSTANCE_DIR"], ignore_errors=True)
    if not in_memory:  # the in-memory connection belongs to the session app: leave it open
        with serving.app_context():
            from app.extensions import db

            db.engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session, from the Debian packages, fresh profile."""
    if BROWSER_MISSING:
        pytest.skip(BROWSER_MISSING)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="xueji-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--lang=zh-CN")
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Browser:
    """Thin helpers over the WebDriver: absolute paths, explicit waits, login."""

    def __init__(self, driver, live: Live):
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.live = live
        self.wait = WebDriverWait(driver, WAIT_SECONDS)

    def open(self, path: str) -> None:
        self.driver.get(self.live.url + path)

    def find(self, css: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def source(self) -> str:
        return self.driver.page_source

    def wait_for_text(self, *texts: str) -> str:
        """Wait until the page shows one of ``texts``; return the one shown."""
        def shown(driver):
            body = driver.find_element("tag name", "body").text
            return next((t for t in texts if t in body), False)

        return self.wait.until(shown, f"none of {texts!r} on {self.driver.current_url}")

    def submit_and_wait(self, button) -> None:
        """Click a submit button and wait for the next page to replace this one."""
        from selenium.webdriver.support import expected_conditions as ec

        html = self.driver.find_element("tag name", "html")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        self.wait.until(ec.staleness_of(html))
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def login(self, username: str) -> None:
        from selenium.webdriver.common.keys import Keys

        self.open("/login/")
        self.find("form[name=login] input[name=username]").send_keys(username)
        password = self.find("form[name=login] input[name=password]")
        password.send_keys(self.live.password)
        html = self.driver.find_element("tag name", "html")
        password.send_keys(Keys.ENTER)
        from selenium.webdriver.support import expected_conditions as ec

        self.wait.until(ec.staleness_of(html))
        self.wait.until(lambda d: "/login" not in d.current_url,
                        f"login of {username} failed: still on {self.driver.current_url}")

    def menu(self, category: str, item: str) -> None:
        """Open ``item`` under ``category`` in the navbar by clicking, as a person would."""
        from selenium.webdriver.support import expected_conditions as ec

        toggle = self.wait.until(lambda d: next(
            (a for a in d.find_elements("css selector", ".navbar-nav > li > a.dropdown-toggle")
             if a.text.strip() == category and a.is_displayed()), False), f"no menu {category!r}")
        toggle.click()
        entry = self.wait.until(lambda d: next(
            (a for a in toggle.find_elements("xpath", "../ul//a")
             if a.text.strip() == item and a.is_displayed()), False), f"no {item!r} under {category!r}")
        html = self.driver.find_element("tag name", "html")
        entry.click()
        self.wait.until(ec.staleness_of(html))
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def status_of(self, path: str) -> int:
        """The HTTP status the browser gets for ``path`` (same cookies, via fetch)."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin', redirect: 'manual'})"
            "  .then(r => done(r.status), e => done(-1));", self.live.url + path)

    def table(self) -> list[dict]:
        """The list page's rows as {header: cell text}, plus '_links' (hrefs in the row)."""
        return self.driver.execute_script("""
            const table = document.querySelector('table.table-bordered');
            if (!table) return [];
            const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
            return [...table.querySelectorAll('tbody tr')].map(tr => {
                const row = {_links: [...tr.querySelectorAll('a')].map(a => a.href)};
                [...tr.children].forEach((td, i) => {
                    row[heads[i] || ('#' + i)] = td.innerText.trim();
                });
                return row;
            });""")


ARTIFACTS = Path(os.environ.get("XUEJI_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")


def page_problems(live: Live) -> list[str]:
    """What the pages served during a test showed that no page may (browsing.served_problems)."""
    from browsing import served_problems
    from sqlalchemy import select

    from app.models import XuejiUser

    with live.db() as session:
        usernames = set(session.scalars(select(XuejiUser.username)))
    return served_problems(live.pages, usernames)


@pytest.fixture
def browser(chromium, live, request):
    """The session's Chromium with no cookies (logged out, default language).  After the test: a
    screenshot of its last page in tests/artifacts/ (XUEJI_ARTIFACTS), and the test fails on any
    server error or any page that was not plain Chinese."""
    chromium.get(live.url + "/static/appbuilder/css/ab.css")  # a cheap page on the app's origin
    chromium.delete_all_cookies()
    live.errors.clear()
    live.pages.clear()
    yield Browser(chromium, live)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chromium.save_screenshot(str(ARTIFACTS / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".png")))
    if request.node.get_closest_marker("xfail") is not None:
        return
    errors, live.errors[:] = list(live.errors), []
    if errors:
        pytest.fail("the server raised while serving this test:\n" + "\n".join(errors),
                    pytrace=False)
    if found := page_problems(live):
        pytest.fail("pages that were not plain Chinese, or failed:\n" + "\n".join(found),
                    pytrace=False)
