"""A rule set: every rule file checked, and the effective policy of any node, each value with its source.

Levels stack national → province → city → county.  The province decides (统筹) over the national
defaults except what the nation locks; cities and counties may only tighten: add controlled fields,
lower caps, switch businesses off, narrow windows, add freezes and approval steps.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import ValidationError

from .schema import Action, Range, RuleFile, Step
from .vocab import FILE_LEVELS, STAGES, SWITCHES
from .yamlsrc import Located, Problem, dotted, parse

RULES_PREFIX = "rules/"


@dataclass(frozen=True)
class Source:
    """Where a value was written: rules/<file>:<line>, and the level of that file."""

    file: str
    line: int
    level: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Sourced:
    value: object
    source: Source


@dataclass
class EffectiveAction:
    name: str
    label: Sourced | None = None
    allowed: dict[str, Sourced] = field(default_factory=dict)  # stage -> bool
    locked: dict[str, Source] = field(default_factory=dict)  # stage -> where it was locked
    # chains are tuples of Sourced steps, each with the line it was written on
    chain: tuple[Sourced, ...] | None = None
    stage_chain: dict[str, tuple[Sourced, ...]] = field(default_factory=dict)
    variants: dict[str, tuple[Sourced, ...]] = field(default_factory=dict)
    extra: list[Sourced] = field(default_factory=list)  # one Step each
    reasons: Sourced | None = None
    evidence: Sourced | None = None
    requires_status: Sourced | None = None
    queue: Sourced | None = None  # bool: may a request filed outside its window wait for it
    escalate: Sourced | None = None  # schema.Escalate of this action (else Effective.escalation)
    # graduate: stage -> {record item a graduate must have: where it was required}
    conditions: dict[str, dict[str, Source]] = field(default_factory=dict)

    def copy(self) -> "EffectiveAction":
        return replace(self, allowed=dict(self.allowed), locked=dict(self.locked),
                       stage_chain=dict(self.stage_chain), variants=dict(self.variants),
                       extra=list(self.extra),
                       conditions={k: dict(v) for k, v in self.conditions.items()})


@dataclass
class Effective:
    """The policy in force at one node, every value with the file and line it comes from."""

    files: tuple[str, ...] = ()
    controlled: dict[str, Source] = field(default_factory=dict)
    controlled_locks: dict[str, Source] = field(default_factory=dict)
    caps: dict[str, Sourced] = field(default_factory=dict)
    cap_locks: dict[str, Source] = field(default_factory=dict)
    switches: dict[str, Sourced] = field(default_factory=dict)
    # business -> layers; a date must fall in some range of every layer (layers narrow)
    windows: dict[str, list[list[Sourced]]] = field(default_factory=dict)
    freezes: dict[str, list[Sourced]] = field(default_factory=dict)
    actions: dict[str, EffectiveAction] = field(default_factory=dict)
    holidays: frozenset = frozenset()
    workdays: frozenset = frozenset()
    escalation: Sourced | None = None  # schema.Escalate: the default escalation of every action
    export_rows: Sourced | None = None  # int: an export of more rows waits for approval
    export_scopes: dict[str, Source] = field(default_factory=dict)  # level -> where it needs approval
    export_window: Sourced | None = None  # int hours: earlier exports of the account count this long

    def copy(self) -> "Effective":
        return Effective(self.files, dict(self.controlled), dict(self.controlled_locks),
                         dict(self.caps), dict(self.cap_locks),
                         dict(self.switches), {k: [list(x) for x in v] for k, v in self.windows.items()},
                         {k: list(v) for k, v in self.freezes.items()},
                         {k: a.copy() for k, a in self.actions.items()}, self.holidays,
                         self.workdays, escalation=self.escalation, export_rows=self.export_rows,
                         export_scopes=dict(self.export_scopes), export_window=self.export_window)


class RuleSetInvalid(Exception):
    """The rule set was refused as a whole; ``problems`` lists every reason with file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class LoadedFile:
    name: str  # rules/<file>.yaml
    rules: RuleFile
    located: Located

    @property
    def level(self) -> str:
        return self.rules.level

    @property
    def code(self) -> str:
        return self.rules.code or ""

    def source(self, path) -> Source:
        return Source(self.name, self.located.line(path), self.level)

    def problem(self, path, message: str) -> Problem:
        return self.located.problem(tuple(path), message)


