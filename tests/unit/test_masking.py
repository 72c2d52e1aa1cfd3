"""Masks for lists: an ID number shows neither birth date nor sex digit; phones keep 3 + 4 digits."""

from __future__ import annotations

import pytest

from app.security.masking import mask_address, mask_id_number, mask_phone, mask_registry_no


@pytest.mark.parametrize("number", ["430102201004231234", "11010519491231002X", "440524188001010014"])
def test_masked_id_number_keeps_only_area_prefix_and_check_character(number):
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert masked.startswith(number[:3]) and masked.endswith(number[-1])
    # positions 7-17 (1-based) hold the birth date, the sequence and the sex digit
    assert masked[6:17] == "*" * 11
    assert set(masked[3:-1]) == {"*"}


def test_masked_id_number_of_the_reference_example():
    assert mask_id_number("430102201004231234") == "430" + "*" * 14 + "4"


@pytest.mark.parametrize("number", ["430102201004231234", "11010519491231002X"])
def test_masked_id_number_reveals_no_birth_date(number):
    assert number[6:14] not in mask_id_number(number)


@pytest.mark.parametrize("value", [None, ""])
def test_masking_nothing_gives_an_empty_string(value):
    assert mask_id_number(value) == ""
    assert mask_phone(value) == ""
    assert mask_address(value) == ""


@pytest.mark.parametrize("short", ["1", "12", "1234"])
def test_very_short_id_numbers_are_masked_entirely(short):
    assert mask_id_number(short) == "*" * len(short)


@pytest.mark.parametrize(
    "phone, masked",
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86*******5678"),
        ("0731-84567890", "073******7890"),
        ("84567890", "******90"),
        ("12", "12"),
    ],
)
def test_phone_mask(phone, masked):
    assert mask_phone(phone) == masked
    assert len(mask_phone(phone)) == len(phone)


def test_address_mask_keeps_province_and_city_only():
    address = "湖南省长沙市芙蓉区五一大道12号3栋101室"
    masked = mask_address(address)
    assert masked == "湖南省长沙市****"
    assert "五一大道" not in masked and "101" not in masked


@pytest.mark.parametrize(
    "number",
    ["G11010519491231002X", "J430102201503040017", "L430102201503041234"],
    ids=["G-resident-id", "J-number", "L-temporary"],
)
def test_masked_registry_number_keeps_kind_and_area_but_hides_the_birth_date(number):
    masked = mask_registry_no(number)
    assert len(masked) == 19
    assert masked[:7] == number[:7] and masked[-1] == number[-1]
    assert masked[7:18] == "*" * 11
    assert number[7:15] not in masked
