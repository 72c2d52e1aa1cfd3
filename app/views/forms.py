"""Form fields and labels built from the field catalogue (app/fields.py) and the code tables."""

from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2ManyWidget, Select2Widget
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..extensions import db
from ..services.organisation import codes as code_tables
from ..web.labels import label_of


def code_choices(table: str, blank: bool):
    def load():
        items = code_tables.choices(db.session, table)
        return ([("", "—")] if blank else []) + items

    return load


def code_field(table: str, label, required: bool) -> SelectField:
    return SelectField(
        label,
        choices=code_choices(table, blank=not required),
        validators=[DataRequired()] if required else [Optional()],
        widget=Select2Widget(),
        validate_choice=True,
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


def fields_for(specs, *, prefix: str = "", prefix_zh: str = "", prefix_en: str = "",
               optional: bool = False, columns: bool = True) -> dict:
    """WTForms fields for catalogue items.

    ``columns``: the items are model columns, so only coded and encrypted ones need a field of
    their own; otherwise (family members on the student form) every item gets one.
    """
    out = {}
    for spec in specs:
        label = label_of(spec, prefix_zh, prefix_en)
        required = spec.required and not optional
        if spec.kind == "code" or (spec.kind == "bool" and not columns):
            out[prefix + spec.name] = code_field(spec.code_table, label, required)
        elif spec.personal or not columns:
            out[prefix + spec.name] = text_field(label, required, spec.max_length)
    return out
