"""A province's list pages at scale: past XUEJI_LIST_EXACT_COUNT_MAX rows (PostgreSQL) a list's total
is the planner's estimate, shown as 约 N 条, while a short search keeps its exact count and the REST
API always counts; above a county a school is searched by its code or name, within the account's
jurisdiction, instead of picked from a select of every school."""

from __future__ import annotations

import re

import pytest
from conftest import is_postgres
from flask import g
from sqlalchemy import func, select
from test_page_queries import Statements

from app.extensions import db
from app.models import School, Student, XuejiUser
from app.security.scoping import Scope
from app.web.common import interface
from app.web.data import SchoolNamed

LIMIT = 50  # rows a list counts exactly in these tests: the demo province holds some 400 students
PROVINCE, CITY = Scope("province", "430000"), Scope("city", "430100")
OWN_SCHOOL, OTHER_CITYS_SCHOOL = "4301020001", "4302020001"  # 芙蓉区育英小学 (长沙), 荷塘区星光小学 (株洲)


@pytest.fixture
def short_exact_counts(app, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_LIST_EXACT_COUNT_MAX", LIMIT)


def _count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(Student).where(*where))


def _total(html: str) -> tuple[int, bool]:
    """The list's total as the page shows it, and whether it says it is an estimate."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    match = re.search(r"(?:记录数目|Record Count)\s*:\s*(约|about)?\s*([\d,]+)", text)
    assert match, "no record count on the list page"
    return int(match.group(2).replace(",", "")), bool(match.group(1))


def _rows(html: str) -> int:
    return html.count('class="btn-group btn-group-xs"')  # each row's show / edit buttons


# -- the total of a long list ------------------------------------------------------------------------

def test_a_list_longer_than_the_limit_shows_an_estimate_on_postgresql_and_counts_on_sqlite(
        ctx, client_for, short_exact_counts):
    html = client_for("prov_registrar").get("/students/list/").get_data(as_text=True)
    total, approximate = _total(html)
    in_scope = _count(PROVINCE.clause(Student))
    assert in_scope > LIMIT and _rows(html) == 25  # the first page is whole either way
    if is_postgres():
        assert approximate and 'data-approximate="1"' in html and "约" in html
        assert total > LIMIT  # never below what was counted
    else:
        assert not approximate and total == in_scope


def test_a_search_shorter_than_the_limit_keeps_its_exact_count(ctx, app, client_for, monkeypatch):
    code = OWN_SCHOOL
    school = db.session.scalar(select(School).where(School.code == code))
    exact = _count(Student.school_id == school.id)  # other tests of the suite may have added some
    assert 0 < exact < _count(PROVINCE.clause(Student))
    monkeypatch.setitem(app.config, "XUEJI_LIST_EXACT_COUNT_MAX", exact)  # the search: exactly at the limit
    html = client_for("prov_registrar").get(f"/students/list/?_flt_0_school_id={code}").get_data(as_text=True)
    assert _total(html) == (exact, False)


def test_a_page_past_the_end_of_an_estimate_is_empty_and_says_so(ctx, client_for, short_exact_counts):
    if not is_postgres():
        pytest.skip("SQLite counts every list exactly: no page lies past an estimate's end")
    response = client_for("prov_registrar").get("/students/list/?page_StudentView=900")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and _rows(html) == 0
    assert "list-past-end" in html and _total(html)[1]


def test_an_estimate_costs_a_bounded_count_and_an_explain_not_a_count_of_every_row(
        ctx, client_for, short_exact_counts):
    client = client_for("prov_registrar")
    client.get("/students/list/")
    with Statements() as seen:
        client.get("/students/list/")
    counts = [" ".join(s.split()) for s in seen.texts if "count(" in s.lower()]
    explains = [s for s in seen.texts if s.lstrip().upper().startswith("EXPLAIN")]
    assert len(counts) == 1, counts
    if is_postgres():
        assert f"LIMIT {LIMIT + 1}" in counts[0] or "LIMIT %(param_1)s" in counts[0], counts[0]
        assert len(explains) == 1 and "FROM student" in explains[0]
    else:
        assert "LIMIT" not in counts[0] and explains == []


def test_the_limit_at_zero_counts_every_row(ctx, client_for, app, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_LIST_EXACT_COUNT_MAX", 0)
    html = client_for("prov_registrar").get("/students/list/").get_data(as_text=True)
    assert _total(html) == (_count(PROVINCE.clause(Student)), False)


def test_the_rest_list_always_counts_exactly(ctx, api, token_for, short_exact_counts):
    r = api.get("/api/v1/student/?q=(page_size:5)", headers=token_for("prov_registrar"))
    assert r.status_code == 200 and r.get_json()["count"] == _count(PROVINCE.clause(Student)) > LIMIT


# -- a school named in words above a county ------------------------------------------------------------

def _search_form(html: str) -> str:
    return html.split('id="filter_form"')[1].split("</script>")[0]


def test_above_a_county_the_list_offers_a_school_search_not_a_select_of_every_school(ctx, client_for):
    form = _search_form(client_for("prov_registrar").get("/students/list/").get_data(as_text=True))
    assert "school_id" in form and "学校（代码或名称）" in form
    assert '"school"' not in form and "<option" not in form.split('"school_id"')[0] + form.split('"gender"')[0]
    county = _search_form(client_for("county_registrar").get("/students/list/").get_data(as_text=True))
    assert '"school"' in county and '"school_id"' not in county  # a county's few schools: its picker


@pytest.mark.parametrize("words", [OWN_SCHOOL, "育英", "430102"])
def test_a_province_finds_a_schools_students_by_code_or_name(ctx, client_for, words):
    html = client_for("prov_registrar").get(f"/students/list/?_flt_0_school_id={words}").get_data(as_text=True)
    named = select(School.id).where(School.code.like(f"{words}%") | School.name.contains(words))
    expected = _count(Student.school_id.in_(named))
    assert expected > 0 and _total(html) == (expected, False)
    assert _rows(html) == min(expected, 25)


def test_the_school_search_looks_the_schools_up_once_a_request(ctx, client_for):
    """FAB applies the filter to the page's count and to its rows: the schools are read once."""
    client = client_for("prov_registrar")
    client.get("/students/list/?_flt_0_school_id=育英")
    with Statements() as seen:
        html = client.get("/students/list/?_flt_0_school_id=育英").get_data(as_text=True)
    lookups = [s for s in seen.texts if " ".join(s.split()).startswith("SELECT school.id, school.city_code")]
    assert len(lookups) == 1, lookups
    assert _rows(html) > 0


