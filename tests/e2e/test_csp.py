"""The Content-Security-Policy in a real browser: the pages' scripts run (jQuery, Select2, FAB's
list actions, our own inline scripts) and Chromium reports no violation on any page visited."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from sqlalchemy import select

BROWSER_MISSING = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver")
                   if not os.path.isfile(p)]
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(bool(BROWSER_MISSING),
                                 reason=f"{', '.join(BROWSER_MISSING)} missing: "
                                        "apt-get install -y chromium chromium-driver")]
pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")

# Installed before any script of each new document: collects what the browser blocked.
WATCH = ("window.__csp = [];"
         "document.addEventListener('securitypolicyviolation', e => window.__csp.push("
         "e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '')));")


@contextmanager
def violations_watched(driver):
    added = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
                               {"identifier": added["identifier"]})


def visit(browser, path: str, ready: str = "body") -> list[str]:
    browser.open(path)
    browser.find(ready)
    browser.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    return browser.driver.execute_script("return window.__csp || []")


def test_registrar_pages_run_their_scripts_with_no_violation(browser, live):
    from app.models import Student

    with live.db() as session:
        student = session.scalar(select(Student.id).order_by(Student.id))
    with violations_watched(browser.driver):
        assert visit(browser, "/login/", "form[name=login]") == []
        browser.login("school_registrar")
        pages = ["/", "/students/list/", f"/students/show/{student}", "/students/add",
                 "/inbox/", "/requests/list/", "/imports/upload", "/policy/", "/users/userinfo/"]
        for path in pages:
            assert visit(browser, path) == [], path
            assert browser.driver.execute_script("return typeof jQuery") == "function", path

        visit(browser, "/students/list/")  # FAB's inline script built the list actions
        assert browser.driver.execute_script("return typeof window.modelActions") == "object"
        visit(browser, "/students/add")  # Select2 wrapped the select boxes
        assert browser.driver.execute_script(
            "return document.querySelectorAll('.select2-container').length") > 0


def test_our_inline_scripts_run_under_the_nonce(browser, live):
    with violations_watched(browser.driver):
        browser.login("county_registrar")
        assert visit(browser, "/inbox/", "#inbox") == []
        checked = browser.driver.execute_script("""
            const all = document.getElementById('check-all');
            all.click();
            return [...document.querySelectorAll('input[name=rowid]')].every(c => c.checked);""")
        assert checked is True
        assert visit(browser, "/policy/", "#node") == []


def test_the_account_pages_and_swagger_ui_run_with_no_violation(browser, live):
    with violations_watched(browser.driver):
        browser.login("county_admin")
        for path in ("/users/list/", "/users/add"):
            assert visit(browser, path) == [], path
        assert visit(browser, "/swagger/v1", "#swagger-ui .info") == []  # Swagger UI rendered


def test_the_page_watch_names_a_server_error_english_and_a_raw_column():
    """The watch every browser test ends with can fail: each kind of bad page is named."""
    from browsing import served_problems

    found = served_problems([
        ("GET", "/fine", 200, "zh", "<p>学生名册</p>"),
        ("GET", "/boom", 500, "zh", "<p>出错了</p>"),
        ("GET", "/leftover", 200, "zh", "<button>Cancel</button>"),
        ("GET", "/raw", 200, "zh", "<td>class_id</td>"),
        ("GET", "/english", 200, "en", "<button>Cancel</button> <td>status</td>"),
    ], usernames={"school_registrar"})
    assert found == ["GET /boom answered 500", "GET /leftover shows ['Cancel']",
                     "GET /raw shows ['class_id']"]
