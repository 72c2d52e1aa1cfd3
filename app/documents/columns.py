"""The official template's columns, matched by header (order and extra columns do not matter)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..fields import MEMBER_FIELDS, STUDENT_FIELDS, TRAILING_STUDENT_FIELDS, FieldSpec


@dataclass(frozen=True)
class Column:
    """One column of the template: its header, whose item it holds (the student or a member) and what."""

    header: str  # as the official template writes it
    owner: str  # "student", "member1" or "member2"
    spec: FieldSpec

    @property
    def key(self) -> str:
        """The item's name, ``member1.name`` for a family member's."""
        return self.spec.name if self.owner == "student" else f"{self.owner}.{self.spec.name}"


def _columns() -> list[Column]:
    cols = [Column(f.header, "student", f) for f in STUDENT_FIELDS]
    for n in (1, 2):
        cols += [Column(f"成员{n}{f.header}", f"member{n}", f) for f in MEMBER_FIELDS]
    cols += [Column(f.header, "student", f) for f in TRAILING_STUDENT_FIELDS]
    return cols


COLUMNS: list[Column] = _columns()
TEXT_KINDS = ("id_number", "phone", "postcode", "region", "school")  # kept as text in Excel

# headers seen in the wild for the same columns
ALIASES = {"国籍": "国籍/地区", "国籍地区": "国籍/地区", "上下学距离": "上下学距离（公里）",
           "上下学距离(公里)": "上下学距离（公里）", "身份证号": "身份证件号", "身份证号码": "身份证件号",
           "证件号码": "身份证件号", "出生年月": "出生日期", "入学时间": "入学年月", "电话": "联系电话"}


def header_key(text) -> str:
    """Compare headers as a human would: full-width folded, no spaces, no ★ marks."""
    raw = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(ch for ch in raw if not ch.isspace() and ch not in "★*＊")


_BY_HEADER = {header_key(c.header): c for c in COLUMNS}
_BY_HEADER.update({header_key(alias): _BY_HEADER[header_key(real)] for alias, real in ALIASES.items()})


def match(header) -> Column | None:
    """The column a header names (aliases and full-width forms included), or None."""
    return _BY_HEADER.get(header_key(header))


REQUIRED_HEADERS = [c.header for c in COLUMNS if c.owner == "student" and c.spec.required] + [
    c.header for c in COLUMNS if c.owner == "member1" and c.spec.required]
