"""Benchmark of the rule engine: loading the shipped rules, evaluate() on a realistic mix of facts.

    .venv/bin/python tests/bench/bench_policy.py [--loads N] [--decisions N] [--repeats N]

Prints a small table and writes tests/bench/results/policy.json.  Not a test: pytest does not
collect it (no ``test_`` prefix), and it asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.policy import Facts, evaluate, load_texts, read_dir  # noqa: E402

RESULTS = ROOT / "tests" / "bench" / "results" / "policy.json"

# jurisdiction chains of schools: a county with its own file, counties without one, a city without
# a file, and a province with none (national baseline only)
CODES = [
    ("430000", "430100", "430102"), ("430000", "430100", "430103"), ("430000", "430100", "430104"),
    ("430000", "430200", "430202"), ("430000", "430200", "430203"), ("430000", "430300", "430302"),
    ("440000", "440100", "440103"),
]
CODE_WEIGHTS = [30, 15, 15, 15, 10, 10, 5]
# what schools and bureaus do most: direct edits, class placement, changes, transfers, registration
ACTION_WEIGHTS = {
    "edit_field": 30, "assign_class": 12, "change_field": 10, "transfer": 10, "suspend": 6,
    "resume": 3, "register_new": 8, "register_in_school": 5, "graduate": 4, "verify_data": 4,
    "dropout": 2, "withdraw": 1, "expel": 1, "repeat": 1, "delete_record": 1, "promote": 1,
    "enroll_cross_province": 1,
}
FIELDS = ["name", "phone", "current_address", "health", "birthplace", "hmt_status", "email",
          "hukou_location", "specialty", "travel_mode"]
STAGES = ["primary"] * 5 + ["junior"] * 3 + ["senior"] * 2
STATUSES = ["in_school"] * 9 + ["suspended"]


def facts_mix(n: int, seed: int = 20260910) -> list[Facts]:
    """``n`` plausible proposals spread over a school year, deterministic for a given seed."""
    rng = random.Random(seed)
    actions = list(ACTION_WEIGHTS)
    start = datetime(2026, 9, 1, 8)
    out = []
    for _ in range(n):
        action = rng.choices(actions, weights=list(ACTION_WEIGHTS.values()))[0]
        at = start + timedelta(days=rng.randrange(365), minutes=rng.randrange(600))
        extra: dict = {}
        if action == "edit_field":
            extra["changed_fields"] = tuple(rng.sample(FIELDS, rng.randint(1, 3)))
        if action == "assign_class":
            extra["class_size"] = rng.randint(30, 52)
        if action == "register_new":
            extra["birth_date"] = date(2020, 1, 1) + timedelta(days=rng.randrange(366 + 60))
        if action == "transfer":
            extra["variant"] = rng.choice([None, "same_county", "same_city", "cross_province"])
        if action == "delete_record":
            extra["registry_kind"] = rng.choice("LGJ")
        out.append(Facts(action=action, at=at, codes=rng.choices(CODES, CODE_WEIGHTS)[0],
                         stage=rng.choice(STAGES), status=rng.choice(STATUSES),
                         phase=rng.choice(["start"] * 4 + ["step"]),
                         problem_record=rng.random() < 0.02,
                         business_in_progress=rng.random() < 0.05, **extra))
    return out


def bench_loads(texts: dict[str, str], loads: int) -> dict:
    load_texts(texts)  # warm-up: imports, pydantic schema build
    times = []
    for _ in range(loads):
        t0 = time.perf_counter()
        load_texts(texts)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"loads": loads, "median_ms": statistics.median(times) * 1e3,
            "min_ms": times[0] * 1e3, "p90_ms": times[int(len(times) * 0.9) - 1] * 1e3,
            "files": sorted(texts), "bytes": sum(len(t.encode()) for t in texts.values())}


def _run(ruleset, mix: list[Facts], cold: bool) -> float:
    cache = getattr(ruleset, "_cache", None)
    if cold and cache is None:
        raise SystemExit("RuleSet has no _cache to clear: update the cold-cache benchmark")
    t0 = time.perf_counter()
    if cold:
        for facts in mix:
            cache.clear()
            evaluate(ruleset, facts)
    else:
        for facts in mix:
            evaluate(ruleset, facts)
    return time.perf_counter() - t0


def bench_evaluate(texts: dict[str, str], decisions: int, repeats: int) -> dict:
    ruleset = load_texts(texts)
    mix = facts_mix(decisions)
    out: dict = {"decisions": decisions, "repeats": repeats,
                 "refused_share": sum(not evaluate(ruleset, f).allowed for f in mix) / len(mix),
                 "actions": {a: sum(f.action == a for f in mix) for a in ACTION_WEIGHTS}}
    for label, cold in (("warm", False), ("cold", True)):
        _run(ruleset, mix[: max(1, decisions // 10)], cold)  # warm-up
        runs = []
        for _ in range(repeats):
            gc.collect()
            runs.append(_run(ruleset, mix, cold))
        best = statistics.median(runs)
        out[label] = {"decisions_per_s": decisions / best,
                      "us_per_decision": best / decisions * 1e6, "median_run_s": best}
    return out


def table(result: dict) -> str:
    load, ev = result["load"], result["evaluate"]
    rows = [
        ("load shipped rules (median)", f"{load['median_ms']:.2f} ms",
         f"min {load['min_ms']:.2f} ms, p90 {load['p90_ms']:.2f} ms, {load['loads']} loads"),
        ("evaluate, warm cache", f"{ev['warm']['decisions_per_s']:,.0f} /s",
         f"{ev['warm']['us_per_decision']:.1f} µs per decision"),
        ("evaluate, cold cache", f"{ev['cold']['decisions_per_s']:,.0f} /s",
         f"{ev['cold']['us_per_decision']:.1f} µs per decision"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'measure':<{width}}  {'value':>14}  detail", "-" * (width + 40)]
    lines += [f"{a:<{width}}  {b:>14}  {c}" for a, b, c in rows]
    lines.append(f"mix: {ev['decisions']} decisions, {ev['refused_share']:.0%} refused; "
                 f"median of {ev['repeats']} runs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=50)
    parser.add_argument("--decisions", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    texts = read_dir(ROOT / "rules")
    result = {
        "benchmark": "policy",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "load": bench_loads(texts, args.loads),
        "evaluate": bench_evaluate(texts, args.decisions, args.repeats),
    }
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return result


if __name__ == "__main__":
    main()
