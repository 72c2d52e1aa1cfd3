"""Another province (江西 36 → 南昌 3601 → 东湖区 360102) with a primary and a junior school, whose
graduates go on to a Hunan school (毕业后跨省就学); shared by the integration and web tests."""

from __future__ import annotations

from datetime import date, datetime
from itertools import count
from pathlib import Path

from factories import account, new_id
from sqlalchemy import select

from app.extensions import db
from app.models import Grade, Jurisdiction, School, SchoolClass, Student

NOW = datetime(2026, 9, 15, 10)  # inside 08-15..12-14
JUNIOR, PRIMARY = "3601020001", "3601020002"  # the graduating schools
RECEIVING = "4301020003"  # 长沙市湘江中学 (junior, senior): its registrar is school3_registrar
JX_BUREAU = "jx_county_reg"  # 东湖区 registrar: the graduating school's bureau
JX_SUPERVISOR = "jx_school_sup"  # the graduating junior school's supervisor: not in the chain
_serial = count(1)


def _province() -> None:
    if db.session.scalar(select(School).where(School.code == JUNIOR)) is not None:
        return
    prov = Jurisdiction(code="360000", name="江西省", level="province")
    city = Jurisdiction(code="360100", name="南昌市", level="city", parent=prov)
    county = Jurisdiction(code="360102", name="东湖区", level="county", parent=city)
    junior = School(code=JUNIOR, name="东湖区育才初级中学", stages="junior", jurisdiction=county)
    primary = School(code=PRIMARY, name="东湖区育才小学", stages="primary", jurisdiction=county)
    db.session.add_all([prov, city, county, junior, primary])
    for school, stage, numbers in ((junior, "junior", (8, 9)), (primary, "primary", (6,))):
        school.refresh_chain()
        for number in numbers:
            grade = Grade(school=school, stage=stage, number=number, name=f"{number}年级")
            db.session.add_all([grade, SchoolClass(school=school, grade=grade, number=1,
                                                   name=f"2026级{number}年级1班", entry_year=2026)])
    db.session.commit()
    account(JX_BUREAU, "county_registrar", node="360102")
    account(JX_SUPERVISOR, "school_supervisor", school_code=JUNIOR)


def student(*, grade: int = 9, status: str = "graduated", school_code: str | None = None) -> Student:
    """A new registered record of the other province (or of ``school_code``) in ``grade``."""
    _province()
    code = school_code or (JUNIOR if grade > 6 else PRIMARY)
    school = db.session.scalar(select(School).where(School.code == code))
    klass = next(c for c in sorted(school.classes, key=lambda c: c.id) if c.grade.number == grade)
    born = date(2011 if grade == 9 else 2014, 3, 1)
    s = Student(school=school, grade=klass.grade, school_class=klass, name=f"赣生{next(_serial)}",
                gender="1", birth_date=born, status=status, registry_kind="G", registered=True,
                graduated_at=NOW.replace(month=7, day=1) if status != "in_school" else None)
    s.id_type = "1"
    s.id_number = new_id(school.jurisdiction.code, born)
    s.registry_no = "G" + s.id_number
    db.session.add(s)
    db.session.commit()
    return s


def rule_line(section: str, key: str, item: str) -> str:
    """``rules/national.yaml:<line>`` of ``item`` under ``key`` of ``section`` (appends elsewhere in
    the file move it: the tests find it rather than pin it)."""
    rules = Path(__file__).resolve().parents[1] / "rules" / "national.yaml"
    lines = rules.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"{section}:") if f"{section}:" in lines else next(
        i for i, line in enumerate(lines) if line.startswith(f"{section}:"))
    at = next(i for i in range(start, len(lines)) if lines[i].strip().startswith(f"{key}:"))
    found = next(i for i in range(at + 1, len(lines)) if lines[i].strip().startswith(item))
    return f"rules/national.yaml:{found + 1}"
