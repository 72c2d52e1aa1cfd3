"""rules/README.md: every YAML example in it is valid, together the complete ones use every key
of the format, the broken one gives the problems printed under it, its names match the vocabulary.

Every ```yaml block starts with one of three comments: ``# file: NAME.yaml`` (a complete file),
``# part of: NAME.yaml`` (a fragment of that file: the test adds its ``level`` and ``code``),
``# broken: NAME.yaml`` (followed by a ```text block of its problems).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from app.fields import STUDENT_FIELD_BY_NAME
from app.policy import RuleSetInvalid, load_texts, read_dir
from app.policy.ruleset import level_of_code
from app.policy.schema import CONTROLLABLE
from app.policy.vocab import (
    ACTIONS,
    BUSINESSES,
    CODES,
    FILE_LEVELS,
    LEVEL_ZH,
    ROLE_ZH,
    ROLES,
    STAGE_ZH,
    STAGES,
    STEP_LEVEL_ZH,
    STEP_LEVELS,
    STUDENT_STATUSES,
    SWITCHES,
)

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "rules" / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)
MARK = re.compile(r"# (file|part of|broken): (\S+\.yaml)\n")


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(TEXT)]


def yaml_examples(kind: str) -> list[tuple[str, str]]:
    found = []
    for lang, body in blocks():
        mark = MARK.match(body) if lang == "yaml" else None
        if mark and mark.group(1) == kind:
            found.append((mark.group(2), body))
    return found


COMPLETE = dict(yaml_examples("file"))
SHIPPED = read_dir(ROOT / "rules")
BASE = {name: SHIPPED[name] for name in ("national.yaml", "430000.yaml")}


def test_every_yaml_block_says_what_it_is():
    for lang, body in blocks():
        if lang == "yaml":
            assert MARK.match(body), f"a yaml example without '# file:', '# part of:' or " \
                                     f"'# broken:':\n{body[:200]}"


def test_the_readme_has_complete_examples_of_a_province_a_city_and_a_county():
    assert len(COMPLETE) == len(yaml_examples("file")), "two complete examples share a name"
    levels = {level_of_code(name.removesuffix(".yaml")) for name in COMPLETE}
    assert {"province", "city", "county"} <= levels
    assert not {"national.yaml", "430000.yaml"} & set(COMPLETE)


def test_the_complete_examples_load_with_the_shipped_national_and_hunan_files():
    ruleset = load_texts({**BASE, **COMPLETE})
    assert {f"rules/{name}" for name in COMPLETE} <= {f.name for f in ruleset.files}


def test_the_complete_examples_load_with_all_the_shipped_files():
    load_texts({**SHIPPED, **COMPLETE})


@pytest.mark.parametrize("name, body", yaml_examples("part of"),
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(yaml_examples("part of"))])
def test_every_fragment_is_valid_in_the_file_it_belongs_to(name, body):
    code = name.removesuffix(".yaml")
    header = f'level: {level_of_code(code)}\ncode: "{code}"\n'
    load_texts({**BASE, **COMPLETE, name: header + body})


def test_the_broken_example_gives_exactly_the_problems_printed_under_it():
    broken = yaml_examples("broken")
    assert len(broken) == 1
    name, body = broken[0]
    after = TEXT[TEXT.index(body) + len(body):]
    printed = BLOCK.search(after)
    assert printed and printed.group(1) == "text"
    with pytest.raises(RuleSetInvalid) as info:
        load_texts({**SHIPPED, name: body})
    assert [str(p) for p in info.value.problems] == printed.group(2).splitlines()


# --- together, the complete examples use every key of the format --------------------------------

def _parsed() -> list[dict]:
    return [yaml.safe_load(body) for body in COMPLETE.values()]


def _all(files, getter):
    out = []
    for data in files:
        out.extend(getter(data))
    return out


def _steps(data) -> list[dict]:
    steps = []
    for action in (data.get("actions") or {}).values():
        steps += action.get("chain") or []
        steps += action.get("extra_steps") or []
        for variant in (action.get("variants") or {}).values():
            steps += variant
        for rule in (action.get("stages") or {}).values():
            if isinstance(rule, dict):
                steps += rule.get("chain") or []
    entry_age = (data.get("switches") or {}).get("entry_age") or {}
    return steps + (entry_age.get("exception_chain") or [])


def test_the_complete_examples_use_every_key_of_the_format():
    files = _parsed()
    assert {"level", "code", "name", "description", "controlled_fields", "class_caps", "switches",
            "windows", "freezes", "actions", "calendar"} <= {k for d in files for k in d}
    assert {"add", "remove", "locked"} <= {k for d in files for k in d.get("controlled_fields", {})}
    caps = [c for d in files for c in d.get("class_caps", {}).values()]
    assert {"cap", "lock"} <= {k for c in caps for k in c}
    switches = [d.get("switches") or {} for d in files]
    assert set(SWITCHES) <= {k for s in switches for k in s}
    assert {"age", "cutoff", "exception_chain"} <= {
        k for s in switches if isinstance(s.get("entry_age"), dict) for k in s["entry_age"]}

    windows = _all(files, lambda d: [r for rs in (d.get("windows") or {}).values() for r in rs])
    freezes = _all(files, lambda d: [r for rs in (d.get("freezes") or {}).values() for r in rs])
    assert {"from", "to", "regions"} <= {k for r in windows for k in r}
    assert {"from", "to", "reason", "regions"} <= {k for r in freezes for k in r}
    kinds = {type(r["from"]) for r in windows + freezes}
    assert {str, date} <= kinds, "both yearly MM-DD and one-off YYYY-MM-DD ranges"

    actions = _all(files, lambda d: list((d.get("actions") or {}).values()))
    assert {"label", "stages", "reasons", "evidence", "requires_status", "chain", "variants",
            "extra_steps"} <= {k for a in actions for k in a}
    rules = [r for a in actions for r in (a.get("stages") or {}).values()]
    assert any(isinstance(r, bool) for r in rules) and any(isinstance(r, dict) for r in rules)
    assert {"allowed", "chain", "locked"} <= {k for r in rules if isinstance(r, dict) for k in r}
    assert {"same_county", "same_city", "cross_province"} <= {
        k for a in actions for k in (a.get("variants") or {})}
    steps = _all(files, _steps)
    assert {"role", "level", "days"} <= {k for s in steps for k in s}
    assert any("days" not in s for s in steps), "a step relying on the default of 10 days"


def test_the_complete_examples_are_a_city_and_county_that_only_tighten():
    for name, data in zip(COMPLETE, _parsed()):
        if data["level"] in ("city", "county"):
            actions = (data.get("actions") or {}).values()
            assert not {"label", "chain", "variants", "reasons", "requires_status"} & {
                k for a in actions for k in a}, name


# --- the name tables -----------------------------------------------------------------------------

def _row(name: str, zh: str) -> bool:
    return f"`{name}` | {zh} |" in TEXT


@pytest.mark.parametrize("table, names", [
    ("levels", {level: LEVEL_ZH[level] for level in FILE_LEVELS}),
    ("stages", {s: STAGE_ZH[s] for s in STAGES}),
    ("actions", {a: ACTIONS[a][0] for a in ACTIONS}),
    ("businesses", BUSINESSES),
    ("roles", {r: ROLE_ZH[r] for r in ROLES}),
    ("step levels", {s: STEP_LEVEL_ZH[s] for s in STEP_LEVELS}),
    ("fields", {f: STUDENT_FIELD_BY_NAME[f].header for f in CONTROLLABLE}),
])
def test_the_readme_lists_every_name_with_its_chinese_name(table, names):
    missing = [f"{name} {zh}" for name, zh in names.items() if not _row(name, zh)]
    assert missing == []


def test_the_readme_gives_the_window_each_action_obeys():
    for action, (zh, business) in ACTIONS.items():
        window = f"`{business}`" if business else "—"
        assert f"| `{action}` | {zh} | {window} |" in TEXT, action


@pytest.mark.parametrize("names", [tuple(SWITCHES), STUDENT_STATUSES, CODES],
                         ids=["switches", "statuses", "codes"])
def test_the_readme_documents_every_switch_status_and_refusal_code(names):
    assert [n for n in names if f"| `{n}` |" not in TEXT] == []


def test_the_readme_shows_how_to_check_and_explain():
    assert "python run.py rules check" in TEXT and "--json" in TEXT
    assert "python run.py rules explain --school" in TEXT
    for option in ("--action", "--stage", "--at"):
        assert option in TEXT
