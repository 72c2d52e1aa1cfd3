"""The promotion batch (升级) of a whole province of N students (built by tests/bench/province.py),
timed against hand-written SQL doing the same move in the same run.

    .venv/bin/python tests/bench/bench_promotion.py \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/bench_million

What is measured is the real batch: ``promotion.promote`` for 湖南 (430000) as the province's
registrar (``430000_registrar``), with the business clock pinned inside the promotion window
(``XUEJI_FIXED_NOW=2027-08-10T23:00:00``, the window of rules/national.yaml): the plan and its
blockers, then per school the claim, the snapshots, the moves and the audit row, one transaction
each.

Blockers.  The generated province has open requests (about 40,000) and final-grade students who
have not graduated (about 236,000); both block a promotion unless the rules carry them over.  The
bench neither closes nor deletes anything: it activates, for the run, the rules in force with one
line added to the province's file, ``promotion_carry_over: true`` under ``switches:`` of
rules/430000.yaml (a new rule-set version; the rules in force before are activated again at the
end).  Final grades stay where they are, as the service and the hand-written SQL both leave them.

Held back.  The generator marks nobody ``hold_back``; so that the held-back path (stay in the
grade, take the class arriving there with the same number, lose the mark) is part of the work, the
bench marks 1 in-school student in 100 (``id % 100 = 7``) held back before it starts, and clears
the marks when it ends.

Each round:

1. ``VACUUM (ANALYZE)`` of student, school_class and grade (not timed); then ``promote`` (timed:
   ``seconds``).  Checks: per school and grade number, the in-school students equal the expected
   shift computed from the data before the first round; every class's grade is one up (or the
   same for final grades); every held-back student sits in the expected class; the service's
   counts agree.
2. The run's own ``undo`` (timed: ``undo_seconds``), and a check that every student's grade,
   class and hold-back mark and every class's grade are back exactly as before (a digest of
   all of them).
3. ``VACUUM (ANALYZE)``; the hand-written SQL (timed, one transaction, COMMIT included:
   ``sql_seconds``): classes of every non-final grade up one grade, their in-school students
   with them except the held back, the held back into the class arriving in their grade with
   their class's number, the marks cleared -- the same rows.  Check: the digest equals the
   batch's.  Then put the rows back from the copy taken before the first round (not timed) and
   check the digest again.

``--rounds`` (default 2) rounds; the medians count.  Writes
tests/bench/results/promotion-postgresql-<students>.json (and tests/bench/results/promotion.json)
with ``students``, ``seconds``, ``sql_seconds`` and ``ratio_to_sql`` (target: at most 2).  Exits 1
when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "tests" / "bench" / "results"
NODE = "430000"
AS = "430000_registrar"
BUSINESS_NOW = "2027-08-10T23:00:00"  # inside rules/national.yaml's promotion window (08-10)
PROVINCE_FILE = "430000.yaml"
CARRY_LINE = "  promotion_carry_over: true        # bench_promotion.py: carry open business over\n"
HOLD_MOD, HOLD_REM = 100, 7
TARGET_RATIO = 2.0
BEFORE = "bench_promo_before"  # grade, class and mark of every student before the first round
BEFORE_CLASS = "bench_promo_class_before"


def movable_numbers() -> list[int]:
    """Grade numbers that move up (not the final grade of a stage), from the app's own stages."""
    from app.models.school import STAGE_GRADES

    return sorted(n for grades in STAGE_GRADES.values() for n in grades if n + 1 in grades)


# -- the hand-written SQL -------------------------------------------------------------------------

