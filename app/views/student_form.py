"""The student form and record page in the sections of the national template: 基本信息, 身份信息,
户口与住址, 家庭成员, 其他信息; every required item starred, as the record's checks decide."""

from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.widgets import FormWidget
from flask_wtf.file import FileField
from wtforms import SelectField

from ..fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS
from ..i18n import t
from ..services.record.validation import required_items, required_member_items
from ..web.labels import FORM_FIELDS, LABELS, MEMBER_PREFIXES, label_of
from .forms import fields_for

BASIC = ["name", "name_pinyin", "former_name", "gender", "birth_date", "birthplace", "native_place",
         "ethnicity", "political_status", "health", "school_class", "entry_date", "entry_mode",
         "study_mode", "source", "class_seat_no"]
IDENTITY = ["nationality", "hmt_status", "id_type", "id_number", "id_valid_until"]
HUKOU = ["hukou_nature", "hukou_location", "current_address", "mailing_address", "home_address",
         "phone", "postcode", "email", "homepage"]
OTHER = ["only_child", "had_preschool", "left_behind", "migrant_child", "needs_subsidy",
         "receives_subsidy", "orphan", "martyr_child", "distance_km", "travel_mode",
         "needs_school_bus", "disability", "inclusive_schooling", "govt_purchased_seat",
         "blood_type", "specialty", "secondary_registry_no"]
SECTIONS = {"basic": (("基本信息", "Basic"), BASIC), "identity": (("身份信息", "Identity"), IDENTITY),
            "hukou": (("户口与住址", "Hukou and address"), HUKOU),
            "other": (("其他信息（辅助信息）", "Other (auxiliary)"), OTHER)}
MEMBERS_TITLE = ("家庭成员", "Family members")
MEMBER_COLUMNS = [f"{p}{f.name}" for p, _, _ in MEMBER_PREFIXES for f in MEMBER_FIELDS]

# what a new record starts with where the nation's answer is nearly always the same; everything
# about the child (gender, ethnicity, 政治面貌, health, left-behind ...) starts blank, to be chosen
ADD_DEFAULTS = {"nationality": "CHN", "hmt_status": "00", "id_type": "1", "source": "1"}
MEMBER1_DEFAULTS = {"is_guardian": "1"}


def _section(key: str, extra_before=(), extra_after=()) -> tuple:
    (zh, en), names = SECTIONS[key]
    return (t(zh, en), {"fields": [*extra_before, *names, *extra_after]})


def _members_section() -> tuple:
    return (t(*MEMBERS_TITLE), {"fields": MEMBER_COLUMNS, "members": True})


def add_fieldsets() -> list:
    return [_section("basic", ["registration"]), _section("identity"), _section("hukou"),
            _members_section(), _section("other")]


def edit_fieldsets() -> list:
    return [_section("basic", extra_after=["photo_upload"]), _section("identity"),
            _section("hukou"), _section("other")]


def show_fieldsets() -> list:
    number = (t("学籍号", "Registry number"),
              {"fields": ["registry_no", "registry_kind", "status", "school", "grade"]})
    return [number] + [_section(key) for key in SECTIONS]


def starred() -> frozenset[str]:
    """The form fields of the items the record's checks refuse when blank."""
    items = {FORM_FIELDS.get(name, name) for name in required_items()}
    return frozenset(items | {f"{p}{n}" for p, _, _ in MEMBER_PREFIXES for n in required_member_items()})


def member_rows() -> list[tuple]:
    """(label, [field of member 1, field of member 2]) for the family table."""
    return [(label_of(f), [f"{p}{f.name}" for p, _, _ in MEMBER_PREFIXES]) for f in MEMBER_FIELDS]


class StudentFormWidget(FormWidget):
    """A form in sections, two items a row, family members side by side, stars and errors beside
    each item (app/templates/xueji/catalogue_form.html)."""

    template = "xueji/catalogue_form.html"

    def __init__(self, **kwargs):
        super().__init__(required=self.stars(), member_rows=member_rows(),
                         member_titles=[t("成员1（监护人）", "Member 1 (guardian)"),
                                        t("成员2（可不填，填写则带 * 项必填）",
                                          "Member 2 (optional; if given, * items are required)")],
                         **kwargs)

    @staticmethod
    def stars() -> frozenset[str]:
        return starred()


class MemberFormWidget(StudentFormWidget):
    """A family member's own form: the member's required items starred."""

    @staticmethod
    def stars() -> frozenset[str]:
        return required_member_items() | {"student"}


def add_fields() -> dict:
    """The add form's fields: the record's items, the registration kind, two family members."""
    registration = SelectField(t("注册类型", "Registration"), default="", widget=Select2Widget(), choices=[
        ("", t("按年级（一年级为新生注册）", "by grade (grade 1: new student)")),
        ("returnee", t("来华归国学生注册", "returning from abroad"))])
    return {"registration": registration,
            **fields_for(_columns(), defaults=ADD_DEFAULTS),
            **fields_for(MEMBER_FIELDS, prefix="m1_", prefix_zh="成员1", prefix_en="Member 1 ",
                         columns=False, defaults=MEMBER1_DEFAULTS),
            **fields_for(MEMBER_FIELDS, prefix="m2_", prefix_zh="成员2", prefix_en="Member 2 ",
                         columns=False)}


def edit_fields() -> dict:
    return {**fields_for(_columns()), "photo_upload": FileField(LABELS["photo_upload"])}


def _columns():
    return [f for f in ALL_STUDENT_FIELDS if f.kind not in ("school", "class")]
