"""REST for graduation, completion and promotion: JWT only, the same services and rules as the
pages, scope (a school registrar cannot promote a county; another county's registrar sees none of
its runs), bodies checked by schema, refusals as JSON naming the rule's file:line."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from factories import account, records_put_back, school, unused_county_code
from sqlalchemy import select, update

from app.extensions import db
from app.models import Grade, Jurisdiction, School, SchoolClass, Student
from app.models.school import GRADE_NAMES, stage_of_grade

SENIOR = "4301020003"  # 长沙市湘江中学: school3_registrar
IN_WINDOW = "2026-07-01T10:00:00"
PROMOTION_DAY = "2026-08-10T23:00:00"
_serial = itertools.count(1)


@pytest.fixture
def pinned(app, monkeypatch):
    def pin(when: str) -> None:
        monkeypatch.setitem(app.config, "XUEJI_FIXED_NOW", when)
    return pin


@pytest.fixture
def seniors(ctx):
    """The senior final grade's in-school students, put back as they were afterwards."""
    s = school(SENIOR)
    rows = db.session.scalars(select(Student).join(Grade, Grade.id == Student.grade_id).where(
        Student.school_id == s.id, Grade.number == 12, Student.status == "in_school")
        .order_by(Student.id)).all()
    if len(rows) < 2:
        pytest.skip("too few senior final-grade students")
    with records_put_back(rows, "status", "graduated_at", "id_number_enc"):
        yield [st.id for st in rows]


def test_the_cohort_and_completion_over_rest(api, token_for, seniors, pinned):
    lacking = seniors[0]
    db.session.execute(update(Student).where(Student.id == lacking).values(id_number_enc=None))
    db.session.commit()
    headers = token_for("school3_registrar")
    got = api.get("/api/v1/graduation/cohort", headers=headers)
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    student = next(s for s in body["students"] if s["student_id"] == lacking)
    assert student["can"] is False and student["completable"] is True
    assert student["conditions_unmet"][0]["item"] == "id_number"
    assert student["conditions_unmet"][0]["source"].startswith("rules/430000.yaml:")
    assert body["refused"][0]["code"] == "outside_window"  # the pinned test clock: 15 September
    refused = api.post("/api/v1/graduation/graduate", json={}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["source"].startswith("rules/national.yaml:")

    pinned(IN_WINDOW)
    dry = api.post("/api/v1/graduation/complete", json={"dry_run": True}, headers=headers)
    assert dry.status_code == 200 and dry.get_json()["results"][0]["result"] == "completable"
    done = api.post("/api/v1/graduation/complete",
                    json={"students": [lacking, seniors[1]]}, headers=headers)
    assert done.status_code == 200, done.get_json()
    assert [r["result"] for r in done.get_json()["results"]] == ["completed", "refused"]
    db.session.expire_all()
    assert db.session.get(Student, lacking).status == "completed"
    graduated = api.post("/api/v1/graduation/graduate", json={"dry_run": True}, headers=headers)
    assert graduated.status_code == 200 and graduated.get_json()["dry_run"] is True


def test_graduation_over_rest_is_the_schools_own(api, token_for, seniors):
    other = api.get(f"/api/v1/graduation/cohort?school={SENIOR}",
                    headers=token_for("county2_school_registrar"))
    assert other.status_code == 404 and other.get_json()["errors"][0]["field"] == "school"
    assert api.get("/api/v1/graduation/cohort", headers=token_for("county_registrar")).status_code \
        in (401, 403)
    headers = token_for("school3_registrar")
    bad = api.post("/api/v1/graduation/complete", json={"dry_run": "yes", "x": 1}, headers=headers)
    assert bad.status_code == 400
    assert {e["field"] for e in bad.get_json()["errors"]} == {"dry_run", "x"}
    assert api.get("/api/v1/graduation/cohort").status_code == 401  # JWT only


def _county() -> tuple[str, School]:
    """A county of its own: one primary school, grades 1 and 2, three pupils in grade 1."""
    code = unused_county_code()
    city = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "430100"))
    county = Jurisdiction(code=code, name=f"接口区{code}", level="county", parent=city)
    s = School(code=f"{code}0001", name=f"接口学校{code}", stages="primary", jurisdiction=county)
    grades = {n: Grade(school=s, stage=stage_of_grade(n), number=n, name=GRADE_NAMES[n])
              for n in (1, 2)}
    klass = SchoolClass(school=s, grade=grades[1], number=1, name="一年级1班", entry_year=2025)
    db.session.add_all([county, s, *grades.values(), klass])
    for i in range(3):
        st = Student(school=s, grade=grades[1], school_class=klass, name=f"接口{i}", gender="1",
                     birth_date=date(2019, 3, 1), status="in_school", registry_kind="L")
        st.registry_no = f"L{code}20190301{next(_serial):04d}"
        db.session.add(st)
    db.session.commit()
    account(f"api_reg_{code}", "county_registrar", node=code)
    return code, s