def level_of_code(code: str) -> str | None:
    if not re.fullmatch(r"\d{6}", code):
        return None
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def parent_codes(code: str) -> list[str]:
    """The codes above a jurisdiction, from the province down (not itself)."""
    level = level_of_code(code)
    chain = {"province": [], "city": [code[:2] + "0000"],
             "county": [code[:2] + "0000", code[:4] + "00"]}.get(level or "", [])
    return [c for c in chain if c != code]


# ---------------------------------------------------------------------------------------------
# merging one file into the policy above it (the same code checks and computes)


def _merge_controlled(eff: Effective, f: LoadedFile, problems: list[Problem]) -> None:
    spec = f.rules.controlled_fields
    if spec is None:
        return
    for key in ("add", "locked"):
        for i, name in enumerate(getattr(spec, key)):
            eff.controlled.setdefault(name, f.source(("controlled_fields", key, i)))
            if key == "locked":
                eff.controlled_locks.setdefault(name, f.source(("controlled_fields", key, i)))
    for i, name in enumerate(spec.remove):
        path = ("controlled_fields", "remove", i)
        held = eff.controlled.get(name)
        if name in spec.add or name in spec.locked:
            continue  # reported once, by the file check
        if held is None:
            problems.append(f.problem(path, f"{name!r} is not controlled above; nothing to remove"))
        elif name in eff.controlled_locks:
            problems.append(f.problem(path, f"cannot remove {name!r}: locked at "
                                            f"{eff.controlled_locks[name]}"))
        elif not (held.level == "national" and f.level == "province"):
            problems.append(f.problem(path, f"cannot remove {name!r}: {held} ({held.level}) "
                                            "controls it"))
        else:
            del eff.controlled[name]


def _merge_caps(eff: Effective, f: LoadedFile, problems: list[Problem]) -> None:
    for stage, cap in f.rules.class_caps.items():
        path = ("class_caps", stage)
        above, lock = eff.caps.get(stage), eff.cap_locks.get(stage)
        if lock is not None:
            problems.append(f.problem(path, f"the {stage} cap is locked at {lock}; "
                                            "lower levels inherit it"))
            continue
        if above is not None and cap.cap > above.value:
            problems.append(f.problem(path + ("cap",), f"cap {cap.cap} is above {above.value} "
                                                       f"set at {above.source}"))
            continue
        eff.caps[stage] = Sourced(cap.cap, f.source(path + ("cap",)))
        if cap.lock:
            eff.cap_locks[stage] = f.source(path + ("lock",))


def _merge_switches(eff: Effective, f: LoadedFile, problems: list[Problem]) -> None:
    switches = f.rules.switches
    if switches is None:
        return
    tighten_only = f.level in ("city", "county")
    for name in SWITCHES:
        value = getattr(switches, name)
        if value is None:
            continue
        path = ("switches", name)
        above = eff.switches.get(name)
        if tighten_only and above is not None and not _tighter(name, value, above.value):
            problems.append(f.problem(path, f"a {f.level} may only tighten {name}; "
                                            f"{above.source} sets {_show(above.value)}"))
            continue
        eff.switches[name] = Sourced(value, f.source(path))


def _tighter(name: str, value, above) -> bool:
    if SWITCHES[name] == "bool":
        return value is False or above is True
    return (value.age >= above.age and value.cutoff <= above.cutoff
            and (value.exception_chain is None or above.exception_chain is not None))


