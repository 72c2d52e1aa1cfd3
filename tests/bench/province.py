"""A whole province, built set-based: 湖南 (43) with its 14 cities and 122 counties from GB/T 2260,
~1,500 schools, their grades and classes (within the class caps of the rules in force), N students
with plausible spreads, a year of requests with their steps, problem cases, and accounts.

Not through the ORM and not through the demo seeder: the schema comes from the app's migrations
(as ``demo_db._seed``), then the rows are written in large batches -- PostgreSQL ``COPY`` from two
worker processes (one per core), SQLite ``executemany`` (small sizes, for the tests).

Resident IDs are built arithmetically: the county's area code (the city's or the province's when the
county did not exist in the birth year -- checked once per area and year, never per ID), the birth
date of the grade, a sequence that is unique by construction (a counter per area, date and sex,
interleaved between the workers) with the sex digit of the gender, and the ISO 7064 MOD 11-2 check
character computed directly.  Personal fields are encrypted exactly as the app does it
(``Keyring.encrypt`` with ``aad_for(table, column, uid)``, the blind index under the blind key), with
the test key configuration (``config.TestConfig``), like ``demo_db``.

    .venv/bin/python tests/bench/province.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench_million \\
        --students 1000000

creates the database if missing, recreates its ``public`` schema, prints the time per phase and
writes tests/bench/results/province-<database>-<students>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import multiprocessing
import random
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "tests" / "bench" / "results"
PASSWORD = "Bench@pass2026"
SEED = 20260915
SCHOOLS_PER_MILLION = 1500
PROVINCE = "430000"
# neighbouring provinces: one county each, two schools, for transfers across provinces
OUTSIDE = (("360000", "江西省", "360100", "南昌市", "360102", "东湖区"),
           ("420000", "湖北省", "420100", "武汉市", "420102", "江岸区"),
           ("440000", "广东省", "440100", "广州市", "440103", "荔湾区"))
OUTSIDE_SHARE = 0.001  # students now in another province, transferred out of Hunan this year
# where migrant children's IDs come from (besides other Hunan counties)
MIGRANT_AREAS = ("360102", "360121", "420102", "420111", "440103", "450102", "520102", "500101",
                 "510104", "410102", "350102", "330102")
FALLBACK_AREAS = ("430100", "430300", "430400", "430600", "110101")  # divisions since 1980
STAGE_FIRST = {"primary": 1, "junior": 7, "senior": 10}
STAGE_GRADES = {"primary": range(1, 7), "junior": range(7, 10), "senior": range(10, 13)}
GRADE_NAMES = {1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级",
               7: "初一", 8: "初二", 9: "初三", 10: "高一", 11: "高二", 12: "高三"}
# school types: (share, stages, students per grade on average, name suffix)
SCHOOL_TYPES = {
    "primary": (0.58, ("primary",), 95, "小学"),
    "junior": (0.20, ("junior",), 260, "初级中学"),
    "senior": (0.08, ("senior",), 330, "高级中学"),
    "nine_year": (0.09, ("primary", "junior"), 80, "九年一贯制学校"),
    "complete": (0.05, ("junior", "senior"), 240, "中学"),
}
SPECIAL = (("primary", "junior"), 8, "特殊教育学校")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643 MOD 11-2
CHECK = "10X98765432"
ROADS = ("人民路", "解放路", "建设路", "中山路", "新华路", "五一路", "芙蓉路", "湘江路", "韶山路",
         "长青路", "迎宾路", "滨江路", "学府路", "光明街", "朝阳路", "文化路")
REASONS = {"suspend": "疾病", "dropout": None, "withdraw": None, "expel": None, "abroad": None,
           "death": None, "resume": None, "repeat": None, "skip": None}


# -- resident IDs -----------------------------------------------------------------------------------

def check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return CHECK[sum(int(d) * w for d, w in zip(body17, WEIGHTS)) % 11]


_PLACE_OK: dict[tuple[str, int], bool] = {}


def area_valid(area: str, year: int) -> bool:
    """Whether ``area`` was a division in ``year`` (stdnum's rule), asked once per area and year."""
    key = (area, year)
    if key not in _PLACE_OK:
        from stdnum.cn import ric
        from stdnum.exceptions import ValidationError

        try:
            ric.get_birth_place(f"{area}{year}0101000X")
            _PLACE_OK[key] = True
        except (ValidationError, KeyError, ValueError):  # not a division that year
            _PLACE_OK[key] = False
    return _PLACE_OK[key]


class IdMaker:
    """Unique valid IDs without a look-up: per (area, birth date, sex) a counter ``k``; the sequence
    is ``2 * (k * chunks + chunk) + 1`` (men, odd) or ``+ 2`` (women, even), so the chunks built in
    parallel never meet."""

    def __init__(self, chunk: int, chunks: int):
        self.chunk, self.chunks = chunk, chunks
        self.counters: dict[tuple, int] = {}
        self.prefix_sum: dict[tuple, int] = {}

    def make(self, areas: tuple[str, ...], born: date, male: bool) -> str:
        for area in areas + FALLBACK_AREAS:
            if not area_valid(area, born.year):
                continue
            key = (area, born, male)
            k = self.counters.get(key, 0)
            slot = k * self.chunks + self.chunk
            seq = 2 * slot + (1 if male else 2)
            if seq > 999:
                continue
            self.counters[key] = k + 1
            head = f"{area}{born:%Y%m%d}"
            partial = self.prefix_sum.get((area, born))
            if partial is None:
                partial = self.prefix_sum[(area, born)] = sum(int(d) * w for d, w in zip(head, WEIGHTS))
            s = f"{seq:03d}"
            total = partial + int(s[0]) * 8 + int(s[1]) * 4 + int(s[2]) * 2
            return f"{head}{s}{CHECK[total % 11]}"
        raise RuntimeError(f"no ID left for {areas} {born}")


def birth_range(grade: int, year: int) -> tuple[date, int]:
    """First possible birth date of a child in ``grade`` in the school year starting in ``year``
    (6 by 31 August of the entry year), and the span in days."""
    entry = year - grade + 1
    lo, hi = date(entry - 7, 9, 1), date(entry - 6, 8, 31)
    return lo, (hi - lo).days


def school_year(today: date) -> int:
    return today.year if today.month >= 9 else today.year - 1


# -- the plan: divisions, schools, grades, classes, how many students where ----------------------

@dataclass
class SchoolPlan:
    id: int
    code: str
    name: str
    kind: str
    stages: tuple[str, ...]
    jurisdiction_id: int
    province: str
    city: str
    county: str
    city_name: str
    county_name: str
    inside: bool
    grades: dict = field(default_factory=dict)  # number -> (grade id, [(class id, name, size)])
    graduates: dict = field(default_factory=dict)  # grade number graduated from -> count

    @property
    def students(self) -> int:
        return sum(size for _gid, classes in self.grades.values() for _c, _n, size in classes) + \
            sum(self.graduates.values())


@dataclass
class Plan:
    year: int
    today: date
    jurisdictions: list  # (id, code, name, level, parent_id, province, city, county)
    schools: list[SchoolPlan]
    chunks: list[list[int]]  # school indexes per chunk (a city each; the outside schools last)


def _caps(session, codes: tuple[str, ...]) -> dict[str, int]:
    from app.services.policy import rulesets as policy

    eff = policy.current(session).effective(*codes)
    return {stage: int(getattr(src, "value", src)) for stage, src in eff.caps.items()}


def make_plan(session, students: int, today: date, seed: int = SEED) -> Plan:
    """Where every student goes: deterministic for (students, today, seed)."""
    from app.services.organisation.divisions import children

    rng = random.Random(seed)
    year = school_year(today)
    jur, next_id = [], 1
    prov_id = next_id
    jur.append((prov_id, PROVINCE, "湖南省", "province", None, PROVINCE, None, None))
    counties = []  # (jurisdiction id, code, name, city code, city name)
    for city in children(PROVINCE):
        next_id += 1
        city_id = next_id
        jur.append((city_id, city.code, city.name, "city", prov_id, PROVINCE, city.code, None))
        for county in children(city.code):
            next_id += 1
            jur.append((next_id, county.code, county.name, "county", city_id, PROVINCE, city.code,
                        county.code))
            counties.append((next_id, county.code, county.name, city.code, city.name))
    outside = []
    for pcode, pname, ccode, cname, kcode, kname in OUTSIDE:
        pid, cid, kid = next_id + 1, next_id + 2, next_id + 3
        next_id += 3
        jur += [(pid, pcode, pname, "province", None, pcode, None, None),
                (cid, ccode, cname, "city", pid, pcode, ccode, None),
                (kid, kcode, kname, "county", cid, pcode, ccode, kcode)]
        outside.append((kid, kcode, kname, ccode, cname, pcode))

    def weight(code: str) -> float:
        tail = int(code[4:])
        return 1.4 if tail < 20 else 1.2 if tail >= 80 else 1.0

    total_schools = max(len(counties) * 4, round(SCHOOLS_PER_MILLION * max(students, 1) / 1e6))
    total_w = sum(weight(c[1]) for c in counties)
    schools: list[SchoolPlan] = []
    cells = []  # (school index, grade number or -number for graduates, float size)
    kinds = list(SCHOOL_TYPES)
    shares = [SCHOOL_TYPES[k][0] for k in kinds]
    for jid, code, name, city, city_name in counties:
        n = max(4, round(total_schools * weight(code) / total_w))
        mix = ["primary", "junior", "senior"] + rng.choices(kinds, shares, k=n - 3)
        if n >= 8:
            mix[-1] = "special"
        for serial, kind in enumerate(mix, start=1):
            stages, per_grade, suffix = (SPECIAL if kind == "special" else SCHOOL_TYPES[kind][1:])
            school_name = f"{name}第{serial}{suffix}" if kind != "special" else f"{name}{suffix}"
            plan = SchoolPlan(0, f"{code}{serial:04d}", school_name, kind, stages, jid, PROVINCE,
                              city, code, city_name, name, True)
            schools.append(plan)
            _cells(cells, len(schools) - 1, stages, per_grade * rng.lognormvariate(0, 0.45), rng)
    inside_total = students - round(students * OUTSIDE_SHARE) if students >= 1000 else students
    _scale(cells, inside_total, 0, len(schools), schools)
    first_outside = len(schools)
    for jid, code, name, city, city_name, pcode in outside:
        for serial, (kind, stages) in enumerate((("nine_year", ("primary", "junior")),
                                                 ("complete", ("junior", "senior"))), start=1):
            suffix = SCHOOL_TYPES[kind][3]
            schools.append(SchoolPlan(0, f"{code}{serial:04d}", f"{name}第{serial}{suffix}", kind,
                                      stages, jid, pcode, city, code, city_name, name, False))
            _cells(cells, len(schools) - 1, stages, 10.0, rng, graduates=False)
    _scale(cells, students - inside_total, first_outside, len(schools), schools)
    for i, s in enumerate(schools, start=1):
        s.id = i
    _classes(session, schools, year)
    order = sorted({s.city for s in schools[:first_outside]})
    chunks = [[i for i, s in enumerate(schools) if s.inside and s.city == c] for c in order]
    chunks.append(list(range(first_outside, len(schools))))
    chunks = [c for c in chunks if any(schools[i].students for i in c)]
    return Plan(year, today, jur, schools, chunks)


def _cells(cells, index, stages, per_grade, rng, graduates=True) -> None:
    for stage in stages:
        for g in STAGE_GRADES[stage]:
            cells.append([index, g, per_grade * rng.uniform(0.9, 1.08)])
    if graduates and "senior" in stages:  # last summer's senior graduates stay on record
        cells.append([index, -12, per_grade * 0.6])
    if graduates and "junior" in stages and "senior" not in stages:  # those who left for
        cells.append([index, -9, per_grade * 0.25])  # vocational schools (not in this system)


def _scale(cells, total, lo, hi, schools) -> None:
    """Scale the cells of schools lo..hi to ``total`` students exactly (largest remainder)."""
    mine = [c for c in cells if lo <= c[0] < hi]
    weight = sum(c[2] for c in mine) or 1.0
    exact = [(c, c[2] * total / weight) for c in mine]
    floors = [(c, math.floor(x), x - math.floor(x)) for c, x in exact]
    left = total - sum(f for _c, f, _r in floors)
    floors.sort(key=lambda item: -item[2])
    for i, (c, f, _r) in enumerate(floors):
        n = f + (1 if i < left else 0)
        school = schools[c[0]]
        if c[1] < 0:
            school.graduates[-c[1]] = n
        else:
            school.grades[c[1]] = n


def _classes(session, schools: list[SchoolPlan], year: int) -> None:
    """Grades and classes: as many classes as keep every class within ~88 % of its cap."""
    caps_of: dict[tuple, dict] = {}
    grade_id = class_id = 0
    for s in schools:
        key = (s.province, s.city, s.county)
        if key not in caps_of:
            caps_of[key] = _caps(session, key) if s.inside else {}
        caps = caps_of[key]
        sized = {}
        for g, n in sorted(s.grades.items()):
            stage = stage_of(g)
            cap = SPECIAL[1] + 4 if s.kind == "special" else caps.get(stage, 45)
            per = max(1, math.floor(cap * 0.88))
            count = max(1, math.ceil(n / per))
            grade_id += 1
            classes = []
            base, extra = divmod(n, count)
            entry = year - (g - STAGE_FIRST[stage])
            for k in range(count):
                class_id += 1
                classes.append((class_id, f"{entry}级{GRADE_NAMES[g]}{k + 1}班", base + (1 if k < extra else 0)))
            sized[g] = (grade_id, classes)
        s.grades = sized


def stage_of(grade: int) -> str:
    return "primary" if grade <= 6 else "junior" if grade <= 9 else "senior"


# -- chain templates from the rules in force ------------------------------------------------------

KINDS_PLAIN = ("register_new", "register_in_school", "change_field", "suspend", "resume", "repeat",
               "skip", "dropout", "withdraw", "expel", "abroad", "death", "graduate", "complete")
VARIANTS = ("same_county", "same_city", None, "cross_province")


def chain_templates(session, plan: Plan) -> dict:
    """(county code, kind, stage, variant) -> ((role, level, days, source), ...), and the version."""
    from app.policy.engine import Facts
    from app.services.policy import rulesets as policy

    ruleset = policy.current(session)
    at = datetime.combine(plan.today, datetime.min.time()).replace(hour=10)
    out, version = {}, None
    from app.policy.engine import evaluate

    for key in sorted({(s.province, s.city, s.county) for s in plan.schools}):
        for stage in ("primary", "junior", "senior"):
            jobs = [(k, None) for k in KINDS_PLAIN] + [("transfer", v) for v in VARIANTS]
            for kind, variant in jobs:
                decision = evaluate(ruleset, Facts(action=kind, at=at, codes=key, stage=stage,
                                                   variant=variant, status="in_school"))
                version = decision.rule_version or version
                out[(key[2], kind, stage, variant)] = tuple(
                    (st.role, st.level, st.days, st.source) for st in decision.approval_chain)
    return {"chains": out, "version": version}


# -- rows -----------------------------------------------------------------------------------------

STUDENT_COLS = (
    "id", "uid", "version", "registry_no_enc", "registry_blind", "registry_kind", "status",
    "registered", "problem", "hold_back", "school_id", "grade_id", "class_id", "province_code",
    "city_code", "county_code", "name", "name_pinyin", "gender", "birth_date", "birthplace",
    "native_place", "ethnicity", "nationality", "id_type", "id_number_enc", "id_blind",
    "hmt_status", "health", "political_status", "blood_type", "entry_date", "entry_mode",
    "study_mode", "source", "hukou_nature", "hukou_location", "current_address_enc",
    "home_address_enc", "phone_enc", "postcode", "only_child", "had_preschool", "left_behind",
    "migrant_child", "needs_subsidy", "receives_subsidy", "orphan", "martyr_child", "disability",
    "inclusive_schooling", "govt_purchased_seat", "distance_km", "travel_mode", "needs_school_bus",
    "created_at", "updated_at", "graduated_at")
FAMILY_COLS = ("id", "uid", "student_id", "seq", "name", "relation", "current_address_enc",
               "hukou_location", "phone_enc", "is_guardian", "id_type", "id_number_enc", "id_blind",
               "ethnicity", "employer", "job_title")
NUMBER_COLS = ("id", "uid", "number_enc", "number_blind", "series", "kind", "student_id",
               "student_uid", "issued_at", "issued_by")
REQUEST_COLS = (
    "id", "uid", "version", "kind", "status", "variant", "student_id", "student_uid",
    "student_name", "open_student_id", "requester_id", "requester_name", "origin_school_id",
    "other_school_id", "target_class_id", "origin_province", "origin_city", "origin_county",
    "other_province", "other_city", "other_county", "reason", "summary", "payload_enc",
    "before_enc", "chain", "rule_version", "round", "step", "holder_node", "holder_role",
    "step_started_at", "due_on", "created_at", "updated_at", "closed_at")
STEP_COLS = ("id", "request_id", "round", "step", "action", "party_node", "actor_id",
             "actor_name", "at", "comment", "rule_version")
CASE_COLS = ("id", "kind", "group_key", "status", "resolution", "detected_at", "resolved_at",
             "resolved_by", "note")
MEMBER_COLS = ("id", "case_id", "student_id", "student_uid", "school_id", "stance", "decided_by",
               "decided_at", "comment")
GRADUATION_COLS = ("id", "student_id", "school_id", "province_code", "city_code", "county_code",
                   "stage", "grade_number", "status", "at")
TABLES = {"student": STUDENT_COLS, "family_member": FAMILY_COLS, "registry_number": NUMBER_COLS,
          "request": REQUEST_COLS, "request_step": STEP_COLS, "problem_case": CASE_COLS,
          "problem_member": MEMBER_COLS, "graduation": GRADUATION_COLS}
BIG = tuple(TABLES)


class Writer:
    """Rows in large batches: COPY on PostgreSQL, executemany on SQLite."""

    BATCH = 20000

    def __init__(self, url: str):
        self.url = url
        self.pg = url.startswith("postgresql")
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(pg_dsn(url), autocommit=False)
            with self.conn.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
        else:
            self.conn = sqlite3.connect(url.split("///", 1)[1])
        self.buffers: dict[str, list] = {t: [] for t in TABLES}
        self.counts: dict[str, int] = {t: 0 for t in TABLES}

    def add(self, table: str, row: tuple) -> None:
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= self.BATCH:
            self.flush(table)

    def flush(self, table: str) -> None:
        rows = self.buffers[table]
        if not rows:
            return
        cols = TABLES[table]
        if self.pg:
            with self.conn.cursor() as cur, cur.copy(
                    f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(cols))
            self.conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",
                                  [tuple(_sqlite(v) for v in row) for row in rows])
        self.counts[table] += len(rows)
        self.buffers[table] = []

    def close(self) -> dict[str, int]:
        for table in TABLES:
            self.flush(table)
        self.conn.commit()
        self.conn.close()
        return self.counts


