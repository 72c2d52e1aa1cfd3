"""学校统计表 and 关注名单 as pages, a download and a REST resource: the numbers the service computes,
drill-down links, the same numbers in the xlsx, Chinese words, and another county's node not there
by page, file or API."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from statistics_data import NOW, ONE, build

from app.documents.statistics_xlsx import HEADER_TOP
from app.extensions import db
from app.models import Student
from app.services.common.actors import Actor
from app.services.reports.statistics import school_statistics

ROW = re.compile(r'<tr class="statistics-(?:row|total)"[^>]*>(.*?)</tr>', re.S)
CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)


@pytest.fixture(scope="module")
def built(app):
    return build(app)


def _table(html: str) -> dict[str, list[int]]:
    """{row code: its numbers} of the page's statistics table, the total row included."""
    out = {}
    for row in ROW.findall(html):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in CELL.findall(row)]
        out[cells[0]] = [int(c) for c in cells[2:]]
    return out


def test_the_county_page_shows_each_school_with_drill_down_and_total(ctx, built, client_for):
    r = client_for("county_supervisor").get("/reports/statistics/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "学校统计表" in html and "芙蓉区" in html and "在籍学生" in html
    assert f'href="/reports/statistics/?node={ONE}"' in html
    assert "少数民族" in html and "单亲留守儿童" in html and "农业户口" in html and "就近入学" in html
    table = _table(html)
    assert table[ONE][:4] == [3, 5, 3, 2]  # classes, students, boys, girls
    assert sum(v[1] for code, v in table.items() if code != "430102") == table["430102"][1]


def test_the_page_shows_what_the_service_computes(ctx, built, client_for):
    html = client_for("city_supervisor").get("/reports/statistics/?node=430102").get_data(as_text=True)
    with ctx.test_request_context():
        stats = school_statistics(db.session, Actor.system(), "430102", NOW)
    assert _table(html) == {**{r.code: list(r.values) for r in stats.rows}, "430102": list(stats.total.values)}
    assert 'href="/reports/statistics/?node=430100"' in html  # the way back up, inside the jurisdiction


def test_the_workbook_has_the_numbers_of_the_page(ctx, built, client_for):
    client = client_for("county_supervisor")
    page = _table(client.get(f"/reports/statistics/?node={ONE}").get_data(as_text=True))
    r = client.get(f"/reports/statistics/xlsx?node={ONE}")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert "no-store" in r.headers["Cache-Control"]
    sheet = load_workbook(BytesIO(r.data)).active
    rows = {str(row[0]): list(row[2:]) for row in sheet.iter_rows(min_row=HEADER_TOP + 2, values_only=True)}
    assert rows == page and page[ONE][:4] == [3, 5, 3, 2]


def test_a_county_supervisor_cannot_read_another_countys_statistics(ctx, built, client_for, token_for, api):
    client = client_for("county_supervisor")
    for code in ("430202", "4302020001", "430000"):
        assert client.get(f"/reports/statistics/?node={code}").status_code == 404
        assert client.get(f"/reports/statistics/xlsx?node={code}").status_code == 404
        assert client.get(f"/reports/watch/?node={code}").status_code == 404
        r = api.get(f"/api/v1/report/statistics?node={code}", headers=token_for("county_supervisor"))
        assert r.status_code == 404 and "荷塘区" not in r.get_data(as_text=True)
    assert client_for("county2_supervisor").get("/reports/statistics/?node=430202").status_code == 200
    assert client_for("county2_supervisor").get(f"/reports/watch/?node={ONE}").status_code == 404


def test_the_api_gives_the_table_by_column_key(ctx, built, token_for, api):
    r = api.get(f"/api/v1/report/statistics?node={ONE}", headers=token_for("county_registrar"))
    assert r.status_code == 200
    body = r.get_json()
    assert body["node"] == ONE and body["level"] == "school"
    assert {k: body["total"]["values"][k] for k in ("classes", "students", "boys", "girls", "left_behind")} \
        == {"classes": 3, "students": 5, "boys": 3, "girls": 2, "left_behind": 2}
    assert [row["name"] for row in body["rows"]] == ["一年级", "二年级"]
    own = api.get("/api/v1/report/statistics", headers=token_for("school_registrar")).get_json()
    assert own["node"] == "4301020001"


def test_a_bad_node_is_a_message_naming_it_never_a_500(ctx, built, client_for, token_for, api):
    r = client_for("county_supervisor").get("/reports/statistics/?node=abc")
    assert r.status_code == 200
    assert "单位编码须为 6 位行政区划代码或 10 位学校标识码" in r.get_data(as_text=True)
    r = api.get("/api/v1/report/statistics?node=12%27%3B--", headers=token_for("county_supervisor"))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "node"
    r = api.get("/api/v1/report/statistics?node=999999", headers=token_for("county_supervisor"))
    assert r.status_code == 404


def test_the_watch_page_lists_who_left_masked_and_the_dropouts(ctx, built, client_for):
    r = client_for("county_supervisor").get(f"/reports/watch/?node={ONE}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    student = db.session.scalar(select(Student).where(Student.name == "己辍学"))
    assert "己辍学" in html and student.registry_no_masked in html and student.registry_no not in html
    assert "辛转出" not in html.split('id="departed"')[1].split("</table>")[0]  # received at the other school
    assert "荷塘区星光小学" in html  # the transfer waiting to be pulled
    assert re.search(r'id="dropout-total">\s*1\s*<', html)


def test_the_reports_menu_offers_both_pages(ctx, built, client_for):
    html = client_for("school_supervisor").get("/").get_data(as_text=True)
    assert "统计报表" in html and "学校统计表" in html and "关注名单" in html
    html = client_for("county_admin").get("/").get_data(as_text=True)
    assert "学校统计表" not in html


def test_the_page_reads_in_english_too(ctx, built, client_for):
    client = client_for("county_supervisor")
    client.get("/lang/en")
    html = client.get(f"/reports/statistics/?node={ONE}").get_data(as_text=True)
    assert "School statistics" in html and "Left-behind children" in html and "Grade 1" in html