@pytest.mark.parametrize("words", [OTHER_CITYS_SCHOOL, "星光", "4302"])
def test_a_city_finds_no_student_of_another_citys_school(ctx, client_for, words):
    html = client_for("city_registrar").get(f"/students/list/?_flt_0_school_id={words}").get_data(as_text=True)
    assert _rows(html) == 0 and ("没有记录" in html or "No records" in html or _total(html)[0] == 0)


@pytest.mark.parametrize("username,scope,found", [("prov_registrar", PROVINCE, True),
                                                  ("city_registrar", CITY, False)])
def test_the_school_search_itself_only_names_schools_in_the_jurisdiction(app, username, scope, found):
    """Without the list's own scope: the filter alone never reaches another city's school."""
    with app.test_request_context():
        g.user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))
        query = SchoolNamed("school_id", interface(Student)).apply(db.session.query(Student), OTHER_CITYS_SCHOOL)
        assert (query.count() > 0) is found
        db.session.rollback()


@pytest.mark.parametrize("words", ["%", "_", "\\", "'"])
def test_like_wildcards_in_the_school_search_are_matched_as_themselves(ctx, client_for, words):
    r = client_for("prov_registrar").get("/students/list/", query_string={"_flt_0_school_id": words})
    assert r.status_code == 200 and _rows(r.get_data(as_text=True)) == 0


def test_an_unknown_operator_on_the_school_search_is_refused(ctx, client_for):
    r = client_for("prov_registrar").get("/students/list/?_flt_1_school_id=4301")
    assert r.status_code == 400 and "_flt_1_school_id" in r.get_data(as_text=True)


def test_the_grade_and_class_lists_search_schools_in_words_too(ctx, client_for):
    client = client_for("prov_registrar")
    for url in ("/grades/list/", "/classes/list/"):
        form = _search_form(client.get(url).get_data(as_text=True))
        assert '"school_id"' in form and '"school"' not in form, url
    html = client.get(f"/classes/list/?_flt_0_school_id={OWN_SCHOOL}").get_data(as_text=True)
    assert 0 < _rows(html) and OTHER_CITYS_SCHOOL not in html
