"""Administrative divisions from python-stdnum's GB/T 2260 list: children in force, full names
(historic codes too), a name's code, and what pages show for a division item."""

from __future__ import annotations

import pytest

from app.services.organisation import divisions
from app.services.record.identity import region_problem


def names(code: str = "") -> list[str]:
    return [d.name for d in divisions.children(code)]


def test_the_provinces_are_the_children_of_nothing():
    provinces = divisions.children()
    assert len(provinces) == 34 and provinces[0].code == "110000"
    assert "湖南省" in names() and all(d.level == 1 for d in provinces)


@pytest.mark.parametrize("parent", ["43", "430000", "430000000000"])
def test_a_province_is_named_by_two_six_or_twelve_digits(parent):
    assert names(parent)[:2] == ["长沙市", "株洲市"]


def test_a_city_lists_its_counties_in_force_and_no_placeholder():
    counties = names("430100")
    assert counties[0] == "芙蓉区" and "望城区" in counties
    assert "望城县" not in counties and "市辖区" not in counties  # abolished 2011; not a county


def test_a_county_and_a_city_without_counties_have_no_children():
    assert divisions.children("430102") == [] and divisions.children("441900") == []


@pytest.mark.parametrize("garbage", ["abc", "4", "999999", "43010", "43a000", "4301020000001"])
def test_anything_but_a_known_division_is_refused(garbage):
    with pytest.raises(KeyError):
        divisions.children(garbage)


@pytest.mark.parametrize("code, name", [
    ("430102000000", "湖南省长沙市芙蓉区"), ("430102001001", "湖南省长沙市芙蓉区"),
    ("110101000000", "北京市东城区"),  # no 市辖区 in a spelled-out name
    ("441900000000", "广东省东莞市"), ("430122000000", "湖南省长沙市望城县"),  # historic: still named
    ("469001", "海南省五指山市")])
def test_full_names(code, name):
    assert divisions.full_name(code) == name


def test_a_name_finds_the_division_in_force():
    assert divisions.code_for_name("湖南省长沙市芙蓉区") == "430102000000"
    assert divisions.code_for_name(" 湖南省 长沙市 ") == "430100000000"
    assert divisions.code_for_name("芙蓉区") == "430102000000"  # no other 芙蓉区
    assert divisions.code_for_name("朝阳区") is None  # Beijing's and Changchun's
    assert divisions.code_for_name("湖南长沙") is None


def test_every_picked_code_passes_the_region_check():
    for city in divisions.children("43"):
        for county in divisions.children(city.code) or [city]:
            assert region_problem(divisions.statistical_code(county.code)) is None
