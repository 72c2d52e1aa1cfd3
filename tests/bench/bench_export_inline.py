"""In-request export size: how long making an export's file takes for N students, per kind
(students .xlsx, 确认表 .xlsx and PDF), on the demo data -- what XUEJI_EXPORT_INLINE_ROWS bounds.

    .venv/bin/python tests/bench/bench_export_inline.py [--database URL] [--rows 500,1000,2000,3000]

Writes the first N students of the province registrar's scope with ``exports.KINDS`` (the same writers
the page and the job call), in memory as the job does, median of 3.  Results:
tests/bench/results/export-inline-<db>.json.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

import demo_db  # noqa: E402


def _seconds(app, kind: str, rows: int) -> float:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import XuejiUser
    from app.services.common.actors import Actor
    from app.services.exchange import exports

    with app.app_context():
        actor = Actor.of(db.session.scalar(select(XuejiUser).where(XuejiUser.username == "prov_registrar")))
        start = time.perf_counter()
        made = exports.KINDS[kind][0](itertools.islice(exports.rows(db.session, actor), rows), io.BytesIO())
        spent = time.perf_counter() - start
        db.session.rollback()
    assert made == rows, (kind, made, rows)
    return spent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL") or "")
    ap.add_argument("--rows", default="500,1000,2000,3000")
    args = ap.parse_args()
    url = demo_db.url_for(args.database)
    app = demo_db.make_app(url)
    demo_db.ensure_demo(app)
    report = demo_db.header("export-inline", url) | {"kinds": {}}
    for kind in ("students", "confirmation_xlsx", "confirmation_pdf"):
        report["kinds"][kind] = {}
        for rows in (int(n) for n in args.rows.split(",")):
            median = statistics.median(_seconds(app, kind, rows) for _ in range(3))
            report["kinds"][kind][rows] = round(median, 3)
            print(f"{kind:>18} {rows:>6} rows: {median:.2f} s ({rows / median:,.0f} rows/s)")
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"peak RSS {report['peak_rss_mb']} MB")
    demo_db.RESULTS.mkdir(parents=True, exist_ok=True)
    out = demo_db.RESULTS / f"export-inline-{report['database']}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
