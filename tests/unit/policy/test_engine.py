"""Decisions of the engine on the shipped rules: every rule kind, and how the levels stack.

National baseline → 湖南 430000 → 芙蓉区 430102.  Sources are asserted as ``rules/<file>:<line>``,
so a change to a shipped rule file shows up here as the decisions it changes.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from app.policy import Facts, RuleSetInvalid, evaluate, load_dir, load_texts

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "rules"

N, P, K = "rules/national.yaml", "rules/430000.yaml", "rules/430102.yaml"

FURONG = ("430000", "430100", "430102")  # 长沙市芙蓉区: has its own county file
TIANXIN = ("430000", "430100", "430103")  # 长沙市天心区: Changsha, no county file
ZHUZHOU = ("430000", "430200", "430202")  # 株洲市荷塘区: no city or county file
GUANGDONG = ("440000", "440100", "440103")  # no file of its own: the national baseline alone


def n(line: int) -> str:
    return f"{N}:{line}"


def n_of(fragment: str) -> str:
    """The national file's line holding ``fragment``: for entries that appended lines may move."""
    lines = (RULES / "national.yaml").read_text(encoding="utf-8").splitlines()
    return n(next(i for i, line in enumerate(lines, start=1) if fragment in line))


SUMMER_TRANSFER_FREEZE = n_of('{from: "07-15", to: "08-14", reason: 毕业升级期间不受理新的转学申请}')


def p(line: int) -> str:
    return f"{P}:{line}"


def k(line: int) -> str:
    return f"{K}:{line}"


def at(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, 0)


@pytest.fixture(scope="module")
def shipped():
    return load_dir(RULES)


@pytest.fixture(scope="module")
def national_only():
    return load_texts({"national.yaml": (RULES / "national.yaml").read_text(encoding="utf-8")})


def decide(ruleset, action, when, codes, **facts):
    return evaluate(ruleset, Facts(action=action, at=when, codes=codes, **facts))


def found(decision) -> list[tuple]:
    return [(v.code, v.source) for v in decision.violations]


def chain(decision) -> list[tuple]:
    return [(s.role, s.level, s.days, s.source) for s in decision.approval_chain]


def check(decision, violations) -> None:
    assert found(decision) == violations
    assert decision.allowed is (not violations)


# --- controlled fields 受控字段 ---------------------------------------------------------------

@pytest.mark.parametrize("codes, field, source", [
    pytest.param(ZHUZHOU, "name", n(10), id="national-locked-name"),
    pytest.param(ZHUZHOU, "id_number", n(10), id="national-locked-id-number"),
    pytest.param(GUANGDONG, "birth_date", n(10), id="national-locked-elsewhere-too"),
    pytest.param(ZHUZHOU, "nationality", n(11), id="national-default-kept-by-hunan"),
    pytest.param(ZHUZHOU, "birthplace", p(7), id="added-by-hunan"),
    pytest.param(FURONG, "hukou_location", p(7), id="hunan-field-inherited-by-county"),
    pytest.param(GUANGDONG, "hmt_status", n(11), id="hmt-status-controlled-nationally"),
    pytest.param(ZHUZHOU, "hmt_status", None, id="hmt-status-removed-by-hunan"),
    pytest.param(FURONG, "hmt_status", None, id="hmt-status-removed-for-the-county-too"),
    pytest.param(FURONG, "phone", k(7), id="phone-added-by-furong"),
    pytest.param(FURONG, "current_address", k(7), id="address-added-by-furong"),
    pytest.param(TIANXIN, "phone", None, id="phone-free-in-another-changsha-county"),
    pytest.param(ZHUZHOU, "phone", None, id="phone-free-in-zhuzhou"),
    pytest.param(GUANGDONG, "birthplace", None, id="hunan-field-free-outside-hunan"),
    pytest.param(FURONG, "health", None, id="never-controlled"),
])
def test_a_direct_edit_of_a_controlled_field_is_refused_with_the_level_that_controls_it(
        shipped, codes, field, source):
    d = decide(shipped, "edit_field", at(2026, 5, 6), codes, changed_fields=(field,))
    check(d, [("controlled_field", source)] if source else [])
    if source:
        assert d.violations[0].field == field


