"""The field catalogue: the official 71-column template, and every item maps to a model attribute."""

from __future__ import annotations

import pytest

from app.fields import (
    ALL_STUDENT_FIELDS,
    EXTRA_STUDENT_FIELDS,
    MEMBER_FIELDS,
    STUDENT_FIELDS,
    TRAILING_STUDENT_FIELDS,
    template_headers,
)
from app.models import FamilyMember, Student
from app.security.crypto import Keyring, aad_for

# REFERENCE.md §3, column by column (2013-2014 template).
_STUDENT_1_46 = [
    "学校标识码", "姓名", "性别", "出生日期", "出生地", "籍贯", "民族", "国籍/地区", "身份证件类型", "港澳台侨外", "健康状况",
    "政治面貌", "身份证件号", "户口性质", "户口所在地", "班级", "入学年月", "入学方式", "就读方式", "现住址", "通信地址",
    "家庭地址", "联系电话", "邮政编码", "是否独生子女", "是否受过学前教育", "是否留守儿童", "是否需要申请资助", "是否享受一补",
    "是否孤儿", "是否烈士或优抚子女", "上下学距离（公里）", "上下学交通方式", "是否需要乘坐校车", "曾用名", "身份证件有效期", "血型",
    "特长", "学籍辅号", "班内学号", "学生来源", "电子信箱", "主页地址", "残疾类型", "是否由政府购买学位", "随班就读",
]
_MEMBER = [
    "姓名", "关系", "关系说明", "现住址", "户口所在地", "联系电话", "是否监护人", "身份证件类型", "身份证件号", "民族",
    "工作单位", "职务",
]
REFERENCE = (_STUDENT_1_46 + [f"成员1{h}" for h in _MEMBER] + [f"成员2{h}" for h in _MEMBER]
             + ["是否进城务工人员随迁子女"])
NOT_ON_STUDENT = {"school_code", "class_name"}  # looked up: school by code, class by name


def test_reference_list_has_71_columns():
    assert len(REFERENCE) == 71 and len(set(REFERENCE)) == 71


def test_template_has_exactly_the_71_reference_headers_in_order():
    assert template_headers() == REFERENCE


@pytest.mark.parametrize("column, header", [(1, "学校标识码"), (13, "身份证件号"), (20, "现住址"),
                                            (41, "学生来源"), (46, "随班就读"), (47, "成员1姓名"),
                                            (55, "成员1身份证件号"), (59, "成员2姓名"),
                                            (70, "成员2职务"), (71, "是否进城务工人员随迁子女")])
def test_template_column_holds_its_reference_header(column, header):
    assert template_headers()[column - 1] == header


def test_template_headers_are_unique():
    headers = template_headers()
    assert len(headers) == len(set(headers))


@pytest.mark.parametrize("spec", [s for s in ALL_STUDENT_FIELDS + EXTRA_STUDENT_FIELDS
                                  if s.name not in NOT_ON_STUDENT], ids=lambda s: s.name)
def test_every_student_item_is_an_attribute_of_student(spec):
    attribute = {"grade": "grade", "photo": "photo_enc"}.get(spec.name, spec.name)
    assert hasattr(Student, attribute), f"Student has no attribute {attribute!r}"


@pytest.mark.parametrize("name", sorted(NOT_ON_STUDENT))
def test_school_code_and_class_name_are_derived_properties_of_student(name):
    assert isinstance(getattr(Student, name), property)


@pytest.mark.parametrize("spec", MEMBER_FIELDS, ids=lambda s: s.name)
def test_every_member_item_is_an_attribute_of_family_member(spec):
    assert hasattr(FamilyMember, spec.name), f"FamilyMember has no attribute {spec.name!r}"


@pytest.mark.parametrize("spec", [s for s in ALL_STUDENT_FIELDS if s.personal], ids=lambda s: s.name)
def test_personal_student_items_are_stored_encrypted(spec):
    assert isinstance(getattr(Student, spec.name), property)
    assert f"{spec.name}_enc" in Student.__table__.c
    assert spec.name not in Student.__table__.c


@pytest.mark.parametrize("spec", [s for s in MEMBER_FIELDS if s.personal], ids=lambda s: s.name)
def test_personal_member_items_are_stored_encrypted(spec):
    assert f"{spec.name}_enc" in FamilyMember.__table__.c
    assert spec.name not in FamilyMember.__table__.c


def test_id_number_address_phone_and_email_are_personal():
    personal = {s.name for s in ALL_STUDENT_FIELDS if s.personal}
    assert personal == {"id_number", "current_address", "mailing_address", "home_address", "phone",
                        "email"}


def test_required_items_are_the_starred_ones_except_former_name_and_id_validity():
    """Template columns 1-36 and 41 are starred; 35 (曾用名) and 36 (有效期) are left optional."""
    required = [template_headers().index(s.header) + 1
                for s in STUDENT_FIELDS + TRAILING_STUDENT_FIELDS if s.required]
    assert required == [*range(1, 35), 41, 71]


def _widest(spec) -> str:
    """The longest value validation lets through: Chinese text for free text, ASCII otherwise."""
    return ("湘" if spec.kind == "text" else "9") * spec.max_length


@pytest.mark.parametrize(
    "model, spec",
    [pytest.param(Student, s, id=f"student.{s.name}") for s in ALL_STUDENT_FIELDS if s.personal]
    + [pytest.param(FamilyMember, s, id=f"member.{s.name}") for s in MEMBER_FIELDS if s.personal],
)
def test_longest_accepted_personal_value_fits_its_encrypted_column(model, spec):
    ring = Keyring(keys={"k10": bytes(32)}, active="k10", blind_key=bytes(32))
    token = ring.encrypt(_widest(spec), aad_for(model.__tablename__, f"{spec.name}_enc", "u" * 32))
    column = model.__table__.c[f"{spec.name}_enc"]
    assert column.type.length is None or len(token) <= column.type.length