def _sqlite(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass
class Shared:
    """What every worker needs: keys, the schools, chain templates, names."""

    url: str
    keys: dict
    active: str
    blind_key: bytes
    chunks: int
    plan: Plan
    chains: dict
    rule_version: int | None
    holidays: frozenset
    names: dict


_SHARED: Shared | None = None


def _init_worker(shared: Shared) -> None:
    global _SHARED
    _SHARED = shared


def build_chunk(chunk: int) -> tuple[dict[str, int], float]:
    """Generate and write every row of one chunk (a city's schools): the worker's whole job.
    Returns the rows written by table and the CPU seconds the worker spent on them."""
    started = time.process_time()
    counts = ChunkBuilder(_SHARED, chunk).run()
    return counts, time.process_time() - started


class ChunkBuilder:
    def __init__(self, shared: Shared, chunk: int):
        from app.security.crypto import Keyring

        self.sh = shared
        self.plan = shared.plan
        self.chunk = chunk
        self.rng = random.Random(SEED * 1000 + chunk)
        self.ring = Keyring(shared.keys, shared.active, shared.blind_key)
        self._hmac = hmac.new(shared.blind_key, digestmod=hashlib.sha256)
        self.ids = IdMaker(chunk, shared.chunks)
        indexes = self.plan.chunks[chunk]
        before = sum(self.plan.schools[i].students for c in self.plan.chunks[:chunk] for i in c)
        self.schools = [self.plan.schools[i] for i in indexes]
        self.sid = before  # last student id used
        self.fid = 2 * before
        self.rid = 3 * before
        self.stid = 24 * before
        self.cid = before
        self.mid = 2 * before
        self.out = Writer(shared.url)
        self.today = self.plan.today
        self.now = datetime.combine(self.today, datetime.min.time()).replace(hour=10)
        self.year = self.plan.year
        self._due: dict = {}
        self._pinyin = shared.names["pinyin"]
        self.by_id = {s.id: s for s in self.plan.schools}
        self._index_targets()

    # -- helpers ---------------------------------------------------------------------------------
    def blind(self, purpose: str, value: str) -> str:
        h = self._hmac.copy()
        h.update(f"{purpose}\x00{value}".encode("utf-8"))
        return h.hexdigest()

    def enc(self, table: str, column: str, uid: str, value: str) -> str:
        return self.ring.encrypt(value, f"{table}.{column}.{uid}".encode("utf-8"))

    def uid(self) -> str:
        return "%032x" % self.rng.getrandbits(128)

    def name(self, male: bool, surname: str | None = None) -> str:
        names = self.sh.names
        pool = names["boy"] if male else names["girl"]
        given = self.rng.choice(pool) + (self.rng.choice(pool) if self.rng.random() < 0.7 else "")
        return (surname or self.rng.choice(names["surnames"])) + given

    def pinyin(self, name: str) -> str:
        return " ".join(self._pinyin.get(ch, ch) for ch in name).title()

    def phone(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randrange(10 ** 9):09d}"

    def due(self, start: date, days: int) -> date:
        key = (start, days)
        if key not in self._due:
            from app.services.common.workdays import add_workdays

            self._due[key] = add_workdays(start, days, self.sh.holidays)
        return self._due[key]

    def _index_targets(self) -> None:
        """Schools offering each grade: by county, by city, in the province, outside it."""
        self.by_county, self.by_city, self.inside, self.outside = {}, {}, {}, {}
        for s in self.plan.schools:
            for g in s.grades:
                if s.inside:
                    self.by_county.setdefault((s.county, g), []).append(s)
                    self.by_city.setdefault((s.city, g), []).append(s)
                    self.inside.setdefault(g, []).append(s)
                else:
                    self.outside.setdefault(g, []).append(s)

    # -- the chunk -------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        for school in self.schools:
            self.prev_id = self.prev_noid = None
            for g, (grade_id, classes) in school.grades.items():
                for class_id, _name, size in classes:
                    for _ in range(size):
                        self.student(school, g, grade_id, class_id, graduated=False)
            for g, count in school.graduates.items():
                grade_id = school.grades[g][0]
                for _ in range(count):
                    self.student(school, g, grade_id, None, graduated=True)
        return self.out.close()

    def student(self, school: SchoolPlan, g: int, grade_id: int, class_id: int | None,
                graduated: bool) -> None:
        rng = self.rng
        self.sid += 1
        sid, uid = self.sid, self.uid()
        stage = stage_of(g)
        year = self.year - 1 if graduated else self.year
        lo, span = birth_range(g, year)
        if not graduated and rng.random() < 0.02:  # a year older: started late or repeated
            lo -= timedelta(days=365)
        born = lo + timedelta(days=rng.randrange(span + 1))
        male = rng.random() < 0.52
        gender = "1" if male else "2"
        migrant = rng.random() < 0.11
        county = school.county
        if migrant:
            home = rng.choice(MIGRANT_AREAS) if rng.random() < 0.5 else \
                rng.choice(self.sh.names["counties"])
        else:
            home = county
        areas = (home, home[:4] + "00", home[:2] + "0000", county, county[:4] + "00")
        status = "graduated" if graduated else "in_school"
        if graduated and rng.random() < 0.03:
            status = "completed"
        elif not graduated:
            r = rng.random()
            if r < 0.004:
                status = "suspended"
            elif r < 0.007:
                status = "dropout"
            elif r < 0.008:
                status = "abroad"
            elif r < 0.011:
                status = "left_other" if stage == "senior" else "in_school"
            elif r < 0.0111:
                status = "deceased"
            elif r < 0.0116:
                status = "transferred_out"
        if status not in ("in_school", "suspended"):
            class_id = None
        has_id = rng.random() > 0.03
        number = self.ids.make(areas, born, male) if has_id else None
        problem, case = False, None
        r = rng.random()
        if number and r < 0.0004:
            case = ("invalid_id", rng.random() < 0.3)
            if case[1]:  # still open: the number on record does not validate
                good = number[-1]
                number = number[:17] + next(c for c in "0123456789X" if c != good)
                problem = True
        elif number and r < 0.0006 and self.prev_id and school.inside:
            other = self.prev_id
            if rng.random() < 0.4:  # the same person on two records: both are problem records
                number, born, male, gender = other["number"], other["born"], other["male"], other["gender"]
                case = ("duplicate_id", True)
                problem = True
            else:  # resolved: the second record was deleted
                case = ("duplicate_id", False)
        elif not number and self.prev_noid and r < 0.01:
            other = self.prev_noid
            is_open = rng.random() < 0.5
            born, male, gender = other["born"], other["male"], other["gender"]
            case = ("duplicate_no_id", is_open)
            problem = is_open
        name_surname = rng.choice(self.sh.names["surnames"])
        name = self.name(male, name_surname)
        if case and case[0] == "duplicate_no_id":
            name = self.prev_noid["name"]
        elif case and case[0] == "duplicate_id" and case[1]:
            name = self.prev_id["name"]
        # the registry number: G + ID for most, L while the registration review is open
        fresh = g == 1 and not graduated
        temp = (rng.random() < 0.28) if fresh else (rng.random() < 0.003)
        if problem or status != "in_school":  # only a student in school waits for registration
            temp = False
        duplicate = case is not None and case[0] == "duplicate_id" and case[1]
        if number and not temp and not duplicate:
            reg_no, kind = f"G{number}", "G"
        elif duplicate or (not number and not temp and (status != "in_school" or rng.random() < 0.5)):
            # a J number (no usable ID): area, birth date, a sequence from the same unique counters
            body = f"{county}{born:%Y%m%d}{self.ids.make((county, county[:4] + '00'), born, male)[14:17]}"
            reg_no, kind = f"J{body}{check_char(body)}", "J"
        else:  # a temporary number: area, birth date, 4 digits unique per area and date
            key = ("L", county, born)
            k = self.ids.counters.get(key, 0)
            self.ids.counters[key] = k + 1
            reg_no, kind = f"L{county}{born:%Y%m%d}{k * self.sh.chunks + self.chunk:04d}", "L"
        registered = kind != "L"
        city_name, county_name = school.city_name, school.county_name
        address = (f"{'湖南省' if school.inside else ''}{city_name}{county_name}{rng.choice(ROADS)}"
                   f"{rng.randrange(1, 400)}号{rng.randrange(1, 30)}栋{rng.randrange(101, 2600)}室")
        phone = self.phone()
        entry = date(self.year - 1 - (g - STAGE_FIRST[stage]) if graduated else
                     self.year - (g - STAGE_FIRST[stage]), 9, 1)
        created = datetime.combine(entry, datetime.min.time()) + timedelta(hours=9 + rng.randrange(8))
        left = rng.choices("012", (86, 9, 5))[0]
        special = school.kind == "special"
        row_reg_blind = self.blind("registry_no", reg_no)
        row = (
            sid, uid, 1, self.enc("student", "registry_no_enc", uid, reg_no), row_reg_blind, kind,
            status, registered, problem, False, school.id, grade_id, class_id, school.province,
            school.city, school.county, name, self.pinyin(name), gender, born,
            f"{home}000000"[:12], f"{'湖南' if home.startswith('43') else ''}{county_name}",
            rng.choices(("01", "15", "06", "13", "12", "03", "02"), (88, 5, 4, 1, 1, 0.5, 0.5))[0],
            "CHN", "1" if number else "Z",
            self.enc("student", "id_number_enc", uid, number) if number else None,
            self.blind("id_number", number) if number else None,
            "00", rng.choices("123", (93, 6, 1))[0],
            "14" if stage == "primary" else rng.choice(("14", "03")) if stage == "junior" else "03",
            rng.choice("012349"), entry, "21" if stage == "senior" else "11",
            "2" if stage == "senior" and rng.random() < 0.6 else "1", "1",
            rng.choices("12", (55, 45))[0], f"{home}{rng.randrange(1, 20):03d}001",
            self.enc("student", "current_address_enc", uid, address),
            self.enc("student", "home_address_enc", uid, address),
            self.enc("student", "phone_enc", uid, phone), f"{county[:4]}00",
            rng.random() < 0.35, rng.random() < 0.93, left, migrant, rng.random() < 0.07,
            rng.random() < 0.05, rng.random() < 0.002, rng.random() < 0.0005,
            rng.choice("1234567") if special else ("0" if rng.random() > 0.004 else rng.choice("1234")),
            "0" if special or rng.random() > 0.003 else rng.choice("1234"), rng.random() < 0.01,
            f"{rng.uniform(0.2, 15):.1f}", rng.choice("123456"), rng.random() < 0.05,
            created, created)
        finished = (datetime(self.year, 7, rng.randrange(1, 26), 10) if status == "graduated" else
                    datetime(self.year, 7, 10 + sid % 15, 10) if graduated else None)  # completed: no draw
        self.out.add("student", (*row, finished if status == "graduated" else None))
        if graduated:  # last summer's graduation (or completion) as the registry recorded it
            self.out.add("graduation", (sid, sid, school.id, school.province, school.city, school.county,
                                        stage, g, status, finished))
        rn_uid = self.uid()
        self.out.add("registry_number", (
            sid, rn_uid, self.enc("registry_number", "number_enc", rn_uid, reg_no), row_reg_blind,
            self.blind("registry_series", reg_no[:15]) if kind == "J" else None, kind, sid, uid,
            created, "seed"))
        self.family(sid, uid, name_surname, home, born, address, left)
        info = {"id": sid, "uid": uid, "name": name, "number": number, "born": born, "male": male,
                "gender": gender, "school": school, "grade": g, "grade_id": grade_id,
                "class_id": class_id, "status": status, "kind": kind, "stage": stage,
                "problem": problem}
        if case:
            self.problem_case(info, case)
        if number and not problem:
            self.prev_id = info
        if not number and not problem:
            self.prev_noid = info
        self.history(info)

    def family(self, sid, suid, surname, home, born, address, left) -> None:
        rng = self.rng
        people = [("1", True, surname, left != "2"), ("2", False, None, left != "2")]
        if rng.random() < 0.12:
            people = [rng.choice(people)]
        if left == "2":
            people = [("3", False, None, True)] + people[:1]
        areas = (home, home[:4] + "00", home[:2] + "0000")
        for seq, (relation, male, sname, guardian) in enumerate(people, start=1):
            self.fid += 1
            uid = self.uid()
            years = 55 if relation == "3" else rng.randrange(24, 38)
            parent_born = born - timedelta(days=365 * years + rng.randrange(365))
            number = self.ids.make(areas, parent_born, male)
            self.out.add("family_member", (
                self.fid, uid, sid, seq, self.name(male, sname), relation,
                self.enc("family_member", "current_address_enc", uid, address), None,
                self.enc("family_member", "phone_enc", uid, self.phone()), guardian, "1",
                self.enc("family_member", "id_number_enc", uid, number),
                self.blind("id_number", number), "01", None, None))

    # -- problems --------------------------------------------------------------------------------
    def problem_case(self, info: dict, case: tuple) -> None:
        rng = self.rng
        kind, is_open = case
        self.cid += 1
        detected = self.now - timedelta(days=rng.randrange(5, 360), hours=rng.randrange(8))
        resolved = None if is_open else min(detected + timedelta(days=rng.randrange(2, 60)),
                                            self.now - timedelta(hours=1))
        if kind == "invalid_id":
            key = f"invalid:{info['uid']}"
            members = [(info["id"], info["uid"], info["school"].id)]
            resolution = None if is_open else "changed"
        elif kind == "duplicate_id":
            key = self.blind("id_number", info["number"])
            other = self.prev_id
            if is_open:
                members = [(other["id"], other["uid"], other["school"].id),
                           (info["id"], info["uid"], info["school"].id)]
            else:  # the second record was deleted: its member row keeps only its uid
                members = [(info["id"], info["uid"], info["school"].id),
                           (None, self.uid(), info["school"].id)]
            resolution = None if is_open else "deleted"
        else:
            other = self.prev_noid
            key = self.blind("person", f"{info['name']}|{info['gender']}|{info['born']}")
            members = [(other["id"], other["uid"], other["school"].id),
                       (info["id"], info["uid"], info["school"].id)]
            resolution = None if is_open else "distinct"
        by = f"{info['school'].county}_registrar"
        self.out.add("problem_case", (self.cid, kind, key, "open" if is_open else "resolved",
                                      resolution, detected, resolved, None if is_open else by, None))
        for student_id, uid, school_id in members:
            self.mid += 1
            self.out.add("problem_member", (
                self.mid, self.cid, student_id, uid, school_id,
                "pending" if is_open else "confirmed", None if is_open else by, resolved, None))

    # -- requests --------------------------------------------------------------------------------
    def history(self, info: dict) -> None:
        """The year's requests of one student: at most one open."""
        rng, g, status = self.rng, info["grade"], info["status"]
        year = self.year
        if not info["school"].inside:  # transferred out of Hunan this year, file pulled
            self.transfer(info, "done", "cross_province_out")
            return
        if g == 1 and status != "graduated":
            start = datetime(year, 9, 1, 9) + timedelta(days=rng.randrange(0, 10), hours=rng.randrange(8))
            if info["kind"] == "L":
                self.request(info, "register_new", info["school"], None, start, self.open_fate(),
                             open_=True)
            else:
                self.request(info, "register_new", info["school"], None, start, "done")
            return
        if info["kind"] == "L":
            start = self.now - timedelta(days=self.open_days(), hours=rng.randrange(8))
            self.request(info, "register_in_school", info["school"], None, start,
                         self.open_fate(), open_=True)
            return
        if g == 2 and status == "in_school" and not info["problem"]:
            start = datetime(year - 1, 9, 1, 9) + timedelta(days=rng.randrange(0, 25))
            self.request(info, "register_new", info["school"], None, start, "done")
        if status in ("graduated", "completed"):  # recorded as a graduation row, no request
            return
        change = {"suspended": "suspend", "dropout": "dropout", "abroad": "abroad",
                  "deceased": "death", "left_other": "withdraw" if rng.random() < 0.9 else "expel"}
        if status in change:
            start = self.now - timedelta(days=rng.randrange(20, 360), hours=rng.randrange(8))
            self.request(info, change[status], info["school"], None, start, "done")
            return
        if status != "in_school" or info["problem"]:
            return
        if rng.random() < 0.006:  # registered this year as a straggler (not over the summer)
            start = self.now - timedelta(days=rng.randrange(20, 360), hours=rng.randrange(8))
            if date(year, 7, 10) <= start.date() <= date(year, 8, 20):
                start -= timedelta(days=60)
            self.request(info, "register_in_school", info["school"], None, start, "done")
        r = rng.random()
        if r < 0.02:
            fate = rng.choices(("done", "open", "rejected", "cancelled"), (82, 12, 3, 3))[0]
            self.transfer(info, self.open_fate() if fate == "open" else fate, None)
        elif r < 0.022:
            start = self.now - timedelta(days=rng.randrange(120, 360))
            self.request(info, "suspend", info["school"], None, start, "done")
            self.request(info, "resume", info["school"], None,
                         start + timedelta(days=rng.randrange(40, 100)), "done")
        elif r < 0.027:
            fate = rng.choices(("done", "open", "rejected"), (82, 13, 5))[0]
            start = self.now - timedelta(days=self.open_days() if fate == "open"
                                         else rng.randrange(15, 360), hours=rng.randrange(8))
            self.request(info, "change_field", info["school"], None, start,
                         self.open_fate() if fate == "open" else fate, open_=fate == "open")
        elif r < 0.028:
            start = self.now - timedelta(days=rng.randrange(30, 360))
            self.request(info, rng.choice(("repeat", "skip")), info["school"], None, start, "done")
        elif r < 0.0295:
            kind = rng.choice(("suspend", "dropout", "abroad")) if info["stage"] != "senior" else \
                rng.choice(("suspend", "dropout", "abroad", "withdraw"))
            start = self.now - timedelta(days=self.open_days(), hours=rng.randrange(8))
            self.request(info, kind, info["school"], None, start, self.open_fate(), open_=True)

    def open_days(self) -> int:
        """How long ago a request still open was filed: mostly within the last two weeks."""
        rng = self.rng
        return rng.randrange(1, 12) if rng.random() < 0.85 else rng.randrange(12, 40)

    def open_fate(self) -> str:
        return self.rng.choices(("pending", "returned"), (88, 12))[0]

    def transfer(self, info: dict, fate: str, variant: str | None) -> None:
        rng, g, here = self.rng, info["grade"], info["school"]
        if variant == "cross_province_out":  # now at an outside school; sent from a Hunan one
            sender = rng.choice(self.inside[g])
            self.request(info, "transfer", here, sender, self.past_start(fate), "done",
                         variant="cross_province", target=info["class_id"])
            return
        variant = rng.choices(("same_county", "same_city", None, "cross_province"), (50, 25, 17, 8))[0]
        if variant == "same_county":
            pool = [s for s in self.by_county.get((here.county, g), ()) if s.id != here.id]
        elif variant == "same_city":
            pool = [s for s in self.by_city.get((here.city, g), ()) if s.county != here.county]
        elif variant is None:
            pool = [s for s in self.inside.get(g, ()) if s.city != here.city]
        else:
            pool = list(self.outside.get(g, ()))
        if not pool:
            return
        far = rng.choice(pool)
        if fate == "done":  # received here, sent from ``far``
            self.request(info, "transfer", here, far, self.past_start(fate), fate, variant=variant,
                         target=info["class_id"])
        elif variant == "cross_province":  # Hunan students leaving: the other province files
            fate = "awaiting_pull" if fate in ("pending", "returned") and rng.random() < 0.5 else fate
            self.request(info, "transfer", far, here, self.past_start(fate), fate, variant=variant,
                         target=self.some_class(far, g), open_=fate in ("pending", "returned",
                                                                         "awaiting_pull"))
        else:  # filed by ``far`` for a student still here
            self.request(info, "transfer", far, here, self.past_start(fate), fate, variant=variant,
                         target=self.some_class(far, g), open_=fate in ("pending", "returned"))

    def some_class(self, school: SchoolPlan, g: int) -> int | None:
        grade = school.grades.get(g)
        return self.rng.choice(grade[1])[0] if grade else None

    def past_start(self, fate: str) -> datetime:
        rng = self.rng
        if fate in ("pending", "returned", "awaiting_pull"):
            days = self.open_days()
        else:
            days = rng.randrange(15, 360)
        return self.now - timedelta(days=days, hours=rng.randrange(8))

    def resolved_chain(self, kind: str, origin: SchoolPlan, other: SchoolPlan | None, stage: str,
                       variant) -> list[dict]:
        template = self.sh.chains.get((origin.county, kind, stage, variant), ())
        names = self.sh.names["jurisdictions"]
        steps: list[dict] = []
        for role, level, days, source in template:
            if level == "school":
                node, name = f"school:{origin.id}", origin.name
            elif level == "own_bureau":
                node, name = f"bureau:{origin.county}", names[origin.county]
            elif level == "other_school" and other is not None:
                node, name = f"school:{other.id}", other.name
            elif level == "other_bureau" and other is not None:
                node, name = f"bureau:{other.county}", names[other.county]
            elif level in ("city", "province"):
                code = origin.city if level == "city" else origin.province
                node, name = f"bureau:{code}", names[code]
            else:
                continue
            if steps and (steps[-1]["node"], steps[-1]["role"]) == (node, role):
                continue
            steps.append({"role": role, "level": level, "days": days, "source": source,
                          "node": node, "label": f"{name} {ROLE_ZH[role]}"})
        return steps

    def request(self, info: dict, kind: str, origin: SchoolPlan, other: SchoolPlan | None,
                start: datetime, fate: str, *, variant=None, target=None, open_=False,
                graduate=False, grade=None) -> None:
        rng = self.rng
        stage = stage_of(grade or info["grade"])
        chain = self.resolved_chain(kind, origin, other, stage, variant)
        self.rid += 1
        rid, uid = self.rid, self.uid()
        steps = []
        actor = f"{origin.code}_registrar"
        at = start

        def step(round_, index, action, node, who, when, comment=None):
            self.stid += 1
            steps.append((self.stid, rid, round_, index, action, node, None, who, when, comment,
                          self.sh.rule_version))

        def later(moment: datetime, lo=0.1, hi=4.0) -> datetime:
            moved = moment + timedelta(hours=rng.uniform(lo, hi) * 24)
            cap = self.now - timedelta(minutes=5)
            return moved if moved < cap else max(cap, moment + timedelta(seconds=30))

        step(1, None, "submit", f"school:{origin.id}", actor, at)
        round_, index, closed, status = 1, 0, None, fate
        holder = holder_role = due = None
        step_started = at
        n = len(chain)
        if fate == "done" and n and rng.random() < 0.05:  # returned once, corrected, resubmitted
            k = rng.randrange(n)
            for i in range(k):
                at = later(at)
                step(1, i, "approve", chain[i]["node"], self.who(chain[i]), at)
            at = later(at)
            step(1, k, "return", chain[k]["node"], self.who(chain[k]), at, "材料不全，请补充后重新提交")
            at = later(at, 0.5, 3)
            round_ = 2
            step(2, None, "resubmit", f"school:{origin.id}", actor, at)
        if fate in ("done", "awaiting_pull"):
            for i in range(n):
                at = later(at)
                step(round_, i, "approve", chain[i]["node"], self.who(chain[i]), at)
            index = n
            if fate == "awaiting_pull":
                holder, holder_role, step_started = f"school:{origin.id}", "registrar", at
            elif kind == "transfer" and variant == "cross_province":
                at = later(at, 0.5, 5)
                step(round_, None, "pull", f"school:{origin.id}", actor, at)
                closed = at
            else:
                closed = at
        elif fate in ("pending", "returned", "rejected"):
            k = rng.randrange(n) if n else 0
            for i in range(k):
                at = later(at, 0.1, 6)
                step(round_, i, "approve", chain[i]["node"], self.who(chain[i]), at)
            index = k
            if fate == "pending" and n:
                holder, holder_role, step_started = chain[k]["node"], chain[k]["role"], at
                due = self.due(at.date(), chain[k]["days"])
            elif fate == "returned" and n:
                at = later(at)
                step(round_, k, "return", chain[k]["node"], self.who(chain[k]), at, "信息有误，请核对")
                holder, holder_role, step_started = f"school:{origin.id}", "registrar", at
            elif fate == "rejected" and n:
                at = later(at)
                step(round_, k, "reject", chain[k]["node"], self.who(chain[k]), at, "不符合办理条件")
                closed = at
            else:
                status, closed = "done", at
        elif fate == "cancelled":
            k = rng.randrange(n) if n else 0
            for i in range(k):
                at = later(at)
                step(round_, i, "approve", chain[i]["node"], self.who(chain[i]), at)
            at = later(at)
            step(round_, None, "cancel", f"school:{origin.id}", actor, at, "家长改变主意")
            index, closed = k, at
        o, t = origin, other
        payload = before = None
        if kind == "change_field":
            payload = self.enc("request", "payload_enc", uid,
                               json.dumps({"name": info["name"]}, ensure_ascii=False, sort_keys=True))
            before = self.enc("request", "before_enc", uid,
                              json.dumps({"name": info["name"][:-1] + "一"}, ensure_ascii=False,
                                         sort_keys=True))
        is_open = status in ("pending", "returned", "awaiting_pull")
        self.out.add("request", (
            rid, uid, 1 + len(steps), kind, status, variant, info["id"], info["uid"], info["name"],
            info["id"] if is_open else None, None, actor, o.id, t.id if t else None, target,
            o.province, o.city, o.county, t.province if t else None, t.city if t else None,
            t.county if t else None, REASONS.get(kind), SUMMARY.get(kind, kind), payload, before,
            json.dumps(chain, ensure_ascii=False), self.sh.rule_version, round_, index,
            holder, holder_role, step_started if is_open else None, due, start, at, closed))
        for row in steps:
            self.out.add("request_step", row)

    def who(self, step: dict) -> str:
        node = step["node"]
        if node.startswith("school:"):
            return f"{self.by_id[int(node[7:])].code}_{step['role']}"
        return f"{node[7:]}_{step['role']}"


ROLE_ZH = {"registrar": "学籍管理员", "supervisor": "学籍主管领导"}
SUMMARY = {"register_new": "新生/在校生注册核办", "register_in_school": "新生/在校生注册核办",
           "transfer": "转学", "suspend": "休学", "resume": "复学", "dropout": "辍学",
           "withdraw": "退学", "expel": "开除", "abroad": "出境", "death": "死亡", "repeat": "留级",
           "skip": "跳级", "graduate": "毕业", "complete": "结业", "change_field": "关键信息变更：姓名"}


# -- orchestration --------------------------------------------------------------------------------

def make_app(url: str):
    """The test configuration (fixed keys, pinned clock) on ``url``, as ``demo_db``."""
    from app import create_app
    from config import TestConfig

    out = ROOT / "tests" / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, INSTANCE_DIR=str(out))


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it is missing."""
    if not url.startswith("postgresql"):
        return
    import psycopg
    from psycopg import sql

    base, _, name = pg_dsn(url).rpartition("/")
    name = name.split("?", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def schema(app) -> None:
    """Empty the database and build the schema as ``init`` does: migrations, roles, code tables,
    the shipped rules."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.security.sync import sync_roles
    from app.services.operations import database
    from app.services.organisation.codes import load_code_tables
    from app.services.policy.rulesets import activate_dir

    database.empty(db.engine)
    upgrade(directory=app.extensions["migrate"].directory)
    sync_roles(app.appbuilder)
    load_code_tables(db.session, ROOT / "seed" / "codes.yaml")
    db.session.commit()
    activate_dir(db.session, ROOT / "rules", by="init", note="shipped rules")