def hand_sql(node: str, movable: list[int]) -> list[tuple[str, str, dict]]:
    """The same move as the batch, for every school of the province at once."""
    p = {"p": node, "m": movable}
    mine = "SELECT id FROM school WHERE province_code = %(p)s"
    return [
        ("missing grades", f"""
            INSERT INTO grade (school_id, stage, number, name, province_code, city_code, county_code)
            SELECT g.school_id, g.stage, g.number + 1, '', g.province_code, g.city_code, g.county_code
            FROM grade g WHERE g.school_id IN ({mine}) AND g.number = ANY(%(m)s)
              AND NOT EXISTS (SELECT 1 FROM grade u WHERE u.school_id = g.school_id
                              AND u.number = g.number + 1)""", p),
        ("classes", f"""
            UPDATE school_class c SET grade_id = up.id
            FROM grade g JOIN grade up ON up.school_id = g.school_id AND up.number = g.number + 1
            WHERE c.grade_id = g.id AND c.school_id = g.school_id AND g.number = ANY(%(m)s)
              AND c.school_id IN ({mine})""", p),
        ("students", f"""
            UPDATE student s SET grade_id = up.id
            FROM grade g JOIN grade up ON up.school_id = g.school_id AND up.number = g.number + 1
            WHERE s.grade_id = g.id AND s.school_id = g.school_id AND g.number = ANY(%(m)s)
              AND s.status = 'in_school' AND s.hold_back IS false AND s.school_id IN ({mine})""", p),
        ("held back: class", f"""
            UPDATE student s SET class_id = (
                SELECT min(a.id) FROM school_class a WHERE a.school_id = s.school_id
                AND a.grade_id = s.grade_id AND a.number = m.number)
            FROM school_class m
            WHERE m.id = s.class_id AND m.grade_id <> s.grade_id AND s.status = 'in_school'
              AND s.hold_back IS true AND s.school_id IN ({mine})""", p),
        ("held back: mark", f"""
            UPDATE student SET hold_back = false WHERE status = 'in_school' AND hold_back IS true
              AND school_id IN ({mine})""", p),
    ]


# -- what the data says before, and checks after --------------------------------------------------

def digest(conn) -> str:
    """One digest of every student's grade, class and mark and every class's grade."""
    students = conn.execute(
        "SELECT md5(string_agg(id || ':' || coalesce(grade_id, 0) || ':' || coalesce(class_id, 0) "
        "|| ':' || hold_back::int, ',' ORDER BY id)) FROM student").fetchone()[0]
    classes = conn.execute(
        "SELECT md5(string_agg(id || ':' || grade_id, ',' ORDER BY id)) FROM school_class").fetchone()[0]
    return f"{students}/{classes}"


def expectations(conn, movable: list[int]) -> dict:
    """From the data before any move: in-school students by school and grade number after the shift,
    each class's grade number after, the class each held-back student should sit in after."""
    by_school = Counter()
    for school, number, n in conn.execute(
            "SELECT s.school_id, CASE WHEN g.number = ANY(%(m)s) AND s.hold_back IS false "
            "AND g.school_id = s.school_id THEN g.number + 1 ELSE g.number END, count(*) "
            "FROM student s JOIN grade g ON g.id = s.grade_id JOIN school k ON k.id = s.school_id "
            "WHERE k.province_code = %(p)s AND s.status = 'in_school' GROUP BY 1, 2",
            {"m": movable, "p": NODE}):
        by_school[(school, number)] += n
    classes = dict(conn.execute(
        "SELECT c.id, CASE WHEN g.number = ANY(%(m)s) THEN g.number + 1 ELSE g.number END "
        "FROM school_class c JOIN grade g ON g.id = c.grade_id JOIN school k ON k.id = c.school_id "
        "WHERE k.province_code = %(p)s", {"m": movable, "p": NODE}).fetchall())
    # a held-back student in a moving class stays in the grade; the class that arrives there is
    # the one of the grade below with the same number (none for a stage's first grade)
    held = dict(conn.execute(
        "SELECT s.id, CASE WHEN gc.number = ANY(%(m)s) THEN (SELECT min(a.id) FROM school_class a "
        "  JOIN grade ga ON ga.id = a.grade_id WHERE a.school_id = s.school_id "
        "  AND ga.number = g.number - 1 AND ga.number = ANY(%(m)s) AND a.number = c.number) "
        "  ELSE s.class_id END "
        "FROM student s JOIN grade g ON g.id = s.grade_id JOIN school k ON k.id = s.school_id "
        "LEFT JOIN school_class c ON c.id = s.class_id LEFT JOIN grade gc ON gc.id = c.grade_id "
        "WHERE k.province_code = %(p)s AND s.status = 'in_school' AND s.hold_back IS true",
        {"m": movable, "p": NODE}).fetchall())
    movers = conn.execute(
        "SELECT count(*) FROM student s JOIN grade g ON g.id = s.grade_id AND g.school_id = s.school_id "
        "JOIN school k ON k.id = s.school_id WHERE k.province_code = %(p)s AND s.status = 'in_school' "
        "AND s.hold_back IS false AND g.number = ANY(%(m)s)", {"m": movable, "p": NODE}).fetchone()[0]
    per_grade_before = dict(conn.execute(
        "SELECT g.number, count(*) FROM student s JOIN grade g ON g.id = s.grade_id "
        "JOIN school k ON k.id = s.school_id WHERE k.province_code = %(p)s AND s.status = 'in_school' "
        "GROUP BY 1 ORDER BY 1", {"p": NODE}).fetchall())
    per_grade_after = Counter()
    for (_school, number), n in by_school.items():
        per_grade_after[number] += n
    return {"by_school": by_school, "classes": classes, "held": held, "movers": movers,
            "per_grade_before": per_grade_before, "per_grade_after": dict(sorted(per_grade_after.items()))}


