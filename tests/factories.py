"""Builders for test data: valid unused ID numbers, student payloads, handy look-ups."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date

from sqlalchemy import delete, func, select, update
from stdnum.cn import ric

from app.extensions import db
from app.models import Grade, Graduation, Jurisdiction, Request, School, SchoolClass, Student, XuejiUser
from app.models.base import keyring

_rng = random.Random()


def new_id(area: str = "430102", born: date = date(2019, 10, 5), male: bool = True) -> str:
    """A valid resident ID number that no student holds yet, nor as a registry number (G + ID: a
    record whose ID was changed keeps the number it was given)."""
    # The session does not autoflush: records added but not yet written hold numbers too.
    pending = {n for st in db.session.new if isinstance(st, Student)
               for n in (st.id_number, (st.registry_no or "")[1:]) if n}
    for _ in range(500):
        seq = _rng.randrange(1, 999)
        if (seq % 2 == 1) != male:
            seq = seq + 1 if seq < 998 else seq - 1
        body = f"{area}{born:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if ric.is_valid(number) and number not in pending and not on_record(number):
            return number
    raise AssertionError("no free ID number")


def on_record(number: str) -> bool:
    """Whether a student holds ``number`` as ID, or as a registry number (G + ID)."""
    ring = keyring()
    held = select(Student.id).where((Student.id_blind == ring.blind_index("id_number", number))
                                    | (Student.registry_blind == ring.blind_index("registry_no", f"G{number}")))
    return db.session.scalar(held.limit(1)) is not None


def bad_checksum(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def unused_county_code(city: str = "430100") -> str:
    """A county code under ``city`` that no jurisdiction has yet: tests that build a county of their
    own share the session's database, so a counter per test module would collide."""
    prefix = city[:4]
    taken = set(db.session.scalars(select(Jurisdiction.code).where(Jurisdiction.code.like(f"{prefix}__"))))
    return next(code for code in (f"{prefix}{n:02d}" for n in range(11, 100)) if code not in taken)


def school(code: str) -> School:
    return db.session.scalar(select(School).where(School.code == code))


def first_class(school_code: str, grade: int = 1) -> SchoolClass:
    s = school(school_code)
    return next(c for c in sorted(s.classes, key=lambda c: c.id) if c.grade.number == grade)


def student_in(county_code: str | None = None, school_code: str | None = None, kind: str | None = None):
    q = select(Student)
    if county_code:
        q = q.where(Student.county_code == county_code)
    if school_code:
        q = q.join(School, Student.school_id == School.id).where(School.code == school_code)
    if kind:
        q = q.where(Student.registry_kind == kind)
    return db.session.scalars(q.order_by(Student.id)).first()


def student_payload(klass: SchoolClass, id_number: str, born: date = date(2019, 10, 5),
                    male: bool = True, **overrides) -> dict:
    """A complete, valid JSON payload for POST /api/v1/student/."""
    data = {
        "school_class": klass.id, "name": "测试学生", "gender": "1" if male else "2",
        "birth_date": born.isoformat(), "birthplace": "430102001000", "native_place": "湖南长沙",
        "ethnicity": "01", "nationality": "CHN", "id_type": "1", "hmt_status": "00", "health": "1",
        "political_status": "14", "id_number": id_number, "hukou_nature": "2",
        "hukou_location": "430102001001", "entry_date": "2026-09-01", "entry_mode": "11",
        "study_mode": "1", "current_address": "湖南省长沙市芙蓉区五一大道1号",
        "mailing_address": "湖南省长沙市芙蓉区五一大道1号", "home_address": "湖南省长沙市芙蓉区五一大道1号",
        "phone": "13812345678", "postcode": "410000", "only_child": True, "had_preschool": True,
        "left_behind": "0", "needs_subsidy": False, "receives_subsidy": False, "orphan": False,
        "martyr_child": False, "distance_km": "1.5", "travel_mode": "1", "needs_school_bus": False,
        "source": "1", "migrant_child": False,
        "members": [{"name": "测试家长", "relation": "1", "is_guardian": True, "id_type": "1",
                     "phone": "13900001111"}],
    }
    data.update(overrides)
    return data


def actor_of(username: str):
    from app.services.common.actors import Actor

    return Actor.of(db.session.scalar(select(XuejiUser).where(XuejiUser.username == username)))


