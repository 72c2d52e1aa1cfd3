"""How a student record reads on pages and in REST bodies: item labels, code formatters, and which
items are personal data (shown in full only to roles allowed, and logged when they are)."""

from __future__ import annotations

from ..extensions import db
from ..fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS, FieldSpec
from ..i18n import t
from ..services.organisation import codes as code_tables

CODED = {f.name: f.code_table for f in ALL_STUDENT_FIELDS if f.kind == "code"}
PERSONAL = ["id_number", "current_address", "mailing_address", "home_address", "phone", "email"]
MASKED = {"id_number": "id_number_masked", "phone": "phone_masked"}  # items with a masked column
MEMBER_PREFIXES = (("m1_", "成员1", "Member 1 "), ("m2_", "成员2", "Member 2 "))
# a family member's personal items: logged by these names when shown in full, else masked or hidden
MEMBER_LOGGED = [f"member.{f.name}" for f in MEMBER_FIELDS if f.personal]


def label_of(spec: FieldSpec, prefix_zh: str = "", prefix_en: str = ""):
    """A catalogue item's label in the reader's language."""
    return t(prefix_zh + spec.header, prefix_en + spec.label_en)


def labels_for(specs, prefix: str = "", prefix_zh: str = "", prefix_en: str = "") -> dict:
    """{column: label} for catalogue items."""
    return {prefix + s.name: label_of(s, prefix_zh, prefix_en) for s in specs}


def code_formatter(table: str):
    """A column formatter showing a code by its label in ``table``."""
    return lambda value: code_tables.label(db.session, table, value)


def yes_no(value) -> str:
    """A yes/no column as the code table words it."""
    return "" if value is None else code_tables.label(db.session, "yes_no", "1" if value else "0")


FORMATTERS = {
    **{name: code_formatter(table) for name, table in CODED.items()},
    **{f.name: yes_no for f in ALL_STUDENT_FIELDS if f.kind == "bool"},
    "status": code_formatter("student_status"),
    "registry_kind": code_formatter("registry_kind"),
}

LABELS = {
    **labels_for(ALL_STUDENT_FIELDS),
    **{f"{p}{f.name}": t(zh + f.header, en + f.label_en)
       for p, zh, en in MEMBER_PREFIXES for f in MEMBER_FIELDS},
    "registry_no": t("学籍号", "Registry no."),
    "registry_kind": t("学籍号类型", "Number kind"),
    "status": t("学籍状态", "Status"),
    "school": t("学校", "School"),
    "grade": t("年级", "Grade"),
    "school_class": t("班级", "Class"),
    "name_pinyin": t("姓名拼音", "Name (pinyin)"),
    "id_number_masked": t("身份证件号", "ID number"),
    "registry_no_masked": t("学籍号", "Registry no."),
    "phone_masked": t("联系电话", "Phone"),
    "id_blind": t("身份证件号（精确）", "ID number (exact)"),
    "registry_blind": t("学籍号（精确）", "Registry no. (exact)"),
    "photo_upload": t("照片", "Photo"),
    "members": t("家庭成员", "Family members"),
}
