"""One broken rule file per case: the set is refused, with exactly the problems an administrator
sees.

Each directory under ``cases/`` holds the broken file(s), named as they would be in ``rules/``: a
file of the same name replaces the shipped one, a new name adds a file.  ``expected.txt`` holds the
exact problem lines (``rules/<file>.yaml:<line>: <dotted.path>: <message>``), in the order reported.
Optional: ``absent.txt`` names shipped files to leave out; ``bug.txt`` marks a known engine bug (the
case is a strict xfail with that reason; its first line starts ``BUG (not refused):`` when the
broken set is not refused with RuleSetInvalid at all today).
"""

from __future__ import annotations

import gc
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from app.policy import Facts, RuleSetInvalid, evaluate, load_dir, load_texts, read_dir

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "rules"
CASES = Path(__file__).resolve().parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def overlay(case: str) -> dict[str, str]:
    """The shipped rule files, with the case's files replacing or joining them."""
    texts = read_dir(RULES)
    folder = CASES / case
    for path in sorted(folder.glob("*.yaml")):
        texts[path.name] = path.read_text(encoding="utf-8")
    absent = folder / "absent.txt"
    if absent.exists():
        for name in absent.read_text(encoding="utf-8").split():
            del texts[name]
    return texts


def expected(case: str) -> list[str]:
    return (CASES / case / "expected.txt").read_text(encoding="utf-8").splitlines()


def bug(case: str) -> str | None:
    path = CASES / case / "bug.txt"
    return " ".join(path.read_text(encoding="utf-8").split()) if path.exists() else None


def reported(texts: dict[str, str]) -> list[str]:
    with pytest.raises(RuleSetInvalid) as info:
        load_texts(texts)
    lines = [str(p) for p in info.value.problems]
    assert str(info.value).splitlines() == lines  # the message lists them too
    return lines


def _case(name: str, loads_is_a_bug_too: bool = False):
    reason = bug(name)
    marks = []
    if reason and (not loads_is_a_bug_too or reason.startswith("BUG (not refused):")):
        marks.append(pytest.mark.xfail(strict=True, reason=reason))
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("case", [_case(n) for n in CASE_NAMES])
def test_a_broken_rule_file_is_refused_with_exactly_the_expected_problems(case):
    assert reported(overlay(case)) == expected(case)


@pytest.mark.parametrize("case", [_case(n, loads_is_a_bug_too=True) for n in CASE_NAMES])
def test_a_broken_rule_file_is_refused_at_the_expected_file_and_line(case):
    """Weaker than the exact check, so known bugs in messages still pin where the problem is."""
    where = {line.split(": ", 1)[0] for line in reported(overlay(case))}
    assert {line.split(": ", 1)[0] for line in expected(case)} <= where


@pytest.mark.parametrize("case", CASE_NAMES)
def test_every_case_folder_is_complete(case):
    folder = CASES / case
    assert expected(case), f"{case}: expected.txt is empty"
    assert list(folder.glob("*.yaml")) or (folder / "absent.txt").exists()
    for path in folder.glob("*.yaml"):
        assert path.stem == "national" or (path.stem.isdigit() and len(path.stem) == 6), path.name
    for line in expected(case):
        assert line.startswith("rules/") and ".yaml:" in line, line


# --- the shipped rules, and the rules in force --------------------------------------------------

def test_the_shipped_rules_load():
    ruleset = load_dir(RULES, version=7)
    assert ruleset.version == 7
    assert [f.name for f in ruleset.files] == [
        "rules/national.yaml", "rules/430000.yaml", "rules/430102.yaml"]
    assert [f.level for f in ruleset.files] == ["national", "province", "county"]
    assert len(ruleset.digest) == 64


def test_the_same_texts_give_the_same_digest_and_a_change_another():
    texts = read_dir(RULES)
    assert load_texts(texts).digest == load_texts(dict(texts)).digest
    changed = dict(texts, **{"430102.yaml": texts["430102.yaml"] + "\n# a comment\n"})
    assert load_texts(changed).digest != load_texts(texts).digest


def test_an_invalid_set_leaves_the_rules_in_force_usable():
    in_force = load_dir(RULES)
    facts = Facts("suspend", datetime(2026, 12, 25, 10), ("430000", "430100", "430102"),
                  stage="junior", status="in_school")
    before = evaluate(in_force, facts)
    with pytest.raises(RuleSetInvalid):
        load_texts(overlay("several_policy_problems_in_one_file"))
    after = evaluate(in_force, facts)
    assert after == before
    assert [(v.code, v.source) for v in after.violations] == [("frozen", "rules/430102.yaml:21")]
    # a node never asked about before is computed from the rules in force, not the refused ones
    fresh = evaluate(in_force, Facts("assign_class", datetime(2026, 9, 1),
                                     ("430000", "430100", "430102"), stage="primary",
                                     class_size=40))
    assert [(v.code, v.source) for v in fresh.violations] == [
        ("class_full", "rules/430102.yaml:10")]


