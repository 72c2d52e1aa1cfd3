"""Graduation conditions in the rule files (毕业条件), the final-grade freeze of 1 July, and the
rules of the school-year businesses as ``rules explain`` shows them -- every value with file:line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from app.policy import Facts, RuleSetInvalid, evaluate, load_dir, load_texts
from app.policy.engine import graduation_conditions
from app.policy.explain import business_rules

RULES = Path(__file__).resolve().parents[3] / "rules"
FURONG = ("430000", "430100", "430102")
GUANGDONG = ("440000", "440100", "440103")


def line_of(name: str, needle: str, after: str | None = None) -> str:
    """rules/<name>:<line> of the first line holding ``needle`` (below ``after`` if given)."""
    lines = (RULES / name).read_text(encoding="utf-8").splitlines()
    start = next(i for i, text in enumerate(lines) if after in text) if after else 0
    return f"rules/{name}:{next(i for i in range(start, len(lines)) if needle in lines[i]) + 1}"


def texts(**extra: str) -> dict[str, str]:
    out = {p.name: p.read_text(encoding="utf-8") for p in RULES.glob("*.yaml")}
    out.update(extra)
    return out


@pytest.fixture(scope="module")
def shipped():
    return load_dir(RULES)


def test_the_demo_province_requires_items_of_a_senior_graduate(shipped):
    required = graduation_conditions(shipped.effective(*FURONG), "senior")
    where = line_of("430000.yaml", "required_fields:")
    assert required == {"id_number": where, "entry_date": where, "class_name": where}
    assert graduation_conditions(shipped.effective(*FURONG), "junior") == {}
    assert graduation_conditions(shipped.effective(*GUANGDONG), "senior") == {}  # national: none


def test_a_county_adds_a_condition_and_keeps_the_provinces(shipped):
    county = (RULES / "430102.yaml").read_text(encoding="utf-8")
    assert "\nactions:" in county
    added = county.replace("\nactions:\n", "\nactions:\n  graduate:\n    stages:\n      senior:\n"
                                         "        conditions: {required_fields: [phone, entry_date]}\n", 1)
    ruleset = load_texts(texts(**{"430102.yaml": added}))
    required = graduation_conditions(ruleset.effective(*FURONG), "senior")
    assert list(required) == ["id_number", "entry_date", "class_name", "phone"]
    assert required["entry_date"].startswith("rules/430000.yaml:")  # the province's stays
    assert required["phone"].startswith("rules/430102.yaml:")


@pytest.mark.parametrize("body, message", [
    ("  suspend:\n    stages:\n      senior:\n        conditions: {required_fields: [phone]}\n",
     "actions.suspend.stages.senior.conditions: conditions apply to graduate only"),
    ("  graduate:\n    stages:\n      senior:\n        conditions: {required_fields: [shoe_size]}\n",
     "actions.graduate.stages.senior.conditions.required_fields.0:"),
    ("  graduate:\n    stages:\n      senior:\n        conditions: {required_fields: []}\n",
     "actions.graduate.stages.senior.conditions.required_fields:"),
])
def test_a_wrong_condition_is_refused_with_file_and_line(body, message):
    province = (RULES / "430000.yaml").read_text(encoding="utf-8") + "  abroad:\n    evidence: [x]\n"
    province = province.replace("\nactions:\n", "\nactions:\n" + body, 1)
    with pytest.raises(RuleSetInvalid) as refused:
        load_texts(texts(**{"430000.yaml": province}))
    shown = [str(p) for p in refused.value.problems]
    assert any(s.startswith("rules/430000.yaml:") and message in s for s in shown), shown


@pytest.mark.parametrize("action, extra", [
    ("transfer", {"variant": "same_county"}),
    ("change_field", {"changed_fields": ("name",)}),
    ("suspend", {}),
    ("dropout", {}),
])
def test_from_1_july_a_graduating_students_new_business_is_frozen(shipped, action, extra):
    def frozen(when, grade):
        d = evaluate(shipped, Facts(action, when, GUANGDONG, stage="junior", grade=grade,
                                    status="in_school", **extra))
        return [v.source for v in d.violations if v.code == "frozen"]

    assert frozen(datetime(2026, 6, 30, 10), 9) == []
    assert frozen(datetime(2026, 7, 1, 10), 8) == []  # not graduating
    sources = frozen(datetime(2026, 7, 1, 10), 9)
    assert len(sources) == 1 and sources[0].startswith("rules/national.yaml:")
    assert "final_grade: true" in (RULES / "national.yaml").read_text(encoding="utf-8") \
        .splitlines()[int(sources[0].rsplit(":", 1)[1]) - 1]


def test_the_rules_of_the_promotion_and_the_senior_graduation_with_their_lines(shipped):
    promo = business_rules(shipped.effective(*FURONG), "promote", FURONG, None,
                           datetime(2026, 8, 10, 10))
    assert promo["windows"] == [{"dates": "每年 08-10 至 08-10", "regions": [],
                                 "source": line_of("national.yaml", '"08-10", to: "08-10"')}]
    assert promo["carry_over"] == {"value": False,
                                   "source": line_of("national.yaml", "promotion_carry_over:")}
    grad = business_rules(shipped.effective(*FURONG), "graduate", FURONG, "senior",
                          datetime(2026, 7, 1, 10))
    assert [c["item"] for c in grad["conditions"]] == ["id_number", "entry_date", "class_name"]
    assert [(s["role"], s["level"]) for s in grad["chain"]] == [("supervisor", "school"),
                                                                ("registrar", "own_bureau")]
    assert grad["chain"][1]["source"].startswith("rules/national.yaml:")
    assert grad["windows"][0]["dates"] == "每年 05-01 至 07-30"


def test_the_decision_on_a_senior_graduation_notes_its_conditions(shipped):
    d = evaluate(shipped, Facts("graduate", datetime(2026, 7, 1, 10), FURONG, stage="senior",
                                status="in_school"))
    where = line_of("430000.yaml", "required_fields:")
    assert d.allowed and any(n.startswith("高中毕业条件：须有 身份证件号、入学年月、班级") and where in n
                             for n in d.notes)
    national = evaluate(shipped, Facts("graduate", datetime(2026, 7, 1, 10), GUANGDONG,
                                       stage="senior", status="in_school"))
    assert any("规则未另设" in n for n in national.notes)
