"""The monthly report's files (app/documents/report_xlsx.py, report_pdf.py) from a hand-built
Report: every figure with its definition, the breakdowns, the drill-down, the trend, native
charts in the workbook, charts and an embedded CJK font in the PDF, and the same bytes every time
(the signature is taken over them)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart, PieChart

from app.documents import report_pdf, report_xlsx
from app.services.reports.model import ChildRow, Figure, Report, Table

GENERATED = datetime(2026, 9, 1, 8, 30, 15, 123456)


def sample(**changes) -> Report:
    figures = (
        Figure("students_on_record", "在籍学生数", "月末学籍状态为在校的学生人数，按年级、性别分列。", "人",
               1234, 1200, table=Table(("年级", "男", "女"), (("一年级", 300, 290), ("二年级", 310, 334))),
               chart="bar"),
        Figure("changes_by_type", "学籍异动（按类型）", "本月办结的学籍异动件数，按类型分列。", "件", 17, 20,
               table=Table(("类型", "件数"), (("休学", 5), ("复学", 7), ("转学", 5))), chart="pie"),
        Figure("grade1_to_grade2", "一年级与二年级人数比", "一年级在籍人数 ÷ 二年级在籍人数。", "%", 61.5, 72.0,
               flagged=True, flag_note="低于 70%"),
        Figure("pending_approvals", "待审批业务（按层级）", "月末尚未办结的业务，按当前审批层级。", "件", 9,
               None, table=Table(("层级", "待审批", "超期"), (("学校", 4, 1), ("县/区", 5, None))),
               chart="bar"),
        Figure("odd_words", "=SUM(A1:A2)", "-2 开头的说明", "件", None),
    )
    trend = {"students_on_record": (("2026-06", 1190), ("2026-07", 1200), ("2026-08", 1234)),
             "grade1_to_grade2": (("2026-06", 75.0), ("2026-07", 72.0), ("2026-08", 61.5))}
    children = (ChildRow("4301020001", "芙蓉区育英小学", "school",
                         {"students_on_record": 600, "grade1_to_grade2": 80.0}),
                ChildRow("4301020002", "芙蓉区启明初级中学", "school", {"students_on_record": 634}))
    fields = dict(node_code="430102", node_name="芙蓉区", node_level="county", month=date(2026, 8, 1),
                  as_of=datetime(2026, 8, 31, 23, 59, 59), generated_at=GENERATED, figures=figures,
                  children=children, trend=trend)
    return Report(**(fields | changes))


def xlsx_bytes(report: Report, **kw) -> bytes:
    out = io.BytesIO()
    report_xlsx.write(report, out, **kw)
    return out.getvalue()


def pdf_bytes(report: Report, **kw) -> bytes:
    out = io.BytesIO()
    report_pdf.write(report, out, **kw)
    return out.getvalue()


def rows(sheet) -> list[tuple]:
    return [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]


# --- xlsx -------------------------------------------------------------------------------------

def test_the_workbook_has_the_header_and_one_row_per_figure_with_its_definition():
    book = load_workbook(io.BytesIO(xlsx_bytes(sample())))
    assert book.sheetnames[0] == "月报"
    lines = rows(book["月报"])
    assert lines[0][0] == "芙蓉区 2026-08 学籍管理月报"
    header = {r[0]: r[1] for r in lines[1:6]}
    assert header == {"单位": "芙蓉区（430102，县/区）", "月份": "2026-08", "统计截至": "2026-08-31 23:59",
                      "生成时间": "2026-09-01 08:30", "状态": "草稿（未签发）"}
    heads = lines[6]
    assert heads == ("指标", "数值", "单位", "上月", "环比变化", "提示", "口径说明")
    figures = {r[0]: r[1:] for r in lines[7:]}
    assert figures["在籍学生数"] == (1234, "人", 1200, 34, None, "月末学籍状态为在校的学生人数，按年级、性别分列。")
    assert figures["学籍异动（按类型）"][:4] == (17, "件", 20, -3)
    assert figures["一年级与二年级人数比"][:5] == (61.5, "%", 72, -10.5, "低于 70%")
    assert figures["待审批业务（按层级）"][:4] == (9, "件", None, None)
    assert len(figures) == 5


def test_text_that_looks_like_a_formula_stays_text():
    book = load_workbook(io.BytesIO(xlsx_bytes(sample())))
    cell = next(c for row in book["月报"].iter_rows() for c in row if c.value == "=SUM(A1:A2)")
    assert cell.data_type == "s"
    definition = book["月报"].cell(row=cell.row, column=7)
    assert definition.value == "-2 开头的说明" and definition.data_type == "s"


def test_each_breakdown_has_its_sheet_with_a_native_chart_of_its_kind():
    book = load_workbook(io.BytesIO(xlsx_bytes(sample())))
    stage = book["在籍学生数"]
    assert rows(stage)[2:] == [("年级", "男", "女"), ("一年级", 300, 290), ("二年级", 310, 334)]
    assert [type(c) for c in stage._charts] == [BarChart]
    assert len(stage._charts[0].series) == 2  # 男, 女
    assert [type(c) for c in book["学籍异动（按类型）"]._charts] == [PieChart]
    pending = book["待审批业务（按层级）"]
    assert rows(pending)[-1] == ("县/区", 5, None)
    assert [type(c) for c in pending._charts] == [BarChart]
    assert "一年级与二年级人数比" not in book.sheetnames  # no breakdown, no sheet


def test_the_drill_down_and_trend_sheets():
    book = load_workbook(io.BytesIO(xlsx_bytes(sample())))
    assert rows(book["下级单位"]) == [
        ("代码", "名称", "层级", "在籍学生数", "一年级与二年级人数比"),
        ("4301020001", "芙蓉区育英小学", "学校", 600, 80),
        ("4301020002", "芙蓉区启明初级中学", "学校", 634, None)]
    trend = book["趋势"]
    assert rows(trend) == [("月份", "在籍学生数", "一年级与二年级人数比"), ("2026-06", 1190, 75),
                           ("2026-07", 1200, 72), ("2026-08", 1234, 61.5)]
    assert [type(c) for c in trend._charts] == [LineChart, LineChart]


def test_the_same_report_gives_the_same_bytes_and_its_own_times():
    first, second = xlsx_bytes(sample()), xlsx_bytes(sample())
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 9, 1, 8, 30, 14)}  # 2-second steps
    props = load_workbook(io.BytesIO(first)).properties
    assert props.created == props.modified == datetime(2026, 9, 1, 8, 30, 15)
    later = xlsx_bytes(sample(generated_at=datetime(2026, 9, 2, 9, 0)))
    assert later != first


def test_a_signed_report_names_its_signer_and_english_is_english():
    signed = sample(status="signed", signed_by="county_supervisor", signed_at=datetime(2026, 9, 3, 10, 5))
    book = load_workbook(io.BytesIO(xlsx_bytes(signed)))
    header = {r[0]: r[1] for r in rows(book["月报"])[1:8]}
    assert header["状态"] == "已签发"
    assert header["签发人"] == "county_supervisor" and header["签发时间"] == "2026-09-03 10:05"
    english = load_workbook(io.BytesIO(xlsx_bytes(signed, lang="en")))
    assert english.sheetnames[0] == "Report" and "Units below" in english.sheetnames
    assert rows(english["Report"])[8][:3] == ("Indicator", "Value", "Unit")


def edge_cases() -> Report:
    """A stage-and-grade table with a total column, a breakdown two figures share, all-zero
    charts, a trend line of one month and one of none."""
    stage = Table(("学段", "年级", "男", "女", "合计"),
                  (("小学", "一年级", 3, 4, 7), ("小学", "二年级", 5, 6, 11), ("初中", "初一", 1, 0, 1)))
    pending = Table(("层级", "待审批", "超期"), (("学校", 0, 0), ("县/区", 0, 0)))
    figures = (
        Figure("students_on_record", "在籍学生数", "按学段、年级、性别。", "人", 19, None, table=stage, chart="bar"),
        Figure("approvals_pending", "待审批业务数", "月末待审批。", "件", 0, 0, table=pending, chart="bar"),
        Figure("approvals_overdue", "超期待审批业务数", "其中超期。", "件", 0, 0, table=pending),
        Figure("changes", "学籍异动人数", "按类型。", "人", 0, 0, table=Table(("类型", "人数"), (("休学", 0),)),
               chart="pie"),
    )
    trend = {"students_on_record": (("2026-07", None), ("2026-08", 19)),
             "approvals_pending": (("2026-07", None), ("2026-08", None))}
    return sample(figures=figures, trend=trend, children=())


def test_shared_breakdowns_once_and_two_level_categories_in_the_workbook():
    book = load_workbook(io.BytesIO(xlsx_bytes(edge_cases())))
    assert book.sheetnames == ["月报", "在籍学生数", "待审批业务数", "学籍异动人数", "趋势"]
    assert book["待审批业务数"]["A1"].value == "待审批业务数、超期待审批业务数"
    chart = book["在籍学生数"]._charts[0]
    assert [s.tx.strRef.f for s in chart.series] == ["'在籍学生数'!C4", "'在籍学生数'!D4"]  # 男, 女; no 合计
    assert chart.series[0].cat.multiLvlStrRef.f == "'在籍学生数'!$A$5:$B$7"  # 学段 and 年级
    assert book["待审批业务数"]._charts[0].series[0].cat.strRef.f == "'待审批业务数'!$A$5:$A$6"


def test_edge_cases_draw_in_the_pdf():
    text = pdf_text(pdf_bytes(edge_cases(), compress=False))
    assert "待审批业务数、超期待审批业务数" in text  # one section for the shared table
    assert text.count("小学 一年级") == 1  # the two naming columns make one axis label
    assert "合计" in text  # the total stays in the table (not drawn as a series)


def test_an_empty_report_still_writes_a_workbook():
    book = load_workbook(io.BytesIO(xlsx_bytes(sample(figures=(), children=(), trend={}))))
    assert book.sheetnames == ["月报"]


def test_written_to_a_path(tmp_path):
    target = tmp_path / "月报.xlsx"
    report_xlsx.write(sample(), target)
    assert target.read_bytes() == xlsx_bytes(sample())
    report_pdf.write(sample(), tmp_path / "月报.pdf")
    assert (tmp_path / "月报.pdf").read_bytes() == pdf_bytes(sample())


# --- PDF --------------------------------------------------------------------------------------

def _unescape(raw: bytes) -> bytes:
    """A PDF literal string's bytes (octal and backslash escapes undone)."""
    return re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                  else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1)), raw, flags=re.S)


