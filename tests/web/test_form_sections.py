"""Forms a registrar can fill: the national template's sections, a star on exactly the items the
record's checks require, selects without framework leftovers or silent choices, errors in words."""

from __future__ import annotations

import re
from datetime import date

import lxml.html
import pytest
from factories import first_class, new_id, registered_in, student_payload
from sqlalchemy import select
from test_student_form import form_data

from app.errors import Problem
from app.extensions import db
from app.fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS
from app.models import Student
from app.services.record.validation import Context, member_values_problems, record_problems
from app.web.labels import problem_text

SECTIONS = ["基本信息", "身份信息", "户口与住址", "家庭成员", "其他信息（辅助信息）"]
FORM_NAME = {"class_name": "school_class", "school_code": "school_class"}  # how the form asks them


def has(name: str) -> str:
    """An XPath test for a class name."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return lxml.html.fromstring(response.get_data(as_text=True))


def refused_when_blank() -> set[str]:
    """What the record's checks refuse on a blank record, asked of them, as form fields."""
    ctx = Context(lambda _table: set(), date(2026, 9, 1))
    student = {FORM_NAME.get(p.field, p.field) for p in record_problems({}, ctx) if p.code == "required"}
    member = {p.field for p in member_values_problems({}, ctx) if p.code == "required"}
    return student | {f"m{n}_{name}" for n in (1, 2) for name in member}


def starred(form) -> set[str]:
    out = {item.get("data-item") for item in form.xpath(f".//*[{has('xueji-item')}]")
           if item.xpath(f".//label//*[{has('xueji-star')}]")}
    for row in form.xpath(f".//table[{has('xueji-members')}]/tbody/tr"):  # one star: both members
        if row.xpath(f"./th//*[{has('xueji-star')}]"):
            out |= {cell.get("data-item") for cell in row.xpath("./td[@data-item]")}
    return out


@pytest.fixture
def add_form(ctx, client_for):
    return page(client_for("school_registrar"), "/students/add").get_element_by_id("model_form")


def test_the_add_form_stars_exactly_the_items_the_checks_require(add_form):
    required = refused_when_blank()
    assert {"birthplace", "native_place", "distance_km", "school_class", "entry_date",
            "m1_name"} <= required  # the ones left unstarred once
    assert starred(add_form) == required


def test_the_edit_form_stars_the_record_items_the_checks_require(ctx, client_for):
    student = registered_in("4301020001")
    form = page(client_for("school_registrar"), f"/students/edit/{student.id}")
    required = {f for f in refused_when_blank() if not re.match(r"m\d_", f)}
    assert starred(form.get_element_by_id("model_form")) == required


def test_the_add_form_is_in_the_template_sections_and_asks_every_item_once(add_form):
    titles = [a.text_content().strip() for a in
              add_form.xpath(f".//*[{has('xueji-section')}]//*[{has('panel-title')}]/a")]
    assert titles == SECTIONS
    items = [e.get("data-item") for e in add_form.xpath(".//*[@data-item]")]
    expected = ({f.name for f in ALL_STUDENT_FIELDS if f.kind not in ("school", "class")}
                | {"school_class", "name_pinyin", "registration"}
                | {f"m{n}_{f.name}" for n in (1, 2) for f in MEMBER_FIELDS})
    assert sorted(items) == sorted(expected)


def test_no_select_offers_a_framework_blank_or_a_silent_choice(ctx, client_for):
    html = client_for("school_registrar").get("/students/add").get_data(as_text=True)
    assert "__None" not in html
    form = lxml.html.fromstring(html).get_element_by_id("model_form")
    for name in ("political_status", "gender", "ethnicity", "health", "left_behind", "school_class"):
        select = form.xpath(f'.//select[@name="{name}"]')[0]
        assert select.value in ("", None), f"{name} starts at {select.value!r}"
        assert select.xpath(".//option")[0].get("value") == ""
    assert form.xpath('.//select[@name="nationality"]')[0].value == "CHN"  # the nation's default


def test_entry_modes_are_told_apart(add_form):
    select = add_form.xpath('.//select[@name="entry_mode"]')[0]
    shown = [(o.getparent().get("label"), o.text) for o in select.xpath(".//option") if o.get("value")]
    assert len(shown) == len(set(shown)), shown
    assert ("义务教育", "其他") in shown and ("高中阶段", "其他") in shown


def test_the_record_page_names_divisions_and_shows_nothing_for_blanks(ctx, client_for):
    student = registered_in("4301020001")
    student.birthplace, student.former_name = "430102000000", None
    db.session.commit()
    html = client_for("school_registrar").get(f"/students/show/{student.id}").get_data(as_text=True)
    text = lxml.html.fromstring(html).text_content()
    assert "湖南省长沙市芙蓉区" in text
    assert not re.search(r"\b43\d{10}\b", text), "a raw division code on the record page"
    assert not re.search(r">\s*None\s*<", html)


def test_lists_show_times_to_the_second_and_nothing_for_blanks(ctx, client_for):
    html = client_for("school_registrar").get("/registry-numbers/list/").get_data(as_text=True)
    assert re.search(r"<td>\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s*</td>", html)
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{6}", html)
    assert not re.search(r"<td>\s*None\s*</td>", html)


