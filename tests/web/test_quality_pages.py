"""数据质量核查 as people and programs meet it: the province opens and closes campaigns on its page,
a school marks a class and a student and uploads a signed form, every level reads the progress with
its drill-down; the REST resource and `run.py campaign` do the same, scoped the same way."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from factories import school
from sqlalchemy import delete, select

from app.extensions import db
from app.models import QualityCampaign, QualityForm, SchoolClass, Student

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def clean(ctx):
    yield
    db.session.rollback()
    db.session.execute(delete(QualityForm))
    db.session.execute(delete(QualityCampaign))
    db.session.commit()


def first_class(code: str) -> SchoolClass:
    s = school(code)
    return db.session.scalar(select(SchoolClass).join(Student, Student.class_id == SchoolClass.id)
                             .where(SchoolClass.school_id == s.id, Student.status == "in_school")
                             .group_by(SchoolClass.id).order_by(SchoolClass.id).limit(1))


def students_of(klass: SchoolClass) -> list[int]:
    return list(db.session.scalars(select(Student.id).where(Student.class_id == klass.id,
                                                            Student.status == "in_school").order_by(Student.id)))


def open_on_page(client, region="430102", starts="2026-09-01", ends="2026-09-30") -> int:
    r = client.post("/quality/open", data={"region": region, "starts_on": starts, "ends_on": ends,
                                           "name": "秋季核查"}, follow_redirects=True)
    assert r.status_code == 200
    found = re.search(r"已开启核查活动 #(\d+)", r.get_data(as_text=True))
    assert found, r.get_data(as_text=True)[:2000]
    return int(found.group(1))


# -- pages -----------------------------------------------------------------------------------------

def test_the_province_opens_a_campaign_a_school_marks_its_class_and_the_county_follows(client_for, clean):
    province = client_for("prov_registrar")
    page = province.get("/quality/").get_data(as_text=True)
    assert 'id="open-campaign"' in page and "芙蓉区" in page
    pk = open_on_page(province)

    school_page = client_for("school_registrar")
    klass = first_class("4301020001")
    sheet = school_page.get(f"/quality/school?campaign={pk}&class={klass.id}").get_data(as_text=True)
    assert 'id="class-sheet"' in sheet and "申请变更" in sheet and "refused" not in sheet
    r = school_page.post("/quality/mark", data={"campaign": pk, "class": klass.id, "mark": "issued"},
                         follow_redirects=True)
    count = len(students_of(klass))
    assert f"本班 {count} 人已标记已发放" in r.get_data(as_text=True)
    one = students_of(klass)[0]
    school_page.post("/quality/mark", data={"campaign": pk, "class": klass.id, "student": one,
                                            "mark": "returned", "corrected": "1"})
    r = school_page.post("/quality/upload", data={"campaign": pk, "class": klass.id, "student": one,
                                                  "file": (io.BytesIO(b"not an image"), "form.txt")},
                         content_type="multipart/form-data", follow_redirects=True)
    assert "签字确认表须为 JPEG 或 PNG 图片" in r.get_data(as_text=True)
    school_page.post("/quality/upload", data={"campaign": pk, "class": klass.id, "student": one,
                                              "file": (io.BytesIO(PNG), "form.png")},
                     content_type="multipart/form-data")
    scan = school_page.get(f"/quality/scan?campaign={pk}&student={one}")
    assert scan.status_code == 200 and scan.data == PNG
    printed = school_page.get(f"/quality/forms?campaign={pk}&class={klass.id}&format=pdf")
    assert printed.status_code == 200 and printed.data.startswith(b"%PDF")

    county = client_for("county_registrar").get(f"/quality/{pk}/progress").get_data(as_text=True)
    row = re.search(r'data-code="4301020001">(.*?)</tr>', county, re.S).group(1)
    cells = re.findall(r'<td class="text-right">([^<]*)</td>', row)
    assert cells[1:4] == [str(count), "1", "1"]  # issued, returned, of them corrected
    assert 'id="lagging-table"' in county


def test_another_county_sees_neither_the_campaign_nor_its_progress(client_for, clean):
    pk = open_on_page(client_for("prov_registrar"))
    other = client_for("county2_registrar")
    assert f'data-id="{pk}"' not in other.get("/quality/").get_data(as_text=True)
    assert other.get(f"/quality/{pk}/progress").status_code == 404
    outside = client_for("county2_school_registrar")
    klass = first_class("4302020001")
    r = outside.post("/quality/mark", data={"class": klass.id, "mark": "issued"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "不在进行中的数据质量核查活动范围内" in text and "rules/430000.yaml:" in text


def test_closing_a_campaign_on_the_page_stops_marking(client_for, clean):
    province = client_for("prov_registrar")
    pk = open_on_page(province)
    assert "已关闭核查活动" in province.post(f"/quality/{pk}/close", follow_redirects=True).get_data(as_text=True)
    klass = first_class("4301020001")
    r = client_for("school_registrar").post("/quality/mark", data={"campaign": pk, "class": klass.id,
                                                                   "mark": "issued"}, follow_redirects=True)
    assert "关闭" in r.get_data(as_text=True)
    assert db.session.scalar(select(QualityForm.id).where(QualityForm.campaign_id == pk)) is None


def test_a_county_registrar_may_not_open_campaigns(client_for, clean):
    r = client_for("county_registrar").post("/quality/open", data={"region": "430102", "starts_on": "2026-09-01",
                                                                   "ends_on": "2026-09-30"})
    assert r.status_code == 403


# -- REST -------------------------------------------------------------------------------------------

def test_rest_opens_marks_and_reports_progress_scoped_to_the_jurisdiction(api, token_for, clean):
    opened = api.post("/api/v1/quality/campaigns", headers=token_for("prov_admin"),
                      json={"region": "430102", "starts_on": "2026-09-01", "ends_on": "2026-09-30"})
    assert opened.status_code == 201, opened.get_json()
    pk = opened.get_json()["id"]
    klass = first_class("4301020001")
    mine = token_for("school_registrar")
    marked = api.post(f"/api/v1/quality/campaigns/{pk}/marks", headers=mine,
                      json={"mark": "issued", "class_id": klass.id})
    assert marked.status_code == 200 and marked.get_json()["marked"] == len(students_of(klass))
    one = students_of(klass)[0]
    bad = api.post(f"/api/v1/quality/campaigns/{pk}/scans/{one}", headers=mine,
                   json={"content_base64": base64.b64encode(b"<html>").decode()})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "file"
    good = api.post(f"/api/v1/quality/campaigns/{pk}/scans/{one}", headers=mine,
                    json={"content_base64": base64.b64encode(PNG).decode()})
    assert good.status_code == 201 and good.get_json()["type"] == "image/png"
    sheet = api.get(f"/api/v1/quality/campaigns/{pk}/classes/{klass.id}", headers=mine).get_json()
    assert sheet["issued"] == len(students_of(klass)) and sheet["scanned"] == 1

    county = api.get(f"/api/v1/quality/campaigns/{pk}/progress", headers=token_for("county_registrar"))
    assert county.status_code == 200
    row = next(r for r in county.get_json()["rows"] if r["code"] == "4301020001")
    assert row["issued"] == len(students_of(klass)) and row["scanned"] == 1

    other = token_for("county2_registrar")
    assert pk not in {c["id"] for c in api.get("/api/v1/quality/campaigns", headers=other).get_json()["result"]}
    assert api.get(f"/api/v1/quality/campaigns/{pk}/progress", headers=other).status_code == 404
    assert api.post(f"/api/v1/quality/campaigns/{pk}/close", headers=other).status_code == 403
    closed = api.post(f"/api/v1/quality/campaigns/{pk}/close", headers=token_for("prov_registrar"))
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    refused = api.post(f"/api/v1/quality/campaigns/{pk}/marks", headers=mine,
                       json={"mark": "returned", "class_id": klass.id})
    assert refused.status_code == 422 and "campaign_closed" in {e.get("code") for e in refused.get_json()["errors"]}


def test_rest_refuses_a_county_opening_and_a_bad_body(api, token_for, clean):
    body = {"region": "430102", "starts_on": "2026-09-01", "ends_on": "2026-09-30"}
    assert api.post("/api/v1/quality/campaigns", headers=token_for("county_registrar"), json=body).status_code == 403
    bad = api.post("/api/v1/quality/campaigns", headers=token_for("prov_registrar"), json={**body, "extra": 1})
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "extra"
    marks = api.post("/api/v1/quality/campaigns/999999/marks", headers=token_for("school_registrar"),
                     json={"mark": "issued", "class_id": 1})
    assert marks.status_code == 404


# -- the command line --------------------------------------------------------------------------------

def test_the_command_line_opens_reports_and_closes_a_campaign(app, clean):
    runner = app.test_cli_runner()
    opened = runner.invoke(args=["campaign", "open", "--region", "430102", "--from", "2026-09-01",
                                 "--to", "2026-09-30", "--as", "prov_registrar", "--json"])
    assert opened.exit_code == 0, opened.output
    pk = json.loads(opened.output)["id"]
    table = runner.invoke(args=["campaign", "progress", str(pk), "--as", "county_registrar", "--json"])
    assert table.exit_code == 0, table.output
    assert {r["code"] for r in json.loads(table.output)["rows"]} >= {"4301020001", "4301020002"}
    text = runner.invoke(args=["campaign", "progress", str(pk), "--as", "county_registrar"])
    assert "合计" in text.output and "录入比例" in text.output
    hidden = runner.invoke(args=["campaign", "progress", str(pk), "--as", "county2_registrar"])
    assert hidden.exit_code != 0 and "不存在或不在本辖区" in hidden.output
    refused = runner.invoke(args=["campaign", "open", "--region", "430102", "--from", "2026-09-01",
                                  "--to", "2026-09-30", "--as", "county_registrar"])
    assert refused.exit_code != 0
    closed = runner.invoke(args=["campaign", "close", str(pk), "--as", "prov_registrar"])
    assert closed.exit_code == 0 and "已关闭" in closed.output


# -- words --------------------------------------------------------------------------------------------

def test_the_pages_read_in_chinese_words_with_a_campaign_under_way(client_for, clean):
    from browsing import Page, problems_zh

    from app.models import XuejiUser

    pk = open_on_page(client_for("prov_registrar"))
    klass = first_class("4301020001")
    mine = client_for("school_registrar")
    mine.post("/quality/mark", data={"campaign": pk, "class": klass.id, "mark": "issued"})
    mine.post("/quality/mark", data={"campaign": pk, "class": klass.id, "mark": "returned"})
    names = set(db.session.scalars(select(XuejiUser.username)))
    pages = {"school_registrar": ["/quality/", f"/quality/school?campaign={pk}&class={klass.id}",
                                  f"/quality/{pk}/progress"],
             "county_supervisor": ["/quality/", f"/quality/{pk}/progress",
                                   f"/quality/{pk}/progress?node=4301020001"],
             "prov_admin": ["/quality/", f"/quality/{pk}/progress"]}
    for user, urls in pages.items():
        client = client_for(user)
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, (user, url)
            assert problems_zh(Page(r.get_data(as_text=True)).text, names) == set(), (user, url)
    assert client_for("county_supervisor").get(f"/quality/school?campaign={pk}").status_code == 403