def register_fully(student_id: int, now=None) -> Student:
    """Take a new record through its registration review (school supervisor, then county)."""
    from datetime import datetime

    from app.services.record.students import approve_registration

    now = now or datetime(2026, 9, 15, 10)
    for approver in ("school_supervisor", "county_registrar"):
        student = db.session.get(Student, student_id)
        approve_registration(db.session, student, actor_of(approver), now)
    db.session.expire_all()
    return db.session.get(Student, student_id)


PDF = ("证明.pdf", b"%PDF-1.4\n%test evidence\n")


def registered_in(school_code: str, grade: int | None = None) -> Student:
    """A registered, in-school student of that school with no request open."""
    s = school(school_code)
    query = select(Student).where(Student.school_id == s.id, Student.registered.is_(True),
                                  Student.status == "in_school", Student.problem.is_(False),
                                  ~Student.id.in_(select(Request.open_student_id)
                                                  .where(Request.open_student_id.is_not(None))))
    if grade is not None:
        query = query.join(Grade, Student.grade_id == Grade.id).where(Grade.number == grade)
    return db.session.scalars(query.order_by(Student.id)).first()


def account(username: str, role: str, *, school_code: str | None = None, node: str | None = None):
    """A test account (created once)."""
    if db.session.scalar(select(XuejiUser).where(XuejiUser.username == username)) is None:
        from conftest import PASSWORD

        from app.services.organisation.accounts import create_account

        create_account(db.session, username=username, password=PASSWORD, roles=[role],
                       school_code=school_code, node_code=node)
        db.session.commit()
    return actor_of(username)


def _class_of(school_code: str, grade: int) -> SchoolClass:
    return next(c for c in sorted(school(school_code).classes, key=lambda c: c.id) if c.grade.number == grade)




def seated_class(name: str, grade_number: int, seats: int, born: date) -> SchoolClass:
    """A new class of 4301020001 (primary cap 40 in Furong) with ``seats`` bare students in it."""
    s = school("4301020001")
    klass = db.session.scalar(select(SchoolClass).where(SchoolClass.name == name))
    if klass is not None:
        return klass
    grade = db.session.scalar(select(Grade).where(Grade.school_id == s.id, Grade.number == grade_number))
    klass = SchoolClass(school=s, grade=grade, number=90 + grade_number, name=name,
                        entry_year=2026 - grade_number + 1)
    db.session.add(klass)
    for n in range(seats):
        st = Student(school=s, grade=grade, school_class=klass, name=f"{name}{n}", gender="1",
                     birth_date=born, status="in_school", registry_kind="L")
        st.registry_no = f"L430102{born:%Y%m%d}{grade_number}{n:03d}"
        db.session.add(st)
    db.session.commit()
    return klass


@contextmanager
def records_put_back(students, *columns: str):
    """Around a school-year test on the demo data: afterwards the ``students`` have ``columns``
    back as they were, the requests opened meanwhile are closed and the graduations recorded
    meanwhile are gone."""
    kept = {st.id: {c: getattr(st, c) for c in columns} for st in students}
    first_request = db.session.scalar(select(func.max(Request.id))) or 0
    first_graduation = db.session.scalar(select(func.max(Graduation.id))) or 0
    try:
        yield kept
    finally:
        db.session.rollback()
        db.session.execute(update(Request).where(Request.id > first_request,
                                                 Request.open_student_id.is_not(None))
                           .values(status="cancelled", open_student_id=None))
        db.session.execute(delete(Graduation).where(Graduation.id > first_graduation))
        for sid, values in kept.items():
            db.session.execute(update(Student).where(Student.id == sid).values(**values))
        db.session.commit()


def change_account(app, user, **values) -> None:
    """Set columns of the stored account and commit, as any code path might."""
    with app.app_context():
        stored = db.session.get(XuejiUser, user.id)
        for name, value in values.items():
            setattr(stored, name, value)
        db.session.commit()


def stored_report(node: str, month: str, username: str | None = None, now=None):
    """The monthly report of ``node`` for ``month`` generated and stored by its job (inline in the
    tests), as the page, its JSON and REST serve it; the job's row."""
    from datetime import datetime

    from app.models import JobRun
    from app.services.common.actors import Actor
    from app.services.operations import jobs
    from app.services.reports import stored

    who = actor_of(username) if username else Actor.system("tests")
    run = stored.queue(db.session, who, node, month, now=now or datetime(2026, 9, 15, 10))
    jobs.launch(run)
    db.session.expire_all()
    run = db.session.get(JobRun, run.id)
    assert run.status == "done", (run.status, run.message)
    return run
