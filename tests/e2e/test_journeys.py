"""The main journeys through a real headless Chromium: log in through the CSRF-protected form,
browse the masked student list, open a record (and have that view logged), add a student through
the form, stay inside the jurisdiction, switch the language."""

from __future__ import annotations

import os
import random
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

BROWSER_MISSING = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver")
                   if not os.path.isfile(p)]
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(bool(BROWSER_MISSING),
                                 reason=f"{', '.join(BROWSER_MISSING)} missing: "
                                        "apt-get install -y chromium chromium-driver")]
pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")

SCHOOL_CODE = "4301020001"  # the school_* demo accounts' school, county 430102
OTHER_COUNTY = "430202"
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MASKED_ID = re.compile(r"^\d{3}\*+[\dX]$")


# -- helpers --------------------------------------------------------------------------------------
def school_of(session, code: str):
    from app.models import School

    return session.scalar(select(School).where(School.code == code))


def student_ids_on(rows) -> list[int]:
    pks = []
    for row in rows:
        m = next((re.search(r"/students/show/(\d+)", h) for h in row["_links"]
                  if "/students/show/" in h), None)
        if m:
            pks.append(int(m.group(1)))
    return pks


def unused_first_grader_id(session, area: str = "430102", male: bool = True) -> tuple[str, date]:
    """A valid, unregistered resident ID of a child of age for grade 1 this school year."""
    from stdnum.cn import ric

    from app.models import Student
    from app.models.base import keyring
    from app.services.operations.demo import birth_range, school_year

    lo, hi = birth_range(1, school_year(date.today()))
    rng = random.Random()
    for _ in range(200):
        born = lo + timedelta(days=rng.randrange((hi - lo).days + 1))
        seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = f"{area}{born:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        digest = keyring().blind_index("id_number", number)
        if ric.is_valid(number) and session.scalar(
                select(Student.id).where(Student.id_blind == digest)) is None:
            return number, born
    raise AssertionError("no unused ID number found")


