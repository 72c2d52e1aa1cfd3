"""Concurrency, with real concurrent sessions on PostgreSQL (its default isolation allows lost
updates): two deciders of one step, twenty identical clicks, the last seat of a class, two requests
for one student.  Exactly one wins each race; nothing is applied twice."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from conftest import is_postgres
from factories import PDF, account, actor_of, new_id, registered_in, seated_class
from sqlalchemy import func, select

from app.errors import DomainError
from app.extensions import db
from app.models import Request, RequestStep, SchoolClass, Student
from app.services.record import students as student_service
from app.services.requests import workflow as svc

pytestmark = pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")
NOW = datetime(2026, 9, 15, 10)


def race(app, work, n: int) -> list:
    """Run ``work(i)`` in ``n`` threads, each with its own session, released together."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context():
            try:
                barrier.wait()
                results[i] = ("ok", work(i))
            except DomainError as exc:
                db.session.rollback()
                results[i] = ("refused", exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _change_request() -> int:
    req = svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                    actor=actor_of("school_registrar"), now=NOW, payload={"ethnicity": "14"},
                    files=[PDF])
    return req.id


def test_two_people_deciding_one_step_at_once_one_wins(app, ctx):
    account("second_sup", "school_supervisor", school_code="4301020001")
    rid = _change_request()
    people = ["school_supervisor", "second_sup"]
    results = race(app, lambda i: svc.decide(db.session, rid, actor_of(people[i]), "approve", NOW).id, 2)
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    db.session.expire_all()
    decisions = db.session.scalar(select(func.count()).select_from(RequestStep).where(
        RequestStep.request_id == rid, RequestStep.step == 0))
    assert decisions == 1 and db.session.get(Request, rid).step == 1


def test_twenty_simultaneous_identical_clicks_make_one_step(app, ctx):
    rid = _change_request()
    results = race(app, lambda i: svc.decide(db.session, rid, actor_of("school_supervisor"),
                                             "approve", NOW, expected_step=0).step, 20)
    assert all(r is not None for r in results)
    db.session.expire_all()
    rows = db.session.scalar(select(func.count()).select_from(RequestStep).where(
        RequestStep.request_id == rid, RequestStep.action == "approve"))
    assert rows == 1 and db.session.get(Request, rid).step == 1


def test_one_student_cannot_get_two_requests_started_at_once(app, ctx):
    student_id = registered_in("4301020001").id

    def work(i):
        student = db.session.get(Student, student_id)
        payload = {"ethnicity": "15"} if i == 0 else {"ethnicity": "16"}
        return svc.start(db.session, kind="change_field", student=student,
                         actor=actor_of("school_registrar"), now=NOW, payload=payload, files=[PDF]).id

    results = race(app, work, 2)
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Request).where(
        Request.open_student_id == student_id)) == 1


def _almost_full_class() -> int:
    return seated_class("最后一座测试班", 3, 39, date(2017, 10, 1)).id


def test_two_registrars_placing_the_last_seat_at_once_one_gets_it(app, ctx):
    from app.services.record.family import member_from_values

    class_id = _almost_full_class()
    ids = [new_id(born=date(2017, 10, 5)), new_id(born=date(2017, 10, 6))]

    def work(i):
        klass = db.session.get(SchoolClass, class_id)
        born = date(2017, 10, 5 + i)
        s = Student(school_class=klass, name=f"抢座{i}", gender="1", birth_date=born,
                    birthplace="430102001000", native_place="湖南", ethnicity="01", nationality="CHN",
                    id_type="1", hmt_status="00", health="1", political_status="14",
                    hukou_nature="2", hukou_location="430102001001", entry_date=date(2024, 9, 1),
                    entry_mode="11", study_mode="1", postcode="410000", only_child=True,
                    had_preschool=True, left_behind="0", needs_subsidy=False, receives_subsidy=False,
                    orphan=False, martyr_child=False, distance_km=1, travel_mode="1",
                    needs_school_bus=False, source="1", migrant_child=False)
        s.id_number = ids[i]
        s.current_address = s.mailing_address = s.home_address = "湖南省长沙市芙蓉区某路1号"
        s.phone = "13800000000"
        member = member_from_values({"name": "家长", "relation": "1", "is_guardian": True})
        return student_service.create(db.session, s, [member], actor_of("school_registrar"), NOW).id

    results = race(app, work, 2)
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    refused = next(r[1] for r in results if r[0] == "refused")
    assert {p.code for p in refused.problems} == {"class_full"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Student).where(
        Student.class_id == class_id)) == 40


def test_two_clicks_on_import_commit_at_once_start_one_commit(app, ctx):
    from workbooks import student_row, write

    from app.models import ImportJob, School
    from app.services.exchange import imports

    school = db.session.scalar(select(School).where(School.code == "4301020001"))
    klass = next(c for c in sorted(school.classes, key=lambda c: c.id) if c.grade.number == 4)
    import random
    import tempfile
    from pathlib import Path

    rng, used = random.Random(31), set()
    path = write(Path(tempfile.mkdtemp()) / "race.xlsx",
                 [student_row(rng, school.code, klass.name, 4, 2026, used) for _ in range(2)])
    job = imports.upload(db.session, school=school, actor=actor_of("school_registrar"), filename="race.xlsx",
                         data=path.read_bytes())
    imports.dry_run(db.session, job, NOW)
    assert job.status == "checked", job.problems
    job_id = job.id

    def click(i):
        imports.claim(db.session, db.session.get(ImportJob, job_id), actor_of("school_registrar"))
        return i

    results = race(app, click, 8)
    assert sorted(r[0] for r in results) == ["ok"] + ["refused"] * 7, results
