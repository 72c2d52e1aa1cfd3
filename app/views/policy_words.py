"""The policy page's words in the reader's language: stages, levels, parties, switches, transfer
forms, businesses and items (the rule files' own keys stay beside them, as code)."""

from __future__ import annotations

from ..fields import STUDENT_FIELD_BY_NAME
from ..i18n import english
from ..policy.vocab import (
    BUSINESSES,
    LEVEL_ZH,
    ROLE_ZH,
    STAGE_ZH,
    STEP_LEVEL_ZH,
    SWITCH_ZH,
    VARIANT_ZH,
)
from ..services.record.history_words import kind_words

STAGE_EN = {"preschool": "Preschool", "primary": "Primary", "junior": "Junior secondary",
            "senior": "Senior secondary"}
LEVEL_EN = {"national": "National", "province": "Province", "city": "City", "county": "County",
            "school": "School"}
ROLE_EN = {"registrar": " registrar", "supervisor": " supervisor"}
STEP_EN = {"school": "own school", "own_bureau": "own bureau", "other_school": "other school",
           "other_bureau": "other school's bureau", "city": "city bureau",
           "province": "province bureau"}
SWITCH_EN = {"register_new": "First-grade registration", "register_in_school": "In-school registration",
             "register_returnee": "Returnee registration",
             "delete_formal_record": "Records with a formal number may be deleted",
             "export_confirmation_forms": "Data check: export the confirmation forms",
             "enter_corrections": "Data check: enter corrections", "entry_age": "Entry-age control",
             "edit_under_review": "Direct edits while a review is open"}
VARIANT_EN = {"same_county": "Within one county", "same_city": "Across counties of one city",
              "cross_province": "Across provinces"}
BUSINESS_EN = {"register_new": "First-grade registration", "register_in_school": "In-school registration",
               "register_returnee": "Returnee registration", "transfer": "Transfers",
               "change": "Other changes", "key_field_change": "Key-item changes",
               "graduation": "Graduation", "promotion": "Promotion", "enrollment": "Enrolment",
               "cross_province_enrollment": "Cross-province enrolment",
               "data_verification": "Data-quality check", "enrollment_plan": "Enrolment plans"}


def _pick(zh: dict, en: dict) -> dict:
    return {k: en.get(k, v) for k, v in zh.items()} if english() else dict(zh)


def policy_words() -> dict:
    """The template's word tables, in the reader's language."""
    en = english()
    return {"stage_zh": _pick(STAGE_ZH, STAGE_EN), "level_zh": _pick(LEVEL_ZH, LEVEL_EN),
            "role_zh": _pick(ROLE_ZH, ROLE_EN), "step_zh": _pick(STEP_LEVEL_ZH, STEP_EN),
            "switch_zh": _pick(SWITCH_ZH, SWITCH_EN), "variant_zh": _pick(VARIANT_ZH, VARIANT_EN),
            "businesses": _pick(BUSINESSES, BUSINESS_EN), "action_label": kind_words,
            "fields": {n: (s.label_en if en else s.header) for n, s in STUDENT_FIELD_BY_NAME.items()}}
