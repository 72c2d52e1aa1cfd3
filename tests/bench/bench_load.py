"""Load test: many users at once against gunicorn's worker processes on PostgreSQL, with locust.

    .venv/bin/pip install -c constraints.txt -e ".[bench]"      # locust (not needed by the suite)
    .venv/bin/python tests/bench/bench_load.py [--database URL] [--workers 1,2,4,5] [--users 20]
        [--seconds 60] [--spawn-rate 5] [--profiles think,stress] [--classes gthread,sync]
        [--threads 4] [--out FILE]

Seeds the demo (3,000 students, README "Demo accounts") into --database unless it already holds it
(default: the database load_demo on 127.0.0.1), then for each profile, worker class and worker count
starts ``run.py serve --workers N`` (gunicorn, app/serving.py) on a free loopback port, waits until
every worker has built its app, runs locust headless (tests/bench/locustfile.py) with that many users
for that long, and stops the server.  Profiles: ``think`` waits 1 to 3 s between a user's requests
(a registrar at a desk; served as configured, gthread), ``stress`` none (throughput against workers,
gthread against sync).  Figures are of the steady state, after the last user has signed in.

Each run records users, requests/s, p50/p95 overall and per endpoint (list, show, search name,
search id, inbox; sign-in apart), errors, the server's logged errors, and the load average before
and after: figures are only comparable from a quiet machine (``uptime`` below 1 before the start).
Results: tests/bench/results/load-postgresql.json.  Exit status 1 when any run had an error or,
with the think profile, a p95 over 500 ms.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

import demo_db  # noqa: E402

DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/load_demo"
ENDPOINTS = ["list", "show", "search name", "search id", "inbox"]
P95_LIMIT_MS = 500.0
SAMPLE = 200  # students per account the users pick from
READY = re.compile(r"worker \d+ ready")  # app/serving.py's post_worker_init


def main() -> int:
    args = _arguments()
    try:
        import locust  # noqa: F401
    except ImportError:
        raise SystemExit('locust is missing: .venv/bin/pip install -c constraints.txt -e ".[bench]"') from None
    app = demo_db.make_app(args.database)
    seeded = demo_db.ensure_demo(app)
    targets = demo_db.OUT / "load-targets.json"
    targets.write_text(json.dumps(_targets(app), ensure_ascii=False))
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    plan = [(profile, worker_class, workers) for profile in args.profiles
            for worker_class in (args.classes if profile == "stress" else args.classes[:1])
            for workers in args.workers]
    runs = [_measure(args, targets, *step) for step in plan]
    result = {**demo_db.header("load", args.database), "seeded_now": seeded, "cpus": os.cpu_count(),
              "users": args.users, "seconds": args.seconds, "spawn_rate": args.spawn_rate,
              "threads": args.threads, "p95_limit_ms": P95_LIMIT_MS,
              "think_time": "between 1 and 3 s per user (profile think); none (profile stress)",
              "runs": runs}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(_table(runs))
    print(f"results: {out}")
    failed = [r for r in runs if r["errors"] or r["server_errors"] or r["sign_ins"] < r["users"]
              or (r["profile"] == "think" and r["p95_ms"] > P95_LIMIT_MS)]
    for run in failed:
        print(f"FAILED: {run['label']}: errors {run['errors']}, server errors {run['server_errors']}, "
              f"p95 {run['p95_ms']} ms", file=sys.stderr)
    return 1 if failed else 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=os.environ.get("XUEJI_LOAD_DATABASE", DATABASE))
    parser.add_argument("--workers", default="1,2,4,5", type=_ints)
    parser.add_argument("--users", default=20, type=int)
    parser.add_argument("--seconds", default=60, type=int)
    parser.add_argument("--spawn-rate", default=5, type=float)
    parser.add_argument("--profiles", default="think,stress", type=lambda s: s.split(","))
    parser.add_argument("--classes", default="gthread,sync", type=lambda s: s.split(","),
                        help="gunicorn worker classes: the think profile runs the first (the served "
                             "one), the stress profile compares them all (sync: one thread each)")
    parser.add_argument("--threads", default=4, type=int, help="threads per gthread worker")
    parser.add_argument("--out", default=str(demo_db.RESULTS / "load-postgresql.json"))
    args = parser.parse_args()
    if not args.database.startswith("postgresql"):
        parser.error("the load test serves PostgreSQL (several processes write the same database)")
    if any(p not in ("think", "stress") for p in args.profiles):
        parser.error("--profiles: think, stress")
    return args


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def _targets(app) -> dict:
    """Per registrar and supervisor of the demo: a sample of the students in scope, and the pages."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Student, XuejiUser
    from app.services.common.actors import Actor

    accounts = {}
    with app.app_context():
        users = db.session.scalars(select(XuejiUser).where(XuejiUser.username.regexp_match(
            "(registrar|supervisor)$")).order_by(XuejiUser.username)).all()
        for user in users:
            scope = Actor.of(user).scope.clause(Student)
            count = db.session.scalar(select(func.count()).select_from(Student).where(scope))
            students = db.session.scalars(select(Student).where(scope).order_by(Student.id)).all()
            step = max(1, len(students) // SAMPLE)
            accounts[user.username] = {
                "pages": max(1, math.ceil(count / 25)),
                "students": [{"id": s.id, "name": s.name, "id_number": s.id_number or ""}
                             for s in students[::step][:SAMPLE]]}
        db.session.rollback()
    if not all(a["students"] for a in accounts.values()):
        raise SystemExit(f"an account sees no student: {[u for u, a in accounts.items() if not a['students']]}")
    return {"password": demo_db.PASSWORD, "accounts": accounts}


def _environment(database: str, worker_class: str, threads: int) -> dict:
    """The server's: the development configuration with the keys the demo was seeded under."""
    from config import TestConfig

    return {**os.environ, "XUEJI_ENV": "development", "DATABASE_URL": database,
            "SECRET_KEY": secrets.token_hex(32), "XUEJI_ENCRYPTION_KEYS": TestConfig.XUEJI_ENCRYPTION_KEYS,
            "XUEJI_BLIND_INDEX_KEY": TestConfig.XUEJI_BLIND_INDEX_KEY,
            "XUEJI_INSTANCE_DIR": str(demo_db.OUT / "load-instance"),
            "XUEJI_JOBS": "thread",  # no job worker beside it: /health answers 200; reads queue nothing
            "XUEJI_WORKER_CLASS": worker_class, "XUEJI_THREADS": str(threads if worker_class == "gthread" else 1)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _measure(args, targets: Path, profile: str, worker_class: str, workers: int) -> dict:
    label = f"{profile}-{worker_class}-{workers}w"
    port, log = _free_port(), demo_db.OUT / f"load-server-{label}.log"
    raw = demo_db.OUT / f"load-raw-{label}.json"
    raw.unlink(missing_ok=True)
    print(f"{label}: starting {workers} {worker_class} workers on :{port}", flush=True)
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "run.py", "serve", "--workers", str(workers), "--port", str(port)],
            cwd=ROOT, env=_environment(args.database, worker_class, args.threads), stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_ready(server, log, port, workers)
            load_before = os.getloadavg()[0]
            started = time.time()
            subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(ROOT / "tests" / "bench" / "locustfile.py"),
                 "--headless", "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                 "--run-time", f"{args.seconds}s", "--host", f"http://127.0.0.1:{port}", "--only-summary",
                 "--stop-timeout", "10", "--loglevel", "WARNING"],
                cwd=ROOT, env={**os.environ, "XUEJI_LOAD_TARGETS": str(targets), "XUEJI_LOAD_RAW": str(raw),
                               "XUEJI_LOAD_PROFILE": profile},
                timeout=args.seconds + 120, check=False, stdout=subprocess.DEVNULL)
            elapsed = time.time() - started
            load_after = os.getloadavg()[0]
        finally:
            _stop(server)
    return {"label": label, "profile": profile, "worker_class": worker_class, "workers": workers,
            "threads": args.threads if worker_class == "gthread" else 1, "users": args.users,
            "load_before": round(load_before, 2), "load_after": round(load_after, 2),
            "wall_seconds": round(elapsed, 1), **_summary(json.loads(raw.read_text())),
            "server_errors": _server_errors(log)}