def test_every_controlled_field_of_one_edit_is_reported_in_the_order_edited(shipped):
    d = decide(shipped, "edit_field", at(2026, 5, 6), FURONG,
               changed_fields=("phone", "health", "name", "hmt_status", "entry_mode"))
    check(d, [("controlled_field", k(7)), ("controlled_field", n(10)),
              ("controlled_field", p(7))])
    assert [v.field for v in d.violations] == ["phone", "name", "entry_mode"]
    assert "联系电话" in d.violations[0].message


def test_a_direct_edit_needs_no_approval_and_has_no_window(shipped):
    d = decide(shipped, "edit_field", at(2026, 8, 5), FURONG, changed_fields=("health",))
    check(d, [])
    assert d.approval_chain == ()


# --- class caps 班额 -------------------------------------------------------------------------

@pytest.mark.parametrize("codes, stage, size, adding, source", [
    pytest.param(FURONG, "primary", 39, 1, None, id="furong-primary-39-takes-one-more"),
    pytest.param(FURONG, "primary", 40, 1, k(10), id="furong-primary-capped-at-40"),
    pytest.param(FURONG, "primary", 38, 3, k(10), id="furong-adding-three-to-38"),
    pytest.param(FURONG, "primary", 37, 3, None, id="furong-adding-three-to-37"),
    pytest.param(TIANXIN, "primary", 44, 1, None, id="changsha-primary-44-takes-one-more"),
    pytest.param(TIANXIN, "primary", 45, 1, p(11), id="changsha-primary-capped-at-hunan-45"),
    pytest.param(ZHUZHOU, "primary", 45, 1, p(11), id="zhuzhou-primary-capped-at-hunan-45"),
    pytest.param(GUANGDONG, "primary", 45, 1, n(16), id="national-primary-45"),
    pytest.param(FURONG, "junior", 49, 1, None, id="furong-junior-49-takes-one-more"),
    pytest.param(FURONG, "junior", 50, 1, p(12), id="furong-junior-locked-50-from-hunan"),
    pytest.param(ZHUZHOU, "senior", 50, 1, p(13), id="hunan-senior-50"),
    pytest.param(FURONG, "preschool", 35, 1, n(15), id="preschool-national-35"),
    pytest.param(FURONG, "preschool", 34, 1, None, id="preschool-34-takes-one-more"),
])
def test_a_class_never_holds_more_than_its_effective_cap(shipped, codes, stage, size, adding,
                                                         source):
    d = decide(shipped, "assign_class", at(2026, 9, 2), codes, stage=stage, class_size=size,
               adding=adding)
    check(d, [("class_full", source)] if source else [])
    if source:
        assert d.violations[0].field == "school_class"


def test_class_full_names_the_cap_and_the_current_size(shipped):
    d = decide(shipped, "assign_class", at(2026, 9, 2), FURONG, stage="primary", class_size=40)
    assert "40" in d.violations[0].message and "小学" in d.violations[0].message


# --- switches 业务开关 -----------------------------------------------------------------------

@pytest.mark.parametrize("codes, violations", [
    pytest.param(FURONG, [("switch_off", k(13))], id="switched-off-by-furong"),
    pytest.param(TIANXIN, [], id="on-in-another-changsha-county"),
    pytest.param(ZHUZHOU, [], id="on-in-zhuzhou"),
    pytest.param(GUANGDONG, [], id="on-nationally"),
])
def test_returnee_registration_is_off_only_in_furong(shipped, codes, violations):
    d = decide(shipped, "register_returnee", at(2026, 9, 10), codes, stage="primary")
    check(d, violations)
    assert chain(d) == [("supervisor", "school", 10, n(46)), ("registrar", "own_bureau", 10, n(47))]


@pytest.mark.parametrize("codes, kind, violations", [
    pytest.param(ZHUZHOU, "G", [("formal_record_delete", p(18))], id="hunan-G"),
    pytest.param(FURONG, "J", [("formal_record_delete", p(18))], id="hunan-J"),
    pytest.param(FURONG, "L", [], id="hunan-L-temporary-number"),
    pytest.param(FURONG, None, [], id="no-number-yet"),
    pytest.param(GUANGDONG, "G", [("formal_record_delete", n(24))], id="national-G"),
    pytest.param(GUANGDONG, "L", [], id="national-L"),
])
def test_a_record_with_a_formal_number_cannot_be_deleted(shipped, codes, kind, violations):
    d = decide(shipped, "delete_record", at(2026, 5, 6), codes, registry_kind=kind)
    check(d, violations)


