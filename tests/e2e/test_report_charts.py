"""The charts in a real browser: the monthly report page and a supervisor's landing page draw
their Apache ECharts (served by the app from /static/vendor/echarts/, no CDN) -- a <canvas> with
ink on it inside each chart container -- with no console error, no failed script and no
Content-Security-Policy violation."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

BROWSER_MISSING = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not os.path.isfile(p)]
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(bool(BROWSER_MISSING),
                                 reason=f"{', '.join(BROWSER_MISSING)} missing: "
                                        "apt-get install -y chromium chromium-driver")]
pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")

# Installed before any script of each new document: what the browser blocked (CSP), what failed to
# load (a script or style: an error event on the element), what threw, what was logged as an error.
WATCH = """
window.__csp = []; window.__errors = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '')));
window.addEventListener('error', e => window.__errors.push(
    e.message ? 'error: ' + e.message : 'failed to load: ' + ((e.target && (e.target.src || e.target.href)) || '?')),
    true);
window.addEventListener('unhandledrejection', e => window.__errors.push('rejection: ' + e.reason));
const consoleError = console.error.bind(console);
console.error = function () { window.__errors.push('console: ' + [...arguments].join(' ')); consoleError(...arguments); };
"""

# Each chart container's canvases: how many, how big, and whether any pixel is not blank.
CANVASES = """
return [...document.querySelectorAll(arguments[0])].map(box => {
  const canvas = box.querySelector('canvas');
  if (!canvas) return {key: box.dataset.key, canvas: false};
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
  return {key: box.dataset.key, canvas: true, width: canvas.width, height: canvas.height, ink: ink,
          series: (echarts.getInstanceByDom(box).getOption().series || []).length};
});
"""


@contextmanager
def watched(driver):
    added = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]})


def _drawn(browser, container: str, at_least: int) -> list[dict]:
    """Wait until ``container`` says how many charts it drew, then read their canvases."""
    browser.wait.until(lambda d: d.execute_script(
        f"const c = document.querySelector({container!r}); return c && c.dataset.drawn !== undefined"),
        f"{container} never drew")
    charts = browser.driver.execute_script(CANVASES, f"{container} .report-chart")
    assert len(charts) >= at_least, charts
    return charts


def _clean(browser) -> None:
    assert browser.driver.execute_script("return window.__csp") == []
    assert browser.driver.execute_script("return window.__errors") == []


def test_the_echarts_library_is_served_by_the_app(browser, live):
    import urllib.request

    with urllib.request.urlopen(live.url + "/static/vendor/echarts/echarts.min.js") as response:
        body = response.read()
        assert response.status == 200 and "javascript" in response.headers["Content-Type"]
    assert b"echarts" in body[:2000] and len(body) > 500_000


def test_a_supervisors_landing_page_draws_the_trend_of_its_key_figures(browser, live):
    with watched(browser.driver):
        browser.login("county_supervisor")
        browser.open("/")
        browser.find("#key-figures")
        charts = _drawn(browser, "#landing-trend", 1)
        for chart in charts:
            assert chart["canvas"] and chart["width"] > 100 and chart["height"] > 100, chart
            assert chart["ink"] > 1000, chart  # lines, axes and title drawn, not an empty canvas
            assert chart["series"] >= 1, chart
        persons = next(c for c in charts if c["key"] == "trend-人")
        assert persons["series"] == 4  # on record, registrations, transfers in, transfers out
        _clean(browser)


def test_the_monthly_report_page_draws_each_chart_of_the_report(browser, live):
    from contextlib import nullcontext

    from factories import stored_report

    with live.lock or nullcontext(), live.app.app_context():
        stored_report("430102", "2026-08")  # the page shows the report its job stored
    with watched(browser.driver):
        browser.login("county_supervisor")
        browser.open("/reports/monthly?node=430102&month=2026-08")
        browser.find("[data-charts]")
        expected = browser.driver.execute_script("""
            const box = document.querySelector('[data-charts]');
            const source = document.getElementById(box.dataset.json);
            return source ? JSON.parse(source.textContent).figures.filter(f => f.chart && f.table
                && f.table.rows.length).map(f => f.key) : null;""")
        charts = _drawn(browser, "[data-charts]", 1)
        drawn = [c["key"] for c in charts]
        assert expected and set(expected) <= set(drawn), (expected, drawn)  # every chart the data has
        assert any(k.startswith("trend-") for k in drawn), drawn  # the trend lines
        for chart in charts:
            assert chart["canvas"] and chart["ink"] > 1000, chart
        _clean(browser)


def test_a_registrar_landing_page_loads_no_chart_library(browser, live):
    with watched(browser.driver):
        browser.login("school_registrar")
        browser.open("/")
        browser.find("#todo")
        assert browser.driver.execute_script("return typeof window.echarts") == "undefined"
        _clean(browser)
