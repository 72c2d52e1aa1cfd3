"""The province's monthly report on a province of N students (built by tests/bench/province.py), timed
against hand-written SQL that computes the same indicators in the same run.

    .venv/bin/python tests/bench/bench_monthly_report.py \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/bench_million

The report measured is the one written on the 1st: the last closed month (the business clock's
month before), for the province, as the province supervisor, with everything ``compute`` does --
every catalogue indicator for the month and the month before, the drill-down to the 14 cities and
the six-month trend.  The month-end snapshots of the trend's months are taken first (timed apart:
``snapshot_seconds``), as the scheduled job would have.  The hand-written SQL computes the same
figures (each indicator for the month and the month before, per city, the trend indicators for the
four months before those) with one plain SQL statement per figure group, and the bench checks that
both give the same headline figures and city values.  The live current month is timed the same way
(``live_*``).

Each side runs ``--runs`` times (default 3), alternating; the median counts.  Writes
tests/bench/results/monthly-report-postgresql-<students>.json with ``students``, ``seconds``,
``sql_seconds`` and ``ratio_to_sql``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "tests" / "bench" / "results"
NODE = "430000"
AS = "430000_supervisor"
TARGET_SECONDS = 10.0
TARGET_RATIO = 2.0
TREND_MONTHS = 6
ON_RECORD = ("in_school", "suspended", "resuming")
REGISTRATIONS = ("register_new", "register_in_school", "register_returnee")
CHANGES = ("suspend", "resume", "repeat", "skip", "dropout", "withdraw", "expel", "abroad", "death")
TREND_KEYS = ("students_on_record", "new_registrations", "transfers_in", "transfers_out",
              "approvals_pending", "completion_share")


def first_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def share(part, whole):
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)


# -- working days, as the rules count them ----------------------------------------------------------

class Workdays:
    def __init__(self, holidays, workdays):
        self.holidays, self.workdays = frozenset(holidays), frozenset(workdays)
        self._due: dict = {}

    def due(self, start: date, days: int) -> date:
        key = (start, days)
        if key not in self._due:
            day, left = start, days
            while left > 0:
                day += timedelta(days=1)
                if day in self.workdays or (day.weekday() < 5 and day not in self.holidays):
                    left -= 1
            self._due[key] = day
        return self._due[key]

    def overdue(self, start: date, days: int, on: date) -> bool:
        return on > self.due(start, days)


# -- the hand-written SQL ---------------------------------------------------------------------------

class Hand:
    """The report's indicators for the province node, per city, in plain PostgreSQL."""

    def __init__(self, conn, calendar: Workdays, now: datetime):
        self.conn, self.cal, self.now = conn, calendar, now

    def rows(self, sql: str, **params):
        return self.conn.execute(sql, params).fetchall()

    def window(self, month: date):
        start = datetime(month.year, month.month, 1)
        nxt = next_month(month)
        end = datetime(nxt.year, nxt.month, 1)
        live = end > self.now
        if live:
            end = self.now
        snap = None if live else self.rows("SELECT 1 FROM report_month WHERE month = %(m)s", m=month)
        return {"month": month, "start": start, "end": end, "live": live, "stock": bool(snap) or live,
                "last_day": (end - timedelta(microseconds=1)).date(), "p": NODE}

    # stock ----------------------------------------------------------------------------------------
    def students(self, w) -> dict:
        if w["live"]:
            rows = self.rows(
                "SELECT s.city_code, g.number, count(*) FROM student s LEFT JOIN grade g ON g.id = s.grade_id "
                "WHERE s.province_code = %(p)s AND s.status = ANY(%(on)s) GROUP BY s.city_code, g.number",
                p=NODE, on=list(ON_RECORD))
        else:
            rows = self.rows(
                "SELECT city_code, grade, sum(count) FROM report_snapshot WHERE month = %(m)s "
                "AND subject = 'student' AND province_code = %(p)s AND status = ANY(%(on)s) "
                "GROUP BY city_code, grade", m=w["month"], p=NODE, on=list(ON_RECORD))
        node, cities = defaultdict(int), defaultdict(lambda: defaultdict(int))
        for city, grade, n in rows:
            node[grade] += int(n)
            cities[city][grade] += int(n)
        return {"node": node, "cities": cities}

    def on_record(self, w, s) -> tuple:
        return sum(s["node"].values()), {c: sum(g.values()) for c, g in s["cities"].items()}

    def ratio(self, s, upper, lower) -> tuple:
        return share(s["node"][upper], s["node"][lower]), {
            c: share(g[upper], g[lower]) for c, g in s["cities"].items()}

    def grade7(self, w, s) -> tuple:
        rows = self.rows(
            "SELECT city_code, count(*) FROM graduation WHERE province_code = %(p)s "
            "AND status = 'graduated' AND at >= %(a)s AND at < %(e)s "
            "AND (revoked_at IS NULL OR revoked_at >= %(e)s) AND grade_number = 6 GROUP BY city_code",
            p=NODE, a=w["end"] - timedelta(days=365), e=w["end"])
        grads = {c: int(n) for c, n in rows}
        keys = set(s["cities"]) | set(grads)
        return share(s["node"][7], sum(grads.values())), {
            c: share(s["cities"][c][7] if c in s["cities"] else 0, grads.get(c, 0)) for c in keys}

    def accounts(self, w) -> dict:
        if w["live"]:
            rows = self.rows(
                "SELECT coalesce(k.city_code, j.city_code), CASE WHEN u.active IS NOT TRUE THEN 'disabled' "
                "WHEN u.last_login >= %(since)s THEN 'active' ELSE 'dormant' END, count(*) FROM ab_user u "
                "LEFT JOIN school k ON k.id = u.school_id LEFT JOIN jurisdiction j ON j.id = u.jurisdiction_id "
                "WHERE coalesce(k.province_code, j.province_code) = %(p)s GROUP BY 1, 2",
                since=w["end"] - timedelta(days=90), p=NODE)
        else:
            rows = self.rows(
                "SELECT city_code, status, sum(count) FROM report_snapshot WHERE month = %(m)s "
                "AND subject = 'account' AND province_code = %(p)s GROUP BY city_code, status",
                m=w["month"], p=NODE)
        out = {s: [0, defaultdict(int)] for s in ("active", "dormant", "disabled")}
        for city, status, n in rows:
            out[status][0] += int(n)
            out[status][1][city] += int(n)
        return out

    # flows ----------------------------------------------------------------------------------------
    def _keyed(self, sql: str, w, **extra) -> tuple:
        rows = self.rows(sql, p=NODE, a=w["start"], e=w["end"], **extra)
        cities = defaultdict(int)
        for city, _key, n in rows:
            cities[city] += int(n)
        return sum(int(n) for *_k, n in rows), dict(cities)

    def registrations(self, w) -> tuple:
        return self._keyed(
            "SELECT r.origin_city, r.kind, sum(coalesce(j.created, 1)) FROM request r "
            "LEFT JOIN import_job j ON j.request_id = r.id WHERE r.origin_province = %(p)s "
            "AND r.kind = ANY(%(k)s) AND r.status = 'done' AND r.closed_at >= %(a)s AND r.closed_at < %(e)s "
            "GROUP BY r.origin_city, r.kind", w, k=list(REGISTRATIONS))

    def transfers(self, w, side: str) -> tuple:
        return self._keyed(
            f"SELECT {side}_city, CASE WHEN variant = 'same_county' THEN 'same_county' WHEN variant = "
            f"'cross_province' THEN 'cross_province' ELSE 'cross_county' END, count(*) FROM request "
            f"WHERE {side}_province = %(p)s AND kind = 'transfer' AND status = 'done' "
            f"AND closed_at >= %(a)s AND closed_at < %(e)s GROUP BY 1, 2", w)

    def changes(self, w) -> tuple:
        return self._keyed(
            "SELECT origin_city, kind, count(*) FROM request WHERE origin_province = %(p)s "
            "AND kind = ANY(%(k)s) AND status = 'done' AND closed_at >= %(a)s AND closed_at < %(e)s "
            "GROUP BY origin_city, kind", w, k=list(CHANGES))

    def graduations(self, w) -> tuple:
        return self._keyed(
            "SELECT city_code, stage, count(*) FROM graduation WHERE province_code = %(p)s "
            "AND status = 'graduated' AND at >= %(a)s AND at < %(e)s "
            "AND (revoked_at IS NULL OR revoked_at >= %(e)s) GROUP BY city_code, stage", w)

    def completion(self, w) -> tuple:
        rows = self.rows(
            "WITH r AS (SELECT id, origin_province, origin_city, other_province, other_city, "
            "(closed_at IS NOT NULL AND closed_at < %(e)s) AS done FROM request "
            "WHERE created_at < %(e)s AND (closed_at IS NULL OR closed_at >= %(a)s) "
            "AND (origin_province = %(p)s OR other_province = %(p)s)), "
            "c AS (SELECT id, origin_city AS city, done FROM r WHERE origin_province = %(p)s UNION "
            "SELECT id, other_city, done FROM r WHERE other_province = %(p)s) "
            "SELECT GROUPING(city), city, count(DISTINCT id), count(DISTINCT id) FILTER (WHERE done) "
            "FROM c GROUP BY GROUPING SETS ((city), ())", p=NODE, a=w["start"], e=w["end"])
        node = next(((n, d) for g, _c, n, d in rows if g == 1), (0, 0))
        return share(node[1], node[0]), {c: share(d, n) for g, c, n, d in rows if g == 0}

    def waiting(self, w) -> dict:
        rows = self.rows(
            "WITH o AS (SELECT id, chain, origin_province, origin_city, other_province, other_city "
            "FROM request WHERE created_at < %(e)s AND (closed_at IS NULL OR closed_at >= %(e)s) "
            "AND (origin_province = %(p)s OR other_province = %(p)s)), "
            "l AS (SELECT DISTINCT ON (s.request_id) s.request_id, s.action, s.step, s.at FROM request_step s "
            "JOIN o ON o.id = s.request_id WHERE s.at < %(e)s ORDER BY s.request_id, s.at DESC, s.id DESC), "
            "h AS (SELECT o.*, l.at, CASE WHEN l.action = 'approve' THEN l.step + 1 ELSE 0 END AS i "
            "FROM o JOIN l ON l.request_id = o.id WHERE l.action IN ('submit', 'resubmit') "
            "OR (l.action = 'approve' AND l.step + 1 < json_array_length(o.chain))), "
            "x AS (SELECT h.id, h.origin_province, h.origin_city, h.other_province, h.other_city, "
            "h.at::date AS day, (h.chain -> h.i ->> 'days')::int AS days, "
            "CASE WHEN h.chain -> h.i ->> 'node' LIKE 'school:%%' THEN 'school' "
            "ELSE coalesce(j.level, 'county') END AS level FROM h "
            "LEFT JOIN jurisdiction j ON 'bureau:' || j.code = h.chain -> h.i ->> 'node'), "
            "c AS (SELECT id, origin_city AS city, day, days, level FROM x WHERE origin_province = %(p)s "
            "UNION SELECT id, other_city, day, days, level FROM x WHERE other_province = %(p)s) "
            "SELECT GROUPING(city), city, level, day, days, count(DISTINCT id) FROM c "
            "GROUP BY GROUPING SETS ((city, level, day, days), (level, day, days))",
            p=NODE, e=w["end"])
        levels = defaultdict(lambda: {"n": 0, "overdue": 0})
        cities = defaultdict(lambda: {"n": 0, "overdue": 0})
        for g, city, level, day, days, n in rows:
            cell = levels[level] if g == 1 else cities[city]
            cell["n"] += n
            cell["overdue"] += n if self.cal.overdue(day, int(days or 0), w["last_day"]) else 0
        return {"n": sum(c["n"] for c in levels.values()),
                "overdue": sum(c["overdue"] for c in levels.values()),
                "cities_n": {c: v["n"] for c, v in cities.items()},
                "cities_overdue": {c: v["overdue"] for c, v in cities.items()}}

    def cross(self, w) -> dict:
        rows = self.rows(
            "WITH r AS (SELECT id, origin_province, origin_city, other_province, other_city, "
            "EXISTS (SELECT 1 FROM request_step s WHERE s.request_id = request.id AND s.action = 'approve' "
            "AND s.step = json_array_length(request.chain) - 1 AND s.at < %(e)s) AS approved, "
            "EXISTS (SELECT 1 FROM request_step s WHERE s.request_id = request.id AND s.action = 'pull' "
            "AND s.at < %(e)s) AS pulled FROM request WHERE kind = 'transfer' AND variant = 'cross_province' "
            "AND created_at < %(e)s AND (closed_at IS NULL OR closed_at >= %(a)s) "
            "AND (origin_province = %(p)s OR other_province = %(p)s)) "
            "SELECT count(*), count(*) FILTER (WHERE approved), count(*) FILTER (WHERE pulled) FROM r",
            p=NODE, a=w["start"], e=w["end"])[0]
        waiting = self.rows(
            "SELECT created_at::date, count(*) FROM request WHERE kind = 'transfer' "
            "AND variant = 'cross_province' AND created_at < %(e)s AND (closed_at IS NULL OR closed_at >= %(e)s) "
            "AND (origin_province = %(p)s OR other_province = %(p)s) GROUP BY 1", p=NODE, e=w["end"])
        late = sum(n for day, n in waiting if self.cal.overdue(day, 10, w["last_day"]))
        return {"approved": share(rows[1], rows[0]), "pulled": share(rows[2], rows[1]), "waiting": late}

    def problems(self, w) -> dict:
        rows = self.rows(
            "WITH c AS (SELECT DISTINCT p.id, k.city_code AS city, "
            "(p.detected_at >= %(a)s AND p.detected_at < %(e)s) AS found, "
            "(p.resolved_at >= %(a)s AND p.resolved_at < %(e)s) AS resolved, "
            "(p.detected_at < %(e)s AND (p.resolved_at IS NULL OR p.resolved_at >= %(e)s)) AS open "
            "FROM problem_member m JOIN problem_case p ON p.id = m.case_id JOIN school k ON k.id = m.school_id "
            "WHERE k.province_code = %(p)s) "
            "SELECT GROUPING(city), city, count(DISTINCT id) FILTER (WHERE found), "
            "count(DISTINCT id) FILTER (WHERE resolved), count(DISTINCT id) FILTER (WHERE open) "
            "FROM c GROUP BY GROUPING SETS ((city), ())", p=NODE, a=w["start"], e=w["end"])
        out = {}
        for i, name in enumerate(("found", "resolved", "open"), start=2):
            node = next((r[i] for r in rows if r[0] == 1), 0)
            out[name] = (int(node), {r[1]: int(r[i]) for r in rows if r[0] == 0})
        return out

    # the report -----------------------------------------------------------------------------------
    def month(self, month: date, keys=None) -> dict:
        """The indicators of one month: headline value and city values, by catalogue key."""
        w = self.window(month)
        want = (lambda k: True) if keys is None else (lambda k: k in keys)
        out: dict = {}
        if w["stock"]:
            s = self.students(w)
            if want("students_on_record"):
                out["students_on_record"] = self.on_record(w, s)
            if keys is None:
                out["ratio_grade1_grade2"] = self.ratio(s, 1, 2)
                out["ratio_grade10_grade11"] = self.ratio(s, 10, 11)
                out["ratio_grade7_primary_graduates"] = self.grade7(w, s)
                acc = self.accounts(w)
                out["accounts_active"] = (acc["active"][0], dict(acc["active"][1]))
                out["accounts_dormant"] = (acc["dormant"][0], dict(acc["dormant"][1]))
        if want("new_registrations"):
            out["new_registrations"] = self.registrations(w)
        if want("transfers_in"):
            out["transfers_in"] = self.transfers(w, "origin")
        if want("transfers_out"):
            out["transfers_out"] = self.transfers(w, "other")
        if want("approvals_pending") or want("approvals_overdue"):
            waiting = self.waiting(w)
            out["approvals_pending"] = (waiting["n"], waiting["cities_n"])
            if keys is None:
                out["approvals_overdue"] = (waiting["overdue"], waiting["cities_overdue"])
        if want("completion_share"):
            out["completion_share"] = self.completion(w)
        if keys is None:
            out["changes"] = self.changes(w)
            out["graduations"] = self.graduations(w)
            cross = self.cross(w)
            out["cross_province_approved"] = (cross["approved"], None)
            out["cross_province_pulled"] = (cross["pulled"], None)
            out["cross_province_waiting"] = (cross["waiting"], None)
            for name, (value, cities) in self.problems(w).items():
                out[f"problems_{name}"] = (value, cities)
        return out

    def report(self, month: date) -> dict:
        """What ``compute`` computes: every indicator for the month and the one before, the trend
        indicators for the four months before those."""
        current = self.month(month)
        before = previous_month(month)
        self.month(before)
        m = before
        for _ in range(TREND_MONTHS - 2):
            m = previous_month(m)
            self.month(m, TREND_KEYS)
        return current


