"""Form fields and labels built from the field catalogue (app/fields.py) and the code tables."""

from __future__ import annotations

from flask import url_for
from flask_appbuilder import fields as fab_fields
from flask_appbuilder.fieldwidgets import (
    BS3TextFieldWidget,
    DatePickerWidget,
    Select2ManyWidget,
    Select2Widget,
)
from markupsafe import Markup, escape
from werkzeug.routing import BuildError
from wtforms import BooleanField, DateField, DecimalField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import html_params

from ..extensions import db
from ..i18n import t
from ..services.organisation import codes as code_tables
from ..services.organisation import divisions
from ..web.labels import division_name, label_of

BLANK = ("", "—")
# Code tables whose options belong to a stage: each option under its stage's heading, so the
# two 其他 of 入学方式 (12 compulsory, 99 senior secondary) are told apart.
OPTION_GROUPS = {"entry_mode": lambda code: t("义务教育", "Compulsory education") if code.startswith("1")
                 else t("高中阶段", "Senior secondary")}


def code_choices(table: str, blank: bool):
    def load():
        items = code_tables.choices(db.session, table)
        group = OPTION_GROUPS.get(table)
        if group is not None:
            items = [SelectChoice(code, label, optgroup=str(group(code))) for code, label in items]
        return ([BLANK] if blank else []) + items

    return load


def code_field(table: str, label, required: bool, *, blank: bool | None = None,
               default: str | None = None) -> SelectField:
    """A select over a code table; ``blank`` (default: when not required) offers no value first."""
    return SelectField(
        label,
        choices=code_choices(table, blank=not required if blank is None else blank),
        validators=[DataRequired()] if required else [Optional()],
        widget=Select2Widget(),
        validate_choice=True,
        default=default,
    )


class CodeListField(SelectMultipleField):
    """Several codes stored comma-separated in one column (a school's stages)."""

    def process_data(self, value):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        super().process_data(value)

    def populate_obj(self, obj, name):
        setattr(obj, name, ",".join(self.data or []))


def code_list_field(table: str, label) -> CodeListField:
    return CodeListField(label, choices=code_choices(table, blank=False),
                         validators=[DataRequired()], widget=Select2ManyWidget())


def text_field(label, required: bool, max_length: int | None = None) -> StringField:
    validators = [DataRequired()] if required else [Optional()]
    if max_length:
        validators.append(Length(max=max_length))
    return StringField(label, validators=validators, widget=BS3TextFieldWidget())


# -- administrative divisions: a province → city → county picker over a plain input ------------

class DivisionWidget:
    """The division items' input: a text box taking a division's name or its 12-digit code, with
    the current value's name under it; /static/xueji/divisions.js turns it into three selects fed
    by /divisions/children (without JavaScript the text box is what remains)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.pop("class_", None)
        value = field._value()
        box = html_params(name=field.name, type="text", value=value, class_="form-control",
                          placeholder=str(t("如 湖南省长沙市芙蓉区，或12位行政区划代码",
                                            "e.g. 湖南省长沙市芙蓉区, or the 12-digit code")), **kwargs)
        try:
            url = url_for("DivisionView.children")
        except BuildError:  # an app without the picker's endpoint: the text box alone
            url = ""
        script = url_for("static", filename="xueji/divisions.js")
        style = url_for("static", filename="xueji/forms.css")
        words = {"data-" + k: str(v) for k, v in {
            "province": t("省", "Province"), "city": t("市", "City"), "county": t("县/区", "County"),
            "failed": t("行政区划加载失败，请直接填写", "cannot load the divisions: type the place")}.items()}
        shown = division_name(value) if value else ""
        return Markup(
            f'<div class="division-picker" data-division-picker data-url="{escape(url)}" '
            f'{html_params(**words)}><input {box}>'
            f'<p class="help-block division-name">{escape(shown)}</p></div>'
            f'<link rel="stylesheet" href="{escape(style)}"><script src="{escape(script)}" defer></script>')


class DivisionField(StringField):
    """A division item: the picker sends a code; a name typed instead becomes its code when one
    division in force has it (anything else stays as typed, for the record's checks to judge)."""

    widget = DivisionWidget()

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        text = (self.data or "").strip()
        self.data = text if not text or text.isdigit() else divisions.code_for_name(text) or text


# -- the catalogue's items as form fields --------------------------------------------------------

def catalogue_field(spec, label, *, columns: bool = True, default=None):
    """One catalogue item's form field.  Nothing is refused here: blank required items, formats
    and agreements are the record's checks (app/services/record/validation.py), which report
    every problem at once, beside its item."""
    kind, optional = spec.kind, [Optional()]
    if kind == "code" or (kind == "bool" and not columns):
        return code_field(spec.code_table, label, False, blank=True, default=default)
    if kind == "bool":
        return BooleanField(label, default=bool(default))
    if kind in ("region", "place"):
        return DivisionField(label, optional + _length(spec))
    if kind in ("date", "month"):
        return DateField(label, optional, widget=DatePickerWidget())
    if kind == "number":
        return DecimalField(label, optional, places=None, widget=BS3TextFieldWidget())
    return StringField(label, optional + _length(spec), widget=BS3TextFieldWidget())


def _length(spec) -> list:
    return [Length(max=spec.max_length)] if spec.max_length else []


def fields_for(specs, *, prefix: str = "", prefix_zh: str = "", prefix_en: str = "",
               columns: bool = True, defaults: dict | None = None) -> dict:
    """WTForms fields for catalogue items, one per item.

    ``columns``: the items are model columns (yes/no items are checkboxes); otherwise (family
    members on the student form) yes/no items are selects read by the service.
    """
    defaults = defaults or {}
    return {prefix + spec.name: catalogue_field(spec, label_of(spec, prefix_zh, prefix_en),
                                                columns=columns, default=defaults.get(spec.name))
            for spec in specs}


# -- FAB's related-row select: its blank option is '' and '—', not '__None' ------------------------

def _blank_related_option() -> None:
    cls = fab_fields.QuerySelectField
    if getattr(cls, "_xueji_blank", False):
        return
    iter_choices, process_formdata = cls.iter_choices, cls.process_formdata

    def choices(self):
        for choice in iter_choices(self):
            yield ("", BLANK[1], *choice[2:]) if choice[0] == "__None" else choice

    def formdata(self, valuelist):
        blank = valuelist and valuelist[0] == "" and self.allow_blank
        process_formdata(self, ["__None"] if blank else valuelist)

    cls.iter_choices, cls.process_formdata, cls._xueji_blank = choices, formdata, True


_blank_related_option()
