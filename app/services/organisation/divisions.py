"""Administrative divisions (GB/T 2260): names and children of a code, a name's code.

The source is python-stdnum's division list (``stdnum/cn/loc.dat``), the same list the ID-number
and region-code checks use, so the picker offers exactly what validation accepts.  It holds
every code since 1980 with its names over time: pickers offer the divisions in force, names are
found for historic codes too (a birthplace recorded before a county was renamed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from stdnum import numdb

# Entries that stand for a group, not a place: skipped when a full name is spelled out, and the
# county-level 市辖区 (a city's own districts as one code) is never offered as a county.
PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政单位",
                          "省直辖县级行政区划", "自治区直辖县级行政区划"})
_SPAN = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
CODE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{12})$")


@dataclass(frozen=True)
class Division:
    code: str  # 6 digits
    name: str  # the latest name
    current: bool  # still in force

    @property
    def level(self) -> int:
        """1 province, 2 city (prefecture), 3 county."""
        return 1 if self.code.endswith("0000") else 2 if self.code.endswith("00") else 3

    @property
    def parent(self) -> str:
        return {1: "", 2: self.code[:2] + "0000", 3: self.code[:4] + "00"}[self.level]


def _latest(spans: str) -> tuple[str, bool]:
    """'[1983-1995]东区,[1996-]芙蓉区' -> ('芙蓉区', True): the last name, and whether it holds."""
    last = spans.split(",")[-1].strip()
    match = _SPAN.match(last)
    if not match:
        return last, True
    return match.group(3).strip(), match.group(2) == ""


@lru_cache(maxsize=1)
def _index() -> dict[str, Division]:
    out: dict[str, Division] = {}
    for _len, province, _hi, props, children in numdb.get("cn/loc").prefixes:
        for _len2, rest, _hi2, props2, _ in children:
            name, current = _latest(props2.get("county", ""))
            if province + rest == province + "0000":
                name = name or props.get("province", "")
            out[province + rest] = Division(province + rest, name, current)
    return out


def _code6(code: str) -> str:
    return (code + "0000")[:6] if len(code) in (2, 4) else code[:6]


def find(code: str) -> Division | None:
    """The division a 2-, 4-, 6- or 12-digit code names (its first 6 digits), or None."""
    if not CODE.match(code or ""):
        return None
    return _index().get(_code6(code))


def children(code: str = "") -> list[Division]:
    """The divisions in force directly under ``code`` ('' for the provinces), by code."""
    parent = find(code) if code else None
    if code and parent is None:
        raise KeyError(code)
    level = parent.level if parent else 0
    if level == 3:
        return []
    prefix = parent.code[: 2 * level] if parent else ""
    return [d for c, d in sorted(_index().items())
            if d.current and d.level == level + 1 and c.startswith(prefix)
            and not (d.level == 3 and d.name in PLACEHOLDERS)]


def path(code: str) -> list[Division]:
    """Province, city and county of a code (as many as exist), top down."""
    found = find(code)
    if found is None:
        return []
    out = [found]
    while out[0].parent:
        above = _index().get(out[0].parent)
        if above is None:
            break
        out.insert(0, above)
    return out


def full_name(code: str) -> str | None:
    """'430102000000' -> '湖南省长沙市芙蓉区'; None for a code that is no division."""
    levels = path(code)
    if not levels:
        return None
    return "".join(d.name for d in levels if d.name not in PLACEHOLDERS) or levels[-1].name


def statistical_code(code6: str) -> str:
    """The 12-digit statistical code of a division: its 6 digits and six zeros."""
    return code6[:6] + "000000"


@lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    names: dict[str, str] = {}
    short: dict[str, list[str]] = {}
    for code, division in sorted(_index().items()):
        if not division.current or division.name in PLACEHOLDERS:
            continue
        names.setdefault(full_name(code) or "", code)
        short.setdefault(division.name, []).append(code)
    for name, codes in short.items():  # a county's own name, where no other division has it
        if len(codes) == 1 and name not in PLACEHOLDERS:
            names.setdefault(name, codes[0])
    return names


def code_for_name(text: str) -> str | None:
    """The 12-digit code of a division in force named ``text`` ('湖南省长沙市芙蓉区', or a name
    only one division has), else None."""
    code = _by_name().get(re.sub(r"\s+", "", text or ""))
    return statistical_code(code) if code else None