def check_moved(conn, want: dict) -> list[str]:
    """Where the province now differs from the expected shift."""
    problems = []
    now = Counter()
    for school, number, n in conn.execute(
            "SELECT s.school_id, g.number, count(*) FROM student s JOIN grade g ON g.id = s.grade_id "
            "JOIN school k ON k.id = s.school_id WHERE k.province_code = %(p)s "
            "AND s.status = 'in_school' GROUP BY 1, 2", {"p": NODE}):
        now[(school, number)] += n
    for key in sorted(set(now) | set(want["by_school"])):
        if now[key] != want["by_school"][key]:
            problems.append(f"school {key[0]} grade {key[1]}: {now[key]} in school, "
                            f"expected {want['by_school'][key]}")
    classes = dict(conn.execute(
        "SELECT c.id, g.number FROM school_class c JOIN grade g ON g.id = c.grade_id "
        "JOIN school k ON k.id = c.school_id WHERE k.province_code = %(p)s", {"p": NODE}).fetchall())
    for cid, number in want["classes"].items():
        if classes.get(cid) != number:
            problems.append(f"class {cid}: grade {classes.get(cid)}, expected {number}")
    held = dict(conn.execute(
        "SELECT id, class_id FROM student WHERE id = ANY(%(ids)s)", {"ids": list(want["held"])}).fetchall())
    marks = conn.execute("SELECT count(*) FROM student WHERE id = ANY(%(ids)s) AND hold_back",
                         {"ids": list(want["held"])}).fetchone()[0]
    for sid, cid in want["held"].items():
        if held.get(sid) != cid:
            problems.append(f"held-back student {sid}: class {held.get(sid)}, expected {cid}")
    if marks:
        problems.append(f"{marks} held-back students still marked")
    per_grade = dict(conn.execute(
        "SELECT g.number, count(*) FROM student s JOIN grade g ON g.id = s.grade_id "
        "JOIN school k ON k.id = s.school_id WHERE k.province_code = %(p)s AND s.status = 'in_school' "
        "GROUP BY 1 ORDER BY 1", {"p": NODE}).fetchall())
    if per_grade != want["per_grade_after"]:
        problems.append(f"per-grade counts {per_grade} != expected {want['per_grade_after']}")
    return problems[:50]


# -- setup and teardown ---------------------------------------------------------------------------

def vacuum(dsn: str) -> float:
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) student, school_class, grade")
    return time.perf_counter() - t0


