"""The student form in Chromium: sections that fit a screen or two, divisions picked province →
city → county (no 12-digit codes typed), the student saved and its record naming the places."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from .test_journeys import (
    SCHOOL_CODE,
    pick_division,
    school_of,
    set_select,
    type_into,
    unused_first_grader_id,
)

pytestmark = [pytest.mark.e2e]

# Collects what the CSP blocked, installed before any script of each new document.
CSP_WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation',"
             " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


def test_a_registrar_picks_places_and_saves_a_student(browser, live):
    from app.models import SchoolClass, Student

    with live.db() as session:
        number, born = unused_first_grader_id(session)
        school = school_of(session, SCHOOL_CODE)
        klass = min((c for c in school.classes if c.grade.number == 1), key=lambda c: c.id)
        class_id, entry = str(klass.id), f"{klass.entry_year}-09-01"
        assert session.get(SchoolClass, klass.id) is not None
    name = "选址" + "".join(random.sample("安宁明远思齐嘉禾知行", 2))

    browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH})
    browser.login("school_registrar")
    browser.open("/students/add")
    browser.find("form#model_form .division-picker select")
    height = browser.driver.execute_script("return document.body.scrollHeight")
    assert height < 3200, f"the add form is {height} px tall"
    # the division items are pickers now: their text boxes are hidden fields behind the selects
    assert browser.driver.execute_script(
        "return document.querySelector('#model_form input[name=birthplace]').type") == "hidden"

    for field, text in {"name": name, "birth_date": born.isoformat(), "id_number": number,
                        "entry_date": entry, "current_address": "湖南省长沙市芙蓉区五一大道1号",
                        "mailing_address": "湖南省长沙市芙蓉区五一大道1号",
                        "home_address": "湖南省长沙市芙蓉区五一大道1号", "phone": "13812345678",
                        "postcode": "410000", "distance_km": "2", "m1_name": "选址家长"}.items():
        type_into(browser, field, text)
    for field, value in {"gender": "1", "ethnicity": "01", "health": "1", "political_status": "14",
                         "school_class": class_id, "entry_mode": "11", "study_mode": "1",
                         "hukou_nature": "2", "left_behind": "0", "travel_mode": "1",
                         "m1_relation": "1"}.items():
        set_select(browser, field, value)
    pick_division(browser, "birthplace", "430000", "430100", "430102")
    pick_division(browser, "native_place", "430000", "430100", "430103")
    pick_division(browser, "hukou_location", "430000", "430100", "430102")
    pick_division(browser, "m1_hukou_location", "110000", "110100", "110101")  # 市辖区 chosen for us
    note = browser.find('#model_form [data-item="birthplace"] .division-name').text
    assert note == "湖南省长沙市芙蓉区"

    browser.submit_and_wait(browser.find("#model_form button[type=submit]"))
    assert "/students/add" not in browser.driver.current_url, browser.find("body").text[:1500]
    with live.db() as session:
        student = session.scalar(select(Student).where(Student.name == name))
        assert student is not None, "the student was not saved"
        assert (student.birthplace, student.native_place, student.hukou_location) == (
            "430102000000", "430103000000", "430102000000")
        assert student.members[0].hukou_location == "110101000000"
        pk = student.id

    browser.open(f"/students/show/{pk}")
    body = browser.wait_for_text("湖南省长沙市芙蓉区")
    text = browser.find("body").text
    assert body and "湖南省长沙市天心区" in text and "430102000000" not in text
    assert browser.driver.execute_script("return window.__csp || []") == []


def test_without_javascript_the_place_is_typed(browser, live):
    """The plain text box the picker replaces: it takes a division's name (what remains when the
    script cannot run)."""
    browser.login("school_registrar")
    browser.open("/students/add")
    browser.find("form#model_form .division-picker select")
    browser.driver.execute_script("""
        const box = document.querySelector('#model_form [data-item="birthplace"] .division-picker');
        box.querySelector('.division-selects').remove();
        box.querySelector('input').type = 'text';""")
    type_into(browser, "birthplace", "湖南省长沙市芙蓉区")
    browser.submit_and_wait(browser.find("#model_form button[type=submit]"))
    # the form comes back (nothing else was filled) with the place turned into its code
    value = browser.driver.execute_script(
        "return document.querySelector('#model_form input[name=birthplace]').value")
    assert value == "430102000000"
    selects = browser.driver.find_elements(
        "css selector", '#model_form [data-item="birthplace"] .division-picker select')
    browser.wait.until(lambda _d: selects[2].get_attribute("value") == "430102")