def _show(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"age {value.age} by {value.cutoff}" if hasattr(value, "age") else str(value)


def _merge_windows(eff: Effective, f: LoadedFile, problems: list[Problem]) -> None:
    for business, ranges in f.rules.windows.items():
        layer = [Sourced(r, f.source(("windows", business, i))) for i, r in enumerate(ranges)]
        _check_regions(f, ("windows", business), ranges, problems)
        if f.level in ("national", "province"):
            eff.windows[business] = [layer]  # the province decides over the national default
        else:
            eff.windows.setdefault(business, []).append(layer)  # lower levels narrow
    for business, ranges in f.rules.freezes.items():
        _check_regions(f, ("freezes", business), ranges, problems)
        eff.freezes.setdefault(business, []).extend(
            Sourced(r, f.source(("freezes", business, i))) for i, r in enumerate(ranges))


def _check_regions(f: LoadedFile, path, ranges: list[Range], problems: list[Problem]) -> None:
    if f.level == "national":
        return
    own = _significant(f.code)
    for i, r in enumerate(ranges):
        for j, region in enumerate(r.regions):
            if not region.startswith(own):
                problems.append(f.problem(path + (i, "regions", j),
                                          f"region {region} is outside {f.code}"))


def _significant(code: str) -> str:
    level = level_of_code(code)
    return {"province": code[:2], "city": code[:4]}.get(level or "", code)


def _merge_actions(eff: Effective, f: LoadedFile, problems: list[Problem]) -> None:
    for name, action in f.rules.actions.items():
        path = ("actions", name)
        current = eff.actions.get(name) or EffectiveAction(name)
        if f.level in ("city", "county"):
            _tighten_action(current, action, f, path, problems)
        else:
            _define_action(current, action, f, path, problems)
        eff.actions[name] = current


def _define_action(cur: EffectiveAction, a: Action, f: LoadedFile, path, problems) -> None:
    for key in ("label", "reasons", "evidence", "requires_status", "queue", "escalate"):
        value = getattr(a, key)
        if value is not None:
            setattr(cur, key, Sourced(tuple(value) if isinstance(value, list) else value,
                                      f.source(path + (key,))))
    if a.chain is not None:
        cur.chain = _sourced_steps(f, path + ("chain",), a.chain)
    for variant, steps in a.variants.items():
        cur.variants[variant] = _sourced_steps(f, path + ("variants", variant), steps)
    for stage, rule in a.stages.items():
        spath = path + ("stages", stage)
        if stage in cur.locked:
            problems.append(f.problem(spath, f"the {stage} rule of {cur.name} is locked at "
                                             f"{cur.locked[stage]}"))
            continue
        allowed = rule if isinstance(rule, bool) else rule.allowed
        if allowed is not None:
            cur.allowed[stage] = Sourced(allowed, f.source(spath))
        if not isinstance(rule, bool):
            if rule.chain is not None:
                cur.stage_chain[stage] = _sourced_steps(f, spath + ("chain",), rule.chain)
            if rule.locked:
                cur.locked[stage] = f.source(spath + ("locked",))
            if _conditions_fit(cur, rule, f, spath, problems):  # a province's list replaces
                cur.conditions[stage] = _required(f, spath, rule)
    _add_extra(cur, a, f, path)


def _conditions_fit(cur: EffectiveAction, rule, f: LoadedFile, spath, problems) -> bool:
    """Graduation conditions belong to ``graduate`` only (elsewhere the file check reports them)."""
    return not isinstance(rule, bool) and rule.conditions is not None and cur.name == "graduate"


def _conditions_problems(f: LoadedFile) -> list[Problem]:
    return [f.problem(("actions", name, "stages", stage, "conditions"),
                      "conditions apply to graduate only")
            for name, action in f.rules.actions.items() if name != "graduate"
            for stage, rule in action.stages.items()
            if not isinstance(rule, bool) and rule.conditions is not None]


def _required(f: LoadedFile, spath, rule) -> dict[str, Source]:
    path = spath + ("conditions", "required_fields")
    return {name: f.source(path + (i,)) for i, name in enumerate(rule.conditions.required_fields)}


def _tighten_action(cur: EffectiveAction, a: Action, f: LoadedFile, path, problems) -> None:
    for key in ("label", "reasons", "requires_status", "chain"):
        if getattr(a, key) is not None:
            problems.append(f.problem(path + (key,), f"only national and province files set "
                                                     f"{key}; a {f.level} may add extra_steps"))
    if a.variants:
        problems.append(f.problem(path + ("variants",), "only national and province files set "
                                                        "variants"))
    if a.evidence is not None:  # lower levels may ask for more evidence, never less
        before = tuple(cur.evidence.value) if cur.evidence else ()
        cur.evidence = Sourced(before + tuple(e for e in a.evidence if e not in before),
                               f.source(path + ("evidence",)))
    _tighten_deferral(cur, a, f, path, problems)
    for stage, rule in a.stages.items():
        spath = path + ("stages", stage)
        allowed = rule if isinstance(rule, bool) else rule.allowed
        if stage in cur.locked:
            problems.append(f.problem(spath, f"the {stage} rule of {cur.name} is locked at "
                                             f"{cur.locked[stage]}"))
        elif not isinstance(rule, bool) and (rule.chain is not None or rule.locked):
            problems.append(f.problem(spath, f"a {f.level} may only forbid a stage"))
        elif allowed is True and stage in cur.allowed and cur.allowed[stage].value is False:
            problems.append(f.problem(spath, f"a {f.level} may only tighten: {cur.name} is not "
                                             f"allowed for {stage} at {cur.allowed[stage].source}"))
        elif allowed is False:
            cur.allowed[stage] = Sourced(False, f.source(spath))
        if stage not in cur.locked and _conditions_fit(cur, rule, f, spath, problems):
            above = cur.conditions.get(stage, {})  # lower levels add conditions, never drop one
            added = _required(f, spath, rule)
            cur.conditions[stage] = {**above, **{k: v for k, v in added.items() if k not in above}}
    _add_extra(cur, a, f, path)


def _tighten_deferral(cur: EffectiveAction, a: Action, f: LoadedFile, path, problems) -> None:
    """A city or county may forbid queuing and escalate sooner, never the other way."""
    if a.queue is not None:
        if a.queue and cur.queue is not None and cur.queue.value is False:
            problems.append(f.problem(path + ("queue",), f"a {f.level} may only tighten: queuing "
                                                         f"{cur.name} is off at {cur.queue.source}"))
        else:
            cur.queue = Sourced(a.queue, f.source(path + ("queue",)))
    if a.escalate is not None:
        above = cur.escalate
        if above is not None and a.escalate.after_days > above.value.after_days:
            problems.append(f.problem(path + ("escalate", "after_days"),
                                      f"a {f.level} may only escalate sooner than "
                                      f"{above.value.after_days} days set at {above.source}"))
        else:
            cur.escalate = Sourced(a.escalate, f.source(path + ("escalate",)))


def _merge_escalation(eff: Effective, f: LoadedFile, problems: list[Problem]) -> None:
    """The default escalation: national and province set it, lower levels only shorten it."""
    rule = f.rules.escalation
    if rule is None:
        return
    above = eff.escalation
    if f.level in ("city", "county") and above is not None and rule.after_days > above.value.after_days:
        problems.append(f.problem(("escalation", "after_days"),
                                  f"a {f.level} may only escalate sooner than "
                                  f"{above.value.after_days} days set at {above.source}"))
        return
    eff.escalation = Sourced(rule, f.source(("escalation",)))


def _merge_exports(eff: Effective, f: LoadedFile, problems: list[Problem]) -> None:
    """导出审批: national and province set the threshold; a city or county may only tighten it
    (fewer rows, more scopes that need approval)."""
    rule = f.rules.exports
    if rule is None:
        return
    tighten_only = f.level in ("city", "county")
    if rule.approval_over_rows is not None:
        path, above = ("exports", "approval_over_rows"), eff.export_rows
        if tighten_only and above is not None and rule.approval_over_rows > above.value:
            problems.append(f.problem(path, f"a {f.level} may only lower approval_over_rows; "
                                            f"{above.source} sets {above.value}"))
        else:
            eff.export_rows = Sourced(rule.approval_over_rows, f.source(path))
    if rule.approval_scopes is not None:
        path = ("exports", "approval_scopes")
        scopes = {level: f.source(path + (i,)) for i, level in enumerate(rule.approval_scopes)}
        eff.export_scopes = {**scopes, **eff.export_scopes} if tighten_only else scopes
    _merge_export_window(eff, f, rule.approval_window_hours, problems)


def _merge_export_window(eff: Effective, f: LoadedFile, hours: int | None, problems: list[Problem]) -> None:
    """The window of earlier exports that count: a city or county may only lengthen it."""
    if hours is None:
        return
    path, above = ("exports", "approval_window_hours"), eff.export_window
    if f.level in ("city", "county") and above is not None and hours < above.value:
        problems.append(f.problem(path, f"a {f.level} may only lengthen approval_window_hours; "
                                        f"{above.source} sets {above.value}"))
        return
    eff.export_window = Sourced(hours, f.source(path))


def _add_extra(cur: EffectiveAction, a: Action, f: LoadedFile, path) -> None:
    cur.extra.extend(_sourced_steps(f, path + ("extra_steps",), a.extra_steps))


def _sourced_steps(f: LoadedFile, path, steps: list[Step]) -> tuple[Sourced, ...]:
    return tuple(Sourced(step, f.source(path + (i,))) for i, step in enumerate(steps))


def merge(eff: Effective, f: LoadedFile, problems: list[Problem]) -> Effective:
    """The policy below ``eff`` once ``f`` applies; what ``f`` may not do goes to ``problems``."""
    out = eff.copy()
    out.files = eff.files + (f.name,)
    _merge_controlled(out, f, problems)
    _merge_caps(out, f, problems)
    _merge_switches(out, f, problems)
    _merge_windows(out, f, problems)
    _merge_actions(out, f, problems)
    _merge_escalation(out, f, problems)
    _merge_exports(out, f, problems)
    if f.rules.calendar is not None:  # every level's holidays and make-up days add up
        out.holidays = out.holidays | frozenset(f.rules.calendar.holidays)
        out.workdays = out.workdays | frozenset(f.rules.calendar.workdays)
    return out


# ---------------------------------------------------------------------------------------------
# loading


def _validate(name: str, text: str, problems: list[Problem]) -> LoadedFile | None:
    located, found = parse(name, text)
    problems.extend(found)
    if located.data is None or located.incomplete:
        return None
    if not isinstance(located.data, dict):
        problems.append(Problem(name, 1, "", "a rule file is a mapping of keys (level, code, ...)"))
        return None
    try:
        rules = RuleFile.model_validate(located.data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(located.problem(_clean_loc(err["loc"]), _message(err)))
        return None
    f = LoadedFile(name, rules, located)
    problems.extend(_file_problems(f))
    return f


_LOC_NOISE = ("bool", "StageRule", "date", "str", "function-", "[key]", "flag", "rule",
              "union[")


def _clean_loc(loc) -> tuple:
    """Pydantic's location without its type tags: actions.suspend.stages.primary.allowed."""
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith(_LOC_NOISE)))