# --- entry age 入学年龄 ------------------------------------------------------------------------

HUNAN_EXCEPTION = [("supervisor", "school", 5, p(21)), ("registrar", "own_bureau", 10, p(21))]
REGISTER_NEW = [("supervisor", "school", 10, n(35)), ("registrar", "own_bureau", 10, n(36))]


@pytest.mark.parametrize("codes, born, expected_chain", [
    pytest.param(FURONG, date(2020, 8, 31), REGISTER_NEW, id="six-on-the-cutoff-day"),
    pytest.param(FURONG, date(2019, 12, 1), REGISTER_NEW, id="well-over-six"),
    pytest.param(FURONG, date(2020, 9, 1), HUNAN_EXCEPTION, id="one-day-short-exception-path"),
    pytest.param(ZHUZHOU, date(2021, 2, 1), HUNAN_EXCEPTION, id="months-short-exception-path"),
])
def test_hunan_sends_a_child_under_age_down_its_exception_chain_instead(shipped, codes, born,
                                                                        expected_chain):
    d = decide(shipped, "register_new", at(2026, 9, 10), codes, stage="primary", grade=1,
               birth_date=born)
    check(d, [])
    assert chain(d) == expected_chain
    assert bool(d.notes) is (expected_chain is HUNAN_EXCEPTION)


@pytest.mark.parametrize("born, violations", [
    pytest.param(date(2020, 8, 31), [], id="six-on-the-cutoff-day"),
    pytest.param(date(2020, 9, 1), [("entry_age", n(27))], id="one-day-short-refused"),
])
def test_the_national_baseline_refuses_a_child_even_one_day_short(shipped, born, violations):
    d = decide(shipped, "register_new", at(2026, 9, 10), GUANGDONG, stage="primary",
               birth_date=born)
    check(d, violations)
    if violations:
        assert d.violations[0].field == "birth_date"
        assert "2026-08-31" in d.violations[0].message


def test_with_only_the_national_file_a_hunan_school_is_refused_a_day_short(national_only):
    d = decide(national_only, "register_new", at(2026, 9, 10), FURONG, stage="primary",
               birth_date=date(2020, 9, 1))
    check(d, [("entry_age", n(27))])
    assert chain(d) == REGISTER_NEW


def test_entry_age_counts_from_the_school_year_of_the_request(shipped):
    # registering in September 2027: the cutoff is 2027-08-31
    d = decide(shipped, "register_new", at(2027, 9, 10), GUANGDONG, birth_date=date(2021, 8, 31))
    check(d, [])
    d = decide(shipped, "register_new", at(2027, 9, 10), GUANGDONG, birth_date=date(2021, 9, 1))
    check(d, [("entry_age", n(27))])


def test_entry_age_is_not_checked_again_when_a_step_is_approved(shipped):
    d = decide(shipped, "register_new", at(2026, 10, 20), GUANGDONG, birth_date=date(2020, 9, 1),
               phase="step")
    check(d, [])


# --- windows 业务办理时间 --------------------------------------------------------------------

