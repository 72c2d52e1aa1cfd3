"""Identity checks: GB 11643 resident IDs, normalisation of typed input, region codes, formats."""

from __future__ import annotations

from datetime import date

import pytest

from app.services.record.identity import (
    birth_date_from_id,
    email_problem,
    gender_from_id,
    id_agreement_problems,
    normalize_id,
    normalize_text,
    phone_problem,
    postcode_problem,
    region_problem,
    resident_id_problem,
)

FEMALE_1949 = "11010519491231002X"  # GB 11643's own example: female, born 1949-12-31


def test_standard_example_is_a_valid_id_of_a_woman_born_on_new_years_eve_1949():
    assert resident_id_problem(FEMALE_1949) is None
    assert birth_date_from_id(FEMALE_1949) == date(1949, 12, 31)
    assert gender_from_id(FEMALE_1949) == "2"


def test_standard_example_of_a_man_born_in_1880_is_valid():
    assert resident_id_problem("440524188001010014") is None


def test_standard_example_of_a_man_born_in_1880_is_male_and_dated():
    assert birth_date_from_id("440524188001010014") == date(1880, 1, 1)
    assert gender_from_id("440524188001010014") == "1"


@pytest.mark.parametrize(
    "number, why",
    [
        ("110105194912310021", "校验位"),  # the standard's invalid example
        ("110105194912310016", "校验位"),  # what Excel makes of it (15 significant digits)
        ("1101051949123100", "18位"),
        ("1.10105194912310E+17", "18位"),  # scientific notation from Excel
        ("11010519491231002Y", "校验位"),
        ("1101051949A231002X", "前17位"),
        ("110105194902300020", "出生日期"),  # 30 February, right check character
    ],
)
def test_invalid_resident_ids_are_refused_with_a_reason(number, why):
    problem = resident_id_problem(number)
    assert problem is not None and why in str(problem)


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        " 11010519491231002X ",
        "110105 19491231 002x",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
        "１１０１０５　１９４９１２３１　００２ｘ",  # full-width digits, ideographic spaces
    ],
)
def test_typed_id_numbers_are_normalised_to_the_canonical_form(typed):
    assert normalize_id(typed) == FEMALE_1949
    assert resident_id_problem(normalize_id(typed)) is None


@pytest.mark.parametrize(
    "typed, clean",
    [("  张 三 ", "张三"), ("ＡＢＣ１２３", "ABC123"), ("长沙　市", "长沙市"), ("", ""), (None, "")],
)
def test_normalize_text_makes_typed_text_half_width_without_spaces(typed, clean):
    assert normalize_text(typed) == clean


def test_normalize_text_keeps_lowercase():
    assert normalize_text("ab") == "ab" and normalize_id("ab") == "AB"


def test_record_that_agrees_with_its_id_has_no_problems():
    assert id_agreement_problems(FEMALE_1949, date(1949, 12, 31), "2") == []


@pytest.mark.parametrize(
    "born, gender, fields",
    [
        (date(1949, 12, 30), "2", ["birth_date"]),
        (date(1949, 12, 31), "1", ["gender"]),
        (date(1950, 1, 1), "1", ["birth_date", "gender"]),
    ],
)
def test_id_agreement_flags_wrong_birth_date_and_wrong_gender(born, gender, fields):
    assert [f for f, _ in id_agreement_problems(FEMALE_1949, born, gender)] == fields


def test_id_agreement_message_names_the_birth_date_on_the_id():
    [(field, message)] = id_agreement_problems(FEMALE_1949, date(2000, 1, 1), "2")
    assert field == "birth_date" and "1949-12-31" in str(message)


def test_unknown_gender_codes_are_not_compared_with_the_id():
    assert id_agreement_problems(FEMALE_1949, date(1949, 12, 31), "9") == []


@pytest.mark.parametrize("code", ["430102001001", "110105000000", "430100000000"])
def test_known_12_digit_division_codes_are_accepted(code):
    assert region_problem(code) is None


@pytest.mark.parametrize(
    "code, why",
    [
        ("43010200100", "12位"),  # 11 digits
        ("4301020010011", "12位"),  # 13 digits
        ("43010200100A", "12位"),
        ("湖南省长沙市芙蓉区", "12位"),
        ("", "12位"),
        ("999999000000", "999999"),  # no such division
    ],
)
def test_malformed_or_unknown_division_codes_are_refused(code, why):
    problem = region_problem(code)
    assert problem is not None and why in str(problem)


@pytest.mark.parametrize(
    "phone", ["13812345678", "0731-84567890", "073184567890", "+86-13812345678"]
)
def test_plausible_phone_numbers_are_accepted(phone):
    assert phone_problem(phone) is None


@pytest.mark.parametrize(
    "phone", ["1381234567a", "12345", "138 1234 5678", "电话", "", "84567890"]  # no area code
)
def test_malformed_phone_numbers_are_refused(phone):
    assert phone_problem(phone) is not None


@pytest.mark.parametrize("code, ok", [("410000", True), ("41000", False), ("4100000", False),
                                      ("41000A", False), ("", False)])
def test_postcode_must_be_six_digits(code, ok):
    assert (postcode_problem(code) is None) is ok


@pytest.mark.parametrize("value, check", [("４１００００", postcode_problem),
                                          ("１３８１２３４５６７８", phone_problem)],
                         ids=["postcode", "phone"])
def test_full_width_digits_are_not_taken_for_ascii_digits(value, check):
    assert check(value) is not None


@pytest.mark.parametrize("email, ok", [("zhang.san@example.cn", True), ("a@b.co", True),
                                       ("a@b", False), ("a b@c.cn", False), ("@c.cn", False),
                                       ("zhang.san", False)])
def test_email_needs_a_local_part_and_a_dotted_domain(email, ok):
    assert (email_problem(email) is None) is ok
