"""数据质量核查 in a real headless Chromium: the province's registrar opens a campaign for 芙蓉区 on
its page; the school's registrar finds 核查登记 in the menu, marks the whole class issued and one
student returned with corrections; the county's registrar reads the progress and drills down."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import delete

BROWSER_MISSING = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not os.path.isfile(p)]
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(bool(BROWSER_MISSING),
                                 reason=f"{', '.join(BROWSER_MISSING)} missing: "
                                        "apt-get install -y chromium chromium-driver")]
pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")


@pytest.fixture
def no_campaigns(live):
    yield
    from app.models import QualityCampaign, QualityForm

    with live.db() as session:
        session.execute(delete(QualityForm))
        session.execute(delete(QualityCampaign))
        session.commit()


def test_a_campaign_is_opened_marked_by_a_school_and_followed_by_its_county(browser, live, no_campaigns):
    from selenium.webdriver.support.ui import Select

    browser.open("/")  # the home page first (as the first test of a run, its sign-in lost its CSRF cookie)
    browser.login("prov_registrar")
    browser.menu("学籍管理", "数据质量核查")
    Select(browser.find("#campaign-region")).select_by_value("430102")
    browser.find("#campaign-name").send_keys("芙蓉区秋季核查")
    end = browser.find("#campaign-end")
    browser.driver.execute_script("arguments[0].value = '2026-09-30';", end)
    browser.submit_and_wait(browser.find("#open-campaign-button"))
    browser.wait_for_text("已开启核查活动")
    assert "芙蓉区秋季核查" in browser.find("#campaign-list").text

    browser.open("/logout/")
    browser.login("school_registrar")
    browser.menu("学籍管理", "核查登记")
    browser.find("#class-sheet")
    students = len(browser.driver.find_elements("css selector", "tr.sheet-line"))
    assert students > 0
    browser.submit_and_wait(browser.find("#bulk-mark-button"))
    browser.wait_for_text("已标记已发放")
    assert f"本班 {students} 人已标记已发放" in browser.find("body").text
    corrected = browser.driver.find_elements("xpath", "//tr[contains(@class,'sheet-line')]//button[text()='有更正']")
    browser.submit_and_wait(corrected[0])
    browser.wait_for_text("已登记")
    assert "（有更正）" in browser.find("#class-sheet").text

    browser.open("/logout/")
    browser.login("county_registrar")
    browser.menu("学籍管理", "数据质量核查")
    progress = browser.driver.find_element("link text", "核查进度")
    browser.submit_and_wait(progress)
    row = browser.find('tr.progress-row[data-code="4301020001"]').text
    assert re.search(rf"\b{students} 1 1 0\b", row), row  # students…, issued, returned, corrected, entered
    browser.submit_and_wait(browser.driver.find_element("link text", "芙蓉区育英小学"))
    browser.find("#progress-table")
    assert "班级" in browser.find("#progress-table").text