def names_data(plan: Plan) -> dict:
    import yaml
    from pypinyin import lazy_pinyin

    data = yaml.safe_load((ROOT / "seed" / "demo.yaml").read_text(encoding="utf-8"))
    chars = set("".join(data["surnames"]) + "".join(data["given_boy"]) + "".join(data["given_girl"]) + "一")
    return {"surnames": data["surnames"], "boy": data["given_boy"], "girl": data["given_girl"],
            "pinyin": {c: lazy_pinyin(c)[0] for c in chars},
            "jurisdictions": {j[1]: j[2] for j in plan.jurisdictions},
            "counties": [j[1] for j in plan.jurisdictions if j[3] == "county" and j[5] == PROVINCE]}


def structure(conn, plan: Plan, today: date) -> dict[str, int]:
    """Jurisdictions, schools, grades, classes and accounts (small: plain inserts, both databases)."""
    from sqlalchemy import text
    from werkzeug.security import generate_password_hash

    stamp = datetime.combine(today, datetime.min.time()) - timedelta(days=400)
    conn.execute(text("INSERT INTO jurisdiction (id, code, name, level, parent_id, province_code, "
                      "city_code, county_code) VALUES (:id, :code, :name, :level, :parent, :p, :c, :k)"),
                 [dict(zip(("id", "code", "name", "level", "parent", "p", "c", "k"), j))
                  for j in plan.jurisdictions])
    schools, grades, classes = [], [], []
    for s in plan.schools:
        chain = {"p": s.province, "c": s.city, "k": s.county}
        schools.append({"id": s.id, "code": s.code, "name": s.name, "stages": ",".join(s.stages),
                        "kind": "special" if s.kind == "special" else "ordinary",
                        "own": "private" if s.id % 23 == 0 else "public", "jid": s.jurisdiction_id,
                        "addr": f"{s.city_name}{s.county_name}", **chain})
        for g, (gid, cls) in s.grades.items():
            grades.append({"id": gid, "sid": s.id, "stage": stage_of(g), "n": g,
                           "name": GRADE_NAMES[g], **chain})
            for k, (cid, cname, _size) in enumerate(cls, start=1):
                classes.append({"id": cid, "sid": s.id, "gid": gid, "n": k, "name": cname,
                                "entry": int(cname[:4]), **chain})
    conn.execute(text("INSERT INTO school (id, code, name, stages, kind, ownership, jurisdiction_id, "
                      "address, province_code, city_code, county_code) VALUES (:id, :code, :name, "
                      ":stages, :kind, :own, :jid, :addr, :p, :c, :k)"), schools)
    conn.execute(text("INSERT INTO grade (id, school_id, stage, number, name, province_code, "
                      "city_code, county_code) VALUES (:id, :sid, :stage, :n, :name, :p, :c, :k)"),
                 grades)
    conn.execute(text("INSERT INTO school_class (id, school_id, grade_id, number, name, entry_year, "
                      "province_code, city_code, county_code) VALUES (:id, :sid, :gid, :n, :name, "
                      ":entry, :p, :c, :k)"), classes)
    # accounts: every Hunan bureau (registrar, supervisor, administrator), two schools a county
    roles = dict(conn.execute(text("SELECT name, id FROM ab_role")).all())
    rng = random.Random(SEED + 7)
    hashed = generate_password_hash(PASSWORD, method="scrypt")
    users, bindings = [], []
    zh = {"registrar": "学籍管理员", "supervisor": "学籍主管领导", "sysadmin": "系统管理员"}
    for jid, code, name, level, _parent, prov, _c, _k in plan.jurisdictions:
        if prov == PROVINCE:
            for fn in ("registrar", "supervisor", "sysadmin"):
                users.append((f"{code}_{'admin' if fn == 'sysadmin' else fn}", f"{name}{zh[fn]}",
                              jid, None, f"{level}_{fn}"))
    per_county: dict[str, int] = {}
    for s in plan.schools:
        if s.inside and s.kind != "special" and per_county.get(s.county, 0) < 2:
            per_county[s.county] = per_county.get(s.county, 0) + 1
            for fn in ("registrar", "supervisor"):
                users.append((f"{s.code}_{fn}", f"{s.name}{zh[fn]}", None, s.id, f"school_{fn}"))
    rows = []
    for username, full, jid, sid, _role in users:
        r = rng.random()
        last = None if r < 0.08 else stamp + timedelta(days=400 - (rng.randrange(0, 30) if r < 0.75
                                                                    else rng.randrange(31, 300)))
        rows.append({"u": username, "f": full, "e": f"{username}@bench.invalid", "p": hashed,
                     "a": rng.random() > 0.03, "l": last, "n": 0 if last is None else rng.randrange(1, 400),
                     "c": stamp, "j": jid, "s": sid})
    conn.execute(text("INSERT INTO ab_user (first_name, last_name, username, password, active, email, "
                      "last_login, login_count, fail_login_count, created_on, changed_on, "
                      "jurisdiction_id, school_id, password_changed_at, auth_epoch) VALUES "
                      "(:f, '', :u, :p, :a, :e, :l, :n, 0, :c, :c, :j, :s, :c, 0)"), rows)
    ids = dict(conn.execute(text("SELECT username, id FROM ab_user")).all())
    for username, _f, _j, _s, role in users:
        bindings.append({"u": ids[username], "r": roles[role]})
    conn.execute(text("INSERT INTO ab_user_role (user_id, role_id) VALUES (:u, :r)"), bindings)
    return {"jurisdiction": len(plan.jurisdictions), "school": len(schools), "grade": len(grades),
            "school_class": len(classes), "ab_user": len(users)}