def pdf_text(data: bytes) -> str:
    """The text an uncompressed PDF shows, decoded through each font's ToUnicode map (reportlab
    writes an embedded TrueType font as subsets of one-byte codes): enough to read our own files."""
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}
    maps = {}
    for body in objects.values():
        if m := re.search(rb"/Name /(F\d+\+\d+).*?/ToUnicode (\d+) 0 R", body, re.S):
            maps[m.group(1)] = {int(a, 16): chr(int(b, 16)) for a, b in
                                re.findall(rb"<([0-9A-F]{2})> <([0-9A-F]{4})>", objects[int(m.group(2))])}
    shown = []
    for body in objects.values():
        if b"stream" not in body or b"/Length1" in body:  # not a content stream, or the font file
            continue
        for block in re.findall(rb"BT(.*?)ET", body, re.S):
            font = None
            for m in re.finditer(rb"/(F\d+(?:\+\d+)?) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", block, re.S):
                if m.group(1):
                    font = m.group(1)
                else:
                    raw = _unescape(m.group(2))
                    table = maps.get(font)
                    shown.append("".join(table.get(b, "?") for b in raw) if table else raw.decode("latin-1"))
    return "".join(shown)


@pytest.fixture(scope="module")
def pdf():
    return pdf_bytes(sample(), compress=False)