def test_several_problems_in_one_file_are_reported_all_at_once_in_line_order():
    with pytest.raises(RuleSetInvalid) as info:
        load_texts(overlay("several_policy_problems_in_one_file"))
    problems = info.value.problems
    assert len(problems) == 9
    assert {p.file for p in problems} == {"rules/430102.yaml"}
    assert [p.line for p in problems] == [5, 5, 7, 8, 11, 12, 15, 18, 22]
    assert [p.path for p in problems] == [
        "controlled_fields.remove.0", "controlled_fields.remove.1", "class_caps.primary.cap",
        "class_caps.junior", "switches.delete_formal_record", "switches.entry_age",
        "freezes.change.0.regions.0", "actions.suspend.chain", "actions.expel.stages.senior"]


def test_several_schema_problems_in_one_file_are_reported_all_at_once():
    with pytest.raises(RuleSetInvalid) as info:
        load_texts(overlay("several_schema_problems_in_one_file"))
    assert [(p.line, p.path) for p in info.value.problems] == [
        (4, "class_caps.primary.cap"), (7, "switches.register_everyone"),
        (10, "windows.register_in_school.0.to"), (14, "actions.suspend.extra_steps.0.days"),
        (14, "actions.suspend.extra_steps.0.role")]


def test_problems_of_several_files_are_reported_together_file_by_file():
    with pytest.raises(RuleSetInvalid) as info:
        load_texts(overlay("problems_in_several_files"))
    assert [p.file for p in info.value.problems] == [
        "rules/430102.yaml", "rules/430102.yaml", "rules/440000.yaml"]


def test_a_problem_is_plain_data():
    with pytest.raises(RuleSetInvalid) as info:
        load_texts(overlay("cap_above_the_province_cap"))
    assert [p.as_dict() for p in info.value.problems] == [{
        "file": "rules/430102.yaml", "line": 4, "path": "class_caps.primary.cap",
        "message": "cap 46 is above 45 set at rules/430000.yaml:11"}]


def test_loading_rules_again_and_again_keeps_no_parsed_yaml_alive():
    def yaml_nodes() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, yaml.nodes.Node))

    load_dir(RULES)
    before = yaml_nodes()
    for _ in range(5):
        load_dir(RULES)
    assert yaml_nodes() <= before


COUNTY = 'level: county\ncode: "430102"\n'


@pytest.mark.parametrize("body, line", [
    pytest.param(COUNTY + "name: !custom 芙蓉区\n", 3, id="custom-tag"),
    pytest.param(COUNTY + "description: !!python/object:os.system ls\n", 3, id="python-tag"),
])
def test_a_yaml_tag_the_loader_cannot_build_is_a_problem_not_a_crash(body, line):
    with pytest.raises(RuleSetInvalid) as info:
        load_texts(dict(read_dir(RULES), **{"430102.yaml": body}))
    assert [(p.file, p.line) for p in info.value.problems] == [("rules/430102.yaml", line)]


def test_a_yaml_merge_key_is_either_supported_or_a_problem_never_a_crash():
    body = COUNTY + ("actions:\n  suspend:\n    extra_steps:\n"
                     "      - <<: {role: supervisor, level: own_bureau}\n        days: 5\n")
    try:
        load_texts(dict(read_dir(RULES), **{"430102.yaml": body}))
    except RuleSetInvalid as exc:
        assert [(p.file, p.line) for p in exc.problems] == [("rules/430102.yaml", 6)]


def test_a_rule_file_that_is_not_utf8_is_a_problem_not_a_crash(tmp_path):
    for name, text in read_dir(RULES).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "430102.yaml").write_bytes((COUNTY + "name: 芙蓉区\n").encode("gbk"))
    with pytest.raises(RuleSetInvalid) as info:
        load_dir(tmp_path)
    # the line of the first byte that is not UTF-8
    assert [(p.file, p.line) for p in info.value.problems] == [("rules/430102.yaml", 3)]


def test_a_utf8_file_with_a_byte_order_mark_or_windows_line_ends_loads(tmp_path):
    for name, text in read_dir(RULES).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    county = (RULES / "430102.yaml").read_text(encoding="utf-8")
    (tmp_path / "430102.yaml").write_bytes(county.replace("\n", "\r\n").encode("utf-8-sig"))
    ruleset = load_dir(tmp_path)
    assert str(ruleset.effective("430000", "430100", "430102").caps["primary"].source) == \
        "rules/430102.yaml:10"
