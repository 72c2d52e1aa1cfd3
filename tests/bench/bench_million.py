"""Pages at a million students: the pages a registrar and a supervisor open all day, one user, on a
province built by tests/bench/province.py (PostgreSQL).

    .venv/bin/python tests/bench/province.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench_million --students 1000000
    .venv/bin/python tests/bench/bench_million.py [--database URL] [--repeat 30]

Signs in as the province's, a county's and a school's registrar and a school's supervisor (the
generator's accounts), warms each page once, then asks it ``--repeat`` times and keeps p50, p95 and
the statements of one request: the home page, the student list (first page and page 1,000), search
by exact ID number and by name (the list's filters and the REST API), a record's page, the inbox and
the REST student list.  Results: tests/bench/results/pages-million-<db>.json (with ``students``);
exit status 1, naming them, when a page's p95 is over 100 ms or it fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

import demo_db  # noqa: E402
from bench_pages import Statements  # noqa: E402

LIMIT_MS = 100.0
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_million"


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _time(client, url: str, repeat: int, counter: Statements, headers: dict | None = None) -> dict:
    response = client.get(url, headers=headers)  # warm-up
    times, statements = [], 0
    for _ in range(repeat):
        before = counter.count
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        statements = counter.count - before
    return {"url": url, "status": response.status_code, "bytes": len(response.data),
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(_p95(times), 1),
            "max_ms": round(max(times), 1), "statements": statements}


def _token(app, username: str) -> dict:
    r = app.test_client().post("/api/v1/security/login", json={
        "username": username, "password": demo_db.PASSWORD, "provider": "db"})
    if r.status_code != 200:
        raise SystemExit(f"API sign-in of {username} failed ({r.status_code}): {r.get_json()}")
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def _subjects(app) -> dict:
    """The accounts measured, and a student each may see: one of the busiest school's."""
    from sqlalchemy import func, select, update

    from app import clock
    from app.extensions import db
    from app.models import Request, School, Student, XuejiUser

    with app.app_context():
        with_accounts = select(XuejiUser.school_id).where(XuejiUser.school_id.is_not(None))
        busiest = db.session.execute(
            select(Request.origin_school_id, func.count()).where(Request.status == "pending",
                                                                 Request.origin_school_id.in_(with_accounts))
            .group_by(Request.origin_school_id).order_by(func.count().desc(), Request.origin_school_id)
            .limit(1)).first()
        school = db.session.get(School, busiest[0]) if busiest else db.session.scalars(
            select(School).order_by(School.id)).first()
        users = set(db.session.scalars(select(XuejiUser.username)))
        student = db.session.scalars(select(Student).where(Student.school_id == school.id,
                                                           Student.id_number_enc.is_not(None))
                                     .order_by(Student.id).limit(1)).first()
        picked = {"id": student.id, "id_number": student.id_number, "surname": student.name[:1],
                  "name": student.name}
        total = db.session.scalar(select(func.count()).select_from(Student))
        code, county = school.code, school.county_code
        db.session.rollback()
    accounts = [u for u in ("430000_registrar", f"{county}_registrar", f"{code}_registrar",
                            f"{code}_supervisor") if u in users]
    with app.app_context():  # the generator's accounts have aged (some dormant, passwords old):
        now = clock.now()      # the ones measured signed in yesterday and changed their password
        db.session.execute(update(XuejiUser).where(XuejiUser.username.in_(accounts)).values(
            active=True, sealed_at=None, last_login=now - timedelta(days=1),
            password_changed_at=now - timedelta(days=1), password_must_change=False, fail_login_count=0))
        db.session.commit()
    return {"accounts": accounts, "student": picked, "school": code, "students": total}


def pages(student: dict) -> dict[str, str]:
    q_id = f"(filters:!((col:id_blind,opr:exact,value:'{student['id_number']}')),page:0,page_size:25)"
    q_name = f"(filters:!((col:name,opr:sw,value:'{student['name']}')),page:0,page_size:25)"
    return {
        "home": "/",
        "student list": "/students/list/",
        "student list, page 1000": "/students/list/?page_StudentView=999",
        "search by ID (page)": f"/students/list/?_flt_0_id_blind={student['id_number']}",
        "search by name (page)": f"/students/list/?_flt_0_name={student['name']}",
        "record": f"/students/show/{student['id']}",
        "inbox": "/inbox/",
        "API student list": "/api/v1/student/?q=(page:0,page_size:25)",
        "API search by ID": f"/api/v1/student/?q={q_id}",
        "API search by name": f"/api/v1/student/?q={q_name}",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=DEFAULT_URL)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    app = demo_db.make_app(args.database)
    with app.app_context():
        from flask_migrate import upgrade

        from app.extensions import db

        upgrade(directory=app.extensions["migrate"].directory)  # a migration added since it was built
        counter = Statements(db.engine)
    subjects = _subjects(app)
    results: dict[str, dict] = {}
    for username in subjects["accounts"]:
        client, headers = demo_db.signed_in(app, username), _token(app, username)
        results[username] = {}
        for name, url in pages(subjects["student"]).items():
            if name == "record" and username.endswith("_supervisor"):
                continue  # a supervisor reads no record pages
            r = _time(client, url, args.repeat, counter, headers if url.startswith("/api/") else None)
            results[username][name] = r
            print(f"{username:<22} {name:<26} p50 {r['p50_ms']:>7.1f}  p95 {r['p95_ms']:>7.1f} ms "
                  f"{r['statements']:>4} SQL  {r['status']}")
    slow = [f"{u} {p} p95 {r['p95_ms']:.0f} ms" for u, rows in results.items() for p, r in rows.items()
            if r["p95_ms"] > LIMIT_MS]
    broken = [f"{u} {p} HTTP {r['status']}" for u, rows in results.items() for p, r in rows.items()
              if r["status"] >= 400]
    report = demo_db.header("pages-million", args.database) | {
        "students": subjects["students"], "school": subjects["school"], "limit_p95_ms": LIMIT_MS,
        "repeat": args.repeat, "over_limit": slow, "errors": broken, "pages": results}
    demo_db.RESULTS.mkdir(parents=True, exist_ok=True)
    out = demo_db.RESULTS / f"pages-million-{report['database']}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"{sum(len(r) for r in results.values())} pages measured on {subjects['students']} students -> {out}")
    for line in slow + broken:
        print(f"FAIL {line}", file=sys.stderr)
    return 1 if slow or broken else 0


if __name__ == "__main__":
    sys.exit(main())