# -- running both -----------------------------------------------------------------------------------

def compare(report, hand: dict) -> list[str]:
    """Where the report and the hand-written SQL disagree (headline values and city values)."""
    problems = []
    for figure in report.figures:
        if figure.key not in hand:
            problems.append(f"{figure.key}: not computed by the hand-written SQL")
            continue
        value, cities = hand[figure.key]
        if not _same(figure.value, value):
            problems.append(f"{figure.key}: report {figure.value} != sql {value}")
        if cities is None:
            continue
        for child in report.children:
            theirs = child.values.get(figure.key)
            mine = cities.get(child.code)
            if mine is None and isinstance(theirs, int) and theirs == 0:
                continue
            if not _same(theirs, mine):
                problems.append(f"{figure.key} [{child.code}]: report {theirs} != sql {mine}")
    return problems


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 0.051


def per_indicator(session, actor, month: date, now: datetime) -> dict:
    """Milliseconds of each catalogue indicator, alone, in a fresh window of ``month`` (indicators
    sharing a query -- the ratios, the accounts, the problem states -- show it on the first)."""
    from app.services.policy import rulesets as policy
    from app.services.reports import nodes, snapshot
    from app.services.reports.catalogue import CATALOGUE
    from app.services.reports.window import Calendar, Window, month_start
    from app.services.reports.window import next_month as month_after

    node = nodes.readable(session, actor, NODE)
    effective = policy.current(session).effective(*node.codes)
    start, end = month_start(month), month_start(month_after(month))
    live = end > now
    window = Window(session=session, node=node, month=month, start=start, end=now if live else end,
                    calendar=Calendar(frozenset(effective.holidays), frozenset(effective.workdays)),
                    stock_month=None if live else month,
                    has_stock=live or snapshot.taken(session, month) is not None)
    out = {}
    for indicator in CATALOGUE:
        t0 = time.perf_counter()
        indicator.compute(window)
        out[indicator.key] = round(1000 * (time.perf_counter() - t0), 1)
    session.rollback()
    return out


