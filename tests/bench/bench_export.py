"""Export benchmark: the students export of one school of N students (default 20,000, each with two
family members) against the bare writer, in the same run, on SQLite or PostgreSQL.

    .venv/bin/python tests/bench/bench_export.py [--rows 20000] [--database URL] [--repeat 3]

Measured (each phase in a process of its own, so its peak memory is its own; phases alternate
``--repeat`` times and the best run of each counts, fairest on a shared machine):

- bare: the export's rows, materialised beforehand, written by the chosen library alone (XlsxWriter,
  constant_memory, ``write_row``, no styles); the same rows by openpyxl (write_only, ``append``);
  and the template writer (``documents.export.write``: bold header, text-format columns, quoted
  formula-like text) over the same rows, with today's writer and the openpyxl one it replaced;
- full: ``exports.write`` through the database, with decryption, as a download makes it (20,000
  rows: its workbook written by a process of its own, ``documents/export_process.py``);
- full_inline: the same written in the one process (``XUEJI_EXPORT_PROCESS_ROWS`` = 0).

``ratio_to_writer`` = full rate / bare rate of the chosen library, by wall clock (best runs);
``ratio_to_writer_cpu`` the same by CPU time (this process's and its writer process's), the fairer
on a busy machine; ``ratio_to_writer_inline`` and ``_inline_cpu`` those of full_inline.  The database is seeded once
(the demo, one big school, N students imported through the importer) and kept for later runs.
Results: tests/bench/results/export-<db>-<rows>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "bench")]
OUT = ROOT / "tests" / "bench" / "out"
RESULTS = ROOT / "tests" / "bench" / "results"
SCHOOL = "4301029999"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _app(url: str, **overrides):
    from app import create_app
    from config import TestConfig

    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, INSTANCE_DIR=str(OUT), **overrides)


def _students(url: str) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import School, Student

    with _app(url).app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Student).join(School)
                                     .where(School.code == SCHOOL)) or 0
        except Exception:  # noqa: BLE001 -- an empty database: no tables yet
            return 0


def make_file(rows: int) -> Path:
    """The template of ``rows`` students, each with a father and a mother."""
    from bench_import import AREA, _classes
    from workbooks import student_row, write

    path = OUT / f"export-source-{rows}.xlsx"
    if path.exists():
        return path
    rng, used, classes = random.Random(14), set(), _classes(rows)

    def rows_():
        for i in range(rows):
            row = student_row(rng, SCHOOL, *classes[i % len(classes)], 2026, used, AREA)
            row.update({"成员2姓名": row["姓名"][0] + "母", "成员2关系": "母亲", "成员2是否监护人": "是",
                        "成员2联系电话": f"138{rng.randrange(10**8):08d}", "成员2身份证件类型": "居民身份证",
                        "成员2现住址": row["现住址"], "成员2工作单位": "长沙市第一医院"})
            yield row

    OUT.mkdir(parents=True, exist_ok=True)
    return write(path, rows_())


def seed(url: str, rows: int) -> dict:
    """Schema, rules, the demo, one big school and its ``rows`` students imported (once)."""
    import bench_import

    if _students(url) == rows:
        return {"seeded": False}
    bench_import.prepare(url, rows)
    loaded = bench_import.load(url, make_file(rows))
    return {"seeded": True, "import_rows_per_s": loaded["total_rows_per_s"]}


def _school(session):
    from sqlalchemy import select

    from app.models import School

    return session.scalar(select(School).where(School.code == SCHOOL))


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (an export's writer process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(write, target: Path) -> dict:
    """One run of ``write(target)``: wall-clock and CPU seconds (this process's and its writer
    process's: on a busy machine the fairer of the two for what runs in them), rows per second of each."""
    start, cpu = time.perf_counter(), _cpu()
    n = write(target)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    size = target.stat().st_size
    target.unlink()
    return {"seconds": seconds, "rows_per_s": n / seconds, "cpu_seconds": cpu, "cpu_rows_per_s": n / cpu,
            "bytes": size}


def bare_xlsxwriter(rows, target) -> int:
    """The library alone: every value by ``write_row``, no format, no header style."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_numbers": False,
                                             "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("学生信息")
    for r, values in enumerate(rows):
        sheet.write_row(r, 0, values)
    book.close()
    return r


def bare_openpyxl(rows, target) -> int:
    """openpyxl alone: write_only, every value by ``append``."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("学生信息")
    n = -1
    for values in rows:
        sheet.append(values)
        n += 1
    book.save(target)
    return n


def template_openpyxl(rows, target) -> int:
    """The template writer as it was before XlsxWriter (openpyxl write_only), for comparison."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from app.documents.columns import COLUMNS, TEXT_KINDS
    from app.documents.safe import cell, value

    book = Workbook(write_only=True)
    sheet = book.create_sheet("学生信息")
    text_columns = {i for i, c in enumerate(COLUMNS) if c.spec.kind in TEXT_KINDS}
    for i in text_columns:
        sheet.column_dimensions[get_column_letter(i + 1)].number_format = "@"
    sheet.append([cell(sheet, c.header, font=Font(bold=True)) for c in COLUMNS])
    count = 0
    for values in rows:
        sheet.append([cell(sheet, v, number_format="@") if v is not None and i in text_columns
                      else value(sheet, v) for i, v in enumerate(values)])
        count += 1
    book.save(target)
    return count


def bare(url: str) -> dict:
    """The export's rows materialised, then written by each writer alone (best of two each)."""
    from app.documents import export as workbook
    from app.documents.columns import COLUMNS
    from app.extensions import db
    from app.services.common.actors import Actor
    from app.services.exchange import exports

    with _app(url).app_context():
        rows = list(exports.rows(db.session, Actor.system("bench"), _school(db.session)))
    headed = [[c.header for c in COLUMNS], *rows]
    writers = {"xlsxwriter": lambda t: bare_xlsxwriter(headed, t),
               "openpyxl": lambda t: bare_openpyxl(headed, t),
               "template": lambda t: workbook.write(rows, t),
               "template_openpyxl": lambda t: template_openpyxl(rows, t)}
    out = {name: min((_timed(write, OUT / f"export-bare-{name}.xlsx") for _ in range(2)),
                     key=lambda m: m["seconds"]) for name, write in writers.items()}
    return {"rows": len(rows), **out, "peak_mb": _peak_mb()}


def full(url: str, inline: bool = False) -> dict:
    """``exports.write`` through the database, decryption included, as a download makes it
    (``inline``: without a writer process)."""
    from app.extensions import db
    from app.services.common.actors import Actor
    from app.services.exchange import exports

    with _app(url, **({"XUEJI_EXPORT_PROCESS_ROWS": 0} if inline else {})).app_context():
        school, actor = _school(db.session), Actor.system("bench")
        measured = _timed(lambda t: exports.write(db.session, actor, "students", t, school),
                          OUT / "export-full.xlsx")
        return {**measured, "peak_mb": _peak_mb()}


def _child(phase: str, *args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", phase, *args], capture_output=True,
                         text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _best(runs: list[dict], key: str | None = None) -> dict:
    return min(runs, key=lambda m: (m[key] if key else m)["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL") or "")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--phase")
    args = ap.parse_args()
    url = args.database or f"sqlite:///{OUT / f'export-bench-{args.rows}.db'}"
    if args.phase:
        phases = {"seed": lambda: seed(url, args.rows), "bare": lambda: bare(url), "full": lambda: full(url),
                  "full_inline": lambda: full(url, inline=True)}
        print(json.dumps(phases[args.phase]()))
        return
    common = ["--rows", str(args.rows), "--database", url]
    seeded = _child("seed", *common)
    bares, fulls, inlines = [], [], []
    for _ in range(args.repeat):  # alternate, so all see the same machine
        bares.append(_child("bare", *common))
        fulls.append(_child("full", *common))
        inlines.append(_child("full_inline", *common))
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    names = ("xlsxwriter", "openpyxl", "template", "template_openpyxl")
    b, f, i = {k: _best(bares, k)[k] for k in names}, _best(fulls), _best(inlines)
    bare_cpu = max(m["xlsxwriter"]["cpu_rows_per_s"] for m in bares)
    ratio, inline_ratio = (x["rows_per_s"] / b["xlsxwriter"]["rows_per_s"] for x in (f, i))
    cpu_ratio, inline_cpu_ratio = (max(m["cpu_rows_per_s"] for m in runs) / bare_cpu for runs in (fulls, inlines))
    report = {"benchmark": "export", "database": kind, "students": bares[0]["rows"], "members_per_student": 2,
              "python": platform.python_version(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "load_average": os.getloadavg(), "repeat": args.repeat, "seed": seeded, "writer": "xlsxwriter",
              "bare": b, "bare_peak_mb": max(m["peak_mb"] for m in bares), "full": f,
              "full_peak_mb": max(m["peak_mb"] for m in fulls),
              "full_inline": i,
              "full_runs_rows_per_s": [round(m["rows_per_s"]) for m in fulls],
              "full_inline_runs_rows_per_s": [round(m["rows_per_s"]) for m in inlines],
              "bare_runs_rows_per_s": [round(m["xlsxwriter"]["rows_per_s"]) for m in bares],
              "ratio_to_writer": ratio, "ratio_to_writer_cpu": cpu_ratio,
              "ratio_to_writer_inline": inline_ratio, "ratio_to_writer_inline_cpu": inline_cpu_ratio}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"export-{kind}-{args.rows}.json").write_text(json.dumps(report, indent=2))
    print(f"{report['students']:,} students on {kind} (load average {os.getloadavg()[0]:.1f}); "
          f"rows/s, best of {args.repeat}: wall-clock / CPU time (with a writer process's)")
    labels = {"xlsxwriter": "bare XlsxWriter (constant_memory)", "openpyxl": "bare openpyxl (write_only)",
              "template": "template writer (XlsxWriter)",
              "template_openpyxl": "template writer (openpyxl)", "full": "full export (DB + decryption)",
              "full_inline": "  the same in one process"}
    for name, m in [*((n, b[n]) for n in names), ("full", f), ("full_inline", i)]:
        peak = f"  peak {m['peak_mb']:.0f} MB" if name.startswith("full") else ""
        print(f"  {labels[name]:<36}: {m['rows_per_s']:>7,.0f} / {m['cpu_rows_per_s']:>7,.0f}{peak}")
    print(f"  ratio_to_writer                     : {ratio:.2f} (CPU time: {cpu_ratio:.2f}; target >= 0.8)")
    print(f"  ratio_to_writer, in one process     : {inline_ratio:.2f} (CPU time: {inline_cpu_ratio:.2f})")


if __name__ == "__main__":
    main()
