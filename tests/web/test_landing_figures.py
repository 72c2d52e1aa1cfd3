"""Each role's landing page shows its own figures: a registrar its to-do and its jurisdiction's data
quality (counted on hand-made rows, and another county's rows never counted), a supervisor last
month's key indicators of its own node -- the monthly report's figures -- with their trend as JSON
for the ECharts line chart."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from factories import actor_of, registered_in
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import ProblemCase, ProblemMember, Request, School, Student
from app.services.reports import monthly
from app.views import home

IDS = {"pending": "todo-pending", "returned": "todo-returned", "pull": "todo-pull",
       "problems": "quality-problems", "unregistered": "quality-unregistered",
       "temporary": "quality-temporary"}


def figures_of(html: str) -> dict[str, int]:
    """The registrar's numbers on the page, by name (a missing block: KeyError)."""
    out = {}
    for name, element in IDS.items():
        m = re.search(rf'id="{element}">(\d+)<', html)
        assert m, f"#{element} missing"
        out[name] = int(m.group(1))
    return out


def page(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _request(student: Student, school: School, status: str, holder: str) -> Request:
    return Request(kind="suspend", status=status, student_id=student.id, student_uid=student.ensure_uid(),
                   student_name=student.name, requester_name="test", origin_school_id=school.id,
                   origin_province=school.province_code, origin_city=school.city_code,
                   origin_county=school.county_code, chain=[], holder_node=holder, holder_role="registrar",
                   step_started_at=datetime(2026, 9, 10, 9))


@pytest.fixture
def made(ctx):
    """Rows made for one test, deleted after it; students' changed columns put back."""
    rows, restore = [], []
    yield rows, restore
    db.session.rollback()
    for row in reversed(rows):
        db.session.execute(delete(type(row)).where(type(row).id == row.id))
    for student_id, values in restore:
        student = db.session.get(Student, student_id)
        for key, value in values.items():
            setattr(student, key, value)
    db.session.commit()


def test_a_registrar_sees_its_todo_and_data_quality_counted_in_its_jurisdiction(ctx, client_for, made):
    rows, restore = made
    county2 = client_for("county2_registrar")
    county = client_for("county_registrar")
    before2, before = figures_of(page(county2)), figures_of(page(county))

    mine = registered_in("4302020001")  # 荷塘区星光小学
    theirs = registered_in("4301020001")  # 芙蓉区育英小学 (another county)
    school2, school = mine.school, theirs.school
    restore += [(mine.id, {"registered": True, "registry_kind": mine.registry_kind}),
                (theirs.id, {"registered": True, "registry_kind": theirs.registry_kind})]
    mine.registered, mine.registry_kind = False, "L"  # not registered, temporary number
    theirs.registered = False
    db.session.flush()
    other = registered_in("4302020001")
    made_rows = [
        _request(mine, school2, "pending", "bureau:430202"),  # waits for county2's registrar
        _request(other, school2, "returned", "bureau:430202"),
        _request(theirs, school, "pending", "bureau:430102"),  # county 430102's, not county2's
        ProblemCase(kind="invalid_id", group_key="landing-test-1", status="open"),
        ProblemCase(kind="invalid_id", group_key="landing-test-2", status="resolved"),
        ProblemCase(kind="invalid_id", group_key="landing-test-3", status="arbitration"),
    ]
    db.session.add_all(made_rows)
    db.session.flush()
    members = [ProblemMember(case_id=made_rows[3].id, student_id=mine.id, student_uid=mine.uid,
                             school_id=school2.id),
               ProblemMember(case_id=made_rows[4].id, student_id=mine.id, student_uid=mine.uid,
                             school_id=school2.id),
               ProblemMember(case_id=made_rows[5].id, student_id=theirs.id, student_uid=theirs.uid,
                             school_id=school.id)]
    db.session.add_all(members)
    db.session.commit()
    rows += made_rows + members

    after2, after = figures_of(page(county2)), figures_of(page(county))
    assert {k: after2[k] - before2[k] for k in IDS} == {
        "pending": 1, "returned": 1, "pull": 0, "problems": 1, "unregistered": 1, "temporary": 1}
    assert {k: after[k] - before[k] for k in IDS} == {
        "pending": 1, "returned": 0, "pull": 0, "problems": 1, "unregistered": 1, "temporary": 0}


def test_a_school_registrar_counts_only_its_school(ctx, client_for):
    html = page(client_for("school_registrar"))
    numbers = figures_of(html)
    school = registered_in("4301020001").school
    expected = db.session.scalar(select(func.count()).select_from(Student).where(
        Student.school_id == school.id, Student.registered.is_(False)))
    assert numbers["unregistered"] == expected
    assert 'id="key-figures"' not in html  # a registrar has no supervisor's tiles


def _tiles(html: str) -> dict[str, tuple[str, str]]:
    """data-key -> (value, change) of the supervisor's tiles."""
    out = {}
    for m in re.finditer(r'data-key="(\w+)".*?class="figure-value">([^<]*)<.*?class="figure-change">([^<]*)<',
                         html, re.S):
        out[m.group(1)] = (m.group(2), m.group(3))
    return out


def test_a_supervisor_sees_last_months_key_figures_of_its_own_node_with_their_trend(ctx, client_for):
    home.REPORTS.clear()
    html = page(client_for("county_supervisor"))
    assert 'id="key-figures"' in html and "芙蓉区 · 2026-08" in html  # the clock is pinned to 2026-09-15
    report = monthly.compute(db.session, actor_of("county_supervisor"), None, "2026-08")
    db.session.commit()
    tiles = _tiles(html)
    assert list(tiles) == [k for k in home.KEY_FIGURES]
    for key, (value, change) in tiles.items():
        figure = report.figure(key)
        expected = "—" if figure.value is None else (
            str(figure.value) if isinstance(figure.value, int) else f"{figure.value:.1f}")
        assert value == expected, key
        if figure.change is None:
            assert change == "—", key
    data = json.loads(re.search(r'<script type="application/json" id="landing-data">(.*?)</script>',
                                html, re.S).group(1))
    assert data["trend"] == {k: [list(p) for p in v] for k, v in report.trend.items() if v}
    assert {f["key"] for f in data["figures"]} == set(data["trend"])
    assert len(data["trend"]["students_on_record"]) == 6  # six months, oldest first
    assert [m for m, _ in data["trend"]["students_on_record"]][-1] == "2026-08"
    assert 'data-charts="trend"' in html and "vendor/echarts/echarts.min.js" in html
    assert 'href="/reports/monthly?node=430102&amp;month=2026-08"' in html  # the whole report


def test_each_supervisor_sees_its_own_node_only(ctx, client_for):
    home.REPORTS.clear()
    mine = page(client_for("county2_supervisor"))
    assert "荷塘区 · 2026-08" in mine and "芙蓉区 · 2026-08" not in mine
    report = monthly.compute(db.session, actor_of("county2_supervisor"), None, "2026-08", trend=False)
    db.session.commit()
    value = _tiles(mine)["students_on_record"][0]
    assert value == str(report.figure("students_on_record").value)
    school = page(client_for("school_supervisor"))
    assert "芙蓉区育英小学 · 2026-08" in school


def test_the_figures_count_a_transfer_made_in_last_month(ctx, client_for, made):
    """A transfer into county2's school completed on 5 August: the tile of transfers in moves by
    exactly one -- once the kept copy of the report has gone (a past month's copy stays true,
    except for rows written into the past as here)."""
    rows, _ = made
    home.REPORTS.clear()
    before = _tiles(page(client_for("county2_supervisor")))
    student = registered_in("4302020002")
    req = _request(student, student.school, "done", None)
    req.kind, req.variant = "transfer", "cross_county"
    req.created_at, req.closed_at = datetime(2026, 8, 3, 9), datetime(2026, 8, 5, 9)
    db.session.add(req)
    db.session.commit()
    rows.append(req)
    assert _tiles(page(client_for("county2_supervisor"))) == before  # the kept copy
    home.REPORTS.clear()
    after = _tiles(page(client_for("county2_supervisor")))
    assert int(after["transfers_in"][0]) == int(before["transfers_in"][0]) + 1
    assert after["transfers_out"] == before["transfers_out"]


def test_no_figures_for_a_system_administrator_or_a_visitor(ctx, client_for, app):
    html = page(client_for("county_admin"))
    assert 'id="key-figures"' not in html and 'id="todo"' not in html
    assert "echarts" not in html
    anonymous = app.test_client().get("/")
    assert 'id="key-figures"' not in anonymous.get_data(as_text=True)
