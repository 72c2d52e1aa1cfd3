"""Every account sees its own subtree and nothing else: lists, pages, actions, searches, selects, API."""

from __future__ import annotations

import json
import re

import pytest
from factories import student_in
from sqlalchemy import func, select

from app.extensions import db
from app.models import Jurisdiction, PersonalDataAccess, School, Student, XuejiUser
from app.security.scoping import Scope

READERS = [
    ("prov_registrar", Scope("province", "430000")),
    ("city_supervisor", Scope("city", "430100")),
    ("county_registrar", Scope("county", "430102")),
    ("county_supervisor", Scope("county", "430102")),
]


def _count(model, scope: Scope) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(scope.clause(model)))


def _list_count(html: str) -> int:
    match = re.search(r"(?:记录数目|Record Count)\s*:\s*(\d+)", re.sub(r"<[^>]+>", " ", html))
    assert match, "no record count on the list page"
    return int(match.group(1))


@pytest.mark.parametrize("username,scope", READERS)
def test_student_list_page_counts_exactly_the_accounts_subtree(ctx, client_for, username, scope):
    html = client_for(username).get("/students/list/").get_data(as_text=True)
    assert _list_count(html) == _count(Student, scope) > 0


def test_school_registrar_sees_only_its_school(ctx, client_for):
    school = db.session.scalar(select(School).where(School.code == "4301020001"))
    html = client_for("school_registrar").get("/students/list/").get_data(as_text=True)
    assert _list_count(html) == _count(Student, Scope("school", school_id=school.id))


@pytest.mark.parametrize("username,scope", READERS)
def test_student_api_lists_exactly_the_accounts_subtree(ctx, api, token_for, username, scope):
    r = api.get("/api/v1/student/?q=(page_size:1)", headers=token_for(username))
    assert r.status_code == 200
    assert r.get_json()["count"] == _count(Student, scope)


@pytest.mark.parametrize("username,path", [
    ("county_registrar", "/students/show/{id}"), ("county_registrar", "/students/photo/{id}"),
    ("county_registrar", "/family/list/?_flt_0_student={id}"), ("school_registrar", "/students/edit/{id}"),
    ("school_registrar", "/students/show/{id}")])
def test_another_countys_student_is_not_found_on_any_page(ctx, client_for, username, path):
    foreign = student_in(county_code="430202")
    client = client_for(username)
    r = client.get(path.format(id=foreign.id))
    if "list" in path:
        assert foreign.name not in r.get_data(as_text=True)
    else:
        assert r.status_code == 404


@pytest.mark.parametrize("method,path", [("get", "/api/v1/student/{id}"), ("put", "/api/v1/student/{id}"),
                                         ("delete", "/api/v1/student/{id}")])
def test_another_countys_student_is_not_found_through_the_api(ctx, api, token_for, method, path):
    foreign = student_in(county_code="430202")
    headers = token_for("school_registrar")  # may read, edit and delete -- in its own school
    kwargs = {"json": {"name": "x"}} if method == "put" else {}
    r = getattr(api, method)(path.format(id=foreign.id), headers=headers, **kwargs)
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(Student, foreign.id).name == foreign.name


def test_school_registrar_cannot_delete_another_schools_student(ctx, client_for):
    foreign = student_in(county_code="430104", kind="L")
    r = client_for("school_registrar").post(f"/students/delete/{foreign.id}")
    assert r.status_code == 404
    assert db.session.get(Student, foreign.id) is not None


def test_list_action_on_another_countys_student_is_refused(ctx, client_for):
    foreign = student_in(county_code="430202", kind="L")
    number = foreign.registry_no
    r = client_for("county_registrar").post(
        "/students/action_post", data={"action": "approve_registration", "rowid": [str(foreign.id)]})
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(Student, foreign.id).registry_no == number


def test_list_action_mixing_own_and_foreign_rows_touches_nothing(ctx, client_for):
    own = student_in(county_code="430102", kind="L")
    foreign = student_in(county_code="430202", kind="L")
    r = client_for("county_registrar").post(
        "/students/action_post", data={"action": "approve_registration",
                                       "rowid": [str(own.id), str(foreign.id)]})
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(Student, own.id).registry_kind == "L"


def test_single_row_action_url_is_scoped_and_refuses_get(ctx, client_for):
    foreign = student_in(county_code="430202", kind="L")
    client = client_for("county_registrar")
    assert client.post(f"/students/action/approve_registration/{foreign.id}").status_code == 404
    r = client.get(f"/students/action/approve_registration/{foreign.id}")
    assert r.status_code == 405  # refused by the route table: state changes never happen on GET
    db.session.expire_all()
    assert db.session.get(Student, foreign.id).registry_kind == "L"


def test_search_by_name_does_not_reach_outside_the_subtree(ctx, client_for):
    foreign = student_in(county_code="430202")
    html = client_for("county_registrar").get(
        f"/students/list/?_flt_0_name={foreign.name}").get_data(as_text=True)
    assert foreign.registry_no not in html