def carry_over_texts(texts: dict[str, str]) -> dict[str, str]:
    """The rules in force with the province's carry-over switch on (one line under ``switches:``)."""
    province = texts[PROVINCE_FILE]
    if re.search(r"^\s+promotion_carry_over:", province, re.M):
        province = re.sub(r"^(\s+promotion_carry_over:).*$", CARRY_LINE.rstrip("\n"), province,
                          count=1, flags=re.M)
    else:
        province, n = re.subn(r"^switches:[^\n]*\n", lambda m: m.group(0) + CARRY_LINE, province,
                              count=1, flags=re.M)
        if not n:
            raise SystemExit(f"rules/{PROVINCE_FILE} has no switches: section to add the switch to")
    return {**texts, PROVINCE_FILE: province}


def snapshot_before(conn) -> None:
    """Copy every student's grade, class and mark and every class's grade (once, before round 1)."""
    conn.execute(f"DROP TABLE IF EXISTS {BEFORE}")
    conn.execute(f"DROP TABLE IF EXISTS {BEFORE_CLASS}")
    conn.execute(f"CREATE UNLOGGED TABLE {BEFORE} AS SELECT id, grade_id, class_id, hold_back FROM student")
    conn.execute(f"ALTER TABLE {BEFORE} ADD PRIMARY KEY (id)")
    conn.execute(f"CREATE UNLOGGED TABLE {BEFORE_CLASS} AS SELECT id, grade_id FROM school_class")
    conn.execute(f"ALTER TABLE {BEFORE_CLASS} ADD PRIMARY KEY (id)")
    conn.commit()


def restore_before(conn) -> tuple[int, int]:
    """Put back what differs from the copy (after the hand-written SQL)."""
    students = conn.execute(
        f"UPDATE student s SET grade_id = b.grade_id, class_id = b.class_id, hold_back = b.hold_back "
        f"FROM {BEFORE} b WHERE b.id = s.id AND (s.grade_id IS DISTINCT FROM b.grade_id "
        f"OR s.class_id IS DISTINCT FROM b.class_id OR s.hold_back IS DISTINCT FROM b.hold_back)").rowcount
    classes = conn.execute(
        f"UPDATE school_class c SET grade_id = b.grade_id FROM {BEFORE_CLASS} b WHERE b.id = c.id "
        f"AND c.grade_id IS DISTINCT FROM b.grade_id").rowcount
    conn.commit()
    return students, classes


# -- the run --------------------------------------------------------------------------------------

