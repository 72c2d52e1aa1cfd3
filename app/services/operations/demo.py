"""The demo province: jurisdictions, schools, classes, ~3,000 plausible students, its accounts.

Deterministic (seeded random), so every demo looks the same.  Every generated resident ID passes
python-stdnum (area code valid in the birth year, right checksum), and agrees with the record.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from ...documents.pinyin import pinyin
from ...errors import Conflict
from ...i18n import t
from ...models import FamilyMember, Grade, Jurisdiction, RegistryNumber, School, SchoolClass, Student
from ...models.school import GRADE_NAMES, STAGE_GRADES
from ...security.roles import FUNCTION_ZH, FUNCTIONS
from ..common.transaction import transactional
from ..organisation.accounts import create_account
from ..record.registry_numbers import j_number, series_of

DEFAULT_PASSWORD = "Xueji@2026demo"
SPECIAL_CLASS_SIZE = 8
PRESCHOOL_CLASS_SIZE = 12  # the kindergarten's 大班: children who go to first grade next September
PRESCHOOL_GRADES = {0: "大班"}
ENTRY = {"primary": 1, "junior": 7, "senior": 10, "preschool": 0}


def school_year(today: date) -> int:
    """The calendar year in which the current school year began (1 September)."""
    return today.year if today.month >= 9 else today.year - 1


def birth_range(grade: int, year: int) -> tuple[date, date]:
    """Children in grade ``grade`` turned 6 in the 12 months before 1 Sept of their entry year."""
    entry = year - grade + 1
    return date(entry - 7, 9, 1), date(entry - 6, 8, 31)


@dataclass
class _Ctx:
    rng: random.Random
    data: dict
    used_ids: set
    year: int
    today: date


def _id_number(ctx: _Ctx, area: str, born: date, male: bool) -> str | None:
    """A fresh valid ID; falls back to the city's code when the county's did not yet exist."""
    return _id_in(ctx, area, born, male) or _id_in(ctx, area[:4] + "00", born, male)


def _id_in(ctx: _Ctx, area: str, born: date, male: bool) -> str | None:
    for _ in range(20):
        seq = ctx.rng.randrange(1, 999)
        if (seq % 2 == 1) != male:
            seq += 1 if seq < 998 else -1
        body = f"{area}{born:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in ctx.used_ids and ric.is_valid(number):
            ctx.used_ids.add(number)
            return number
    return None


def _name(ctx: _Ctx, male: bool, surname: str | None = None) -> str:
    pool = ctx.data["given_boy" if male else "given_girl"]
    given = "".join(ctx.rng.choice(pool) for _ in range(ctx.rng.choice((1, 2, 2))))
    return (surname or ctx.rng.choice(ctx.data["surnames"])) + given


def _phone(ctx: _Ctx) -> str:
    return f"1{ctx.rng.choice('3456789')}{ctx.rng.randrange(10**9):09d}"


def _address(ctx: _Ctx, city: dict, county: dict) -> str:
    road = ctx.rng.choice(county["roads"])
    return (f"湖南省{city['name']}{county['name']}{road}{ctx.rng.randrange(1, 400)}号"
            f"{ctx.rng.randrange(1, 30)}栋{ctx.rng.randrange(101, 2600)}室")


def _hierarchy(session: Session, data: dict) -> tuple[dict, dict]:
    prov = Jurisdiction(code=data["province"]["code"], name=data["province"]["name"], level="province")
    session.add(prov)
    counties, cities = {}, {}
    for c in data["cities"]:
        city = Jurisdiction(code=c["code"], name=c["name"], level="city", parent=prov)
        cities[c["code"]] = (city, c)
        for k in c["counties"]:
            counties[k["code"]] = (Jurisdiction(code=k["code"], name=k["name"], level="county",
                                                parent=city), k, c)
    session.add_all([v[0] for v in cities.values()] + [v[0] for v in counties.values()])
    session.flush()
    return cities, counties


def _schools(session: Session, data: dict, counties: dict, year: int) -> list[tuple]:
    out = []
    for code, name, county, stages, kind, per_grade in data["schools"]:
        node, county_data, city_data = counties[county]
        school = School(code=code, name=name, stages=",".join(stages), kind=kind,
                        ownership="private" if "陶瓷路" in name else "public", jurisdiction=node,
                        address=f"湖南省{city_data['name']}{county_data['name']}")
        classes = []
        for stage in stages:
            names = PRESCHOOL_GRADES if stage == "preschool" else {n: GRADE_NAMES[n] for n in STAGE_GRADES[stage]}
            for number, grade_name in names.items():
                grade = Grade(school=school, stage=stage, number=number, name=grade_name)
                for n in range(1, per_grade + 1):
                    entry = year - (number - ENTRY[stage])
                    classes.append(SchoolClass(school=school, grade=grade, number=n,
                                               name=f"{entry}级{grade_name}{n}班",
                                               entry_year=entry))
        session.add(school)
        session.add_all(classes)
        out.append((school, classes, county_data, city_data))
    session.flush()
    return out


def _fixed_size(school: School) -> int:
    """Students per class of a school the even spread leaves out (special school, kindergarten)."""
    if school.kind == "special":
        return SPECIAL_CLASS_SIZE
    return PRESCHOOL_CLASS_SIZE if school.stages == "preschool" else 0


def _student(ctx: _Ctx, school: School, klass: SchoolClass, county: dict, city: dict) -> Student:
    rng = ctx.rng
    grade = klass.grade.number
    lo, hi = birth_range(grade, ctx.year)
    born = lo + timedelta(days=rng.randrange((hi - lo).days + 1))
    male = rng.random() < 0.52
    migrant = rng.random() < 0.12
    area = rng.choice(ctx.data["other_areas"]) if migrant else county["code"]
    has_id = rng.random() > 0.03
    id_number = _id_number(ctx, area, born, male) if has_id else None
    surname = rng.choice(ctx.data["surnames"])
    stage = klass.grade.stage
    disabled = school.kind == "special"
    home = _address(ctx, city, county)
    s = Student(
        school=school, grade=klass.grade, school_class=klass, status="in_school",
        name=_name(ctx, male, surname), gender="1" if male else "2", birth_date=born,
        birthplace=f"{area}{rng.randrange(1, 20):03d}000", native_place=f"湖南{county['name']}",
        ethnicity=rng.choices(["01", "15", "06", "13"], weights=[90, 5, 4, 1])[0],
        nationality="CHN", id_type="1" if id_number else "Z", hmt_status="00", health="1",
        political_status={"preschool": "13", "primary": "14", "junior": rng.choice(["14", "03"]), "senior": "03"}[stage],
        hukou_nature=rng.choice(["1", "2"]), hukou_location=f"{area}{rng.randrange(1, 20):03d}001",
        entry_date=date(klass.entry_year, 9, 1), entry_mode="21" if stage == "senior" else "11",
        study_mode="2" if stage == "senior" and rng.random() < 0.6 else "1", source="1",
        postcode=city["postcode"], only_child=rng.random() < 0.35, had_preschool=rng.random() < 0.95,
        left_behind=rng.choices(["0", "1", "2"], weights=[88, 8, 4])[0], migrant_child=migrant,
        needs_subsidy=rng.random() < 0.06, receives_subsidy=rng.random() < 0.04,
        orphan=False, martyr_child=False, disability=rng.choice(["1", "2", "5"]) if disabled else "0",
        inclusive_schooling="0", govt_purchased_seat=False,
        distance_km=Decimal(f"{rng.uniform(0.3, 12):.1f}"),
        travel_mode=rng.choice(["1", "2", "3", "4"]), needs_school_bus=False, blood_type="0",
    )
    s.name_pinyin = pinyin(s.name)
    s.id_number = id_number
    s.current_address = s.home_address = s.mailing_address = home
    s.members = _family(ctx, s, surname, area, born, home, county)
    s.phone = s.members[0].phone
    return s


def _family(ctx: _Ctx, student: Student, surname: str, area: str, born: date, home: str,
            county: dict) -> list[FamilyMember]:
    rng = ctx.rng
    single = rng.random() < 0.12
    left_behind = student.left_behind == "2"
    people = [("1", True, surname), ("2", False, None)]
    if single:
        people = [rng.choice(people)]
    members = []
    for seq, (relation, male, sname) in enumerate(people, start=1):
        parent_born = born - timedelta(days=365 * rng.randrange(24, 38) + rng.randrange(365))
        m = FamilyMember(seq=seq, name=_name(ctx, male, sname), relation=relation,
                         is_guardian=not left_behind, id_type="1", ethnicity="01",
                         employer=rng.choice(ctx.data["employers"]), job_title=rng.choice(ctx.data["jobs"]),
                         hukou_location=f"湖南省{county['name']}")
        m.id_number = _id_number(ctx, area, parent_born, male)
        m.id_type = "1" if m.id_number else None
        m.phone = _phone(ctx)
        m.current_address = home
        members.append(m)
    if left_behind:  # grandparent at home is the guardian
        g = FamilyMember(seq=len(members) + 1, name=_name(ctx, False, None), relation="3",
                         is_guardian=True, id_type="1", ethnicity="01", employer="务农", job_title="农民")
        g.id_number = _id_number(ctx, county["code"], born - timedelta(days=365 * 55), False)
        g.phone = _phone(ctx)
        g.current_address = home
        members = [g] + members[:1]
        for seq, m in enumerate(members, start=1):
            m.seq = seq
    return members


def _number(ctx: _Ctx, student: Student, school: School, serial: dict) -> RegistryNumber:
    """Most records already hold a formal number; some wait for the bureau (temporary L)."""
    area = school.county_code
    if student.id_number and ctx.rng.random() < 0.9:
        number, kind = f"G{student.id_number}", "G"
    elif student.id_number is None and ctx.rng.random() < 0.5:
        key = (area, student.birth_date)
        serial[key] = serial.get(key, 0) + 1
        number, kind = j_number(area, student.birth_date, serial[key]), "J"
    else:
        serial["L"] = serial.get("L", 0) + 1
        number, kind = f"L{area}{student.birth_date:%Y%m%d}{serial['L'] % 10000:04d}", "L"
    student.registry_no, student.registry_kind = number, kind
    student.registered = kind != "L"
    return RegistryNumber(number=number, kind=kind, student=student, issued_by="seed",
                          series=series_of(number[:15]) if kind == "J" else None,
                          student_uid=student.ensure_uid())


def _pending_reviews(session: Session, school: School, students: list[Student], today: date) -> None:
    """Records still on a temporary number wait in their registration review (注册核办)."""
    from ..common.actors import Actor
    from ..policy import rulesets as policy
    from ..requests.workflow import open_registration

    pending = [s for s in students if not s.registered]
    if not pending:
        return
    now = datetime.combine(today, time(9))
    decision = policy.decide(session, policy.facts("register_in_school", now, school,
                                                   status="in_school", registered=False))
    seed = Actor.system("seed")
    for student in pending:
        open_registration(session, student, seed, now, decision, "register_in_school")


def _accounts(session: Session, data: dict, password: str) -> list[str]:
    """The demo's accounts, each named by its node and role (``芙蓉区育英小学学籍管理员``)."""
    names = {j.code: j.name for j in session.scalars(select(Jurisdiction))}
    names.update({s.code: s.name for s in session.scalars(select(School))})
    made = []
    for entry in data["accounts"]:
        where = entry.get("node") or entry["school"]
        for function in entry.get("functions", FUNCTIONS):
            username = f"{entry['prefix']}_{'admin' if function == 'sysadmin' else function}"
            user = create_account(session, username=username, password=password,
                                  roles=[f"{entry['level']}_{function}"], node_code=entry.get("node"),
                                  school_code=entry.get("school"))
            user.first_name, user.last_name = f"{names[where]}{FUNCTION_ZH[function]}", ""
            made.append(username)
    return made