@pytest.mark.parametrize("action, when, codes, violations", [
    # yearly windows, in and out
    pytest.param("register_new", at(2026, 9, 1), FURONG, [], id="register-new-first-day"),
    pytest.param("register_new", at(2026, 9, 30, 23), FURONG, [], id="register-new-last-day"),
    pytest.param("register_new", at(2026, 10, 1), FURONG, [("outside_window", p(30))],
                 id="register-new-closed-by-hunan"),
    pytest.param("register_new", at(2026, 10, 1), GUANGDONG, [("outside_window", n(156))],
                 id="register-new-closed-nationally"),
    pytest.param("graduate", at(2026, 7, 30), ZHUZHOU, [], id="graduation-by-30-july"),
    pytest.param("graduate", at(2026, 7, 31), ZHUZHOU, [("outside_window", n(161))],
                 id="graduation-closed-31-july"),
    pytest.param("promote", at(2026, 8, 10, 23), ZHUZHOU, [], id="promotion-on-10-august"),
    pytest.param("promote", at(2026, 8, 11), ZHUZHOU, [("outside_window", n(163))],
                 id="promotion-not-on-11-august"),
    pytest.param("enroll", at(2026, 8, 10), FURONG, [("outside_window", n(165))],
                 id="enrollment-opens-11-august"),
    pytest.param("enroll_cross_province", at(2027, 3, 1), FURONG, [],
                 id="cross-province-enrollment-spring-range"),
    pytest.param("enroll_cross_province", at(2026, 12, 15), FURONG, [("outside_window", n(167))],
                 id="cross-province-enrollment-closed-15-december"),
    pytest.param("change_field", at(2026, 7, 1), ZHUZHOU, [("outside_window", p(35))],
                 id="key-field-change-closed-in-july"),
    pytest.param("change_field", at(2026, 9, 1), ZHUZHOU, [], id="key-field-change-september"),
    pytest.param("change_field", at(2026, 7, 1), GUANGDONG, [],
                 id="key-field-change-has-no-national-window"),
    # the province decides over the national window: Hunan opens in-school registration
    pytest.param("register_in_school", at(2026, 3, 15), ZHUZHOU, [],
                 id="in-school-spring-range-in-hunan"),
    pytest.param("register_in_school", at(2026, 11, 23), TIANXIN, [],
                 id="in-school-open-in-november-in-changsha"),
    pytest.param("register_in_school", at(2026, 7, 20), ZHUZHOU, [("outside_window", p(32))],
                 id="in-school-closed-over-the-summer"),
    # the county narrows: its layer and the province's must both be open
    pytest.param("register_in_school", at(2026, 12, 20), FURONG, [],
                 id="furong-in-school-to-20-december"),
    pytest.param("register_in_school", at(2026, 12, 21), FURONG, [("outside_window", k(17))],
                 id="furong-narrows-late-december-away"),
    pytest.param("register_in_school", at(2026, 2, 14), FURONG, [("outside_window", k(17))],
                 id="furong-narrows-early-february-away"),
    pytest.param("register_in_school", at(2026, 7, 20), FURONG,
                 [("outside_window", p(32))],
                 id="summer-closed-by-the-province-open-in-the-county-layer"),
    pytest.param("register_in_school", at(2026, 12, 25), FURONG,
                 [("outside_window", k(17))],
                 id="layers-intersect-the-county-closes-late-december"),
    # one-off ranges and a regional extension (data-quality verification 2026)
    pytest.param("verify_data", at(2026, 10, 7), FURONG, [("outside_window", p(40))],
                 id="verification-not-yet-open"),
    pytest.param("verify_data", at(2026, 10, 8), FURONG, [], id="verification-opens-8-october"),
    pytest.param("verify_data", at(2026, 12, 31, 23), FURONG, [],
                 id="verification-last-day-in-changsha"),
    pytest.param("verify_data", at(2027, 1, 10), FURONG, [("outside_window", p(40))],
                 id="verification-closed-in-changsha-in-january"),
    pytest.param("verify_data", at(2027, 1, 10), ZHUZHOU, [],
                 id="verification-extended-for-zhuzhou"),
    pytest.param("verify_data", at(2027, 1, 15), ZHUZHOU, [],
                 id="verification-zhuzhou-last-day"),
    pytest.param("verify_data", at(2027, 1, 16), ZHUZHOU, [("outside_window", p(40))],
                 id="verification-zhuzhou-closed-after-extension"),
    pytest.param("verify_data", at(2027, 10, 10), ZHUZHOU, [("outside_window", p(40))],
                 id="one-off-range-does-not-repeat-next-year"),
    pytest.param("verify_data", at(2030, 1, 1), GUANGDONG, [("switch_off", n(25))],
                 id="no-window-nationally-but-the-forms-switch-is-off"),
])
def test_a_request_outside_its_window_is_refused_with_the_rule_that_closed_it(
        shipped, action, when, codes, violations):
    d = decide(shipped, action, when, codes)
    check(d, violations)