def run(url: str, rounds: int, log=print) -> dict:
    import psycopg

    from app import create_app
    from app.clock import now as business_now
    from app.extensions import db
    from app.models import XuejiUser
    from app.services.common.actors import Actor
    from app.services.policy import rulesets as policy
    from app.services.schoolyear import promotion
    from config import TestConfig

    sys.path.insert(0, str(ROOT / "tests" / "bench"))
    from province import pg_dsn

    dsn = pg_dsn(url)
    out_dir = ROOT / "tests" / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, INSTANCE_DIR=str(out_dir),
                     XUEJI_FIXED_NOW=BUSINESS_NOW)
    movable = movable_numbers()
    failures: list[str] = []
    rounds_out: list[dict] = []
    with app.app_context(), psycopg.connect(dsn) as conn:
        now = business_now()
        students = conn.execute("SELECT count(*) FROM student").fetchone()[0]
        actor = Actor.of(db.session.query(XuejiUser).filter_by(username=AS).one())
        standing = promotion.plan(db.session, actor, NODE, now).run
        if standing is not None:  # an earlier bench run that did not finish: undo it first
            log(f"undoing the standing run {standing.id} ({standing.status}) left by an earlier run")
            promotion.undo(db.session, actor, standing.id, now)
        rules_before = policy.current_texts(db.session)
        version_before = policy.current(db.session).version
        policy.activate(db.session, carry_over_texts(rules_before), by="bench_promotion",
                        note="bench: promotion_carry_over on for the province")
        marked = [i for (i,) in conn.execute(
            "UPDATE student SET hold_back = true WHERE id %% %(m)s = %(r)s AND status = 'in_school' "
            "AND hold_back IS false RETURNING id", {"m": HOLD_MOD, "r": HOLD_REM}).fetchall()]
        conn.commit()
        missing_up = conn.execute(
            "SELECT count(*) FROM grade g JOIN school k ON k.id = g.school_id WHERE k.province_code = %(p)s "
            "AND g.number = ANY(%(m)s) AND NOT EXISTS (SELECT 1 FROM grade u WHERE u.school_id = g.school_id "
            "AND u.number = g.number + 1)", {"p": NODE, "m": movable}).fetchone()[0]
        try:
            plan = promotion.plan(db.session, actor, NODE, now)
            db.session.rollback()
            if not plan.allowed:
                raise SystemExit(f"the promotion is refused: {[p.as_dict() for p in plan.problems]}")
            log(f"{students:,} students; {plan.students:,} to move in {len(plan.schools)} schools, "
                f"{len(marked):,} marked held back; carried over: {plan.blockers.open_total:,} open "
                f"requests, {plan.blockers.final_total:,} final-grade students in school "
                f"({plan.carry_over_source}); grades missing above: {missing_up}")
            t0 = time.perf_counter()
            want = expectations(conn, movable)
            conn.rollback()
            expect_seconds = time.perf_counter() - t0
            snapshot_before(conn)
            before = digest(conn)
            conn.rollback()
            for i in range(1, rounds + 1):
                r: dict = {"round": i}
                r["vacuum_seconds"] = round(vacuum(dsn), 2)
                db.session.remove()
                t0 = time.perf_counter()
                outcome = promotion.promote(db.session, actor, NODE, now)
                r["seconds"] = round(time.perf_counter() - t0, 3)
                run_id = outcome.run.id
                r.update(run=run_id, schools=outcome.schools_now, students_moved=outcome.students_now,
                         classes_moved=outcome.run.classes_moved, held_back=outcome.run.held_back,
                         status=outcome.run.status)
                db.session.remove()
                problems = check_moved(conn, want)
                if outcome.students_now != want["movers"]:
                    problems.append(f"the run moved {outcome.students_now} students, expected {want['movers']}")
                if outcome.run.held_back != len(want["held"]):
                    problems.append(f"the run held back {outcome.run.held_back}, expected {len(want['held'])}")
                if outcome.run.status != "done":
                    problems.append(f"the run is {outcome.run.status}, not done")
                after_batch = digest(conn)
                conn.rollback()
                log(f"round {i}: promote {r['seconds']:.1f} s ({r['students_moved']:,} students, "
                    f"{r['classes_moved']:,} classes, {r['held_back']:,} held back); "
                    f"{len(problems)} problems")
                t0 = time.perf_counter()
                undone = promotion.undo(db.session, actor, run_id, now)
                r["undo_seconds"] = round(time.perf_counter() - t0, 3)
                r["undo"] = undone
                db.session.remove()
                r["undo_exact"] = digest(conn) == before
                conn.rollback()
                if not r["undo_exact"]:
                    problems.append("after undo the students and classes are not as before")
                log(f"round {i}: undo {r['undo_seconds']:.1f} s, restored exactly: {r['undo_exact']}")
                r["sql_vacuum_seconds"] = round(vacuum(dsn), 2)
                steps = {}
                t0 = time.perf_counter()
                for label, sql, params in hand_sql(NODE, movable):
                    ts = time.perf_counter()
                    steps[label] = [conn.execute(sql, params).rowcount,
                                    round(time.perf_counter() - ts, 3)]
                conn.commit()
                r["sql_seconds"] = round(time.perf_counter() - t0, 3)
                r["sql_steps"] = steps
                if digest(conn) != after_batch:
                    problems.append("the hand-written SQL and the batch leave different rows")
                if steps["students"][0] != outcome.students_now:
                    problems.append(f"the SQL moved {steps['students'][0]} students, the batch "
                                    f"{outcome.students_now}")
                conn.rollback()
                r["ratio_to_sql"] = round(r["seconds"] / r["sql_seconds"], 2)
                log(f"round {i}: hand-written SQL {r['sql_seconds']:.1f} s; ratio {r['ratio_to_sql']:.2f}")
                restore_before(conn)
                if digest(conn) != before:
                    problems.append("after the SQL run the rows could not be put back")
                conn.rollback()
                r["problems"] = problems
                failures += [f"round {i}: {p}" for p in problems]
                rounds_out.append(r)
        finally:
            # leave the province as found: rows as before, the marks off, the rules in force before
            conn.rollback()
            db.session.remove()
            if _exists(conn, BEFORE):
                restore_before(conn)
            conn.execute("UPDATE student SET hold_back = false WHERE id = ANY(%(ids)s)", {"ids": marked})
            conn.execute(f"DROP TABLE IF EXISTS {BEFORE}")
            conn.execute(f"DROP TABLE IF EXISTS {BEFORE_CLASS}")
            conn.commit()
            policy.activate(db.session, rules_before, by="bench_promotion",
                            note="bench: the rules in force before the promotion bench")
            db.session.remove()
            db.engine.dispose()
    seconds = statistics.median(r["seconds"] for r in rounds_out)
    sql_seconds = statistics.median(r["sql_seconds"] for r in rounds_out)
    ratio = round(seconds / sql_seconds, 2)
    return {
        "benchmark": "promotion", "database": "postgresql", "students": students, "node": NODE,
        "as": AS, "business_now": BUSINESS_NOW, "school_year": plan.school_year,
        "schools": len(plan.schools), "students_to_move": want["movers"],
        "held_back_marked": len(marked), "held_back_rule": f"id % {HOLD_MOD} = {HOLD_REM}, in school",
        "carried_over": {"open_requests": plan.blockers.open_total,
                         "final_grade_in_school": plan.blockers.final_total,
                         "switch": "promotion_carry_over: true", "source": plan.carry_over_source,
                         "rule_version_before": version_before},
        "grades_missing_above": missing_up,
        "seconds": round(seconds, 3), "sql_seconds": round(sql_seconds, 3), "ratio_to_sql": ratio,
        "undo_seconds": round(statistics.median(r["undo_seconds"] for r in rounds_out), 3),
        "runs": [r["seconds"] for r in rounds_out], "sql_runs": [r["sql_seconds"] for r in rounds_out],
        "undo_runs": [r["undo_seconds"] for r in rounds_out],
        "rounds": rounds_out,
        "per_grade_before": want["per_grade_before"], "per_grade_expected_after": want["per_grade_after"],
        "expectations_seconds": round(expect_seconds, 2),
        "failures": failures, "target_ratio": TARGET_RATIO,
        "within_target": ratio <= TARGET_RATIO and not failures,
        "machine": machine_notes(conn_dsn=dsn),
        "python": sys.version.split()[0], "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}


def _exists(conn, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]


def machine_notes(conn_dsn: str) -> dict:
    import psycopg

    with psycopg.connect(conn_dsn) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(conn.execute(
            "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
            "('shared_buffers', 'work_mem', 'synchronous_commit', 'max_wal_size', 'fsync')").fetchall())
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "postgresql": version,
            "postgresql_settings": settings, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "note": "PostgreSQL on the same machine; 2 cores shared with other helpers' test runs"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL built by province.py")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.database.startswith("postgresql"):
        parser.error("--database must be a PostgreSQL URL (the hand-written SQL is PostgreSQL's)")
    result = run(args.database, max(1, args.rounds))
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n"
    out = RESULTS / f"promotion-postgresql-{result['students']}.json"
    out.write_text(text, encoding="utf-8")
    (RESULTS / "promotion.json").write_text(text, encoding="utf-8")
    print(f"promotion of {result['students_to_move']:,} of {result['students']:,} students: "
          f"{result['seconds']:.2f} s, hand-written SQL {result['sql_seconds']:.2f} s, "
          f"ratio {result['ratio_to_sql']:.2f} (target {TARGET_RATIO}); undo {result['undo_seconds']:.2f} s; "
          f"{len(result['failures'])} failed checks")
    for line in result["failures"][:20]:
        print("   ", line)
    print(f"wrote {out.relative_to(ROOT)} and tests/bench/results/promotion.json")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