def test_a_division_typed_by_name_is_stored_as_its_code(ctx, client_for):
    payload = student_payload(first_class("4301020001"), new_id(), name="按名填写学生",
                              birthplace="湖南省长沙市芙蓉区", hukou_location="430102001001")
    r = client_for("school_registrar").post("/students/add", data=form_data(payload))
    assert r.status_code == 302
    student = db.session.scalar(select(Student).where(Student.name == "按名填写学生"))
    assert student.birthplace == "430102000000" and student.hukou_location == "430102001001"


def test_errors_stand_beside_their_items_in_words(ctx, client_for):
    payload = student_payload(first_class("4301020001"), new_id(), name="缺项学生",
                              birthplace="", native_place="", distance_km="")
    data = form_data(payload)
    data.pop("school_class")
    html = client_for("school_registrar").post("/students/add", data=data).get_data(as_text=True)
    form = lxml.html.fromstring(html).get_element_by_id("model_form")
    for name, words in (("birthplace", "出生地为必填项"), ("native_place", "籍贯为必填项"),
                        ("distance_km", "上下学距离（公里）为必填项"), ("school_class", "班级为必填项")):
        beside = form.xpath(f'.//*[@data-item="{name}"]//*[{has("xueji-error")}]')
        assert beside and words in beside[0].text_content(), name
    assert not re.search(r"\b(birthplace|native_place|class_name|distance_km)\s*:", html)


def test_a_problem_off_the_form_is_named_by_its_label_not_its_field():
    assert problem_text(Problem("请选择转入/升入的班级", "target_class")) == "编入班级：请选择转入/升入的班级"
    assert problem_text(Problem("须上传证明材料：转学证明", "evidence")) == "须上传证明材料：转学证明"
    assert problem_text(Problem("成员2关系为必填项", "成员2relation")) == "成员2关系为必填项"
    assert problem_text(Problem("不在时间窗内", "reason", source="rules/430000.yaml:12")) == \
        "原因：不在时间窗内（rules/430000.yaml:12）"
    assert problem_text(Problem("格式不对", "payload.some_internal_name")) == "格式不对"


def test_the_filing_page_names_items_in_words(ctx, client_for):
    student, client = registered_in("4301020001", grade=2), client_for("school_registrar")
    skip = client.post(f"/requests/new/{student.id}", data={"kind": "skip"}).get_data(as_text=True)
    assert "编入班级：请选择转入/升入的班级" in skip
    suspend = client.post(f"/requests/new/{student.id}", data={"kind": "suspend"}).get_data(as_text=True)
    assert "须上传证明材料" in suspend and "原因须为" in suspend
    for html in (skip, suspend):
        assert not re.search(r"\b(target_class|evidence|reason)\s*:", html)


def test_the_filing_page_offers_classes_of_the_grades_a_request_can_move_to(ctx, client_for):
    student = registered_in("4301020001", grade=2)
    form = page(client_for("school_registrar"), f"/requests/new/{student.id}")
    options = [o.text for o in form.xpath('.//select[@name="target_class"]//option') if o.get("value")]
    grades = [re.search(r"（(.+)）$", text).group(1) for text in options]
    assert options and set(grades) <= {"一年级", "二年级", "三年级"}, grades
    assert grades[0] == "二年级"


def test_the_sections_and_the_picker_speak_english_too(ctx, client_for):
    client = client_for("school_registrar")
    client.get("/lang/en")
    form = page(client, "/students/add").get_element_by_id("model_form")
    titles = [a.text_content().strip() for a in
              form.xpath(f".//*[{has('xueji-section')}]//*[{has('panel-title')}]/a")]
    assert titles == ["Basic", "Identity", "Hukou and address", "Family members", "Other (auxiliary)"]
    picker = form.xpath(f'.//*[@data-item="birthplace"]//*[{has("division-picker")}]')[0]
    assert picker.get("data-province") == "Province" and picker.get("data-county") == "County"


def test_a_transfer_lists_the_students_grade_first(ctx):
    from app.web.pickers import class_choices

    school = registered_in("4301020001", grade=2).school
    classes = class_choices(school.id, 2)
    grades = [c.grade.number for c in classes]
    assert grades[0] == 2 and sorted(grades[grades.count(2):]) == grades[grades.count(2):]
    assert len(classes) == len(school.classes)  # the others follow
    assert {c.grade.number for c in class_choices(school.id, 2, (0, -1, 1), only=True)} == {1, 2, 3}


def test_a_members_own_form_stars_the_members_required_items(ctx, client_for):
    member = registered_in("4301020001").members[0]
    form = page(client_for("school_registrar"), f"/family/edit/{member.id}").get_element_by_id("model_form")
    required = {name.split("_", 1)[1] for name in refused_when_blank() if name.startswith("m1_")}
    assert starred(form) == required | {"student"}
    assert form.xpath(f'.//*[@data-item="hukou_location"]//*[{has("division-picker")}]')