def test_the_window_message_quotes_the_dates_open_in_the_region(shipped):
    changsha = decide(shipped, "verify_data", at(2027, 1, 10), FURONG).violations[0].message
    zhuzhou = decide(shipped, "verify_data", at(2027, 1, 16), ZHUZHOU).violations[0].message
    assert "2026-12-31" in changsha and "2027-01-15" not in changsha
    assert "2026-12-31" in zhuzhou and "2027-01-15" in zhuzhou


def test_approving_a_step_ignores_windows(shipped):
    d = decide(shipped, "register_in_school", at(2026, 11, 15), FURONG, phase="step")
    check(d, [])


# --- freezes 暂停办理 ------------------------------------------------------------------------

@pytest.mark.parametrize("action, when, codes, violations", [
    # the national summer transfer freeze (15 July to 14 August)
    pytest.param("transfer", at(2026, 7, 14), ZHUZHOU, [], id="transfer-on-14-july"),
    pytest.param("transfer", at(2026, 7, 15), ZHUZHOU,
                 [("outside_window", p(43)), ("frozen", SUMMER_TRANSFER_FREEZE)], id="transfer-frozen-15-july"),
    pytest.param("transfer", at(2026, 8, 14), GUANGDONG,
                 [("outside_window", n(158)), ("frozen", SUMMER_TRANSFER_FREEZE)],
                 id="transfer-frozen-nationally-14-august"),
    pytest.param("transfer", at(2026, 8, 15), FURONG, [], id="transfers-start-again-15-august"),
    # Hunan's regional freeze for Changsha (4301) before promotion
    pytest.param("suspend", at(2026, 8, 5), TIANXIN, [("frozen", p(50))],
                 id="changsha-changes-frozen-in-august"),
    pytest.param("suspend", at(2026, 8, 5), FURONG, [("frozen", p(50))],
                 id="changsha-freeze-reaches-furong"),
    pytest.param("suspend", at(2026, 8, 5), ZHUZHOU, [], id="zhuzhou-not-frozen"),
    pytest.param("suspend", at(2026, 8, 11), TIANXIN, [], id="changsha-freeze-over-11-august"),
    # Furong's year-end freeze
    pytest.param("suspend", at(2026, 12, 20), FURONG, [("frozen", k(21))],
                 id="furong-year-end-freeze"),
    pytest.param("suspend", at(2026, 12, 19), FURONG, [], id="furong-before-year-end"),
    pytest.param("suspend", at(2026, 12, 20), TIANXIN, [], id="year-end-freeze-only-in-furong"),
    # Hunan's one-off Spring Festival freeze of key-field changes
    pytest.param("change_field", at(2027, 2, 1), ZHUZHOU, [("frozen", p(48))],
                 id="spring-festival-freeze-2027"),
    pytest.param("change_field", at(2028, 2, 1), ZHUZHOU, [], id="one-off-freeze-gone-2028"),
])
def test_a_new_request_in_a_freeze_is_refused_with_the_freeze(shipped, action, when, codes,
                                                              violations):
    d = decide(shipped, action, when, codes, stage="primary", status="in_school")
    check(d, violations)


def test_the_freeze_message_gives_its_reason(shipped):
    d = decide(shipped, "transfer", at(2026, 8, 1), GUANGDONG)
    frozen = [v for v in d.violations if v.code == "frozen"]
    assert "毕业升级期间不受理新的转学申请" in frozen[0].message


@pytest.mark.parametrize("action, when, codes", [
    pytest.param("transfer", at(2026, 8, 1), ZHUZHOU, id="summer-transfer-freeze"),
    pytest.param("suspend", at(2026, 8, 5), TIANXIN, id="changsha-freeze"),
    pytest.param("suspend", at(2026, 12, 25), FURONG, id="furong-year-end-freeze"),
    pytest.param("change_field", at(2027, 2, 1), ZHUZHOU, id="spring-festival-freeze"),
])
def test_business_started_before_a_freeze_may_finish(shipped, action, when, codes):
    d = decide(shipped, action, when, codes, stage="primary", status="in_school", phase="step")
    check(d, [])
    assert d.approval_chain


# --- stages 学段 -----------------------------------------------------------------------------

