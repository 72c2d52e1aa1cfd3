"""An open data-quality campaign (数据质量核查活动) stands for the verification switches and window
for the schools it covers; without one, the rule files decide and the refusal says so."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from app.policy import Facts, evaluate, load_dir

RULES = Path(__file__).resolve().parents[3] / "rules"
FURONG = ("430000", "430100", "430102")
GUANGDONG = ("440000", "440100", "440103")  # the national baseline alone: both switches off
CAMPAIGN = "数据质量核查活动 #7「秋季核查」（430102，2026-09-01 至 2026-09-30）"
HINT = "本校不在进行中的数据质量核查活动范围内"


@pytest.fixture(scope="module")
def shipped():
    return load_dir(RULES)


def decide(ruleset, action, when, codes, **facts):
    return evaluate(ruleset, Facts(action=action, at=when, codes=codes, **facts))


@pytest.mark.parametrize("action", ["verify_data", "enter_corrections"])
def test_without_a_campaign_the_switch_refuses_citing_its_line_and_saying_why(shipped, action):
    d = decide(shipped, action, datetime(2030, 1, 1, 10), GUANGDONG)
    assert [v.code for v in d.violations] == ["switch_off"]
    assert d.violations[0].source.startswith("rules/national.yaml:") and HINT in d.violations[0].message


@pytest.mark.parametrize("action", ["verify_data", "enter_corrections"])
def test_an_open_campaign_turns_the_switches_on_and_opens_the_window(shipped, action):
    d = decide(shipped, action, datetime(2030, 1, 1, 10), GUANGDONG, campaign=CAMPAIGN)
    assert d.allowed and d.violations == () and any(CAMPAIGN in n for n in d.notes)
    before = decide(shipped, action, datetime(2026, 9, 15, 10), FURONG)
    assert [v.code for v in before.violations] == ["outside_window"]
    assert before.violations[0].source.startswith("rules/430000.yaml:") and HINT in before.violations[0].message
    assert decide(shipped, action, datetime(2026, 9, 15, 10), FURONG, campaign=CAMPAIGN).allowed


def test_a_campaign_opens_nothing_but_the_verification(shipped):
    d = decide(shipped, "register_new", datetime(2026, 11, 15, 10), FURONG, campaign=CAMPAIGN)
    assert [v.code for v in d.violations] == ["outside_window"] and HINT not in d.violations[0].message