def test_the_pdf_embeds_its_cjk_font(pdf):
    assert b"/FontFile2" in pdf  # a TrueType font program inside the file
    assert b"WenQuanYiMicroHei" in pdf
    assert b"STSong" not in pdf  # not the reader-supplied CID font
    assert b"/FontFile2" in pdf_bytes(sample())  # compressed as served


def test_the_pdf_shows_the_figures_with_their_definitions_and_breakdowns(pdf):
    text = pdf_text(pdf)
    assert "芙蓉区 2026-08 学籍管理月报" in text
    for figure in sample().figures:
        assert figure.name in text, figure.name
        assert figure.definition in text, figure.definition
    assert "低于 70%" in text  # the flag
    assert "1234" in text and "+34" in text and "-10.5" in text
    assert "芙蓉区育英小学" in text and "芙蓉区启明初级中学" in text  # drill-down
    assert "草稿（未签发）" in text


def test_the_pdf_draws_the_charts(pdf):
    text = pdf_text(pdf)
    # a category is printed in its breakdown table and again under its bar
    assert text.count("二年级") >= 2 and text.count("县/区") >= 3  # also in the header line
    assert "复学  7（41.2%）" in text  # the pie's legend: count and share
    assert text.count("2026-07") >= 2  # two trend lines' axes
    first_colour = rb"\.329412 \.439216 \.776471 rg"  # the palette's first series (#5470c6)
    assert len(re.findall(first_colour, pdf)) >= 4  # bars of two charts, a pie slice, legends
    plain = sample(figures=tuple(replace(f, chart=None) for f in sample().figures), trend={})
    assert re.findall(first_colour, pdf_bytes(plain, compress=False)) == []  # no chart, no colour


def test_the_pdf_is_the_same_bytes_each_time_and_changes_with_the_report(pdf):
    assert pdf_bytes(sample(), compress=False) == pdf
    assert pdf_bytes(sample()) == pdf_bytes(sample())
    other = pdf_bytes(sample(status="signed", signed_by="county_supervisor",
                             signed_at=datetime(2026, 9, 3, 10, 5)), compress=False)
    assert other != pdf
    assert "county_supervisor" in pdf_text(other) and "已签发" in pdf_text(other)


def test_an_empty_report_still_writes_a_pdf():
    data = pdf_bytes(sample(figures=(), children=(), trend={}), compress=False)
    assert data.startswith(b"%PDF") and "学籍管理月报" in pdf_text(data)