@pytest.mark.parametrize("action, stage, codes, violations", [
    pytest.param("expel", "primary", ZHUZHOU, [("stage_not_allowed", n(110))],
                 id="no-expulsion-in-primary"),
    pytest.param("expel", "junior", ZHUZHOU, [("stage_not_allowed", n(111))],
                 id="no-expulsion-in-junior-national-source"),
    pytest.param("expel", "senior", ZHUZHOU, [("stage_not_allowed", p(67))],
                 id="hunan-no-expulsion-in-senior"),
    pytest.param("expel", "senior", FURONG, [("stage_not_allowed", p(67))],
                 id="hunan-senior-rule-reaches-furong"),
    pytest.param("expel", "senior", GUANGDONG, [], id="expulsion-in-senior-nationally"),
    pytest.param("withdraw", "primary", FURONG, [("stage_not_allowed", n(101))],
                 id="no-withdrawal-in-primary"),
    pytest.param("withdraw", "junior", GUANGDONG, [("stage_not_allowed", n(102))],
                 id="no-withdrawal-in-junior"),
    pytest.param("withdraw", "senior", FURONG, [], id="withdrawal-in-senior"),
    pytest.param("dropout", "primary", FURONG, [("stage_not_allowed", k(30))],
                 id="furong-forbids-primary-dropout"),
    pytest.param("dropout", "junior", FURONG, [], id="furong-junior-dropout"),
    pytest.param("dropout", "primary", TIANXIN, [], id="primary-dropout-elsewhere"),
    pytest.param("suspend", "preschool", FURONG, [], id="no-stage-rule-allows"),
])
def test_a_change_type_the_stage_forbids_is_refused_with_its_source(shipped, action, stage,
                                                                    codes, violations):
    d = decide(shipped, action, at(2026, 5, 6), codes, stage=stage, status="in_school")
    check(d, violations)


# --- student status, problem records, business in progress ------------------------------------

@pytest.mark.parametrize("action, status, codes, violations", [
    pytest.param("suspend", "in_school", FURONG, [], id="suspend-in-school"),
    pytest.param("suspend", "suspended", FURONG, [("status_not_allowed", n(70))],
                 id="suspend-twice"),
    pytest.param("resume", "suspended", FURONG, [], id="resume-suspended"),
    pytest.param("resume", "in_school", FURONG, [("status_not_allowed", n(77))],
                 id="resume-in-school"),
    pytest.param("dropout", "suspended", ZHUZHOU, [], id="dropout-from-suspension"),
    pytest.param("repeat", "suspended", ZHUZHOU, [("status_not_allowed", p(69))],
                 id="hunan-restates-repeat-status"),
    pytest.param("repeat", "suspended", GUANGDONG, [("status_not_allowed", n(82))],
                 id="national-repeat-status"),
    pytest.param("transfer", "transferred_out", ZHUZHOU, [("status_not_allowed", n(57))],
                 id="transfer-needs-in-school"),
    pytest.param("death", "suspended", ZHUZHOU, [], id="death-has-no-status-rule"),
])
def test_an_action_needs_the_status_the_rules_require(shipped, action, status, codes,
                                                      violations):
    d = decide(shipped, action, at(2026, 9, 10), codes, stage="junior", status=status)
    check(d, violations)


@pytest.mark.parametrize("action, phase, problem, busy, violations", [
    pytest.param("transfer", "start", True, False, [("problem_record", None)],
                 id="problem-record-cannot-transfer"),
    pytest.param("suspend", "start", True, False, [("problem_record", None)],
                 id="problem-record-cannot-suspend"),
    pytest.param("change_field", "start", True, False, [], id="problem-record-may-be-corrected"),
    pytest.param("edit_field", "start", True, False, [], id="problem-record-may-be-edited"),
    pytest.param("delete_record", "start", True, False, [], id="problem-record-may-be-deleted"),
    pytest.param("transfer", "start", False, True, [("business_in_progress", None)],
                 id="busy-student-cannot-transfer"),
    pytest.param("change_field", "start", False, True, [("business_in_progress", None)],
                 id="busy-student-cannot-file-a-change"),
    pytest.param("transfer", "step", False, True, [], id="busy-with-this-very-transfer"),
    pytest.param("edit_field", "start", False, True, [], id="busy-student-may-be-edited"),
    pytest.param("transfer", "start", True, True,
                 [("problem_record", None), ("business_in_progress", None)],
                 id="both-reported-at-once"),
])
def test_problem_records_and_business_in_progress_block_other_business(
        shipped, action, phase, problem, busy, violations):
    d = decide(shipped, action, at(2026, 9, 10), ZHUZHOU, stage="junior", status="in_school",
               registry_kind="L", phase=phase, problem_record=problem, business_in_progress=busy)
    check(d, violations)