def _message(err: dict) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    expected = (err.get("ctx") or {}).get("expected", "")
    if err["type"] == "literal_error" and expected.count(",") > 12:
        return f"{err['input']!r} is not a known name (the names are listed in rules/README.md)"
    return msg


def _file_problems(f: LoadedFile) -> list[Problem]:
    problems = []
    stem = f.name.rsplit("/", 1)[-1].removesuffix(".yaml")
    if f.level == "national":
        if f.rules.code is not None:
            problems.append(f.problem(("code",), "the national baseline has no code"))
        if stem != "national":
            problems.append(f.problem(("level",), "the national baseline lives in national.yaml"))
        if f.rules.controlled_fields and f.rules.controlled_fields.remove:
            problems.append(f.problem(("controlled_fields", "remove"),
                                      "the national baseline has nothing above it to remove"))
    else:
        code = f.rules.code
        if code is None:
            problems.append(f.problem(("level",), f"a {f.level} file needs its division code"))
        elif level_of_code(code) != f.level:
            problems.append(f.problem(("code",), f"{code!r} is not a {f.level} code "
                                                 "(province 430000, city 430100, county 430102)"))
        elif stem != code:
            problems.append(f.problem(("code",), f"the file for {code} must be named {code}.yaml"))
    problems.extend(_conditions_problems(f))
    spec = f.rules.controlled_fields
    if spec is not None:
        for key in ("add", "remove", "locked"):
            seen: set[str] = set()
            for i, name in enumerate(getattr(spec, key)):
                if name in seen:
                    problems.append(f.problem(("controlled_fields", key, i), f"{name!r} is listed twice"))
                seen.add(name)
        for i, name in enumerate(spec.remove):
            if name in spec.add or name in spec.locked:
                problems.append(f.problem(("controlled_fields", "remove", i),
                                          f"{name!r} is both added and removed"))
    return problems


