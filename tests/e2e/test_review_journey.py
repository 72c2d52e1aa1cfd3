"""A review in a real headless Chromium: the school's supervisor sees the record being registered and
returns it; the registrar finds it in 待办 with the reason, reads its messages, and resubmits."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
from sqlalchemy import select

BROWSER_MISSING = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not os.path.isfile(p)]
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(bool(BROWSER_MISSING),
                                 reason=f"{', '.join(BROWSER_MISSING)} missing: "
                                        "apt-get install -y chromium chromium-driver")]
pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")


def _new_record(session) -> tuple[int, int, str]:
    """A new record of the demo school (grade 2) whose registration review waits for the school."""
    from factories import actor_of, first_class, new_id

    from app import clock
    from app.models import FamilyMember, Request, Student
    from app.services.record import students

    klass = first_class("4301020001", grade=2)
    student = Student(school_class=klass, name="浏览器审核生", gender="1", birth_date=date(2018, 10, 5),
                      birthplace="430102001000", native_place="湖南长沙", ethnicity="01", nationality="CHN",
                      id_type="1", hmt_status="00", health="1", political_status="14", hukou_nature="2",
                      hukou_location="430102001001", entry_date=date(2025, 9, 1), entry_mode="11",
                      study_mode="1", current_address="湖南省长沙市芙蓉区五一大道9号",
                      mailing_address="湖南省长沙市芙蓉区五一大道9号", home_address="湖南省长沙市芙蓉区五一大道9号",
                      phone="13812340000", postcode="410000", only_child=True, had_preschool=True,
                      left_behind="0", needs_subsidy=False, receives_subsidy=False, orphan=False,
                      martyr_child=False, distance_km=1, travel_mode="1", needs_school_bus=False,
                      source="1", migrant_child=False)
    student.id_number = new_id(born=date(2018, 10, 5))
    guardian = FamilyMember(name="审核生家长", relation="2", is_guardian=True, phone="13900009999")
    students.create(session, student, [guardian], actor_of("school_registrar"), clock.now())
    req = session.scalar(select(Request).where(Request.open_student_id == student.id))
    return student.id, req.id, klass.name


def _unread(browser) -> int:
    badge = re.search(r'id="unread"[^>]*>[^<]*<span class="badge">(\d+)</span>', browser.source())
    return int(badge.group(1)) if badge else -1


def test_a_returned_registration_reaches_the_registrars_inbox_and_goes_back_up(browser, live):
    from app.models import Request

    with live.db() as session:
        sid, rid, class_name = _new_record(session)

    browser.login("school_supervisor")
    browser.open("/inbox/")
    browser.find("#inbox")
    assert f"/requests/show/{rid}" in browser.source()
    browser.open(f"/requests/show/{rid}")
    subject = browser.find("#subject").text
    assert "浏览器审核生" in subject and class_name in subject and "芙蓉区育英小学" in subject
    registering = browser.find("#registering").text
    assert "家庭成员" in registering and "13900009999" in registering and "湖南长沙" in registering
    browser.find("#decide input[name=comment]").send_keys("出生地有误，请核对")
    browser.submit_and_wait(browser.find("#return"))
    browser.wait_for_text("已退回")

    browser.driver.delete_all_cookies()
    browser.login("school_registrar")
    browser.open("/inbox/")
    fixes = browser.find("#fixes").text
    assert "浏览器审核生" in fixes and "出生地有误，请核对" in fixes
    unread = _unread(browser)
    assert unread >= 1
    browser.open(f"/requests/show/{rid}")
    assert browser.find("#correct-record a").get_attribute("href").endswith(f"/students/edit/{sid}")
    browser.open("/inbox/")
    browser.find("#fixes")
    assert _unread(browser) < unread  # opening the request read its messages
    if _unread(browser) > 0:
        browser.submit_and_wait(browser.find("#read-all"))
        browser.find("#notes")
    assert _unread(browser) == 0

    browser.open(f"/requests/show/{rid}")
    browser.find("#resubmit-form input[name=comment]").send_keys("已核对")
    browser.submit_and_wait(browser.find("#resubmit"))
    browser.wait_for_text("已重新提交")
    with live.db() as session:
        req = session.get(Request, rid)
        assert (req.status, req.round, req.holder_role) == ("pending", 2, "supervisor")