def test_every_violation_is_reported_at_once(shipped):
    d = decide(shipped, "expel", at(2026, 12, 25), FURONG, stage="junior", status="suspended",
               problem_record=True, business_in_progress=True, class_size=50)
    assert found(d) == [("stage_not_allowed", n(111)), ("status_not_allowed", n(108)),
                        ("problem_record", None), ("business_in_progress", None),
                        ("class_full", p(12)), ("frozen", k(21))]
    assert d.allowed is False


# --- approval chains 审批流程 -----------------------------------------------------------------

TRANSFER_DEFAULT = [("registrar", "own_bureau", 10, n(59)),
                    ("supervisor", "other_school", 10, n(60)),
                    ("registrar", "other_bureau", 10, n(61))]


@pytest.mark.parametrize("codes, variant, expected", [
    pytest.param(FURONG, "same_county",
                 [("supervisor", "other_school", 5, p(59)), ("registrar", "own_bureau", 5, p(60))],
                 id="same-county-from-hunan"),
    pytest.param(GUANGDONG, "same_county",
                 [("supervisor", "other_school", 10, n(64)),
                  ("registrar", "own_bureau", 10, n(65))],
                 id="same-county-national"),
    pytest.param(ZHUZHOU, "cross_province",
                 [("registrar", "own_bureau", 10, p(62)), ("supervisor", "other_school", 10, p(63)),
                  ("registrar", "other_bureau", 10, p(64))],
                 id="cross-province-from-hunan"),
    pytest.param(GUANGDONG, "cross_province", TRANSFER_DEFAULT, id="cross-province-national"),
    pytest.param(ZHUZHOU, "same_city", TRANSFER_DEFAULT, id="same-city-has-no-variant"),
    pytest.param(ZHUZHOU, None, TRANSFER_DEFAULT, id="default-four-parties"),
])
def test_a_transfer_takes_the_chain_of_its_variant(shipped, codes, variant, expected):
    d = decide(shipped, "transfer", at(2026, 9, 10), codes, stage="junior", status="in_school",
               variant=variant)
    check(d, [])
    assert chain(d) == expected


@pytest.mark.parametrize("action, stage, codes, expected", [
    pytest.param("suspend", "junior", FURONG,
                 [("supervisor", "school", 10, n(72)), ("registrar", "own_bureau", 10, n(73)),
                  ("supervisor", "own_bureau", 5, k(27))], id="furong-appends-a-step"),
    pytest.param("suspend", "junior", TIANXIN,
                 [("supervisor", "school", 10, n(72)), ("registrar", "own_bureau", 10, n(73))],
                 id="no-extra-step-elsewhere"),
    pytest.param("graduate", "senior", ZHUZHOU,
                 [("supervisor", "school", 10, n(133)), ("registrar", "own_bureau", 10, n(134))],
                 id="senior-graduation-bureau-review"),
    pytest.param("graduate", "junior", ZHUZHOU, [], id="compulsory-graduation-the-schools-own-action"),
    pytest.param("graduate", None, ZHUZHOU, [], id="graduation-stage-unknown"),
    pytest.param("repeat", "primary", FURONG,
                 [("supervisor", "school", 5, p(73)), ("registrar", "own_bureau", 10, p(74))],
                 id="hunan-primary-repeat-chain"),
    pytest.param("repeat", "junior", FURONG, [("supervisor", "school", 10, n(84))],
                 id="junior-repeat-national-chain"),
    pytest.param("repeat", "primary", GUANGDONG, [("supervisor", "school", 10, n(84))],
                 id="primary-repeat-national-chain"),
    pytest.param("change_field", "primary", ZHUZHOU,
                 [("supervisor", "school", 5, p(79)), ("registrar", "own_bureau", 10, p(80))],
                 id="hunan-replaces-the-change-chain"),
    pytest.param("change_field", "primary", GUANGDONG,
                 [("supervisor", "school", 10, n(52)), ("registrar", "own_bureau", 10, n(53))],
                 id="national-change-chain"),
    pytest.param("enroll_cross_province", "senior", ZHUZHOU,
                 [("registrar", "own_bureau", 10, n(145)),
                  ("registrar", "other_bureau", 10, n(146))],
                 id="three-party-cross-province-enrollment"),
    pytest.param("promote", "junior", ZHUZHOU, [], id="promotion-needs-no-approval"),
])
def test_the_approval_chain_follows_stage_and_level(shipped, action, stage, codes, expected):
    d = decide(shipped, action, at(2026, 5, 6), codes, stage=stage)
    assert chain(d) == expected


