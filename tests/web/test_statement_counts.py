"""The main pages and REST lists send a fixed number of SQL statements: as many for a page of 25
rows as for a page of 5 (no query per row), whatever the jurisdiction holds; a list pages in a
stable order, so its pages never repeat or skip a row; counts and the home page's figures are
answered from indexes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from factories import actor_of, school
from sqlalchemy import delete, select
from test_page_queries import Statements

from app.extensions import db
from app.models import FamilyMember, ImportJob, JobRun, Request, RequestStep, Student
from app.views import inbox as inbox_view

COUNTY, SCHOOL_CODE = "430102", "4301020001"
MADE_BY = "statement counts"  # marks the rows this module makes (and removes)
AT = datetime(2026, 9, 20, 9)
FEW, MANY = 5, 25


def _requests(students, supervisor) -> list[Request]:
    """Open requests of students of several schools: most wait for the county's supervisor, the
    rest for their own school, each with its submit step."""
    made = []
    for n, student in enumerate(students):
        node, role = ((supervisor.node, "supervisor") if n % 4 else (f"school:{student.school_id}", "supervisor"))
        req = Request(kind="change_field", status="pending", student_id=student.id, student_uid=student.uid,
                      student_name=student.name, requester_name=MADE_BY, summary="statement count",
                      chain=[{"node": node, "role": role}], round=1, step=0, holder_node=node,
                      holder_role=role, step_started_at=AT + timedelta(minutes=n),
                      due_on=(AT + timedelta(days=5)).date())
        req.between(student.school)
        req.steps.append(RequestStep(round=1, action="submit", actor_name=MADE_BY, at=AT,
                                     party_node=f"school:{student.school_id}"))
        made.append(req)
    return made


def _jobs(count: int) -> list[JobRun]:
    return [JobRun(kind="monthly_report", status="done", created_by=MADE_BY, province_code="430000",
                   city_code="430100", county_code=COUNTY, done=1, total=1) for _ in range(count)]


def _imports(count: int) -> list[ImportJob]:
    home = school(SCHOOL_CODE)
    made = []
    for n in range(count):
        job = ImportJob(school=home, created_by=MADE_BY, filename=f"statements-{n}.xlsx", size=1,
                        sha256="0" * 64, file_enc=b"-", status="checked")
        job.refresh_chain()
        made.append(job)
    return made


@pytest.fixture(scope="module")
def rows(app):
    """40 open requests across the county's schools, 30 jobs and 30 imports of the county: more
    than a page of 25 of each list; removed afterwards."""
    with app.app_context():
        students = db.session.scalars(select(Student).where(Student.county_code == COUNTY)
                                      .order_by(Student.school_id.desc(), Student.id).limit(40)).all()
        made = _requests(students, actor_of("county_supervisor")) + _jobs(30) + _imports(30)
        db.session.add_all(made)
        db.session.commit()
        yield
        ids = select(Request.id).where(Request.requester_name == MADE_BY)
        db.session.execute(delete(RequestStep).where(RequestStep.request_id.in_(ids)))
        db.session.execute(delete(Request).where(Request.requester_name == MADE_BY))
        db.session.execute(delete(JobRun).where(JobRun.created_by == MADE_BY))
        db.session.execute(delete(ImportJob).where(ImportJob.created_by == MADE_BY))
        db.session.commit()


def _sent(client, url: str, **get) -> tuple[list[str], object]:
    """The statements one request sends (after a warm-up request), and its response."""
    client.get(url, **get)
    with Statements() as seen:
        response = client.get(url, **get)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    return seen.texts, response


# -- REST lists --------------------------------------------------------------------------------------

API_LISTS = [
    ("/api/v1/student/?q=(page_size:{n})", "county_registrar"),
    ("/api/v1/student/?q=(page_size:{n},order_column:name,order_direction:desc)", "prov_registrar"),
    ("/api/v1/student/?q=(page_size:{n},select_columns:!(id,registry_no_masked,phone_masked))",
     "county_registrar"),
    ("/api/v1/family_member/?q=(page_size:{n})", "county_registrar"),
    ("/api/v1/request/?page_size={n}", "county_registrar"),
    ("/api/v1/request/inbox?page_size={n}", "county_supervisor"),
    ("/api/v1/job/?page_size={n}", "county_registrar"),
]


@pytest.mark.parametrize("url,username", API_LISTS)
def test_a_rest_list_sends_as_many_statements_for_25_rows_as_for_5(rows, app, api, token_for, url,
                                                                    username):
    headers = token_for(username)
    counts = {}
    for n in (FEW, MANY):
        texts, response = _sent(api, url.format(n=n), headers=headers)
        assert len(response.get_json()["result"]) == n  # the page is really that full
        counts[n] = texts
    assert len(counts[MANY]) == len(counts[FEW]), [s[:100] for s in counts[MANY]]
    assert len(counts[MANY]) <= 14, "\n".join(" ".join(s.split())[:160] for s in counts[MANY])


def test_the_rest_student_list_loads_the_masked_values_with_the_page(rows, app, api, token_for):
    texts, response = _sent(api, "/api/v1/student/?q=(page_size:25)", headers=token_for("county_registrar"))
    per_row = [s for s in texts if "WHERE student.id = " in s]
    assert per_row == []
    assert all(r["registry_no_masked"] and "*" in r["registry_no_masked"] for r in response.get_json()["result"])


def test_a_list_count_is_one_count_of_the_table_without_joins(rows, app, api, token_for):
    texts, _ = _sent(api, "/api/v1/student/?q=(page_size:5)", headers=token_for("county_registrar"))
    counts = [" ".join(s.split()) for s in texts if "count(" in s.lower()]
    assert len(counts) == 1, counts
    assert counts[0].startswith("SELECT count(*) AS count_1 FROM student WHERE"), counts[0]
    assert "JOIN" not in counts[0].upper()


@pytest.mark.parametrize("url", ["/api/v1/request/?page_size=0", "/api/v1/request/?page_size=101",
                                 "/api/v1/request/inbox?page=-1", "/api/v1/job/?page=x"])
def test_a_page_outside_the_bounds_is_a_400_naming_it(app, api, token_for, url):
    r = api.get(url, headers=token_for("county_registrar"))
    assert r.status_code == 400
    assert r.get_json()["errors"][0]["field"] in ("page", "page_size")


def test_rest_pages_of_requests_are_disjoint_and_cover_the_list(rows, app, api, token_for):
    headers = token_for("county_supervisor")
    first = api.get("/api/v1/request/inbox?page_size=7", headers=headers).get_json()
    total = first["count"]
    assert total >= 30 and first["page"] == 0 and first["page_size"] == 7
    seen = []
    for page in range(-(-total // 7)):
        seen += [r["id"] for r in api.get(f"/api/v1/request/inbox?page_size=7&page={page}",
                                          headers=headers).get_json()["result"]]
    assert len(seen) == len(set(seen)) == total


def test_the_last_page_and_a_page_past_the_end_carry_the_total(rows, app, api, token_for):
    headers = token_for("county_supervisor")
    total = api.get("/api/v1/request/inbox?page_size=7", headers=headers).get_json()["count"]
    last = api.get(f"/api/v1/request/inbox?page_size=7&page={(total - 1) // 7}", headers=headers).get_json()
    assert last["count"] == total and len(last["result"]) == total - 7 * ((total - 1) // 7)
    past = api.get("/api/v1/request/inbox?page_size=7&page=99", headers=headers).get_json()
    assert past["count"] == total and past["result"] == []


# -- HTML pages --------------------------------------------------------------------------------------

@pytest.mark.parametrize("url,view,username", [
    ("/students/list/", "StudentView", "county_registrar"),
    ("/imports/list/", "ImportView", "county_registrar"),
])
def test_a_list_page_sends_as_many_statements_for_25_rows_as_for_5(rows, ctx, client_for, url, view, username):
    client = client_for(username)
    few, _ = _sent(client, f"{url}?psize_{view}={FEW}")
    many, _ = _sent(client, f"{url}?psize_{view}={MANY}")
    assert len(many) == len(few), [s[:100] for s in many]


def test_the_inbox_page_sends_as_many_statements_for_25_rows_as_for_5(rows, ctx, client_for, monkeypatch):
    client = client_for("county_supervisor")
    counts = {}
    for n in (FEW, MANY):
        monkeypatch.setattr(inbox_view, "PAGE", n)
        texts, response = _sent(client, "/inbox/")
        assert response.get_data(as_text=True).count('name="rowid"') == n
        counts[n] = texts
    assert len(counts[MANY]) == len(counts[FEW]), [s[:100] for s in counts[MANY]]


def test_the_inbox_page_pages_its_items_with_the_total(rows, ctx, client_for, monkeypatch):
    monkeypatch.setattr(inbox_view, "PAGE", 7)
    client = client_for("county_supervisor")
    html = client.get("/inbox/").get_data(as_text=True)
    total = int(html.split('id="inbox-total">')[1].split("<")[0].split()[0])
    assert total >= 30 and html.count('name="rowid"') == 7
    assert 'id="inbox-pages"' in html and "/inbox/?page=1" in html
    pages = [client.get(f"/inbox/?page={p}").get_data(as_text=True) for p in range(-(-total // 7))]
    ids = [row.split('"')[0] for page in pages for row in page.split('name="rowid" value="')[1:]]
    assert len(ids) == len(set(ids)) == total
    last = pages[-1].split('id="inbox-pages"')[1].split("</nav>")[0]
    assert f"/inbox/?page={len(pages) - 2}" in last and 'rel="next"' not in last


def test_the_jobs_page_sends_as_many_statements_for_many_jobs_as_for_few(ctx, client_for):
    client = client_for("county_registrar")
    few, _ = _sent(client, "/jobs/")
    db.session.add_all(_jobs(20))
    db.session.commit()
    try:
        many, response = _sent(client, "/jobs/")
    finally:
        db.session.execute(delete(JobRun).where(JobRun.created_by == MADE_BY))
        db.session.commit()
    assert len(many) == len(few), [s[:100] for s in many]


def test_a_students_page_sends_as_many_statements_for_four_family_members_as_for_one(rows, ctx, client_for):
    client = client_for("county_registrar")
    student = db.session.scalars(select(Student).where(Student.county_code == COUNTY, Student.registered.is_(True))
                                 .order_by(Student.id)).first()
    kept = len(student.members)
    few, _ = _sent(client, f"/students/show/{student.id}")
    db.session.add_all([FamilyMember(student=student, seq=90 + n, name=f"成员{n}", relation="90") for n in range(3)])
    db.session.commit()
    try:
        many, response = _sent(client, f"/students/show/{student.id}")
        assert response.get_data(as_text=True).count("成员") >= 3
    finally:
        db.session.execute(delete(FamilyMember).where(FamilyMember.student_id == student.id,
                                                      FamilyMember.seq >= 90))
        db.session.commit()
    assert len(student.members) >= kept
    assert len(many) == len(few), [s[:100] for s in many]


@pytest.mark.parametrize("username", ["prov_registrar", "county_registrar", "school_registrar", "prov_supervisor"])
def test_the_home_page_counts_from_indexes_in_a_fixed_number_of_statements(ctx, client_for, username):
    texts, _ = _sent(client_for(username), "/")
    assert len(texts) <= 14, [s[:100] for s in texts]
    on_students = [" ".join(s.split()) for s in texts if " FROM student " in s]
    # a count by status, and the registrar's two counts each through its partial index
    assert all("WHERE" in s for s in on_students), on_students
    assert not any("CASE WHEN" in s for s in on_students), on_students


def test_the_home_page_sends_as_many_statements_for_the_province_as_for_a_county(ctx, client_for):
    province, _ = _sent(client_for("prov_registrar"), "/")
    county, _ = _sent(client_for("county_registrar"), "/")
    assert len(province) == len(county)


# -- stable pages ------------------------------------------------------------------------------------

@pytest.fixture
def namesakes(ctx):
    """Twelve students of one county all named alike (put back afterwards)."""
    students = db.session.scalars(select(Student).where(Student.county_code == COUNTY)
                                  .order_by(Student.id.desc()).limit(12)).all()
    kept = {s.id: s.name for s in students}
    for s in students:
        s.name = "同名分页测"
    db.session.commit()
    yield sorted(kept)
    for s in db.session.scalars(select(Student).where(Student.id.in_(kept))):
        s.name = kept[s.id]
    db.session.commit()


@pytest.mark.parametrize("order", ["", ",order_column:name,order_direction:asc",
                                   ",order_column:name,order_direction:desc",
                                   ",order_column:status,order_direction:asc"])
def test_rest_pages_of_namesakes_are_disjoint_and_cover_every_id(namesakes, api, token_for, order):
    headers = token_for("county_registrar")
    seen = []
    for page in range(3):  # 5 + 5 + 2
        q = f"(filters:!((col:name,opr:eq,value:'同名分页测')),page:{page},page_size:5{order})"
        body = api.get(f"/api/v1/student/?q={q}", headers=headers).get_json()
        assert body["count"] == 12
        seen += body["ids"]
    assert len(seen) == len(set(seen)) == 12
    assert sorted(seen) == namesakes


def test_an_unknown_filter_operator_is_refused_by_name(app, api, token_for):
    r = api.get("/api/v1/student/?q=(filters:!((col:name,opr:like_nothing,value:x)))",
                headers=token_for("county_registrar"))
    assert r.status_code == 400
    assert "like_nothing" in r.get_json()["message"]