def test_promotion_over_rest_plan_run_runs_undo_and_scope(ctx, api, token_for, pinned):
    code, s = _county()
    reg = token_for(f"api_reg_{code}")
    plan = api.get(f"/api/v1/promotion/plan?node={code}", headers=reg)
    assert plan.status_code == 200 and plan.get_json()["students"] == 3
    assert plan.get_json()["allowed"] is False  # 15 September: outside the window
    refused = api.post("/api/v1/promotion/run", json={"node": code}, headers=reg)
    assert refused.status_code == 422
    error = next(e for e in refused.get_json()["errors"] if e["code"] == "outside_window")
    assert error["source"].startswith("rules/national.yaml:")
    # a school's registrar cannot promote a county; a bureau supervisor only reads
    assert api.post("/api/v1/promotion/run", json={"node": code},
                    headers=token_for("school_registrar")).status_code in (401, 403)
    assert api.post("/api/v1/promotion/run", json={"node": "430102"},
                    headers=token_for("county_supervisor")).status_code in (401, 403)
    assert api.get(f"/api/v1/promotion/plan?node={code}",
                   headers=token_for("city_supervisor")).status_code == 200

    pinned(PROMOTION_DAY)
    dry = api.post("/api/v1/promotion/run", json={"node": code, "dry_run": True}, headers=reg)
    assert dry.status_code == 200 and dry.get_json()["allowed"] is True
    assert db.session.scalar(select(Grade.number).join(Student, Student.grade_id == Grade.id)
                             .where(Student.school_id == s.id).limit(1)) == 1  # nothing moved
    ran = api.post("/api/v1/promotion/run", json={"node": code}, headers=reg)
    assert ran.status_code == 202, ran.get_json()
    job = api.get(f"/api/v1/job/{ran.get_json()['job']['id']}", headers=reg).get_json()["result"]
    assert (job["kind"], job["status"], job["percent"]) == ("promotion", "done", 100.0)
    run = job["result"]
    assert (run["status"], run["students_now"], run["already"]) == ("done", 3, False)
    assert api.get(f"/api/v1/job/{job['id']}", headers=token_for("county2_registrar")).status_code == 404
    runs = api.get(f"/api/v1/promotion/runs?node={code}", headers=reg).get_json()
    assert [r["id"] for r in runs["result"]] == [run["id"]]
    # another county's registrar sees none of its runs
    other = token_for("county2_registrar")
    assert api.get(f"/api/v1/promotion/runs?node={code}", headers=other).status_code == 404
    assert run["id"] not in [r["id"] for r in api.get("/api/v1/promotion/runs",
                                                      headers=other).get_json()["result"]]
    assert api.post("/api/v1/promotion/undo", json={"run": run["id"]},
                    headers=other).status_code == 404
    undone = api.post("/api/v1/promotion/undo", json={"run": run["id"]}, headers=reg)
    assert undone.status_code == 200 and undone.get_json()["students_restored"] == 3
    again = api.post("/api/v1/promotion/undo", json={"run": run["id"]}, headers=reg)
    assert again.status_code == 409
    assert api.post("/api/v1/promotion/undo", json={"run": "1"}, headers=reg).status_code == 400


@pytest.mark.parametrize("user", ["school3_registrar", "county_registrar"])
def test_odd_input_is_never_a_server_error(api, token_for, user):
    headers = token_for(user)
    odd_bodies = [None, "[]", "null", '"x"', "{", '{"students": [0, -1, 99999999999]}',
                  '{"node": "\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000"}', '{"run": true}',
                  '{"school": "43010200\\u00003"}']
    for path in ("/api/v1/graduation/graduate", "/api/v1/graduation/complete",
                 "/api/v1/promotion/run", "/api/v1/promotion/undo"):
        for body in odd_bodies:
            r = api.post(path, data=body, headers={**headers, "Content-Type": "application/json"})
            assert r.status_code < 500, (path, body, r.get_data(as_text=True)[:300])
    for path in ("/api/v1/graduation/cohort?school=%00", "/api/v1/graduation/cohort?school=x" * 3,
                 "/api/v1/promotion/plan?node=%00%00%00%00%00%00", "/api/v1/promotion/runs?node=abc",
                 "/api/v1/promotion/plan?node=999999"):
        r = api.get(path, headers=headers)
        assert r.status_code < 500, (path, r.get_data(as_text=True)[:300])
