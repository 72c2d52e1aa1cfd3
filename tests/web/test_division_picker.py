"""The division picker's endpoint: children of a code as JSON, garbage refused with 400 naming
the parameter, only for accounts that fill forms; division names on a member's page."""

from __future__ import annotations

import pytest
from factories import registered_in

from app.extensions import db


def test_the_picker_gets_provinces_cities_and_counties(ctx, client_for):
    client = client_for("school_registrar")
    provinces = client.get("/divisions/children").get_json()
    assert {"code": "430000", "name": "湖南省"} in provinces
    cities = client.get("/divisions/children?parent=430000").get_json()
    assert cities[0] == {"code": "430100", "name": "长沙市"}
    counties = client.get("/divisions/children?parent=430100").get_json()
    assert {"code": "430102", "name": "芙蓉区"} in counties
    assert client.get("/divisions/children?parent=430102").get_json() == []


@pytest.mark.parametrize("garbage", ["abc", "999999", "43010", "43" * 20, "<script>"])
def test_garbage_is_a_400_naming_the_parameter(ctx, client_for, garbage):
    r = client_for("school_registrar").get("/divisions/children", query_string={"parent": garbage})
    assert r.status_code == 400 and r.is_json
    assert r.get_json()["message"].startswith("parent")


def test_accounts_that_fill_no_forms_are_refused(ctx, client_for):
    assert client_for("county_supervisor").get("/divisions/children").status_code == 403


def test_a_members_page_names_the_hukou_division(ctx, client_for):
    member = registered_in("4301020001").members[0]
    member.hukou_location = "430103000000"
    db.session.commit()
    html = client_for("school_registrar").get(f"/family/show/{member.id}").get_data(as_text=True)
    assert "湖南省长沙市天心区" in html
