"""学籍号 formats: L temporary numbers, J numbers built like a resident ID (ISO 7064 MOD 11-2)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from stdnum.cn import ric

from app.services.record.registry_numbers import j_number, temporary_number

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def mod_11_2(body17: str) -> str:
    """The check character of GB 11643, computed from REFERENCE.md §2, not from the app."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, WEIGHTS)) % 11]


def test_independent_checksum_reproduces_the_standard_examples():
    assert mod_11_2("11010519491231002") == "X"
    assert mod_11_2("44052418800101001") == "4"
    assert mod_11_2("11010519491231002") != "1"  # 110105194912310021 is the invalid example


@pytest.mark.parametrize("area, born", [("430102", date(2015, 3, 4)), ("431102", date(2010, 12, 31)),
                                        ("110105", date(2019, 1, 1))])
def test_temporary_number_is_l_area_birth_date_and_four_digits(area, born):
    number = temporary_number(area, born)
    assert len(number) == 19
    assert re.fullmatch(r"L\d{18}", number)
    assert number[1:7] == area
    assert number[7:15] == f"{born:%Y%m%d}"


def test_temporary_numbers_vary_in_their_last_four_digits():
    numbers = {temporary_number("430102", date(2015, 3, 4)) for _ in range(50)}
    assert len(numbers) > 1
    assert {n[:15] for n in numbers} == {"L43010220150304"}


@pytest.mark.parametrize(
    "area, born, seq",
    [
        ("430102", date(2015, 3, 4), 1),
        ("430102", date(2015, 3, 4), 2),
        ("430111", date(2012, 9, 1), 17),
        ("431102", date(2010, 12, 31), 999),
        ("110105", date(2019, 1, 1), 123),
    ],
)
def test_j_number_is_j_area_birth_date_sequence_and_mod_11_2_check(area, born, seq):
    number = j_number(area, born, seq)
    assert len(number) == 19
    assert re.fullmatch(r"J\d{17}[\dX]", number)
    assert number[1:7] == area and number[7:15] == f"{born:%Y%m%d}" and number[15:18] == f"{seq:03d}"
    assert number[18] == mod_11_2(number[1:18])
    assert ric.is_valid(number[1:])  # these areas existed in the birth year


def test_j_numbers_produce_every_check_character_including_x():
    checks = {j_number("430102", date(2015, 3, 4), seq)[-1] for seq in range(1, 200)}
    assert checks == set("0123456789X")
