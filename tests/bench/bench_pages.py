"""Page benchmark: every main page, as each demo role, on the demo data (3,000 students), one user.

    .venv/bin/python tests/bench/bench_pages.py [--database URL] [--repeat N] [--only ENDPOINT,...]

Signs in as the twelve demo accounts (one per role), asks each page its role may open N times
after one warm-up request, and keeps the median time and the SQL statements of one request (an
N+1 shows as a count that grows with the rows shown).  Seeds the demo into
tests/bench/out/demo-3000.db on first use (or into --database / TEST_DATABASE_URL, a database of
its own).  Results: tests/bench/results/pages-<db>.json; exit status 1, naming them, when any
page's median is over 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

import demo_db  # noqa: E402

LIMIT_MS = 300.0
ACCOUNTS = [f"{p}_{f}" for p in ("prov", "city", "county", "school")
            for f in ("registrar", "supervisor", "admin")]
# the pages a person opens in a day's work ("pk": the first row of the view's model in scope)
PAGES = ["HomeView.index", "StudentView.list", "StudentView.show", "StudentView.add", "StudentView.edit",
         "FamilyMemberView.list", "RegistryNumberView.list", "InboxView.index", "RequestView.list",
         "RequestView.show", "ProblemCaseView.list", "ImportView.list", "ImportView.upload",
         "JurisdictionView.list", "SchoolView.list", "SchoolView.show", "GradeView.list",
         "SchoolClassView.list", "SchoolClassView.show", "CodeItemView.list", "AccountView.list",
         "AccountView.show", "AuditEventView.list", "PersonalDataAccessView.list", "PolicyView.index",
         "PolicyView.history"]


class Statements:
    """Counts the SQL statements the engine sends (before_cursor_execute)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1


def _first_in_scope(app, view_name: str, username: str) -> int | None:
    """The smallest id of the view's model the account may see (None: nothing to show)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import XuejiUser
    from app.security.scoping import scopable
    from app.services.common.actors import Actor

    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == view_name)
    model = view.datamodel.obj
    with app.app_context():
        query = select(model.id).order_by(model.id).limit(1)
        if scopable(model):
            actor = Actor.of(db.session.scalar(select(XuejiUser).where(XuejiUser.username == username)))
            query = query.where(actor.scope.clause(model))
        return db.session.scalar(query)


def _url(app, endpoint: str, username: str) -> str | None:
    """The page's URL for the account, or None when it has no row to show."""
    from flask import url_for

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and "GET" in r.methods)
    args = {}
    if "pk" in rule.arguments:
        args["pk"] = _first_in_scope(app, endpoint.split(".")[0], username)
        if args["pk"] is None:
            return None
    with app.test_request_context():
        return url_for(endpoint, **args)


def _time(client, url: str, repeat: int, counter: Statements) -> dict:
    try:
        response = client.get(url)  # warm-up: caches, the first query plans
    except Exception as exc:  # the test configuration lets a page's error through: report it
        return {"url": url, "status": 500, "median_ms": 0.0, "max_ms": 0.0, "statements": 0,
                "error": f"{type(exc).__name__}: {exc}"[:300]}
    times = []
    for _ in range(repeat):
        before = counter.count
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        statements = counter.count - before
    return {"url": url, "status": response.status_code, "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1), "statements": statements}


def measure(app, pages: list[str], repeat: int) -> dict:
    """Per account, per page its role may open: status, median and worst ms, statements."""
    from app.extensions import db
    from app.security.routes import ROUTES

    routes = ROUTES
    with app.app_context():
        counter = Statements(db.engine)
    out: dict[str, dict] = {}
    for username in ACCOUNTS:
        role = f"{dict(prov='province').get(username.split('_')[0], username.split('_')[0])}_" \
               f"{dict(admin='sysadmin').get(username.split('_')[1], username.split('_')[1])}"
        client = demo_db.signed_in(app, username)
        out[username] = {}
        for endpoint in pages:
            if role not in routes[endpoint].roles:
                continue
            url = _url(app, endpoint, username)
            if url:
                out[username][endpoint] = _time(client, url, repeat, counter)
                print(f"{username:<18} {endpoint:<28} {out[username][endpoint]['median_ms']:>7.1f} ms "
                      f"{out[username][endpoint]['statements']:>4} SQL  {out[username][endpoint]['status']}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL") or "")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="", help="comma-separated endpoints (default: every main page)")
    args = ap.parse_args()
    url = demo_db.url_for(args.database)
    app = demo_db.make_app(url)
    demo_db.ensure_demo(app)
    pages = args.only.split(",") if args.only else PAGES
    results = measure(app, pages, args.repeat)
    slow = [f"{user} {page} {r['median_ms']:.0f} ms" for user, rows in results.items()
            for page, r in rows.items() if r["median_ms"] > LIMIT_MS]
    broken = [f"{user} {page} HTTP {r['status']}" for user, rows in results.items()
              for page, r in rows.items() if r["status"] >= 400]
    report = demo_db.header("pages", url) | {"limit_ms": LIMIT_MS, "repeat": args.repeat,
                                             "over_limit": slow, "errors": broken, "pages": results}
    if not args.only:
        demo_db.RESULTS.mkdir(parents=True, exist_ok=True)
        (demo_db.RESULTS / f"pages-{report['database']}.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False))
    worst = max((r["median_ms"] for rows in results.values() for r in rows.values()), default=0)
    print(f"{sum(len(r) for r in results.values())} pages measured, slowest median {worst:.0f} ms")
    for line in slow + broken:
        print(f"FAIL {line}", file=sys.stderr)
    return 1 if slow or broken else 0


if __name__ == "__main__":
    sys.exit(main())