def _wait_ready(server: subprocess.Popen, log: Path, port: int, workers: int, limit: float = 180) -> None:
    """Until every worker has built its app (app/serving.py logs "ready") and /health answers 200."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped ({server.returncode}):\n{log.read_text()[-3000:]}")
        if len(READY.findall(log.read_text(errors="replace"))) >= workers:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.5)
    raise SystemExit(f"the server was not ready in {limit:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen) -> None:
    """TERM: gunicorn's graceful stop; KILL the process group if it outlasts the grace."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def _percentiles(ms: list[float]) -> tuple[float, float]:
    if len(ms) < 2:
        return (ms[0], ms[0]) if ms else (0.0, 0.0)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return round(cuts[49], 1), round(cuts[94], 1)


def _summary(seen: dict) -> dict:
    """Requests/s, p50/p95 overall and per endpoint, over the steady state: from the last user's
    sign-in to the end (sign-ins counted apart, once per user).  Errors are counted over the whole run."""
    sign_ins = [ms for _, ms in seen.get("login", {}).get("done", [])]
    since = max((t for t, _ in seen.get("login", {}).get("done", [])), default=0.0)
    work = {name: [(t, ms) for t, ms in seen.get(name, {}).get("done", []) if t > since] for name in ENDPOINTS}
    ends = [t for done in work.values() for t, _ in done]
    every = [ms for done in work.values() for _, ms in done]
    span = max(ends) - since if ends else 0.0
    errors = [f"{name}: {e}" for name, w in seen.items() for _, e in w["errors"]]
    p50, p95 = _percentiles(every)
    return {"requests": len(every), "steady_seconds": round(span, 1),
            "requests_per_s": round(len(every) / span, 1) if span else 0.0,
            "p50_ms": p50, "p95_ms": p95, "errors": len(errors), "error_samples": errors[:10],
            "sign_ins": len(sign_ins), "sign_in_p50_ms": _percentiles(sign_ins)[0],
            "endpoints": {name: {"requests": len(done), **dict(zip(("p50_ms", "p95_ms"),
                                                                 _percentiles([ms for _, ms in done]), strict=True))}
                          for name, done in work.items()}}


def _server_errors(log: Path) -> int:
    """Lines the server logged at ERROR or above, and worker timeouts or crashes."""
    text = log.read_text(errors="replace")
    return sum(text.count(mark) for mark in ('"level": "ERROR"', '"level": "CRITICAL"', "WORKER TIMEOUT",
                                             "[ERROR]", "[CRITICAL]"))


def _table(runs: list[dict]) -> str:
    head = ("| profile | class | workers | users | requests/s | p50 ms | p95 ms | "
            + " | ".join(f"{e} p50/p95" for e in ENDPOINTS) + " | errors | load before |")
    lines = [head, "|" + "---|" * (8 + len(ENDPOINTS) + 1)]
    for r in runs:
        per = " | ".join(f"{r['endpoints'][e]['p50_ms']:.0f}/{r['endpoints'][e]['p95_ms']:.0f}" for e in ENDPOINTS)
        lines.append(f"| {r['profile']} | {r['worker_class']} | {r['workers']} | {r['users']} | "
                     f"{r['requests_per_s']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {per} | "
                     f"{r['errors'] + r['server_errors']} | {r['load_before']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