@transactional
def seed_demo(session: Session, seed_dir: Path, *, password: str, students: int,
              today: date) -> dict:
    """Load the demo province, one transaction; refuses to run twice."""
    data = yaml.safe_load((seed_dir / "demo.yaml").read_text(encoding="utf-8"))
    if session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == data["province"]["code"])):
        raise Conflict(t("演示数据已存在", "the demo province is already loaded"))
    ctx = _Ctx(random.Random(20260901), data, set(), school_year(today), today)
    _cities, counties = _hierarchy(session, data)
    schools = _schools(session, data, counties, ctx.year)
    regular = sum(len(c) for s, c, _, _ in schools if not _fixed_size(s))
    special = sum(len(c) * _fixed_size(s) for s, c, _, _ in schools)
    # spread the regular students evenly: the first `extra` classes take one more
    per_class, extra = divmod(max(students - special, regular), max(regular, 1))
    made, serial, nth = 0, {}, 0
    for school, classes, county, city in schools:
        batch = []
        for klass in classes:
            if _fixed_size(school):
                size = _fixed_size(school)
            else:
                size, nth = per_class + (1 if nth < extra else 0), nth + 1
            for _ in range(size):
                st = _student(ctx, school, klass, county, city)
                batch += [st, _number(ctx, st, school, serial)]
        session.add_all(batch)
        session.flush()
        _pending_reviews(session, school, [s for s in batch if isinstance(s, Student)], today)
        made += len(batch) // 2
    accounts = _accounts(session, data, password)
    return {"jurisdictions": 1 + len(_cities) + len(counties), "schools": len(schools),
            "classes": regular + special, "students": made, "accounts": accounts}