def load_texts(texts: dict[str, str], version: int | None = None) -> "RuleSet":
    """Check every file; return the rule set, or raise RuleSetInvalid with every problem."""
    problems: list[Problem] = []
    files, broken = [], set()
    for name in sorted(texts):
        f = _validate(RULES_PREFIX + name, texts[name], problems)
        if f is not None:
            files.append(f)
        else:
            broken.add(name.removesuffix(".yaml"))
    by_code = {f.code: f for f in files if f.level != "national"}
    national = [f for f in files if f.level == "national"]
    if not national and not any(p.file == RULES_PREFIX + "national.yaml" for p in problems):
        problems.append(Problem(RULES_PREFIX + "national.yaml", 1, "", "the national baseline is missing"))
    ruleset = RuleSet(national[0] if national else None, by_code, version, _digest(texts))
    for f in files:  # each file checked against the policy above it, when that one is sound
        above = ["national"] + parent_codes(f.code)
        if f.level != "national" and national and not broken & set(above):
            ruleset.effective_for_file(f, problems)
    if problems:
        raise RuleSetInvalid(problems)
    return ruleset


def read_dir(directory: str | Path) -> dict[str, str | bytes]:
    """The rule files of a directory: {file name: text} (bytes when it is not UTF-8)."""
    out: dict[str, str | bytes] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        data = path.read_bytes()
        try:
            out[path.name] = data.decode("utf-8")
        except UnicodeDecodeError:
            out[path.name] = data  # reported by load_texts, with the line
    return out


