"""Reading a cell as a human meant it: full-width digits, stray spaces, lowercase x, dates in the
forms people type, Excel serial numbers -- and never silently accepting an ID Excel turned into a
number (only 15 significant digits survive)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 in Excel's 1900 date system


class CellProblem(ValueError):
    """A cell that cannot be read as its column wants; ``code`` is stable, the message bilingual."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(f"{zh} ({en})")
        self.code, self.zh, self.en = code, zh, en


def text(value) -> str | None:
    """A cell as trimmed text (a whole float without its .0), None when blank."""
    if value is None:
        return None
    if type(value) is str:  # most cells: no conversion to make
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


def compact(value) -> str | None:
    """Full-width folded (NFKC), every kind of space removed."""
    raw = text(value)
    if raw is None:
        return None
    if raw.isascii() and " " not in raw and "\t" not in raw:
        return raw  # the common case, already compact
    return "".join(ch for ch in unicodedata.normalize("NFKC", raw) if not ch.isspace()) or None


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


def id_number(value) -> str | None:
    """An ID number: upper-cased and compacted; refused when Excel stored it as a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise CellProblem("numeric_id", "身份证件号被 Excel 存成了数字，末几位已丢失，请把该列设为文本后重新录入",
                          "Excel stored the ID as a number and lost its last digits; "
                          "format the column as text and type it again")
    out = compact(value)
    if out and _SCIENTIFIC.match(out):
        raise CellProblem("numeric_id", "身份证件号被 Excel 显示为科学计数法，已丢失位数",
                          "the ID shows in scientific notation: its digits are lost")
    return out.upper() if out else None


def digits(value, *, leading_zero: bool = False) -> str | None:
    """Phone numbers, postcodes, region codes: text, even when Excel made them numbers."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        out = str(value)
        if leading_zero and not out.startswith("1") and len(out) in (9, 10, 11):
            raise CellProblem("lost_zero", "号码被存成数字，开头的 0 已丢失，请设为文本",
                              "the number lost its leading 0 when Excel stored it as a number")
        return out
    return compact(value)


_DATE_FORMS = [re.compile(p) for p in (
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$", r"^(\d{4})(\d{2})(\d{2})$")]
_MONTH_FORMS = [re.compile(p) for p in (r"^(\d{4})[-/.年](\d{1,2})月?$", r"^(\d{4})(\d{2})$")]


def day(value) -> date | None:
    """A date from a date cell, an Excel serial, or 2011-01-01 / 2011/1/1 / 2011.01.01 / 20110101."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return date.fromisoformat(value)  # the common case, ISO already
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466 and not (10000000 <= value <= 99991231):
            return EXCEL_EPOCH + timedelta(days=int(value))
        value = str(int(value))
    raw = compact(value)
    for form in _DATE_FORMS:
        match = form.match(raw or "")
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                break
    raise CellProblem("date", f"无法识别的日期“{raw}”，请写作 2011-01-01", f"cannot read {raw!r} as a date")


def month(value) -> date | None:
    """A year and month (入学年月): 2011-09, 2011.9, 201109, 2011年9月, or a full date."""
    if isinstance(value, str):
        raw = compact(value) or ""
        for form in _MONTH_FORMS:
            match = form.match(raw)
            if match and 1 <= int(match.group(2)) <= 12:
                return date(int(match.group(1)), int(match.group(2)), 1)
    found = day(value)
    return found.replace(day=1) if found else None


def number(value) -> Decimal | None:
    """A decimal number, None when blank."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(compact(value) if isinstance(value, str) else value))
    except InvalidOperation:
        raise CellProblem("number", f"“{value}”不是数字", f"{value!r} is not a number") from None


_YES = {"是", "1", "Y", "YES", "TRUE", "有"}
_NO = {"否", "0", "N", "NO", "FALSE", "无"}


_QUICK = {"是": True, "否": False}


def yes_no(value) -> bool | None:
    """是 / 否 and their usual spellings (Y, 1, TRUE, 有 ...), None when blank."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if value in _QUICK:
        return _QUICK[value]
    raw = (compact(value) or "").upper()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellProblem("yes_no", f"“{value}”应为“是”或“否”", f"{value!r} should be 是 or 否")


def code(value, labels: dict[str, str]) -> str | None:
    """A coded cell holds the label (选项填写名称); the code itself is accepted too."""
    raw = text(value)
    if raw is None:
        return None
    found = labels.get(raw) or labels.get(compact(raw) or "")
    if found is None:
        raise CellProblem("code", f"“{raw}”不是可选的选项", f"{raw!r} is not one of the options")
    return found
