"""Identity checks: resident ID numbers (GB 11643, via python-stdnum), region codes, formats."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from ..i18n import t

RESIDENT_ID = "1"  # 居民身份证
OTHER_ID = "Z"  # 其他: the student has no usable document

_ID_MESSAGES = {
    InvalidLength: t("身份证号应为18位", "must be 18 characters"),
    InvalidFormat: t("身份证号前17位须为数字", "first 17 characters must be digits"),
    InvalidChecksum: t("身份证号校验位错误", "check character is wrong"),
    InvalidComponent: t("身份证号中的出生日期或地区码无效", "birth date or area code is invalid"),
}


def normalize_text(value: str | None) -> str:
    """Full-width to half-width, spaces removed: what a human typed, as the machine wants it."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).replace(" ", "").replace("\u3000", "").strip()


def normalize_id(value: str | None) -> str:
    return normalize_text(value).upper()


def resident_id_problem(number: str) -> str | None:
    """Why ``number`` is not a valid resident ID number, or None."""
    try:
        ric.validate(number)
    except ValidationError as exc:
        return _ID_MESSAGES.get(type(exc), t("身份证号无效", "invalid ID number"))
    return None


def id_agreement_problems(number: str, birth_date: date | None, gender: str | None) -> list[tuple[str, str]]:
    """(field, message) pairs where the record disagrees with a valid ID number."""
    problems = []
    born = ric.get_birth_date(number)
    if birth_date and born != birth_date:
        problems.append(("birth_date", t(f"出生日期与身份证号不符，证件为 {born.isoformat()}",
                                         f"birth date disagrees with the ID: {born.isoformat()}")))
    sex = "1" if int(number[16]) % 2 else "2"
    if gender in ("1", "2") and gender != sex:
        problems.append(("gender", t("性别与身份证号不符", "gender disagrees with the ID number")))
    return problems


def birth_date_from_id(number: str) -> date:
    return ric.get_birth_date(number)


def gender_from_id(number: str) -> str:
    return "1" if int(number[16]) % 2 else "2"


def region_problem(code: str) -> str | None:
    """12-digit statistical division code, whose first 6 digits are a known division."""
    if not re.fullmatch(r"\d{12}", code or ""):
        return t("须为12位行政区划代码", "must be the 12-digit division code")
    info = numdb.get("cn/loc").info(code[:6])
    if len(info) < 2 or not info[1][1]:
        return t(f"行政区划代码 {code[:6]} 不存在", f"unknown division {code[:6]}")
    return None


def phone_problem(phone: str) -> str | None:
    if not re.fullmatch(r"(\+?\d{1,4}-?)?\d{3,4}-?\d{6,8}|1\d{10}", phone):
        return t("电话号码格式不正确", "phone number is malformed")
    return None


def postcode_problem(code: str) -> str | None:
    return None if re.fullmatch(r"\d{6}", code) else t("邮政编码须为6位数字", "postcode must be 6 digits")


def email_problem(value: str) -> str | None:
    return None if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) else t("电子信箱格式不正确", "malformed email")