def load_dir(directory: str | Path, version: int | None = None) -> "RuleSet":
    return load_texts(read_dir(directory), version)


def _digest(texts: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(texts):
        body = texts[name]
        h.update(name.encode() + b"\0" + (body if isinstance(body, bytes) else body.encode()) + b"\0")
    return h.hexdigest()


class RuleSet:
    """Validated rule files and, memoised, the effective policy of every node asked about."""

    def __init__(self, national: LoadedFile | None, by_code: dict[str, LoadedFile],
                 version: int | None, digest: str):
        self.national = national
        self.by_code = by_code
        self.version = version
        self.digest = digest
        self._cache: dict[tuple[str, ...], Effective] = {}

    @property
    def files(self) -> list[LoadedFile]:
        return ([self.national] if self.national else []) + [
            self.by_code[c] for c in sorted(self.by_code, key=lambda c: (FILE_LEVELS.index(
                self.by_code[c].level), c))]

    def chain_files(self, codes) -> list[LoadedFile]:
        """The files that apply below national for these jurisdiction codes, top first."""
        return [self.by_code[c] for c in codes if c and c in self.by_code]

    def effective(self, *codes: str | None) -> Effective:
        """The policy at the node whose chain is ``codes`` (province, city, county codes)."""
        key = tuple(c for c in codes if c)
        hit = self._cache.get(key)
        if hit is None:
            hit = Effective()
            if self.national is not None:
                hit = merge(hit, self.national, [])
            for f in self.chain_files(key):
                hit = merge(hit, f, [])
            self._cache[key] = hit
        return hit

    def effective_for_file(self, f: LoadedFile, problems: list[Problem]) -> Effective:
        above = self.effective(*parent_codes(f.code))
        return merge(above, f, problems)

    def file_for(self, code: str) -> LoadedFile | None:
        return self.national if code == "national" else self.by_code.get(code)


__all__ = ["Effective", "EffectiveAction", "Problem", "RuleSet", "RuleSetInvalid", "Source",
           "Sourced", "Step", "dotted", "load_dir", "load_texts", "read_dir", "STAGES"]
