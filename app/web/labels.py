"""How a student record reads on pages and in REST bodies: item labels, code formatters, and which
items are personal data (shown in full only to roles allowed, and logged when they are)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from markupsafe import Markup

from ..extensions import db
from ..fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS, FieldSpec
from ..i18n import t
from ..services.organisation import codes as code_tables
from ..services.organisation import divisions

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


def division_name(value):
    """A division code by its name ('430102000000' -> 湖南省长沙市芙蓉区; the code itself is the
    name's tooltip, for a code finer than the county); a place written in words as it is."""
    text = shown(value)
    name = divisions.full_name(text) if text.isdigit() else None
    if name is None:
        return text
    return Markup('<span class="division" title="{}">{}</span>').format(text, name)


def month(value) -> str:
    """A year-month item (入学年月) as 2026-09."""
    return value.strftime("%Y-%m") if isinstance(value, date) else shown(value)


def shown(value) -> str:
    """Any value as a page shows it: nothing for None, times to the second, numbers plainly."""
    if value is None:
        return ""
    if hasattr(value, "__html__"):  # already HTML (a link a column builds): as it is
        return value
    if isinstance(value, bool):
        return str(t("是", "Yes") if value else t("否", "No"))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


class Formatters(dict):
    """A view's ``formatters_columns``: every column without a formatter of its own is shown by
    ``shown`` (FAB's list and show widgets ask ``formatters_columns.get(column)``)."""

    def get(self, key, default=None):
        return super().get(key, default or shown)


DIVISIONS = {f.name: division_name for f in ALL_STUDENT_FIELDS if f.kind in ("region", "place")}
MEMBER_DIVISIONS = {f.name: division_name for f in MEMBER_FIELDS if f.kind in ("region", "place")}

FORMATTERS = {
    **{name: code_formatter(table) for name, table in CODED.items()},
    **DIVISIONS,
    **{f.name: month for f in ALL_STUDENT_FIELDS if f.kind == "month"},
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

# -- problems on pages: the item's words, never its column name ------------------------------
# items the record's checks name differently from the form's field
FORM_FIELDS = {"class_name": "school_class", "school_code": "school_class"}
_MEMBER_FIELD = re.compile(r"^成员([12])(\w+)$")  # 成员1name -> m1_name (validation's member names)

ITEM_LABELS = {
    **LABELS,
    "class_name": LABELS["school_class"], "school_code": LABELS["school"],
    "members": t("家庭成员", "Family members"), "student": t("学生", "Student"),
    "kind": t("业务类型", "Kind"), "reason": t("原因", "Reason"), "note": t("说明", "Note"),
    "evidence": t("证明材料", "Evidence"), "target_class": t("编入班级", "Class"),
    "payload": t("变更内容", "Items to change"), "comment": t("意见", "Comment"),
    "verdict": t("核办意见", "Decision"), "step": t("核办步骤", "Step"),
    "registration": t("注册类型", "Registration"), "photo": t("照片", "Photo"),
    "registry_no": LABELS["registry_no"], "id_blind": LABELS["id_number"],
    "file": t("文件", "File"), "is_guardian": labels_for(MEMBER_FIELDS)["is_guardian"],
}


def form_field(field: str | None) -> str | None:
    """The form field a problem's item is typed in (成员2relation -> m2_relation)."""
    if not field:
        return None
    member = _MEMBER_FIELD.match(field)
    if member:
        return f"m{member.group(1)}_{member.group(2)}"
    return FORM_FIELDS.get(field, field)


def item_label(field: str | None) -> str:
    """The words for a problem's item: its label in the reader's language, '' if unknown."""
    if not field:
        return ""
    label = ITEM_LABELS.get(field) or ITEM_LABELS.get(form_field(field) or "")
    return str(label) if label is not None else ""


def problem_text(problem) -> str:
    """A problem as a page says it: '出生地：…' (the item's words, not its column name; nothing
    when the message already names it), with the rule's source where a rule refused."""
    message, label = str(problem.message), item_label(problem.field)
    where = f"（{problem.source}）" if problem.source else ""
    if not label or label in message:
        return f"{message}{where}"
    return f"{label}：{message}{where}"


def flash_problems(exc) -> None:
    """Every problem of a refusal as a message on the next page, each in words."""
    from flask import flash

    for problem in exc.problems:
        flash(problem_text(problem), "danger")


def problems_text(exc) -> str:
    """Every problem of a refusal, each in words, in one line."""
    return "；".join(problem_text(p) for p in exc.problems)
