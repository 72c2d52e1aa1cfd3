"""Cells read as a human meant them (REFERENCE.md §3: how real files go wrong)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.documents import normalize as cell


@pytest.mark.parametrize("raw", [110105194912310016.0, 1.10105194912310e17, 430102201810012345,
                                 "1.10105E+17", "4.30102E17"])
def test_an_id_excel_turned_into_a_number_is_refused_never_accepted(raw):
    with pytest.raises(cell.CellProblem) as caught:
        cell.id_number(raw)
    assert caught.value.code == "numeric_id"


@pytest.mark.parametrize("raw,expected", [
    ("11010519491231002x", "11010519491231002X"),
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    (" 110105 19491231 002X ", "11010519491231002X"),
    ("110105\u300019491231002X", "11010519491231002X"),
    (None, None), ("", None),
])
def test_id_numbers_are_normalised(raw, expected):
    assert cell.id_number(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    (date(2011, 1, 1), date(2011, 1, 1)), (datetime(2011, 1, 1, 0, 0), date(2011, 1, 1)),
    (40544, date(2011, 1, 1)), (40544.0, date(2011, 1, 1)), ("2011-01-01", date(2011, 1, 1)),
    ("2011.01.01", date(2011, 1, 1)), ("2011/1/1", date(2011, 1, 1)), ("20110101", date(2011, 1, 1)),
    (20110101, date(2011, 1, 1)), ("2011年1月1日", date(2011, 1, 1)), ("２０１１－０１－０１", date(2011, 1, 1)),
])
def test_dates_in_the_common_written_forms_and_excel_serials(raw, expected):
    assert cell.day(raw) == expected


@pytest.mark.parametrize("raw", ["2011-02-30", "一月", "01/02/2011x"])
def test_an_unreadable_date_is_a_problem(raw):
    with pytest.raises(cell.CellProblem):
        cell.day(raw)


@pytest.mark.parametrize("raw,expected", [("2019-09", date(2019, 9, 1)), ("2019.9", date(2019, 9, 1)),
                                          ("201909", date(2019, 9, 1)), ("2019年9月", date(2019, 9, 1)),
                                          ("2019-09-01", date(2019, 9, 1)), (43709, date(2019, 9, 1))])
def test_entry_months(raw, expected):
    assert cell.month(raw) == expected


def test_a_phone_number_that_lost_its_leading_zero_is_reported():
    with pytest.raises(cell.CellProblem) as caught:
        cell.digits(7318888888.0, leading_zero=True)
    assert caught.value.code == "lost_zero"
    assert cell.digits(13812345678.0, leading_zero=True) == "13812345678"
    assert cell.digits("0731-88888888", leading_zero=True) == "0731-88888888"
    assert cell.digits(410000.0) == "410000" and cell.digits("４１００００") == "410000"


@pytest.mark.parametrize("raw,expected", [("是", True), ("否", False), ("1", True), (0, False),
                                          (True, True), ("Y", True), (None, None)])
def test_yes_and_no(raw, expected):
    assert cell.yes_no(raw) is expected


def test_labels_become_codes_and_unknown_labels_are_problems():
    labels = {"汉族": "01", "01": "01", "土家族": "15", "15": "15"}
    assert cell.code("汉族", labels) == "01" and cell.code(" 土家族 ", labels) == "15"
    assert cell.code("01", labels) == "01"
    with pytest.raises(cell.CellProblem):
        cell.code("汉", labels)


def test_numbers():
    assert cell.number("1.5") == Decimal("1.5") and cell.number(2.0) == Decimal("2.0")
    with pytest.raises(cell.CellProblem):
        cell.number("两公里")