def bad_checksum(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def set_select(browser, name: str, value: str) -> None:
    """Choose ``value`` in the <select> a Select2 widget wraps, as a user's pick would."""
    found = browser.driver.execute_script("""
        const sel = document.querySelector('#model_form select[name="' + arguments[0] + '"]');
        if (!sel || ![...sel.options].some(o => o.value === arguments[1])) return false;
        sel.value = arguments[1];
        if (window.jQuery) { jQuery(sel).trigger('change'); }
        else { sel.dispatchEvent(new Event('change', {bubbles: true})); }
        return true;""", name, value)
    assert found, f"select {name!r} has no option {value!r}"


def type_into(browser, name: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = browser.find(f'#model_form input[name="{name}"]')
    box.clear()
    box.send_keys(text)
    if "appbuilder_date" in (box.find_element("xpath", "..").get_attribute("class") or ""):
        box.send_keys(Keys.ESCAPE)  # close the date picker


def pick_division(browser, name: str, *codes: str) -> None:
    """Choose province, city and county in the division picker of item ``name``, as a user would;
    the item's field then holds the county's 12-digit code."""
    from selenium.webdriver.support.ui import Select

    box = browser.find(f'#model_form [data-item="{name}"] .division-picker')
    for level, code in enumerate(codes):
        # the picker refills a level's options as the level above loads: ask the page in one step,
        # never hold an option element across a refill
        browser.wait.until(lambda _d, level=level, code=code: browser.driver.execute_script(
            "const s = arguments[0].querySelectorAll('select')[arguments[1]];"
            "return !!s && !s.disabled && [...s.options].some(o => o.value === arguments[2]);",
            box, level, code), f"{name}: no {code} among level {level}'s options")
        Select(box.find_elements("css selector", "select")[level]).select_by_value(code)
    wanted = codes[-1] + "000000"
    browser.wait.until(lambda _d: field_value(browser, name) == wanted, f"{name} never became {wanted}")


def switch_to(browser, username: str) -> None:
    """Log out whoever is in and log ``username`` in."""
    browser.driver.delete_all_cookies()
    browser.login(username)


def decide_from_inbox(browser, username: str, rid: int, verdict: str = "approve",
                      comment: str = "") -> None:
    """``username`` opens 待办 from the menu, finds request ``rid`` there, opens it and decides."""
    switch_to(browser, username)
    browser.menu("学籍管理", "待办")
    link = browser.find(f'#inbox a[href$="/requests/show/{rid}"]')
    browser.submit_and_wait(link)
    browser.find("#subject")  # the reviewer sees whom the request is about
    if comment:
        browser.find("#decide input[name=comment]").send_keys(comment)
    browser.submit_and_wait(browser.find(f"#{verdict}"))
    browser.wait_for_text("已核办", "已退回", "不通过")


def open_request_of(session, student_id: int) -> int:
    from app.models import Request

    return session.scalar(select(Request.id).where(Request.open_student_id == student_id))


def field_value(browser, name: str) -> str:
    return browser.driver.execute_script(
        "const el = document.querySelector('#model_form [name=\"' + arguments[0] + '\"]');"
        "return el ? el.value : null;", name)


def field_errors(browser, name: str) -> str:
    """The errors shown beside the field (in its item's box on the sectioned forms)."""
    return browser.driver.execute_script("""
        const el = document.querySelector('#model_form [name="' + arguments[0] + '"]');
        const cell = el && (el.closest('[data-item]') || el.closest('td'));
        return cell ? [...cell.querySelectorAll('.xueji-error, .alert-danger')]
                          .map(e => e.innerText).join(' ') : '';""", name)


# -- journeys -------------------------------------------------------------------------------------
def test_login_page_is_chinese_and_landing_shows_role_and_school(browser, live):
    browser.open("/login/")
    browser.find("form[name=login]")
    assert browser.wait_for_text("登录", "用户名")
    assert "csrf_token" in browser.source(), "the login form carries no CSRF token"

    browser.login("school_registrar")
    with live.db() as session:
        school_name = school_of(session, SCHOOL_CODE).name
    browser.wait_for_text("学校学籍管理员")
    body = browser.find("body").text
    assert "学校学籍管理员" in body
    assert school_name in body, f"{school_name} not on the landing page:\n{body[:2000]}"


def test_registrar_list_is_masked_and_record_view_is_logged(browser, live):
    from app.models import PersonalDataAccess, Student

    browser.login("school_registrar")
    browser.open("/students/list/")
    browser.find("table.table-bordered tbody tr")
    rows = browser.table()
    assert rows, "the student list is empty"
    id_header = next((h for h in rows[0] if h.startswith("身份证件号")), None)
    assert id_header, f"no ID column in the list: {list(rows[0])}"
    masked = [r[id_header] for r in rows if r[id_header]]
    assert masked and all(MASKED_ID.match(v) for v in masked), masked

    source = browser.source()
    pks = student_ids_on(rows)
    assert len(pks) == len(rows)
    with live.db() as session:
        numbers = {s.id: s.id_number for s in session.scalars(select(Student)
                                                              .where(Student.id.in_(pks)))}
    assert not FULL_ID.search(source), f"an 18-digit ID in the list: {FULL_ID.search(source)}"
    leaked = [n for n in numbers.values() if n and n in source]
    assert not leaked, f"full ID numbers in the list page source: {leaked}"

    row = next(r for r in rows if r[id_header])
    pk = student_ids_on([row])[0]
    with live.db() as session:
        def views():
            return session.scalar(select(func.count()).select_from(PersonalDataAccess).where(
                PersonalDataAccess.student_id == pk,
                PersonalDataAccess.username == "school_registrar"))
        before = views()

    link = browser.find(f'table.table-bordered tbody a[href$="/students/show/{pk}"]')
    browser.submit_and_wait(link)
    assert f"/students/show/{pk}" in browser.driver.current_url
    browser.wait_for_text("学籍信息")
    assert numbers[pk] in browser.find("body").text, "the record page does not show the full ID"

    with live.db() as session:
        after = session.scalars(select(PersonalDataAccess).where(
            PersonalDataAccess.student_id == pk,
            PersonalDataAccess.username == "school_registrar")
            .order_by(PersonalDataAccess.id)).all()
        assert len(after) == before + 1, "the record view was not logged (or logged twice)"
        assert after[-1].channel == "web"
        assert "id_number" in after[-1].fields.split(",")


def test_registrar_adds_a_student_through_the_form(browser, live):
    from app.models import SchoolClass, Student
    from app.models.base import keyring

    with live.db() as session:
        good_id, born = unused_first_grader_id(session)
        school = school_of(session, SCHOOL_CODE)
        own_classes = {str(c.id): c for c in session.scalars(
            select(SchoolClass).where(SchoolClass.school_id == school.id))}
        first_grade = min((c for c in own_classes.values() if c.grade.number == 1),
                          key=lambda c: c.id)
        class_id, entry = str(first_grade.id), date(first_grade.entry_year, 9, 1)
    name = "端测" + "".join(random.sample("安宁明远思齐嘉禾知行", 2))
    bad_id = bad_checksum(good_id)

    browser.login("school_registrar")
    browser.menu("学籍管理", "新增学生")
    form = browser.find("form#model_form")
    assert form.find_elements("css selector", "input[name=csrf_token]"), "no CSRF token in form"
    offered = browser.driver.execute_script(
        "return [...document.querySelector('#model_form select[name=school_class]').options]"
        ".map(o => o.value).filter(v => v && v !== '__None');")
    assert set(offered) == set(own_classes), "the class select offers other schools' classes"

    texts = {
        "name": name, "birth_date": born.isoformat(), "id_number": bad_id,
        "entry_date": entry.isoformat(), "current_address": "湖南省长沙市芙蓉区五一大道1号",
        "mailing_address": "湖南省长沙市芙蓉区五一大道1号",
        "home_address": "湖南省长沙市芙蓉区五一大道1号", "phone": "13812345678",
        "postcode": "410000", "distance_km": "1.5", "m1_name": "端测家长",
        "m1_phone": "13900001111",
    }
    selects = {
        "gender": "1", "ethnicity": "01", "nationality": "CHN", "id_type": "1",
        "hmt_status": "00", "health": "1", "political_status": "14", "school_class": class_id,
        "entry_mode": "11", "study_mode": "1", "source": "1", "hukou_nature": "2",
        "left_behind": "0", "travel_mode": "1", "m1_relation": "1", "m1_is_guardian": "1",
        "m1_id_type": "1",
    }
    for field, text in texts.items():
        type_into(browser, field, text)
    for field, value in selects.items():
        set_select(browser, field, value)
    places = {"birthplace": ("430000", "430100", "430102"), "native_place": ("430000", "430100"),
              "hukou_location": ("430000", "430100", "430102")}
    for field, codes in places.items():
        pick_division(browser, field, *codes)
    browser.find("#model_form input[name=had_preschool]").click()

    # 1. a wrong check character: the form comes back, the error beside the ID, the rest kept
    browser.submit_and_wait(browser.find("#model_form button[type=submit]"))
    assert "/students/add" in browser.driver.current_url
    browser.find("form#model_form")
    errors = field_errors(browser, "id_number")
    assert "身份证号校验位错误" in errors, (
        f"no check-character error beside the ID field (got {errors!r}); page says:\n"
        + browser.find("body").text[:1500])
    for field, text in texts.items():
        assert field_value(browser, field) == text, f"{field} lost after the failed submit"
    for field, value in selects.items():
        assert field_value(browser, field) == value, f"{field} lost after the failed submit"
    for field, codes in places.items():
        assert field_value(browser, field) == codes[-1] + "000000", f"{field} lost"
    with live.db() as session:
        assert session.scalar(select(Student.id).where(Student.name == name)) is None

    # 2. corrected: saved, with a temporary L number
    type_into(browser, "id_number", good_id)
    browser.submit_and_wait(browser.find("#model_form button[type=submit]"))
    assert "/students/add" not in browser.driver.current_url, (
        "still on the add form after a valid submit:\n" + browser.find("body").text[:1500])
    with live.db() as session:
        student = session.scalar(select(Student).where(
            Student.id_blind == keyring().blind_index("id_number", good_id)))
        assert student is not None, "the new student was not saved"
        assert (student.name, student.class_id) == (name, int(class_id))
        assert student.registry_kind == "L" and student.registry_no.startswith("L430102")
        pk, registry_no = student.id, student.registry_no
        rid = open_request_of(session, pk)
    assert browser.driver.current_url.endswith(f"/students/show/{pk}"), browser.driver.current_url
    assert name in browser.find("body").text

    browser.open(f"/students/list/?_flt_2_name={quote(name)}")
    browser.find("table.table-bordered tbody tr")
    rows = [r for r in browser.table() if r.get("姓名") == name]
    assert rows and student_ids_on(rows) == [pk], browser.table()
    number_header = next(h for h in rows[0] if h.startswith("学籍号"))
    shown = rows[0][number_header]
    assert shown.startswith("L") and shown[:7] == registry_no[:7], (shown, registry_no)

    # 3. the registration review: the school's supervisor, then the county's registrar
    assert rid is not None, "adding the student filed no registration review"
    decide_from_inbox(browser, "school_supervisor", rid)
    decide_from_inbox(browser, "county_registrar", rid)
    assert browser.find("#status").text == "已办结"
    with live.db() as session:
        student = session.get(Student, pk)
        assert student.registered and student.registry_kind != "L", student.registry_no
        formal = student.registry_no
    switch_to(browser, "school_registrar")
    browser.open(f"/students/show/{pk}")
    assert formal in browser.find("body").text


def test_county_registrar_gets_404_for_another_countys_student(browser, live):
    from app.models import Student

    with live.db() as session:
        foreign = session.scalar(select(Student.id).where(Student.county_code == OTHER_COUNTY)
                                 .order_by(Student.id))
        own = session.scalar(select(Student.id).where(Student.county_code == "430102")
                             .order_by(Student.id))
    assert foreign and own

    browser.login("county_registrar")
    assert browser.status_of(f"/students/show/{own}") == 200  # the control: own county is fine
    browser.open(f"/students/show/{foreign}")
    assert "找不到页面" in browser.find("#error-page").text  # the 404 page, in Chinese
    assert browser.status_of(f"/students/show/{foreign}") == 404


def test_language_switch_to_english(browser, live):
    browser.login("school_registrar")
    browser.open("/students/list/")
    browser.find("table.table-bordered")
    assert "学生名册" in browser.find("body").text

    # the other language: one click in the navbar
    english = browser.find('a[href$="/lang/en"]')
    browser.wait.until(lambda d: english.is_displayed())
    browser.submit_and_wait(english)

    browser.open("/students/list/")
    browser.find("table.table-bordered")
    body = browser.wait_for_text("Students")
    assert body
    headers = [th.text for th in
               browser.driver.find_elements("css selector", "table.table-bordered thead th")]
    assert any(h.startswith("Registry no") for h in headers), headers
    assert "学生名册" not in browser.find("body").text


def test_county_administrator_edits_the_county_rule_file_with_a_diff_then_activates(browser, live):
    from app.models import RuleSetVersion

    browser.login("county_admin")
    browser.menu("系统", "政策规则")
    browser.find("#controlled")
    assert "rules/430102.yaml:" in browser.source() and "rules/national.yaml:" in browser.source()
    with live.db() as session:
        before = session.scalar(select(func.max(RuleSetVersion.id)))
        original = session.get(RuleSetVersion, before).files["430102.yaml"]
    browser.submit_and_wait(browser.find("#edit-rules"))
    text = browser.find("#text")
    browser.driver.execute_script(
        "arguments[0].value = arguments[0].value.replace('primary: {cap: 40}', 'primary: {cap: 39}');",
        text)
    browser.submit_and_wait(browser.find("#preview"))
    diff = browser.find("#diff").text
    assert "-  primary: {cap: 40}" in diff and "+  primary: {cap: 39}" in diff
    browser.submit_and_wait(browser.find("#activate"))
    browser.find("#history")
    with live.db() as session:
        latest = session.scalars(select(RuleSetVersion).order_by(RuleSetVersion.id.desc())).first()
        assert latest.id == before + 1 and latest.created_by == "county_admin"
        assert "primary: {cap: 39}" in latest.files["430102.yaml"]
        from app.services.policy import rulesets as policy

        policy.activate(session, {**latest.files, "430102.yaml": original}, by="test",
                        note="restore")


def test_a_suspension_is_returned_corrected_and_approved(browser, live, tmp_path):
    """The registrar files a suspension from the record found in the list; the school's supervisor
    returns it for the hospital's certificate; the registrar finds it in 待办, adds the certificate
    and resubmits; the school's supervisor, the county's registrar and (by the county's rule file)
    its supervisor approve; the student is suspended."""
    from app.models import Request, Student

    with live.db() as session:
        school = school_of(session, SCHOOL_CODE)
        busy = select(Request.open_student_id).where(Request.open_student_id.is_not(None))
        student = session.scalars(select(Student).where(
            Student.school_id == school.id, Student.registered.is_(True),
            Student.status == "in_school", Student.problem.is_(False),
            ~Student.id.in_(busy)).order_by(Student.id.desc())).first()
        sid, name = student.id, student.name
    application = tmp_path / "休学申请.pdf"
    application.write_bytes(b"%PDF-1.4\n% application for suspension\n")
    certificate = tmp_path / "医院证明.pdf"
    certificate.write_bytes(b"%PDF-1.4\n% hospital certificate\n")

    browser.login("school_registrar")
    browser.menu("学籍管理", "学生名册")
    browser.open(f"/students/list/?_flt_2_name={quote(name)}")
    row = next(r for r in browser.table() if r.get("姓名") == name)
    browser.open(next(u for u in row["_links"] if f"/students/show/{sid}" in u).split(live.url)[-1])
    browser.submit_and_wait(browser.find("#file-request"))
    browser.find("#new-request")
    browser.driver.execute_script("document.getElementById('kind').value = 'suspend';")
    browser.driver.execute_script("document.querySelector('select[name=reason]').value = '疾病';")
    browser.find("input[name=evidence]").send_keys(str(application))
    browser.submit_and_wait(browser.find("#submit"))
    browser.find("#chain")
    assert "休学" in browser.source() and name in browser.source()
    rid = int(browser.driver.current_url.rstrip("/").split("/")[-1])

    decide_from_inbox(browser, "school_supervisor", rid, "return", comment="请补充医院证明")
    with live.db() as session:
        assert session.get(Request, rid).status == "returned"

    switch_to(browser, "school_registrar")
    browser.menu("学籍管理", "待办")
    fixes = browser.find("#fixes").text
    assert name in fixes and "请补充医院证明" in fixes
    browser.submit_and_wait(browser.find(f'#fixes a[href$="/requests/show/{rid}"]'))
    browser.find("#resubmit-form input[name=comment]").send_keys("已补充医院证明")
    browser.find("#resubmit-form input[name=evidence]").send_keys(str(certificate))
    browser.submit_and_wait(browser.find("#resubmit"))
    browser.wait_for_text("已重新提交")

    for username in ("school_supervisor", "county_registrar", "county_supervisor"):  # 430102.yaml
        decide_from_inbox(browser, username, rid)                                     # adds the last
    assert browser.find("#status").text == "已办结"
    with live.db() as session:
        req = session.get(Request, rid)
        assert (req.status, req.round) == ("done", 2)
        assert {a.filename for a in req.attachments} == {"休学申请.pdf", "医院证明.pdf"}
        assert session.get(Student, sid).status == "suspended"


def test_a_cross_county_transfer_is_filed_by_the_receiving_school_and_four_parties_approve(
        browser, live, tmp_path):
    """四方核办: a school of 荷塘区 receives a student of 芙蓉区 by the registry number on the transfer
    certificate; its county's registrar, the sending school's supervisor and the sending county's
    registrar approve in turn; the one record moves, with its number, to the receiving class."""
    from app.models import Request, SchoolClass, Student

    receiving = "4302020001"
    with live.db() as session:
        school = school_of(session, SCHOOL_CODE)
        busy = select(Request.open_student_id).where(Request.open_student_id.is_not(None))
        student = session.scalars(select(Student).where(
            Student.school_id == school.id, Student.registered.is_(True),
            Student.status == "in_school", Student.problem.is_(False), Student.registry_kind != "L",
            ~Student.id.in_(busy)).order_by(Student.id)).first()
        sid, name, number, grade = student.id, student.name, student.registry_no, student.grade.number
        classes = {c.id: c.grade.number for c in session.scalars(
            select(SchoolClass).where(SchoolClass.school_id == school_of(session, receiving).id))}
    certificate = tmp_path / "转学证明.pdf"
    certificate.write_bytes(b"%PDF-1.4\n% transfer certificate, stamped\n")

    browser.login("county2_school_registrar")
    browser.menu("学籍管理", "转入申请")
    browser.find("#transfer-in input[name=registry_no]").send_keys(number)
    browser.submit_and_wait(browser.find("#lookup"))
    card = browser.find("#found").text
    assert name in card and "芙蓉区育英小学" in card
    first = browser.find("#found select[name=target_class] option")
    assert classes[int(first.get_attribute("value"))] == grade  # the student's grade comes first
    browser.find("#found input[name=evidence]").send_keys(str(certificate))
    browser.submit_and_wait(browser.find("#confirm"))
    browser.find("#chain")
    rid = int(browser.driver.current_url.rstrip("/").split("/")[-1])
    target = None
    with live.db() as session:
        req = session.get(Request, rid)
        assert req.kind == "transfer" and req.student_id == sid
        target = req.target_class_id

    for username in ("county2_registrar", "school_supervisor", "county_registrar"):
        decide_from_inbox(browser, username, rid)
    assert browser.find("#status").text == "已办结"
    with live.db() as session:
        moved = session.get(Student, sid)
        assert (moved.class_id, moved.registry_no) == (target, number)
        assert moved.school.code == receiving

    switch_to(browser, "county2_school_registrar")
    browser.open(f"/students/show/{sid}")
    assert name in browser.find("body").text


def test_a_registrar_imports_a_workbook_fixes_nothing_and_takes_the_valid_rows(browser, live):
    """Upload on the page, see the bad row named by row and column, import only the valid rows."""
    import tempfile
    from pathlib import Path

    from workbooks import student_row, write

    from app.models import ImportJob, Student
    from app.services.operations.demo import school_year
    from app.services.policy.rulesets import seated

    with live.db() as session:
        school = school_of(session, SCHOOL_CODE)
        third = [c for c in school.classes if c.grade.number == 3]
        class_name = min(third, key=lambda c: seated(session, c.id, lock=False)).name
    rng, used = random.Random(), set()
    rows = [student_row(rng, SCHOOL_CODE, class_name, 3, school_year(date.today()), used)
            for _ in range(3)]
    rows[1]["身份证件号"] = bad_checksum(rows[1]["身份证件号"])
    path = write(Path(tempfile.mkdtemp()) / "三年级新生.xlsx", rows)

    browser.login("school_registrar")
    browser.menu("Excel 导入导出", "导入学生")
    browser.find("#file").send_keys(str(path))
    browser.submit_and_wait(browser.find("#check"))
    problems = browser.driver.execute_script(
        "return [...document.querySelectorAll('#problems tr')].slice(1)"
        ".map(tr => [...tr.cells].map(td => td.innerText));")
    assert ["3", "身份证件号"] in [p[:2] for p in problems], problems
    assert any("校验位" in p[2] for p in problems), problems
    assert browser.find("#bar").text == "100%"
    browser.submit_and_wait(browser.find("#commit-valid"))
    browser.wait_for_text("新增 2")
    job_id = int(re.search(r"/imports/job/(\d+)", browser.driver.current_url).group(1))
    with live.db() as session:
        job = session.get(ImportJob, job_id)
        assert (job.status, job.created, job.rows_invalid) == ("done", 2, 1)
        names = set(session.scalars(select(Student.name).where(Student.import_job_id == job_id)))
        assert names == {rows[0]["姓名"].strip(), rows[2]["姓名"].strip()}
