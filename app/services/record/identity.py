"""Identity checks: resident ID numbers (GB 11643, via python-stdnum), region codes, formats."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from ...i18n import t
from ...text import normalize_id, normalize_text  # noqa: F401  (re-exported)

RESIDENT_ID = "1"  # 居民身份证
OTHER_ID = "Z"  # 其他: the student has no usable document

_ID_MESSAGES = {
    InvalidLength: t("身份证号应为18位", "must be 18 characters"),
    InvalidFormat: t("身份证号前17位须为数字", "first 17 characters must be digits"),
    InvalidChecksum: t("身份证号校验位错误", "check character is wrong"),
    InvalidComponent: t("身份证号中的出生日期无效", "the birth date in it is invalid"),
}


@lru_cache(maxsize=8192)
def area_exists(code6: str) -> bool:
    """Whether a 6-digit code is a division of GB/T 2260 at any time (python-stdnum's table)."""
    info = numdb.get("cn/loc").info(code6)
    return len(info) > 1 and bool(info[1][1])


def resident_id_problem(number: str) -> str | None:
    """Why ``number`` is not a valid resident ID number, or None (see ``resident_id_check``)."""
    return resident_id_check(number)[0]


_PLAIN_ID = re.compile(r"[0-9]{17}[0-9X]")


def resident_id_check(number: str) -> tuple[str | None, date | None]:
    """Why ``number`` is not a valid resident ID number (or None), and the birth date it holds.

    python-stdnum checks length, digits, checksum and birth date -- once: an import checks 100,000
    of them, and a number already compact skips its cleaning.  Its birthplace check also wants
    the area code to have existed in the birth year, which refuses real people (a child whose
    hukou was registered under a county created after the birth; the standard's own 1880
    example), so the area code need only exist at some time.
    """
    if not _PLAIN_ID.fullmatch(number):
        number = ric.compact(number)
    born = None
    try:
        if len(number) != 18:
            raise InvalidLength()
        if not re.fullmatch(r"[0-9]{17}", number[:-1]):
            raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        try:
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            raise InvalidComponent() from None
    except ValidationError as exc:
        return _ID_MESSAGES.get(type(exc), t("身份证号无效", "invalid ID number")), None
    if not area_exists(number[:6]):
        return t(f"身份证号的地区码 {number[:6]} 不存在", f"area code {number[:6]} does not exist"), born
    return None, born


def id_agreement_problems(number: str, birth_date: date | None, gender: str | None,
                          born: date | None = None) -> list[tuple[str, str]]:
    """(field, message) pairs where the record disagrees with a valid ID number (``born``: the
    birth date it holds, when the caller has it already)."""
    problems = []
    born = born or ric.get_birth_date(number)
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
    if not re.fullmatch(r"[0-9]{12}", code or ""):
        return t("请选择省、市、县（或填写12位行政区划代码）",
                 "choose the province, city and county (or give the 12-digit division code)")
    if not area_exists(code[:6]):
        return t(f"行政区划代码 {code[:6]} 不存在", f"unknown division {code[:6]}")
    return None


def phone_problem(phone: str) -> str | None:
    if not re.fullmatch(r"(\+?[0-9]{1,4}-?)?[0-9]{3,4}-?[0-9]{6,8}|1[0-9]{10}", phone):
        return t("电话号码格式不正确", "phone number is malformed")
    return None


def postcode_problem(code: str) -> str | None:
    return None if re.fullmatch(r"[0-9]{6}", code) else t("邮政编码须为6位数字", "postcode must be 6 digits")


def email_problem(value: str) -> str | None:
    return None if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) else t("电子信箱格式不正确", "malformed email")
