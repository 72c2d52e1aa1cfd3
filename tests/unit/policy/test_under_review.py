"""The engine decides whether a record under review may be edited directly: refused while a request
waits (with the request named and the switch's file:line), allowed once it is returned, and allowed
throughout where a province switches ``edit_under_review`` on -- as the README's example does."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from app.policy import Facts, RuleSetInvalid, evaluate, load_texts, read_dir

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = read_dir(ROOT / "rules")
README = (ROOT / "rules" / "README.md").read_text(encoding="utf-8")
FURONG = ("430000", "430100", "430102")
NANNING = ("450000", "450100", "450102")  # the README's example province
AT = datetime(2026, 9, 15, 10)


def _switch_line() -> int:
    lines = SHIPPED["national.yaml"].splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.strip().startswith("edit_under_review:"))


def _readme_province() -> str:
    """The complete example ``450000.yaml`` of rules/README.md."""
    return re.search(r"```yaml\n(# file: 450000\.yaml\n.*?)```", README, re.DOTALL).group(1)


def edit(ruleset, codes, open_request, **facts):
    return evaluate(ruleset, Facts(action="edit_field", at=AT, codes=codes, open_request=open_request,
                                   open_request_ref="业务 #7 在校生注册，待 某校 · 学籍主管领导 核办",
                                   **facts))


@pytest.fixture(scope="module")
def shipped():
    return load_texts(SHIPPED)


@pytest.mark.parametrize("state, allowed", [(None, True), ("pending", False), ("awaiting_pull", False),
                                            ("returned", True)])
def test_the_national_baseline_refuses_edits_while_a_request_waits(shipped, state, allowed):
    decision = edit(shipped, FURONG, state)
    assert decision.allowed is allowed
    if not allowed:
        (violation,) = decision.violations
        assert violation.code == "under_review" and "业务 #7 在校生注册" in violation.message
        assert violation.source == f"rules/national.yaml:{_switch_line()}"


def test_other_actions_are_not_gated_by_the_switch(shipped):
    assert evaluate(shipped, Facts(action="register_in_school", at=AT, codes=FURONG, stage="primary",
                                   open_request="pending")).allowed


def test_the_readme_province_switches_it_on_and_the_decision_says_where(shipped):
    ruleset = load_texts({**SHIPPED, "450000.yaml": _readme_province()})
    decision = edit(ruleset, NANNING, "pending")
    assert decision.allowed
    assert any("rules/450000.yaml:" in note for note in decision.notes)
    assert not edit(ruleset, FURONG, "pending").allowed  # Hunan keeps the national default


def test_a_city_may_switch_it_off_but_never_on():
    province = _readme_province()
    off = 'level: city\ncode: "450100"\nswitches:\n  edit_under_review: false\n'
    ruleset = load_texts({**SHIPPED, "450000.yaml": province, "450100.yaml": off})
    assert not edit(ruleset, NANNING, "pending").allowed
    on = 'level: city\ncode: "430100"\nswitches:\n  edit_under_review: true\n'
    with pytest.raises(RuleSetInvalid) as caught:
        load_texts({**SHIPPED, "430100.yaml": on})
    assert "rules/430100.yaml:4: switches.edit_under_review: a city may only tighten" in str(caught.value)
