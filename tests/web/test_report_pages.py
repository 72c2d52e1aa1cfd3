"""The monthly report (月报) as people reach it: the page with its pickers, definitions, breakdowns,
drill-down and chart container; its JSON; the REST resource; the command line -- each scoped: a
county supervisor gets nothing of another county's report, by page, API or command.  The pages
serve the report stored by its job (tests/integration/test_stored_reports.py), generated here first."""

from __future__ import annotations

import json

import pytest
from browsing import Page, problems_zh
from factories import stored_report
from sqlalchemy import select

from app.extensions import db
from app.models import School, XuejiUser
from app.services.reports.catalogue import CATALOGUE

LAST_MONTH = "2026-08"  # the test configuration's business time is 2026-09-15


@pytest.fixture(scope="module", autouse=True)
def _generated(app):
    """The reports these pages show, generated and stored by the report_monthly job."""
    with app.app_context():
        for node in ("430102", "430100", "430202"):
            stored_report(node, LAST_MONTH)
        db.session.remove()


def _usernames() -> set[str]:
    return set(db.session.scalars(select(XuejiUser.username)))


def test_the_page_defaults_to_the_own_node_and_last_month(ctx, client_for):
    response = client_for("county_supervisor").get("/reports/monthly")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "芙蓉区 · 2026-08 月报" in html
    assert 'id="report-month" value="2026-08"' in html


def test_each_figure_shows_its_name_value_and_definition_beside_it(ctx, client_for):
    html = client_for("county_supervisor").get(f"/reports/monthly?node=430102&month={LAST_MONTH}") \
        .get_data(as_text=True)
    page = Page(html)
    for indicator in CATALOGUE:
        assert indicator.name_zh in html and indicator.definition_zh in html, indicator.key
    assert "数据截至 2026-08-31 月末" in html and "月末快照" in html
    assert problems_zh(page.text, _usernames()) == set()


def test_the_drill_down_links_to_the_childrens_reports(ctx, client_for):
    client = client_for("county_supervisor")
    page = Page(client.get(f"/reports/monthly?node=430102&month={LAST_MONTH}").get_data(as_text=True))
    children = [u for u in page.links if "node=43010200" in u]
    assert len(children) >= 3  # the county's schools
    school = client.get(children[0])
    assert school.status_code == 200 and "上一级" in school.get_data(as_text=True)


def test_the_page_carries_the_chart_container_its_data_and_scripts(ctx, client_for):
    html = client_for("city_supervisor").get(f"/reports/monthly?month={LAST_MONTH}").get_data(as_text=True)
    assert 'id="charts"' in html and 'data-report-url="/reports/monthly.json?node=430100' in html
    data = json.loads(html.split('<script type="application/json" id="report-data">')[1].split("</script>")[0])
    assert data["node"]["code"] == "430100" and len(data["figures"]) == len(CATALOGUE)
    assert "vendor/echarts/echarts.min.js" in html and "xueji/report_charts.js" in html
    assert 'nonce="' in html.split("report_charts.js")[1][:80]


def test_the_json_is_the_same_report(ctx, client_for):
    client = client_for("county_registrar")
    data = client.get(f"/reports/monthly.json?node=430102&month={LAST_MONTH}").get_json()
    assert data["month"] == LAST_MONTH and data["node"]["name"] == "芙蓉区"
    assert data["snapshot_taken_at"] and data["live"] is False
    figure = next(f for f in data["figures"] if f["key"] == "students_on_record")
    assert figure["value"] > 0 and figure["table"]["header"][0] == "学段"


def test_a_bad_month_or_node_gives_a_message_naming_it_not_an_error(ctx, client_for):
    client = client_for("county_supervisor")
    page = client.get("/reports/monthly?month=2026-8x")
    assert page.status_code == 422 and "月份须为 YYYY-MM" in page.get_data(as_text=True)
    answer = client.get("/reports/monthly.json?node=12")
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] == "node"
    assert client.get("/reports/monthly?month=2027-01").status_code == 422  # not begun


def test_a_county_supervisor_gets_404_for_another_countys_report(ctx, client_for, token_for, api):
    client = client_for("county_supervisor")
    for url in ("/reports/monthly?node=430202", "/reports/monthly?node=4302020001",
                "/reports/monthly?node=430000", "/reports/monthly.json?node=430202"):
        assert client.get(url).status_code == 404, url
    headers = token_for("county_supervisor")
    response = api.get("/api/v1/report/monthly?node=430202&month=2026-08", headers=headers)
    assert response.status_code == 404 and response.get_json()["errors"][0]["field"] == "node"


def test_the_api_answers_the_report_as_json(ctx, token_for, api):
    response = api.get(f"/api/v1/report/monthly?node=430202&month={LAST_MONTH}",
                       headers=token_for("county2_supervisor"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["node"] == {"code": "430202", "name": "荷塘区", "level": "county"}
    assert [f["key"] for f in body["figures"]] == [i.key for i in CATALOGUE]
    schools = db.session.scalars(select(School.code).where(School.county_code == "430202")).all()
    assert sorted(c["code"] for c in body["children"]) == sorted(schools) and len(schools) >= 2
    bad = api.get("/api/v1/report/monthly?month=13-2026", headers=token_for("county2_supervisor"))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "month"


def test_a_system_administrator_has_no_report(ctx, client_for, token_for, api):
    assert client_for("county_admin").get("/reports/monthly").status_code == 403
    assert api.get("/api/v1/report/monthly", headers=token_for("county_admin")).status_code == 403


@pytest.mark.parametrize("username, shown", [("prov_supervisor", True), ("school_registrar", True),
                                             ("county_admin", False)])
def test_the_reports_menu_offers_the_monthly_report(ctx, client_for, username, shown):
    menu = Page(client_for(username).get("/").get_data(as_text=True)).menu
    assert ("/reports/monthly" in menu) is shown


# -- the command line --------------------------------------------------------------------------------

def test_the_command_prints_the_report_in_chinese(app):
    result = app.test_cli_runner().invoke(args=["report", "monthly", "--node", "430202", "--month",
                                                LAST_MONTH, "--as", "county2_supervisor"])
    assert result.exit_code == 0, result.output
    assert "荷塘区（430202）2026-08 月报" in result.output and "在籍学生数：" in result.output


def test_the_command_prints_json(app):
    result = app.test_cli_runner().invoke(args=["report", "monthly", "--node", "430102", "--month",
                                                LAST_MONTH, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["node"]["code"] == "430102"


def test_the_command_refuses_another_countys_report(app):
    result = app.test_cli_runner().invoke(args=["report", "monthly", "--node", "430202", "--month",
                                                LAST_MONTH, "--as", "county_supervisor"])
    assert result.exit_code == 1 and "430202" in result.output


def test_close_takes_a_month_once_and_refuses_the_current_one(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["report", "close", "--month", "2026-07"])
    again = runner.invoke(args=["report", "close", "--month", "2026-07"])
    assert first.exit_code == 0 and first.output == again.output, (first.output, again.output)
    current = runner.invoke(args=["report", "close", "--month", "2026-09"])
    assert current.exit_code == 1 and "尚未结束" in current.output
