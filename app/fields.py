"""The student record's items: one catalogue for models, forms, labels, rules and the Excel template.

Order and headers follow the official 71-column template (REFERENCE.md §3).  ``required`` follows the
paper form's starred items (1–36 and 41) except former name and ID validity, which most students do not
have.  Pure data: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    name: str  # attribute on Student / FamilyMember
    header: str  # template header, also the Chinese label
    label_en: str
    kind: str  # text code bool date month region place number id_number phone postcode email url class school
    # region: a 12-digit division code; place: a division code (picked) or a place named in words
    code_table: str | None = None
    required: bool = False
    max_length: int | None = None
    personal: bool = False  # encrypted at rest, masked in lists


def _f(name, header, label_en, kind="text", code=None, req=False, max_length=None, personal=False):
    if kind == "bool":
        code = "yes_no"
    return FieldSpec(name, header, label_en, kind, code, req, max_length, personal)


STUDENT_FIELDS: tuple[FieldSpec, ...] = (
    _f("school_code", "学校标识码", "School code", "school", req=True),
    _f("name", "姓名", "Name", req=True, max_length=50),
    _f("gender", "性别", "Gender", "code", "gender", req=True),
    _f("birth_date", "出生日期", "Birth date", "date", req=True),
    _f("birthplace", "出生地", "Birthplace", "region", req=True),
    _f("native_place", "籍贯", "Native place", "place", req=True, max_length=50),
    _f("ethnicity", "民族", "Ethnicity", "code", "ethnicity", req=True),
    _f("nationality", "国籍/地区", "Nationality/region", "code", "nationality", req=True),
    _f("id_type", "身份证件类型", "ID type", "code", "id_type", req=True),
    _f("hmt_status", "港澳台侨外", "HK/Macao/Taiwan/overseas", "code", "hmt_status", req=True),
    _f("health", "健康状况", "Health", "code", "health", req=True),
    _f("political_status", "政治面貌", "Political status", "code", "political_status", req=True),
    _f("id_number", "身份证件号", "ID number", "id_number", req=True, max_length=30, personal=True),
    _f("hukou_nature", "户口性质", "Hukou nature", "code", "hukou_nature", req=True),
    _f("hukou_location", "户口所在地", "Hukou location", "region", req=True),
    _f("class_name", "班级", "Class", "class", req=True),
    _f("entry_date", "入学年月", "Entry (year-month)", "month", req=True),
    _f("entry_mode", "入学方式", "Entry mode", "code", "entry_mode", req=True),
    _f("study_mode", "就读方式", "Study mode", "code", "study_mode", req=True),
    _f("current_address", "现住址", "Current address", req=True, max_length=200, personal=True),
    _f("mailing_address", "通信地址", "Mailing address", req=True, max_length=200, personal=True),
    _f("home_address", "家庭地址", "Home address", req=True, max_length=200, personal=True),
    _f("phone", "联系电话", "Phone", "phone", req=True, max_length=30, personal=True),
    _f("postcode", "邮政编码", "Postcode", "postcode", req=True),
    _f("only_child", "是否独生子女", "Only child", "bool", req=True),
    _f("had_preschool", "是否受过学前教育", "Had preschool", "bool", req=True),
    _f("left_behind", "是否留守儿童", "Left-behind child", "code", "left_behind", req=True),
    _f("needs_subsidy", "是否需要申请资助", "Needs subsidy", "bool", req=True),
    _f("receives_subsidy", "是否享受一补", "Receives living subsidy", "bool", req=True),
    _f("orphan", "是否孤儿", "Orphan", "bool", req=True),
    _f("martyr_child", "是否烈士或优抚子女", "Martyr's or veteran's child", "bool", req=True),
    _f("distance_km", "上下学距离（公里）", "Distance to school (km)", "number", req=True),
    _f("travel_mode", "上下学交通方式", "Travel mode", "code", "travel_mode", req=True),
    _f("needs_school_bus", "是否需要乘坐校车", "Needs school bus", "bool", req=True),
    _f("former_name", "曾用名", "Former name", max_length=50),
    _f("id_valid_until", "身份证件有效期", "ID valid until", max_length=30),
    _f("blood_type", "血型", "Blood type", "code", "blood_type"),
    _f("specialty", "特长", "Specialty", max_length=200),
    _f("secondary_registry_no", "学籍辅号", "Secondary registry no.", max_length=30),
    _f("class_seat_no", "班内学号", "Number in class", max_length=20),
    _f("source", "学生来源", "Student source", "code", "student_source", req=True),
    _f("email", "电子信箱", "Email", "email", max_length=120, personal=True),
    _f("homepage", "主页地址", "Homepage", "url", max_length=200),
    _f("disability", "残疾类型", "Disability", "code", "disability"),
    _f("govt_purchased_seat", "是否由政府购买学位", "Government-purchased seat", "bool"),
    _f("inclusive_schooling", "随班就读", "Inclusive schooling", "code", "inclusive_schooling"),
)

MEMBER_FIELDS: tuple[FieldSpec, ...] = (
    _f("name", "姓名", "Name", req=True, max_length=50),
    _f("relation", "关系", "Relation", "code", "relation", req=True),
    _f("relation_note", "关系说明", "Relation note", max_length=50),
    _f("current_address", "现住址", "Current address", max_length=200, personal=True),
    _f("hukou_location", "户口所在地", "Hukou location", "place", max_length=200),
    _f("phone", "联系电话", "Phone", "phone", max_length=30, personal=True),
    _f("is_guardian", "是否监护人", "Guardian", "bool", req=True),
    _f("id_type", "身份证件类型", "ID type", "code", "id_type"),
    _f("id_number", "身份证件号", "ID number", "id_number", max_length=30, personal=True),
    _f("ethnicity", "民族", "Ethnicity", "code", "ethnicity"),
    _f("employer", "工作单位", "Employer", max_length=100),
    _f("job_title", "职务", "Job title", max_length=50),
)

# The last template column comes after the two family members.
TRAILING_STUDENT_FIELDS: tuple[FieldSpec, ...] = (
    _f("migrant_child", "是否进城务工人员随迁子女", "Migrant worker's child", "bool", req=True),
)

# Items of the paper form that the template does not carry.
EXTRA_STUDENT_FIELDS: tuple[FieldSpec, ...] = (
    _f("name_pinyin", "姓名拼音", "Name (pinyin)", max_length=100),
    _f("grade", "年级", "Grade", "grade"),
    _f("photo", "照片", "Photo", "photo"),
)

ALL_STUDENT_FIELDS = STUDENT_FIELDS + TRAILING_STUDENT_FIELDS
STUDENT_FIELD_BY_NAME = {f.name: f for f in ALL_STUDENT_FIELDS + EXTRA_STUDENT_FIELDS}
MEMBER_FIELD_BY_NAME = {f.name: f for f in MEMBER_FIELDS}

# Identity items: changing one triggers the duplicate check and needs a hukou certificate.
IDENTITY_FIELDS = ("id_type", "id_number", "name", "gender", "birth_date")


def template_headers() -> list[str]:
    """The 71 headers in the official order."""
    headers = [f.header for f in STUDENT_FIELDS]
    for n in (1, 2):
        headers += [f"成员{n}{f.header}" for f in MEMBER_FIELDS]
    headers += [f.header for f in TRAILING_STUDENT_FIELDS]
    return headers
