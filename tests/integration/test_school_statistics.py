"""学校统计表 and 关注名单 on hand-built students with known answers: every column of one school,
the roll-up from school to county, city and province, the watch lists, set-based SQL, scoping,
the xlsx and the CLI."""

from __future__ import annotations

import json
from datetime import date
from io import BytesIO

import pytest
from factories import actor_of
from openpyxl import load_workbook
from sqlalchemy import event, select
from statistics_data import NOW, ONE, TWO, build

from app.cli_statistics import report_group
from app.documents import statistics_xlsx
from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Student
from app.services.common.actors import Actor
from app.services.reports import nodes, statistics, watch
from app.services.reports.statistics import compute, school_statistics


@pytest.fixture(scope="module")
def built(app):
    return build(app)


def _stats(code: str, username: str | None = None):
    who = actor_of(username) if username else Actor.system()
    return school_statistics(db.session, who, code, NOW)


# -- every column of one school -----------------------------------------------------------------

EXPECTED_ONE = {
    "classes": 3, "students": 5, "boys": 3, "girls": 2,
    "minority": 1, "migrant": 2, "out_of_county": 1,
    "left_behind_1": 1, "left_behind_2": 1, "left_behind": 2,
    "hukou_nature_1": 2, "hukou_nature_2": 2, "hukou_nature_3": 1,
    "entry_mode_11": 3, "entry_mode_12": 1, "entry_mode_99": 1, "entry_mode_21": 0,
    "orphan": 1, "martyr_child": 1, "needs_subsidy": 1, "receives_subsidy": 1, "disability": 1,
    "problem": 1,
}


def test_a_schools_row_counts_each_column_exactly(ctx, built):
    county = _stats("430102")
    got = {key: county.value(ONE, key) for key in EXPECTED_ONE}
    assert got == EXPECTED_ONE
    assert (county.value(ONE, "g1_classes"), county.value(ONE, "g1_students"), county.value(ONE, "g1_girls"),
            county.value(ONE, "g2_classes"), county.value(ONE, "g2_students"), county.value(ONE, "g2_girls")) \
        == (2, 4, 2, 1, 1, 0)


def test_a_school_is_shown_by_grade_with_its_total(ctx, built):
    school = _stats(ONE)
    assert [r.name for r in school.rows] == ["一年级", "二年级"]
    assert (school.value("1", "classes"), school.value("1", "students"), school.value("1", "boys"),
            school.value("1", "girls"), school.value("1", "left_behind")) == (2, 4, 2, 2, 2)
    assert (school.value("2", "classes"), school.value("2", "students"), school.value("2", "problem")) == (1, 1, 1)
    assert {key: school.value(ONE, key) for key in EXPECTED_ONE} == EXPECTED_ONE
    assert all(r.drill is None for r in school.rows)


def test_a_student_without_grade_and_a_school_without_classes_still_count(ctx, built):
    county = _stats("430102")
    assert (county.value(TWO, "classes"), county.value(TWO, "students"), county.value(TWO, "girls")) == (0, 1, 1)
    row = next(r for r in county.rows if r.code == TWO)
    assert row.drill == TWO
    assert [r.name for r in _stats(TWO).rows] == ["未编年级"]


def test_columns_are_headed_with_the_code_tables_names(ctx, built):
    columns = {c.key: (c.group, c.label) for c in _stats("430102").columns}
    assert columns["left_behind_1"] == ("留守儿童", "单亲留守儿童")
    assert columns["hukou_nature_1"] == ("户口性质", "农业户口")
    assert columns["entry_mode_12"] == ("入学方式", "其他（12）")  # two codes share the name
    assert columns["entry_mode_11"] == ("入学方式", "就近入学")
    assert columns["g1_students"] == ("一年级", "学生数")


# -- summed up the tree ---------------------------------------------------------------------------

def _common(a, b) -> list[str]:
    return [c.key for c in a.columns if c.key in {d.key for d in b.columns}]


def test_each_level_rolls_up_to_the_sum_of_its_children(ctx, built):
    province, city, county = _stats("430000"), _stats("430100"), _stats("430102")
    for parent, child, code in ((province, city, "430100"), (city, county, "430102")):
        for key in _common(parent, child):
            assert parent.value(code, key) == child.value(code, key), (code, key)
    for key in _common(county, county):
        index = [c.key for c in county.columns].index(key)
        assert county.total.values[index] == sum(r.values[index] for r in county.rows)
    school = _stats(ONE)
    for key in _common(county, school):
        assert county.value(ONE, key) == school.value(ONE, key), key
    assert province.value("430000", "students") == sum(
        _stats(c).value(c, "students") for c in ("430100", "430200"))


def test_students_on_record_agree_with_the_student_table(ctx, built):
    from sqlalchemy import func

    expected = db.session.scalar(select(func.count()).select_from(Student).where(
        Student.county_code == "430102", Student.status.in_(statistics.ON_RECORD)))
    assert _stats("430102").value("430102", "students") == expected
    from app.services.reports import stock

    assert statistics.ON_RECORD == stock.ON_RECORD  # 在籍 means the same as in the monthly report


def test_the_table_takes_two_grouped_queries_whatever_the_number_of_students(ctx, built):
    engine = db.session.get_bind()
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    county = nodes.find(db.session, "430102")
    province = nodes.find(db.session, "430000")
    compute(db.session, county, NOW)  # the code tables are read once, then cached per request
    event.listen(engine, "before_cursor_execute", count)
    try:
        seen.clear()
        compute(db.session, county, NOW)
        at_county = [s for s in seen if "GROUP BY" in s.upper()]
        seen.clear()
        compute(db.session, province, NOW)
        at_province = [s for s in seen if "GROUP BY" in s.upper()]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(at_county) == len(at_province) == 2


