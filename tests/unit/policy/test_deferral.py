"""Waiting for a window and escalating an overdue step, as the rule files say, each answer with the
file and line it comes from; lower levels may only forbid queuing and escalate sooner."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from app.policy import Facts, RuleSetInvalid, evaluate, load_texts, read_dir
from app.policy.deferral import escalation_of, queue_option, queue_policy

ROOT = Path(__file__).resolve().parents[3]
CODES = ("430000", "430100", "430102")
SHIPPED = read_dir(ROOT / "rules")


def line_of(file: str, text: str, texts=SHIPPED) -> str:
    lines = texts[file].splitlines()
    return f"rules/{file}:{next(n for n, line in enumerate(lines, 1) if text in line)}"


def _last(texts: dict, file: str) -> str:
    return f"rules/{file}:{len(texts[file].splitlines())}"


def with_lines(**appended: str) -> dict:
    """The shipped files with lines appended to some (``name_yaml="..."``)."""
    texts = dict(SHIPPED)
    for key, text in appended.items():
        name = key.replace("_yaml", ".yaml")
        texts[name] = texts[name].rstrip("\n") + "\n" + text + "\n"
    return texts


def _option(texts, action: str, at: datetime, **facts):
    ruleset = load_texts(texts)
    f = Facts(action=action, at=at, codes=CODES, status="in_school", **facts)
    return queue_option(ruleset, f, evaluate(ruleset, f))


@pytest.mark.parametrize(("action", "at", "facts", "opens", "closed_by"), [
    ("change_field", datetime(2027, 7, 20, 10), {"stage": "primary", "grade": 3}, date(2027, 9, 1),
     ("430000.yaml", "key_field_change:", 1)),
    ("transfer", datetime(2027, 7, 20, 10), {"stage": "junior", "variant": "same_county"},
     date(2027, 8, 15), ("430000.yaml", "  transfer:", 1)),
])
def test_a_request_refused_only_by_its_window_may_queue_until_it_opens(action, at, facts, opens, closed_by):
    option = _option(SHIPPED, action, at, **facts)
    file, text, below = closed_by
    name, line = line_of(file, text).rsplit(":", 1)
    assert option.possible and option.opens_on == opens
    assert option.source == f"{name}:{int(line) + below}"


def test_inside_its_window_nothing_waits_and_other_refusals_are_not_waited_out():
    assert not _option(SHIPPED, "change_field", datetime(2027, 9, 2), stage="primary").possible
    ruleset = load_texts(SHIPPED)
    f = Facts(action="change_field", at=datetime(2027, 7, 20), codes=CODES, status="in_school",
              stage="primary", business_in_progress=True)
    assert not queue_option(ruleset, f, evaluate(ruleset, f)).possible


def _no_queue(texts: dict) -> tuple[dict, str]:
    """Hunan forbids queuing key-field changes: a line under change_field's `escalate:`."""
    escalate = line_of("430000.yaml", "escalate:", texts)
    name, line = escalate.rsplit(":", 1)
    lines = texts["430000.yaml"].splitlines()
    lines.insert(int(line), "    queue: false")
    return {**texts, "430000.yaml": "\n".join(lines) + "\n"}, f"{name}:{int(line) + 1}"


def test_a_province_may_forbid_queuing_and_a_county_may_not_allow_it_again():
    texts, forbidden = _no_queue(SHIPPED)
    option = _option(texts, "change_field", datetime(2027, 7, 20), stage="primary")
    assert not option.possible and option.source == forbidden
    texts, forbidden = _no_queue(with_lines(**{"430102_yaml": "  change_field:\n    queue: true"}))
    with pytest.raises(RuleSetInvalid) as refused:
        load_texts(texts)
    assert [str(p) for p in refused.value.problems] == [
        f"{_last(texts, '430102.yaml')}: actions.change_field.queue: a county may only tighten: "
        f"queuing change_field is off at {forbidden}"]
    assert queue_policy(load_texts(SHIPPED).effective(*CODES), "suspend").allowed


def test_escalation_comes_from_the_action_or_else_the_default_with_its_line():
    ruleset = load_texts(SHIPPED)
    own = escalation_of(ruleset, CODES, "change_field")
    assert (own.after_days, own.to, own.source) == (3, "supervisor", line_of("430000.yaml", "escalate:"))
    default = escalation_of(ruleset, CODES, "suspend")
    assert (default.after_days, default.source) == (5, line_of("national.yaml", "escalation:"))


def test_a_county_may_only_escalate_sooner():
    texts = with_lines(**{"430102_yaml": "escalation: {after_days: 9}"})
    with pytest.raises(RuleSetInvalid) as refused:
        load_texts(texts)
    assert [str(p) for p in refused.value.problems] == [
        f"{_last(texts, '430102.yaml')}: escalation.after_days: a county may only escalate sooner "
        f"than 5 days set at {line_of('national.yaml', 'escalation:')}"]
    texts = with_lines(**{"430102_yaml": "escalation: {after_days: 2, to: registrar}"})
    rule = escalation_of(load_texts(texts), CODES, "suspend")
    assert (rule.after_days, rule.to, rule.source) == (2, "registrar", _last(texts, "430102.yaml"))
    assert escalation_of(load_texts(texts), CODES, "change_field").after_days == 3  # its own rule


def test_an_escalation_key_is_checked_strictly():
    texts = with_lines(**{"430000_yaml": "    escalate: {after_days: 3, to: principal}"})
    with pytest.raises(RuleSetInvalid) as refused:
        load_texts(texts)
    assert any("escalate" in str(p) for p in refused.value.problems)
