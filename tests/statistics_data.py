"""Hand-built schools and students with known statistics (学校统计表, 关注名单), shared by
tests/integration/test_school_statistics.py and tests/web/test_statistics_pages.py."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Grade, Jurisdiction, Request, School, SchoolClass, Student

NOW = datetime(2026, 9, 15, 12, 0)
ONE, TWO = "4301029901", "4301029902"  # the two schools built here, in 芙蓉区 430102
_serial: list[str] = []


def _school(code: str, name: str) -> School:
    county = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "430102"))
    school = School(code=code, name=name, stages="primary", jurisdiction=county)
    school.refresh_chain()
    db.session.add(school)
    return school


def _student(school, name: str, gender: str, *, grade=None, klass=None, status="in_school",
             id_number=None, born=date(2018, 3, 1), **items) -> Student:
    values = {"ethnicity": "01", "hukou_nature": "1", "hukou_location": "430102001001",
              "entry_mode": "11", "left_behind": "0", "disability": "0", "migrant_child": False,
              "orphan": False, "martyr_child": False, "needs_subsidy": False,
              "receives_subsidy": False} | items
    student = Student(school=school, grade=grade, school_class=klass, name=name, gender=gender,
                      birth_date=born, status=status, registry_kind="L", **values)
    _serial.append(name)
    student.registry_no = f"L{school.code[:6]}{born:%Y%m%d}{len(_serial):04d}"
    student.id_number = id_number
    db.session.add(student)
    return student


def _request(kind: str, status: str, student: Student, origin: School, *, other: School | None = None,
             closed: datetime | None = None, started: datetime | None = None) -> None:
    req = Request(kind=kind, status=status, student=student, student_uid=student.ensure_uid(),
                  student_name=student.name, requester_name="test", origin_school=origin,
                  origin_province=origin.province_code, origin_city=origin.city_code,
                  origin_county=origin.county_code, other_school=other, chain=[], round=1, step=0,
                  closed_at=closed, step_started_at=started)
    if other is not None:
        req.other_province, req.other_city, req.other_county = (
            other.province_code, other.city_code, other.county_code)
    db.session.add(req)


def build(app) -> dict:
    """School ONE: grade 1 with two classes, grade 2 with one; five students on record among nine.
    School TWO: no class, one student without a grade, one dropout."""
    with app.app_context():
        if db.session.scalar(select(School).where(School.code == ONE)) is None:
            one, two = _school(ONE, "统计测试小学"), _school(TWO, "统计测试二小")
            g1 = Grade(school=one, stage="primary", number=1, name="一年级")
            g2 = Grade(school=one, stage="primary", number=2, name="二年级")
            c11 = SchoolClass(school=one, grade=g1, number=1, name="统计一(1)班")
            c12 = SchoolClass(school=one, grade=g1, number=2, name="统计一(2)班")
            c21 = SchoolClass(school=one, grade=g2, number=1, name="统计二(1)班")
            db.session.add_all([g1, g2, c11, c12, c21])
            plain = _student(one, "甲", "1", grade=g1, klass=c11)
            _student(one, "乙乙", "2", grade=g1, klass=c11, ethnicity="15", migrant_child=True,
                     hukou_location="430202001001", hukou_nature="2", left_behind="1", orphan=True)
            _student(one, "丙丙丙", "2", grade=g1, klass=c12, status="suspended", left_behind="2",
                     needs_subsidy=True, receives_subsidy=True, disability="1", hukou_nature="3",
                     entry_mode="12")
            _student(one, "丁丁丁丁", "1", grade=g2, klass=c21, martyr_child=True, problem=True,
                     hukou_location="", entry_mode="99", ethnicity=None)
            _student(one, "戊", "1", grade=g1, klass=c12, status="resuming", migrant_child=True,
                     hukou_nature="2")
            gone = _student(one, "己辍学", "1", grade=g2, klass=c21, status="dropout")
            _student(one, "庚毕业", "2", grade=g2, klass=c21, status="graduated")
            _student(one, "辛转出", "2", grade=g2, status="left_other", born=date(2017, 5, 5))
            _student(two, "辛转出", "2", born=date(2017, 5, 5))  # ... received at TWO
            dropped = _student(two, "壬辍学", "1", status="dropout")
            db.session.flush()
            _request("dropout", "done", gone, one, closed=datetime(2026, 8, 20, 10))
            _request("dropout", "done", dropped, two, closed=datetime(2026, 9, 1, 9))
            _request("dropout", "done", dropped, two, closed=datetime(2025, 6, 1, 9))  # too long ago
            _request("dropout", "rejected", plain, one, closed=datetime(2026, 9, 2, 9))  # not approved
            receiving = db.session.scalar(select(School).where(School.code == "4302020001"))
            _request("transfer", "awaiting_pull", plain, receiving, other=one, started=datetime(2026, 9, 5, 9))
            db.session.commit()
    return {"one": ONE, "two": TWO}
