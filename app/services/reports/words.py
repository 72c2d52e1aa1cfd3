"""Row and column names of the report's breakdown tables, in the reader's language."""

from __future__ import annotations

from ...i18n import t
from ...models.school import GRADE_NAMES
from ..record.history_words import kind_words

STAGE = {"preschool": ("学前", "Preschool"), "primary": ("小学", "Primary"),
         "junior": ("初中", "Junior secondary"), "senior": ("高中", "Senior secondary")}
LEVEL = {"province": ("省级", "Province"), "city": ("市级", "City"), "county": ("县级", "County"),
         "school": ("学校", "School")}
DISTANCE = {"same_county": ("同县（区）内", "Within the county"),
            "cross_county": ("跨县（区）", "Across counties"),
            "cross_province": ("跨省", "Across provinces")}
PROBLEM = {"invalid_id": ("身份证号错误", "Invalid ID"), "duplicate_id": ("有身份证号重复", "Duplicate ID"),
           "duplicate_no_id": ("无身份证号重复", "Duplicate without ID")}
GRADE_EN = {n: f"Grade {n}" for n in range(1, 13)}


def w(pair: tuple[str, str]) -> str:
    """A (Chinese, English) pair in the reader's language, as plain text."""
    return str(t(*pair))


def words(zh: str, en: str) -> str:
    return str(t(zh, en))


def stage(code: str | None) -> str:
    return w(STAGE[code]) if code in STAGE else words("未分学段", "No stage")


def grade(number: int | None) -> str:
    if number is None:
        return words("未编年级", "No grade")
    if number == 0:
        return words("学前", "Preschool")
    return words(GRADE_NAMES.get(number, str(number)), GRADE_EN.get(number, str(number)))


def level(code: str) -> str:
    return w(LEVEL.get(code, (code, code)))


def kind(name: str) -> str:
    """A request kind's label, as its declaration names it."""
    text = kind_words(name)
    return text[:1].upper() + text[1:]