def test_chain_steps_carry_their_chinese_label(shipped):
    d = decide(shipped, "suspend", at(2026, 5, 6), FURONG, stage="junior")
    assert [s.label for s in d.approval_chain] == [
        "本校学籍主管领导", "本校主管教育部门学籍管理员", "本校主管教育部门学籍主管领导"]


# --- effective values a decision does not carry: evidence, reasons, labels -------------------

def test_furong_asks_for_more_evidence_than_hunan(shipped):
    furong = shipped.effective(*FURONG).actions["suspend"]
    hunan = shipped.effective(*ZHUZHOU).actions["suspend"]
    assert hunan.evidence.value == ("休学申请", "二级以上医院证明或相关证明")
    assert str(hunan.evidence.source) == p(55)
    assert furong.evidence.value == ("休学申请", "二级以上医院证明或相关证明", "家长书面申请")
    assert str(furong.evidence.source) == k(25)
    assert str(furong.reasons.source) == p(54) and "出国探亲" in furong.reasons.value
    assert furong.label.value == "休学" and str(furong.label.source) == n(67)


def test_the_effective_policy_lists_the_files_it_stacks(shipped):
    assert shipped.effective(*FURONG).files == (N, P, K)
    assert shipped.effective(*ZHUZHOU).files == (N, P)
    assert shipped.effective(*GUANGDONG).files == (N,)
    assert shipped.effective().files == (N,)


# --- unknown action, and the decision as data ------------------------------------------------

def test_an_unknown_action_is_refused(shipped):
    d = decide(shipped, "fly_to_the_moon", at(2026, 5, 6), FURONG)
    check(d, [("unknown_action", None)])
    assert d.approval_chain == ()


def test_the_decision_as_a_dict_carries_verdict_violations_and_chain(shipped):
    d = decide(shipped, "suspend", at(2026, 12, 25), FURONG, stage="junior", status="suspended")
    data = d.as_dict()
    assert data["allowed"] is False
    assert [(v["code"], v["source"]) for v in data["violations"]] == [
        ("status_not_allowed", n(70)), ("frozen", k(21))]
    assert all({"code", "message", "source"} <= set(v) for v in data["violations"])
    assert [(s["role"], s["level"], s["days"], s["source"]) for s in data["approval_chain"]] == \
        chain(d)
    assert data["approval_chain"][2]["label"] == "本校主管教育部门学籍主管领导"


def test_every_violation_as_a_dict_has_a_source_key_even_without_a_rule(shipped):
    d = decide(shipped, "transfer", at(2026, 9, 10), ZHUZHOU, problem_record=True)
    assert all({"code", "message", "source"} <= set(v) for v in d.as_dict()["violations"])


def test_the_decision_does_not_depend_on_the_time_of_day(shipped):
    early = decide(shipped, "transfer", datetime(2026, 7, 14, 0, 0), ZHUZHOU)
    late = decide(shipped, "transfer", datetime(2026, 7, 14, 23, 59, 59), ZHUZHOU)
    assert early.allowed and late.allowed


def test_a_leap_day_cutoff_is_refused_so_no_school_year_lacks_its_cutoff():
    texts = {"national.yaml": (RULES / "national.yaml").read_text(encoding="utf-8"),
             "440000.yaml": 'level: province\ncode: "440000"\n'
                            'switches:\n  entry_age: {age: 6, cutoff: "02-29"}\n'}
    with pytest.raises(RuleSetInvalid) as info:
        load_texts(texts)
    assert [str(p) for p in info.value.problems] == [
        "rules/440000.yaml:4: switches.entry_age.cutoff: 02-29 exists only in leap years; "
        "choose another cut-off day"]
