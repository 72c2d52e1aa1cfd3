"""招生计划 through the page and REST: a bureau sets a school's plan, the school asks for a change,
the bureau decides it; caps above the rules are refused citing the rule's line; scope holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from browsing import Page, problems_zh
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, EnrollmentPlan, EnrollmentPlanChange, School, XuejiUser

RULES = Path(__file__).resolve().parents[2] / "rules"
FURONG_PRIMARY_CAP = "rules/430102.yaml:" + str(next(
    i + 1 for i, line in enumerate((RULES / "430102.yaml").read_text(encoding="utf-8").splitlines())
    if "primary: {cap: 40}" in line))


@pytest.fixture
def planning(app, monkeypatch):
    """The business clock inside the enrollment_plan window (the test clock is 15 September)."""
    monkeypatch.setitem(app.config, "XUEJI_FIXED_NOW", "2028-05-10T10:00:00")


def _plan(year: int, grade: int = 1, code: str = "4301020001") -> EnrollmentPlan | None:
    db.session.expire_all()
    school = db.session.scalar(select(School).where(School.code == code))
    return db.session.scalar(select(EnrollmentPlan).where(
        EnrollmentPlan.school_id == school.id, EnrollmentPlan.school_year == year,
        EnrollmentPlan.grade == grade))


def test_the_page_lets_a_bureau_set_a_plan_and_a_school_ask_for_a_change(ctx, client_for, planning):
    county = client_for("county_registrar")
    page = county.get("/year/plans/?year=2028")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "招生计划" in html and "芙蓉区育英小学" in html and "保存计划" in html
    assert 'data-school="4301020003" data-grade="7"' in html and 'data-grade="10"' in html
    over = county.post("/year/plans/set", data={"school": "4301020001", "year": "2028", "grade": "1",
                                                "classes": "2028级一年级1班:41", "seats": "40"},
                       follow_redirects=True).get_data(as_text=True)
    assert FURONG_PRIMARY_CAP in over and _plan(2028) is None
    done = county.post("/year/plans/set", data={
        "school": "4301020001", "year": "2028", "grade": "1",
        "classes": "2028级一年级1班:40\n2028级一年级2班：38", "seats": "78"}, follow_redirects=True)
    assert "招生计划已保存" in done.get_data(as_text=True)
    plan = _plan(2028)
    assert [(c.name, c.cap) for c in plan.classes] == [("2028级一年级1班", 40), ("2028级一年级2班", 38)]

    school = client_for("school_registrar")
    html = school.get("/year/plans/?year=2028").get_data(as_text=True)
    assert "本校招生计划" in html and "申请变更" in html and "保存计划" not in html
    assert "芙蓉区启明初级中学" not in html
    asked = school.post(f"/year/plans/request/{plan.id}", data={
        "year": "2028", "classes": "2028级一年级1班:40\n2028级一年级2班:38\n2028级一年级3班:35",
        "seats": "110", "reason": "新建小区入学人数增加"}, follow_redirects=True)
    assert "变更申请已提交" in asked.get_data(as_text=True)
    change = db.session.scalar(select(EnrollmentPlanChange).where(
        EnrollmentPlanChange.plan_id == plan.id))
    # the school cannot set or decide
    assert school.post("/year/plans/set", data={"school": "4301020001"}).status_code == 403
    assert school.post(f"/year/plans/decide/{change.id}", data={"verdict": "approve"}).status_code == 403

    html = county.get("/year/plans/?year=2028").get_data(as_text=True)
    assert f'data-id="{change.id}"' in html and "同意" in html
    decided = county.post(f"/year/plans/decide/{change.id}", data={"year": "2028", "verdict": "approve"},
                          follow_redirects=True).get_data(as_text=True)
    assert "已同意变更" in decided
    assert _plan(2028).seats == 110 and len(_plan(2028).classes) == 3


def test_the_page_is_for_registrars_and_supervisors_and_shows_only_ones_own(ctx, client_for, planning):
    assert client_for("county_admin").get("/year/plans/").status_code == 403
    html = client_for("county_supervisor").get("/year/plans/?year=2028").get_data(as_text=True)
    assert "保存计划" not in html and "芙蓉区育英小学" in html
    other = client_for("county2_registrar").get("/year/plans/?year=2028").get_data(as_text=True)
    assert "芙蓉区育英小学" not in other and "荷塘区星光小学" in other
    menu = Page(client_for("school_registrar").get("/").get_data(as_text=True)).menu
    assert "/year/plans/" in menu


def test_rest_sets_asks_and_decides_within_the_jurisdiction(ctx, api, token_for, planning):
    county, school = token_for("county_registrar"), token_for("school_registrar")
    body = {"school": "4301020001", "school_year": 2029, "grade": 1, "seats": 40,
            "classes": [{"name": "2029级一年级1班", "cap": 41}]}
    over = api.post("/api/v1/enrollment_plan/", json=body, headers=county)
    assert over.status_code == 422
    assert [e.get("source") for e in over.get_json()["errors"]] == [FURONG_PRIMARY_CAP]
    assert api.post("/api/v1/enrollment_plan/", json={**body, "classes": "x"},
                    headers=county).status_code == 400
    assert api.post("/api/v1/enrollment_plan/", json={**body, "extra": 1}, headers=county).status_code == 400
    assert api.post("/api/v1/enrollment_plan/", json=body, headers=school).status_code == 403
    ok = api.post("/api/v1/enrollment_plan/", json={**body, "classes": [
        {"name": "2029级一年级1班", "cap": 40}]}, headers=county)
    assert ok.status_code == 200, ok.get_json()
    plan_id = ok.get_json()["id"]
    mine = api.get("/api/v1/enrollment_plan/?year=2029", headers=school).get_json()
    assert [p["id"] for p in mine["result"]] == [plan_id]
    other = token_for("county2_registrar")
    assert api.get(f"/api/v1/enrollment_plan/{plan_id}", headers=other).status_code == 404
    assert plan_id not in [p["id"] for p in api.get("/api/v1/enrollment_plan/?year=2029",
                                                    headers=other).get_json()["result"]]
    assert api.get("/api/v1/enrollment_plan/?year=abc", headers=county).status_code == 400

    asked = api.post(f"/api/v1/enrollment_plan/{plan_id}/change", headers=school, json={
        "classes": [{"name": "2029级一年级1班", "cap": 40}, {"name": "2029级一年级2班", "cap": 30}],
        "seats": 70, "reason": "生源增加"})
    assert asked.status_code == 201, asked.get_json()
    change_id = asked.get_json()["id"]
    assert api.post(f"/api/v1/enrollment_plan/change/{change_id}/approve", headers=school,
                    json={}).status_code == 403
    assert api.post(f"/api/v1/enrollment_plan/change/{change_id}/approve", headers=other,
                    json={}).status_code == 404
    assert api.post(f"/api/v1/enrollment_plan/change/{change_id}/maybe", headers=county,
                    json={}).status_code == 422
    rejected = api.post(f"/api/v1/enrollment_plan/change/{change_id}/reject", headers=county,
                        json={"comment": "学位不足"})
    assert rejected.status_code == 200 and rejected.get_json()["result"]["status"] == "rejected"
    again = api.post(f"/api/v1/enrollment_plan/change/{change_id}/approve", headers=county, json={})
    assert again.status_code == 409
    plan = api.get(f"/api/v1/enrollment_plan/{plan_id}", headers=school).get_json()["result"]
    assert plan["seats"] == 40 and len(plan["classes"]) == 1
    listed = api.get("/api/v1/enrollment_plan/change/?status=rejected", headers=county).get_json()
    assert change_id in [c["id"] for c in listed["result"]]


def test_outside_the_window_the_rest_refusal_names_the_window(ctx, api, token_for):
    county = token_for("county_registrar")  # the test clock, 15 September: closed
    out = api.post("/api/v1/enrollment_plan/", headers=county, json={
        "school": "4301020001", "school_year": 2027, "grade": 1, "seats": 40,
        "classes": [{"name": "2027级一年级1班", "cap": 40}]})
    assert out.status_code == 422
    [error] = out.get_json()["errors"]
    assert error["code"] == "outside_window" and error["source"].startswith("rules/national.yaml:")


@pytest.mark.parametrize("method, path", [
    ("get", f"/api/v1/enrollment_plan/{2**40}"), ("post", f"/api/v1/enrollment_plan/{2**40}/apply"),
    ("post", f"/api/v1/enrollment_plan/change/{2**40}/approve"),
    ("post", f"/api/v1/enrollment_plan/{2**70}/apply"), ("get", f"/api/v1/enrollment_plan/{2**31}"),
])
def test_an_id_no_row_can_have_is_a_json_404(ctx, api, token_for, method, path):
    r = getattr(api, method)(path, json={}, headers=token_for("county_registrar"))
    assert r.status_code == 404 and r.is_json, (r.status_code, r.get_data(as_text=True)[:200])


def test_the_plans_audit_rows_read_in_words(ctx, client_for, planning):
    county = client_for("county_registrar")
    county.post("/year/plans/set", data={"school": "4301020002", "year": "2028", "grade": "7",
                                         "classes": "2028级初一1班:50", "seats": "50"})
    plan = _plan(2028, 7, "4301020002")
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.entity == "enrollment_plan", AuditEvent.entity_id == plan.id))
    usernames = set(db.session.scalars(select(XuejiUser.username)))
    for url in ("/audit-log/list/", f"/audit-log/show/{event.id}"):
        html = client_for("county_supervisor").get(url).get_data(as_text=True)
        text = Page(html).text
        assert "招生计划" in text and not problems_zh(text, usernames), (url, problems_zh(text, usernames))
    assert "计划招生人数" in text and "2028级初一1班（50人）" in text