def test_exact_id_search_finds_the_student_through_the_blind_index(ctx, client_for):
    own = student_in(county_code="430102", kind="G")
    html = client_for("county_registrar").get(
        f"/students/list/?_flt_0_id_blind={own.id_number.lower()}").get_data(as_text=True)
    assert _list_count(html) == 1
    assert own.registry_no_masked in html


def test_search_form_school_choices_are_only_the_subtrees_schools(ctx, client_for):
    html = client_for("county_registrar").get("/students/list/").get_data(as_text=True)
    outside = db.session.scalars(select(School).where(School.county_code != "430102")).all()
    inside = db.session.scalars(select(School).where(School.county_code == "430102")).all()
    def shown(name):  # the filter widgets are embedded as JSON with \uXXXX escapes
        return name in html or json.dumps(name)[1:-1] in html

    assert all(shown(s.name) for s in inside)
    assert not any(shown(s.name) for s in outside)


def test_add_form_offers_only_the_registrars_own_classes(ctx, client_for):
    html = client_for("school_registrar").get("/students/add").get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"', html.split('id="school_class"')[1].split("</select>")[0])
    school = db.session.scalar(select(School).where(School.code == "4301020001"))
    assert sorted(map(int, options)) == sorted(c.id for c in school.classes)


def test_system_administrators_cannot_read_students(ctx, client_for, api, token_for):
    for username in ("prov_admin", "county_admin", "school_admin"):
        assert client_for(username).get("/students/list/").status_code == 403
        r = api.get("/api/v1/student/", headers=token_for(username))
        assert r.status_code in (401, 403)
        own = student_in(county_code="430102")
        assert client_for(username).get(f"/students/show/{own.id}").status_code == 403


def test_county_jurisdiction_list_holds_only_its_own_node(ctx, client_for):
    html = client_for("county_registrar").get("/jurisdictions/list/").get_data(as_text=True)
    assert _list_count(html) == 1
    city_html = client_for("city_registrar").get("/jurisdictions/list/").get_data(as_text=True)
    in_city = _count(Jurisdiction, Scope("city", "430100"))
    assert _list_count(city_html) == in_city >= 3  # the city and its demo counties (tests add more)
    assert in_city < _count(Jurisdiction, Scope("province", "430000"))  # not the other city's


def test_county_administrator_manages_only_accounts_inside_the_county(ctx, client_for):
    html = client_for("county_admin").get("/users/list/").get_data(as_text=True)
    assert "school_registrar" in html and "county_supervisor" in html
    assert "prov_registrar" not in html and "city_admin" not in html
    prov = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "prov_registrar"))
    client = client_for("county_admin")
    assert client.get(f"/users/show/{prov.id}").status_code == 404
    assert client.get(f"/resetpassword/form?pk={prov.id}").status_code == 404


def test_list_shows_id_numbers_masked_and_the_record_page_in_full_with_a_log(ctx, client_for):
    client = client_for("school_registrar")
    own = student_in(school_code="4301020001", kind="G")
    listing = client.get("/students/list/?psize_StudentView=100").get_data(as_text=True)
    assert own.id_number not in listing  # nor inside its G registry number
    assert own.id_number[:3] + "*" * 14 + own.id_number[-1] in listing
    before = db.session.scalar(select(func.count()).select_from(PersonalDataAccess)
                               .where(PersonalDataAccess.student_id == own.id))
    page = client.get(f"/students/show/{own.id}").get_data(as_text=True)
    assert own.id_number in page and own.phone in page
    db.session.expire_all()
    after = db.session.scalar(select(func.count()).select_from(PersonalDataAccess)
                              .where(PersonalDataAccess.student_id == own.id))
    assert after == before + 1


def test_api_show_returns_full_values_and_logs_the_view(ctx, api, token_for):
    own = student_in(county_code="430102", kind="G")
    r = api.get(f"/api/v1/student/{own.id}", headers=token_for("county_supervisor"))
    assert r.status_code == 200
    assert r.get_json()["result"]["id_number"] == own.id_number
    last = db.session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id.desc())).first()
    assert (last.username, last.student_id, last.channel) == ("county_supervisor", own.id, "api")
    listing = api.get("/api/v1/student/?q=(page_size:100)", headers=token_for("county_supervisor"))
    assert own.id_number not in listing.get_data(as_text=True)  # nor inside the G registry number


def test_status_filter_is_a_select_of_labels_and_filters(ctx, client_for):
    client = client_for("school_registrar")
    html = client.get("/students/list/").get_data(as_text=True)
    assert json.dumps("休学")[1:-1] in html or "休学" in html  # the status select offers labels
    filtered = client.get("/students/list/?_flt_3_status=in_school").get_data(as_text=True)
    school = db.session.scalar(select(School).where(School.code == "4301020001"))
    in_school = db.session.scalar(select(func.count()).select_from(Student).where(
        Student.school_id == school.id, Student.status == "in_school"))
    assert _list_count(filtered) == in_school