def run(url: str, runs: int) -> dict:
    import psycopg

    from app.clock import now as business_now
    from app.extensions import db
    from app.models import XuejiUser
    from app.services.common.actors import Actor
    from app.services.policy import rulesets as policy
    from app.services.reports import monthly, snapshot

    sys.path.insert(0, str(ROOT / "tests" / "bench"))
    from province import make_app, pg_dsn

    app = make_app(url)
    with app.app_context():
        now = business_now()
        month = previous_month(first_of(now.date()))
        live = first_of(now.date())
        students = db.session.execute(db.text("SELECT count(*) FROM student")).scalar()
        user = db.session.query(XuejiUser).filter_by(username=AS).one()
        actor = Actor.of(user)
        # the month-end snapshots of the trend's months, as the scheduled job takes them
        t = time.perf_counter()
        m, snaps = month, []
        for _ in range(TREND_MONTHS):
            snaps.append(m)
            m = previous_month(m)
        taken = {}
        for m in reversed(snaps):
            t0 = time.perf_counter()
            snapshot.close_month(db.session, m, now=now, by="bench")
            taken[f"{m:%Y-%m}"] = round(time.perf_counter() - t0, 2)
        snapshot_seconds = round(time.perf_counter() - t, 2)
        effective = policy.current(db.session).effective(NODE)
        calendar = Workdays(effective.holidays, effective.workdays)
        db.session.rollback()

        def report_once(which):
            db.session.rollback()
            t0 = time.perf_counter()
            result = monthly.compute(db.session, actor, NODE, which, now=now)
            elapsed = time.perf_counter() - t0
            db.session.rollback()
            return elapsed, result

        with psycopg.connect(pg_dsn(url)) as conn:
            def sql_once(which):
                t0 = time.perf_counter()
                result = Hand(conn, calendar, now).report(which)
                elapsed = time.perf_counter() - t0
                conn.rollback()
                return elapsed, result

            out = {}
            for label, which in (("", month), ("live_", live)):
                times, sql_times = [], []
                report = hand = None
                for _ in range(runs):
                    elapsed, report = report_once(which)
                    times.append(elapsed)
                    elapsed, hand = sql_once(which)
                    sql_times.append(elapsed)
                seconds, sql_seconds = statistics.median(times), statistics.median(sql_times)
                out[f"{label}month"] = f"{which:%Y-%m}"
                out[f"{label}seconds"] = round(seconds, 3)
                out[f"{label}sql_seconds"] = round(sql_seconds, 3)
                out[f"{label}ratio_to_sql"] = round(seconds / sql_seconds, 2)
                out[f"{label}runs"] = [round(x, 3) for x in times]
                out[f"{label}sql_runs"] = [round(x, 3) for x in sql_times]
                out[f"{label}mismatches"] = compare(report, hand)
                out[f"{label}figures"] = {f.key: f.value for f in report.figures}
                out[f"{label}indicator_ms"] = per_indicator(db.session, actor, which, now)
        db.session.remove()
        db.engine.dispose()
    return {"benchmark": "monthly-report", "database": "postgresql", "students": students,
            "node": NODE, "as": AS, "business_now": now.isoformat(),
            **out, "snapshot_seconds": snapshot_seconds, "snapshot_seconds_by_month": taken,
            "target_seconds": TARGET_SECONDS, "target_ratio": TARGET_RATIO,
            "within_target": out["seconds"] < TARGET_SECONDS and out["ratio_to_sql"] <= TARGET_RATIO,
            "python": sys.version.split()[0], "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL built by province.py")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.database.startswith("postgresql"):
        parser.error("--database must be a PostgreSQL URL (the hand-written SQL is PostgreSQL's)")
    result = run(args.database, args.runs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"monthly-report-postgresql-{result['students']}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    for label in ("", "live_"):
        print(f"{result[label + 'month']}: report {result[label + 'seconds']:.2f} s, hand-written SQL "
              f"{result[label + 'sql_seconds']:.2f} s, ratio {result[label + 'ratio_to_sql']:.2f}; "
              f"{len(result[label + 'mismatches'])} mismatches")
        for line in result[label + "mismatches"][:20]:
            print("   ", line)
    print(f"snapshots {result['snapshot_seconds']:.1f} s; wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
