"""Confirmation-form benchmark: one school's 确认表 as .xlsx and as PDF, downloaded by its registrar
from the page (what a registrar waits for), on the demo data (3,000 students).

    .venv/bin/python tests/bench/bench_confirmation.py [--database URL] [--school CODE] [--repeat N]

Seeds the demo into tests/bench/out/demo-3000.db on first use (or into --database /
TEST_DATABASE_URL, which must be a database of its own).  Results:
tests/bench/results/confirmation-<db>.json; exit status 1 when a format's median is over 2 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

import demo_db  # noqa: E402

LIMIT_S = 2.0
VERIFY_DAY = "2026-10-20T10:00:00"  # inside the demo province's data-verification window


def _count(data: bytes, fmt: str) -> int:
    """Forms in a download: page breaks of the sheet, pages of the PDF."""
    if fmt == "pdf":
        return data.count(b"/Type /Page\n") + data.count(b"/Type /Page ")
    from openpyxl import load_workbook

    return len(load_workbook(io.BytesIO(data), read_only=False).active.row_breaks.brk)


def measure(client, school: str, fmt: str, repeat: int) -> dict:
    """Median, best and worst seconds of ``repeat`` downloads of one format."""
    url = f"/imports/export/confirmation?school={school}" + ("&format=pdf" if fmt == "pdf" else "")
    times, data = [], b""
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        data = response.data
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "runs": repeat, "bytes": len(data), "forms": _count(data, fmt)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL") or "")
    ap.add_argument("--school", default="4301020001")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    url = demo_db.url_for(args.database)
    app = demo_db.make_app(url)
    demo_db.ensure_demo(app)
    app.config["XUEJI_FIXED_NOW"] = VERIFY_DAY
    client = demo_db.signed_in(app, "school_registrar")
    report = demo_db.header("confirmation", url) | {"school": args.school, "limit_s": LIMIT_S}
    for fmt in ("xlsx", "pdf"):
        report[fmt] = measure(client, args.school, fmt, args.repeat)
        print(f"{fmt:>4}: {report[fmt]['forms']} forms, median {report[fmt]['median_s']:.2f} s "
              f"(best {report[fmt]['min_s']:.2f} s, {report[fmt]['bytes'] / 1e6:.1f} MB)")
    demo_db.RESULTS.mkdir(parents=True, exist_ok=True)
    out = demo_db.RESULTS / f"confirmation-{report['database']}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    slow = [f for f in ("xlsx", "pdf") if report[f]["median_s"] > LIMIT_S]
    if slow:
        print(f"OVER {LIMIT_S} s: {', '.join(slow)}", file=sys.stderr)
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