def drop_secondary(conn, tables) -> list[str]:
    """Drop the foreign keys, unique constraints and indexes of ``tables`` (PostgreSQL) before the
    bulk load; returns the statements that put them back (indexes, uniques, then foreign keys)."""
    from sqlalchemy import text

    names = list(tables)
    cons = conn.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(:t) AND c.contype IN ('u', 'f')"),
        {"t": names}).all()
    idx = conn.execute(text(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(:t) AND NOT i.indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"), {"t": names}).all()
    back_idx = [d for _n, d in idx]
    back_uq = [f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for t, n, k, d in cons if k == "u"]
    back_fk = [f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for t, n, k, d in cons if k == "f"]
    for t, n, _k, _d in sorted(cons, key=lambda c: c[2]):  # foreign keys ('f') before uniques
        conn.execute(text(f'ALTER TABLE {t} DROP CONSTRAINT "{n}"'))
    for n, _d in idx:
        conn.execute(text(f"DROP INDEX {n}"))
    return back_idx + back_uq + back_fk


def restore_secondary(url: str, statements: list[str], workers: int) -> None:
    """Rebuild indexes on ``workers`` connections at once; constraints after them, in order."""
    import threading

    import psycopg

    indexes = [s for s in statements if not s.startswith("ALTER")]
    rest = [s for s in statements if s.startswith("ALTER")]
    queue = list(indexes)
    lock = threading.Lock()

    def run():
        with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '256MB'")
            while True:
                with lock:
                    if not queue:
                        return
                    stmt = queue.pop(0)
                conn.execute(stmt)

    threads = [threading.Thread(target=run) for _ in range(max(1, workers))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        for stmt in rest:
            conn.execute(stmt)


def finish(conn, pg: bool) -> None:
    """Flag the records of open problem cases; move the id sequences past the loaded rows."""
    from sqlalchemy import text

    conn.execute(text("UPDATE student SET problem = :t WHERE id IN (SELECT m.student_id FROM "
                      "problem_member m JOIN problem_case c ON c.id = m.case_id "
                      "WHERE c.status = 'open' AND m.student_id IS NOT NULL)"), {"t": True})
    if pg:
        for table in ("jurisdiction", "school", "grade", "school_class") + BIG:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT COALESCE(max(id), 1) FROM {table}))"))


def build(url: str, students: int, *, workers: int = 2, today: date | None = None,
          log=print) -> dict:
    """Build the province into ``url``; returns what the result file records."""
    from sqlalchemy import text

    from app.clock import today as business_today
    from app.extensions import db
    from app.security.crypto import parse_key_list, unb64

    phases: dict[str, float] = {}
    started = time.perf_counter()

    def phase(name: str, since: float) -> float:
        now = time.perf_counter()
        phases[name] = round(now - since, 2)
        log(f"  {name:<22} {phases[name]:8.2f} s")
        return now

    pg = url.startswith("postgresql")
    ensure_database(url)
    app = make_app(url)
    t = time.perf_counter()
    with app.app_context():
        today = today or business_today()
        schema(app)
        t = phase("schema", t)
        plan = make_plan(db.session, students, today)
        templates = chain_templates(db.session, plan)
        from app.services.policy import rulesets as policy

        holidays = policy.current(db.session).effective(PROVINCE).holidays
        db.session.rollback()
        t = phase("plan", t)
        with db.engine.begin() as conn:
            counts = structure(conn, plan, today)
            back = drop_secondary(conn, BIG) if pg else []
        t = phase("structure", t)
        cfg = app.config
        keys, _ = parse_key_list(cfg["XUEJI_ENCRYPTION_KEYS"])  # the bench writes AES-256 (standard)
        shared = Shared(url, keys, cfg.get("XUEJI_ACTIVE_KEY") or next(iter(keys)),
                        unb64(cfg["XUEJI_BLIND_INDEX_KEY"]), len(plan.chunks), plan,
                        templates["chains"], templates["version"], frozenset(holidays),
                        names_data(plan))
        db.session.remove()
        db.engine.dispose()
    order = sorted(range(len(plan.chunks)), key=lambda c: -sum(plan.schools[i].students
                                                                for i in plan.chunks[c]))
    totals = {table: 0 for table in TABLES}
    cpu = 0.0
    if pg and workers > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(shared,)) as pool:
            results = list(pool.imap_unordered(build_chunk, order))
    else:
        _init_worker(shared)
        results = [build_chunk(chunk) for chunk in order]
    for done, seconds in results:
        cpu += seconds
        for table, n in done.items():
            totals[table] += n
    t = phase("students and history", t)
    if back:
        restore_secondary(url, back, workers)
        t = phase("indexes", t)
    with app.app_context():
        with db.engine.begin() as conn:
            finish(conn, pg)
        if pg:  # as autovacuum leaves a live database: statistics, and the visibility map that
            # lets a jurisdiction's count read its index alone
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        db.session.remove()
        db.engine.dispose()
    phase("analyze", t)
    counts.update(totals)
    return {"benchmark": "province", "database": "postgresql" if pg else "sqlite",
            "students": students, "workers": workers, "today": today.isoformat(),
            "seconds": round(time.perf_counter() - started, 2), "phases": phases,
            "generator_cpu_seconds": round(cpu, 1), "rows": counts,
            "python": sys.version.split()[0], "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL (PostgreSQL or SQLite)")
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2, help="processes writing rows (PostgreSQL)")
    parser.add_argument("--today", help="business date (default: the app's clock)")
    args = parser.parse_args(argv)
    today = date.fromisoformat(args.today) if args.today else None
    print(f"building {args.students:,} students into {args.database.rsplit('@', 1)[-1]}")
    result = build(args.database, args.students, workers=args.workers, today=today)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"province-{result['database']}-{args.students}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"total {result['seconds']:.1f} s; rows: "
          + ", ".join(f"{k} {v:,}" for k, v in result["rows"].items()))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