# -- watch lists -----------------------------------------------------------------------------------

def test_who_left_and_is_received_nowhere_is_on_the_watch_list(ctx, built):
    lists = watch.watch_lists(db.session, Actor.system(), ONE, NOW)
    assert [(d.name, d.status, d.left_on) for d in lists.departed] == [("己辍学", "辍学", date(2026, 8, 20))]
    assert lists.departed_count == 1  # 辛转出 left ONE but is on record at TWO; 庚毕业 graduated
    two = watch.watch_lists(db.session, Actor.system(), TWO, NOW)
    assert [(d.name, d.left_on) for d in two.departed] == [("壬辍学", date(2026, 9, 1))]


def test_a_transfer_waiting_to_be_pulled_is_listed_at_the_sending_school(ctx, built):
    lists = watch.watch_lists(db.session, Actor.system(), ONE, NOW)
    assert [(w.name, w.from_school, w.to_school, w.since, w.days) for w in lists.waiting] == [
        ("甲", "统计测试小学", "荷塘区星光小学", date(2026, 9, 5), 10)]
    receiving = watch.watch_lists(db.session, Actor.system(), "4302020001", NOW)
    assert "甲" not in [w.name for w in receiving.waiting]


def test_dropouts_are_counted_by_school_and_month_over_twelve_months(ctx, built):
    lists = watch.watch_lists(db.session, Actor.system(), "430102", NOW)
    assert lists.months[0] == "2025-10" and lists.months[-1] == "2026-09" and len(lists.months) == 12
    rows = {r.code: r.counts for r in lists.dropouts}
    assert rows[ONE][lists.months.index("2026-08")] == 1 and sum(rows[ONE]) == 1
    assert rows[TWO][lists.months.index("2026-09")] == 1 and sum(rows[TWO]) == 1  # 2025-06 is too old
    assert lists.dropout_total.counts == tuple(sum(r[i] for r in rows.values()) for i in range(12))


def test_watch_lists_mask_numbers(ctx, built):
    student = db.session.scalar(select(Student).where(Student.name == "己辍学"))
    row = watch.watch_lists(db.session, Actor.system(), ONE, NOW).departed[0]
    assert row.registry_no == student.registry_no_masked and row.registry_no != student.registry_no
    assert "*" in row.registry_no


# -- scoping ---------------------------------------------------------------------------------------

def test_an_account_reads_only_its_own_node_and_below(ctx, built):
    assert _stats(None, "county_supervisor").node_code == "430102"  # by default, one's own node
    assert _stats("4301020001", "county_supervisor").node_code == "4301020001"
    for code in ("430202", "4302020001", "430100", "430000"):
        with pytest.raises(NotFound):
            _stats(code, "county_supervisor")
    with pytest.raises(NotFound):
        _stats("430102", "school_registrar")
    with pytest.raises(NotFound):
        watch.watch_lists(db.session, actor_of("county_supervisor"), "430202", NOW)
    with pytest.raises(Forbidden):
        _stats("430102", "county_admin")  # a system administrator sees no student figures


def test_a_bad_node_names_the_field(ctx, built):
    with pytest.raises(ValidationFailed) as caught:
        _stats("43x", "county_supervisor")
    assert caught.value.problems[0].field == "node"


# -- the workbook and the command ------------------------------------------------------------------

def _sheet_rows(data: bytes) -> dict[str, list]:
    sheet = load_workbook(BytesIO(data)).active
    return {str(r[0]): list(r[2:]) for r in sheet.iter_rows(min_row=statistics_xlsx.HEADER_TOP + 2,
                                                            values_only=True)}


def test_the_workbook_holds_the_same_numbers_with_a_frozen_header(ctx, built):
    stats = _stats("430102")
    data = statistics_xlsx.to_bytes(stats)
    rows = _sheet_rows(data)
    assert rows == {**{r.code: list(r.values) for r in stats.rows}, "430102": list(stats.total.values)}
    sheet = load_workbook(BytesIO(data)).active
    assert sheet.freeze_panes == f"C{statistics_xlsx.HEADER_TOP + 2}"
    assert sheet.cell(statistics_xlsx.HEADER_TOP, 3).value == "合计"
    assert sheet.cell(statistics_xlsx.HEADER_TOP + 1, 4).value == "学生数"
    assert statistics_xlsx.to_bytes(_stats("430102")) == data  # deterministic


def test_the_command_prints_and_writes_the_table_within_the_accounts_jurisdiction(app, ctx, built, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "stat.xlsx"
    result = runner.invoke(report_group, ["statistics", "--node", ONE, "--as", "county_supervisor",
                                          "--xlsx", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].split("\t")[:7] == ["1", "一年级", "2", "4", "2", "2", "1"]  # classes, students, boys, girls, …
    assert _sheet_rows(out.read_bytes())[ONE][:4] == [3, 5, 3, 2]
    refused = runner.invoke(report_group, ["statistics", "--node", "430202", "--as", "county_supervisor"])
    assert refused.exit_code != 0 and "430202" in refused.output
    bad = runner.invoke(report_group, ["statistics", "--node", "nope"])
    assert bad.exit_code != 0 and "node" in bad.output and "Traceback" not in bad.output



def test_run_py_report_statistics_prints_json(app, ctx, built):
    result = app.test_cli_runner().invoke(args=["report", "statistics", "--node", ONE, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["total"]["values"]["students"] == 5 and body["rows"][0]["values"]["classes"] == 2
