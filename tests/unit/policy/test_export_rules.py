"""导出审批 in the rule files: which exports wait for a supervisor, each reason citing its file:line;
the province decides over the national threshold, cities and counties only tighten it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.policy import RuleSetInvalid, load_texts, read_dir
from app.policy.exports import export_clearance, export_hold, export_rules

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = read_dir(ROOT / "rules")
FURONG = ("430000", "430100", "430102")
COUNTY_LINE = len(SHIPPED["430102.yaml"].splitlines()) + 2  # the appended `exports:` line


def _with(name: str, extra: str):
    return load_texts({**SHIPPED, name: SHIPPED[name] + "\n" + extra + "\n"})


def _reasons(ruleset, level: str, rows: int) -> list[tuple[str, str]]:
    return [(v.code, v.source) for v in export_hold(ruleset.effective(*FURONG), level=level, rows=rows)]


@pytest.mark.parametrize("level, rows, expected", [
    ("school", 1000, []),
    ("school", 1001, [("export_over_rows", "rules/national.yaml:196")]),
    ("county", 10, [("export_scope", "rules/national.yaml:197")]),
    ("province", 5000, [("export_over_rows", "rules/national.yaml:196"), ("export_scope", "rules/national.yaml:197")]),
])
def test_the_shipped_baseline_holds_large_and_whole_bureau_exports(level, rows, expected):
    assert _reasons(load_texts(SHIPPED), level, rows) == expected


def test_a_county_tightens_for_itself_with_its_own_line():
    ruleset = _with("430102.yaml", "exports: {approval_over_rows: 100, approval_scopes: [school, county]}")
    assert _reasons(ruleset, "school", 101) == [("export_over_rows", f"rules/430102.yaml:{COUNTY_LINE}"),
                                                ("export_scope", f"rules/430102.yaml:{COUNTY_LINE}")]
    assert _reasons(ruleset, "county", 1)[0] == ("export_scope", "rules/national.yaml:197")  # kept from above
    assert export_hold(ruleset.effective("430000", "430200", "430202"), level="school", rows=101) == ()


@pytest.mark.parametrize("extra, message", [
    ("exports: {approval_over_rows: 5000}",
     "exports.approval_over_rows: a county may only lower approval_over_rows; rules/national.yaml:196 sets 1000"),
    ("exports: {approval_over_rows: -1}", "exports.approval_over_rows: Input should be greater than or equal to 0"),
    ("exports: {approval_scopes: [district]}", "exports.approval_scopes.0: Input should be"),
    ("exports: {approval_rows: 5}", "exports.approval_rows: Extra inputs are not permitted"),
])
def test_a_county_may_not_loosen_the_threshold_or_write_nonsense(extra, message):
    with pytest.raises(RuleSetInvalid) as bad:
        _with("430102.yaml", extra)
    assert f"rules/430102.yaml:{COUNTY_LINE}: {message}" in str(bad.value)


def test_a_province_decides_over_the_national_threshold():
    ruleset = _with("430000.yaml", "exports: {approval_over_rows: 5000, approval_scopes: [province]}")
    assert _reasons(ruleset, "county", 4000) == []
    rules = export_rules(ruleset.effective(*FURONG))
    assert rules["approval_over_rows"]["value"] == 5000
    assert [s["level"] for s in rules["approval_scopes"]] == ["province"]


WINDOW_LINE = "rules/national.yaml:201"


def test_rows_exported_inside_the_window_count_with_this_export_naming_both_lines():
    eff = load_texts(SHIPPED).effective(*FURONG)
    assert export_hold(eff, level="school", rows=600, earlier=400) == ()
    (held,) = export_hold(eff, level="school", rows=600, earlier=401)
    assert (held.code, held.source) == ("export_over_rows_in_window", "rules/national.yaml:196")
    assert "24 小时内已导出的 401 名" in held.message and WINDOW_LINE in held.message and "共 1001 名" in held.message
    (alone,) = export_hold(eff, level="school", rows=1001, earlier=500)  # over on its own: the plain reason
    assert alone.code == "export_over_rows"


def test_an_export_no_rule_holds_records_the_lines_that_let_it_go():
    clear = export_clearance(load_texts(SHIPPED).effective(*FURONG), level="school", rows=600, earlier=40)
    assert clear.source == f"rules/national.yaml:196; {WINDOW_LINE}"
    assert "600" in clear.message and "40" in clear.message and "无需" in clear.message


def test_a_county_may_lengthen_the_window_but_not_shorten_it():
    longer = _with("430102.yaml", "exports: {approval_window_hours: 72}")
    assert export_rules(longer.effective(*FURONG))["approval_window_hours"] == {
        "value": 72, "source": f"rules/430102.yaml:{COUNTY_LINE}"}
    assert export_rules(load_texts(SHIPPED).effective(*FURONG))["approval_window_hours"]["source"] == WINDOW_LINE


@pytest.mark.parametrize("extra, message", [
    ("exports: {approval_window_hours: 2}",
     "exports.approval_window_hours: a county may only lengthen approval_window_hours; "
     f"{WINDOW_LINE} sets 24"),
    ("exports: {approval_window_hours: -1}", "exports.approval_window_hours: Input should be greater than or equal to 0"),
    ("exports: {approval_window_hours: 10000}", "exports.approval_window_hours: Input should be less than or equal to 744"),
    ("exports: {approval_window_hours: soon}", "exports.approval_window_hours: Input should be a valid integer"),
])
def test_a_bad_window_is_refused_naming_file_and_line(extra, message):
    with pytest.raises(RuleSetInvalid) as bad:
        _with("430102.yaml", extra)
    assert f"rules/430102.yaml:{COUNTY_LINE}: {message}" in str(bad.value)
