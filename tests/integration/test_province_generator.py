"""The set-based province generator (tests/bench/province.py) at a tiny size, on a database of its own
(a SQLite file, or when TEST_DATABASE_URL names a PostgreSQL database, the database of that name with
``_province`` appended, created when missing -- never the suite's own): the rows
it writes without the ORM must be rows the app reads as its own."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from stdnum.cn import ric

STUDENTS = 3000
TODAY = date(2026, 9, 15)
ROOT = Path(__file__).resolve().parents[2]


def _province():
    spec = importlib.util.spec_from_file_location("bench_province", ROOT / "tests" / "bench" / "province.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    province = _province()
    server = os.environ.get("TEST_DATABASE_URL") or ""
    if server.startswith("postgresql"):  # a database of its own beside the suite's (test -> test_province)
        url = server.split("?", 1)[0] + "_province"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('province') / 'province.db'}"
    result = province.build(url, STUDENTS, workers=1, today=TODAY, log=lambda *_a: None)
    app = province.make_app(url)
    with app.app_context():
        yield province, app, result
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


def _rows(sql: str, **params):
    from app.extensions import db

    return db.session.execute(text(sql), params).all()


def test_it_writes_every_student_and_reports_its_rows(built):
    _province, _app, result = built
    assert result["students"] == STUDENTS
    assert result["rows"]["student"] == STUDENTS
    assert result["rows"]["registry_number"] == STUDENTS
    assert result["rows"]["school"] >= 122 * 4  # every county has a primary, junior, senior school
    assert set(result["phases"]) >= {"schema", "plan", "structure", "students and history"}
    (count,) = _rows("SELECT count(*) FROM student")[0]
    assert count == STUDENTS
    json.dumps(result)  # what the CLI writes


def test_the_province_has_its_real_cities_and_counties(built):
    levels = dict(_rows("SELECT level, count(*) FROM jurisdiction WHERE province_code = '430000' GROUP BY level"))
    assert levels == {"province": 1, "city": 14, "county": 122}
    (name,) = _rows("SELECT name FROM jurisdiction WHERE code = '430102'")[0]
    assert name == "芙蓉区"


def test_every_id_number_is_valid_and_agrees_with_the_record(built):
    from app.models.base import keyring
    from app.security.crypto import aad_for

    ring = keyring()
    open_invalid = {sid for (sid,) in _rows(
        "SELECT m.student_id FROM problem_member m JOIN problem_case c ON c.id = m.case_id "
        "WHERE c.kind = 'invalid_id' AND c.status = 'open'")}
    rows = _rows("SELECT id, uid, id_number_enc, id_blind, birth_date, gender, id_type FROM student")
    with_id = 0
    for sid, uid, token, blind, born, gender, id_type in rows:
        if token is None:
            assert id_type != "1" and blind is None
            continue
        with_id += 1
        number = ring.decrypt(token, aad_for("student", "id_number_enc", uid))
        assert ring.blind_index("id_number", number) == blind  # the blind index says the same
        if sid in open_invalid:
            assert not ric.is_valid(number), number  # the open case is about exactly this number
            continue
        assert ric.is_valid(number), number
        assert number[6:14] == str(born).replace("-", "")
        assert int(number[16]) % 2 == (1 if gender == "1" else 0)
    assert with_id > STUDENTS * 0.9


def test_the_blind_index_finds_a_student_by_exact_id_number(built):
    from app.extensions import db
    from app.models import Student
    from app.models.base import keyring

    sample = db.session.query(Student).filter(Student.id_number_enc.is_not(None)).order_by(Student.id).limit(40).all()
    assert len(sample) == 40
    for student in sample:
        number = student.id_number  # decrypted through the model, exactly as the app reads it
        found = db.session.query(Student.id).filter(
            Student.id_blind == keyring().blind_index("id_number", number)).all()
        assert student.id in {f for (f,) in found}
    # a number nobody holds finds nothing
    assert db.session.query(Student.id).filter(
        Student.id_blind == keyring().blind_index("id_number", "11010519491231002X")).count() == 0


def test_registry_numbers_are_unique_and_decrypt_to_g_plus_id(built):
    from app.extensions import db
    from app.models import RegistryNumber, Student

    students = db.session.query(Student).all()
    kinds = Counter(s.registry_kind for s in students)
    assert kinds["G"] > STUDENTS * 0.8 and kinds["L"] > 0
    numbers = set()
    for s in students:
        number = s.registry_no
        assert len(number) == 19 and number[0] == s.registry_kind
        if s.registry_kind == "G":
            assert number == "G" + s.id_number
        assert s.registered == (s.registry_kind != "L")
        numbers.add(number)
    assert len(numbers) == STUDENTS
    issued = {r.student_id: r.number for r in db.session.query(RegistryNumber)}
    assert all(issued[s.id] == s.registry_no for s in students[:200])


def test_family_members_decrypt_and_every_student_has_a_guardian(built):
    from app.extensions import db
    from app.models import FamilyMember, Student
    from app.models.base import keyring

    members = db.session.query(FamilyMember).order_by(FamilyMember.id).limit(60).all()
    for m in members:
        assert ric.is_valid(m.id_number)
        assert m.id_blind == keyring().blind_index("id_number", m.id_number)
        assert m.phone.startswith("1") and len(m.phone) == 11
    (without,) = _rows("SELECT count(*) FROM student s WHERE NOT EXISTS (SELECT 1 FROM family_member m "
                       "WHERE m.student_id = s.id AND m.is_guardian = :t)", t=True)[0]
    assert without == 0
    assert db.session.get(Student, 1).current_address.startswith("湖南省")


def test_counts_by_school_grade_and_status_sum_to_the_total(built):
    groups = _rows("SELECT school_id, grade_id, status, count(*) FROM student GROUP BY school_id, grade_id, status")
    assert sum(n for *_k, n in groups) == STUDENTS
    statuses = Counter()
    for _s, _g, status, n in groups:
        statuses[status] += n
    assert statuses["in_school"] > STUDENTS * 0.75
    assert statuses["graduated"] > 0 and len(statuses) >= 5
    (undated,) = _rows("SELECT count(*) FROM student WHERE (status = 'graduated') <> (graduated_at IS NOT NULL)")[0]
    assert undated == 0
    # each graduate and completer has the graduation the reports count, where and as it happened
    (graduations, unmatched) = _rows(
        "SELECT count(*), count(*) FILTER (WHERE s.id IS NULL OR s.school_id <> r.school_id "
        "OR s.county_code <> r.county_code OR s.status <> r.status OR g.number <> r.grade_number "
        "OR g.stage <> r.stage OR (s.status = 'graduated' AND s.graduated_at <> r.at)) "
        "FROM graduation r LEFT JOIN student s ON s.id = r.student_id LEFT JOIN grade g ON g.id = s.grade_id")[0]
    assert graduations == statuses["graduated"] + statuses["completed"] and unmatched == 0
    (mismatched,) = _rows(
        "SELECT count(*) FROM student s JOIN grade g ON g.id = s.grade_id "
        "LEFT JOIN school_class c ON c.id = s.class_id JOIN school k ON k.id = s.school_id "
        "WHERE g.school_id <> s.school_id OR (c.id IS NOT NULL AND (c.grade_id <> g.id)) "
        "OR s.province_code <> k.province_code OR s.city_code <> k.city_code "
        "OR s.county_code <> k.county_code")[0]
    assert mismatched == 0
    genders = dict(_rows("SELECT gender, count(*) FROM student GROUP BY gender"))
    assert set(genders) == {"1", "2"} and min(genders.values()) > STUDENTS * 0.4


def test_no_class_holds_more_than_its_cap(built):
    from app.extensions import db
    from app.services.policy import rulesets as policy

    ruleset, caps = policy.current(db.session), {}
    sizes = _rows("SELECT k.province_code, k.city_code, k.county_code, g.stage, count(*) FROM student s "
                  "JOIN school_class c ON c.id = s.class_id JOIN grade g ON g.id = c.grade_id "
                  "JOIN school k ON k.id = s.school_id WHERE s.status IN ('in_school', 'suspended') "
                  "GROUP BY c.id, k.province_code, k.city_code, k.county_code, g.stage")
    assert sizes
    for province, city, county, stage, n in sizes:
        if (province, city, county) not in caps:
            caps[(province, city, county)] = ruleset.effective(province, city, county).caps
        cap = caps[(province, city, county)].get(stage)
        assert cap is None or n <= int(cap.value), (county, stage, n)
    # 芙蓉区 caps primary classes at 40 (rules/430102.yaml), below the province's 45
    assert ruleset.effective("430000", "430100", "430102").caps["primary"].value == 40


def test_requests_and_their_steps_agree(built):
    from app.extensions import db
    from app.models import Request, RequestStep

    requests = db.session.query(Request).all()
    from app.services.requests import kinds as declared

    assert all(declared.get(r.kind) for r in requests)  # only kinds the app declares
    assert len(requests) > STUDENTS * 0.1
    steps: dict[int, list] = {}
    for step in db.session.query(RequestStep).order_by(RequestStep.id):
        steps.setdefault(step.request_id, []).append(step)
    kinds = Counter((r.kind, r.status) for r in requests)
    for wanted in (("register_new", "done"), ("register_new", "pending"), ("transfer", "done"),
                   ("suspend", "done")):
        assert kinds[wanted] > 0, wanted
    assert {r.variant for r in requests if r.kind == "transfer"} >= {"same_county", "same_city"}
    open_students = Counter()
    for r in requests:
        rows = steps[r.id]
        assert rows[0].action == "submit" and rows[0].at == r.created_at
        assert all(a.at <= b.at for a, b in zip(rows, rows[1:]))
        assert rows[-1].at <= datetime_today()
        assert (r.origin_province, r.origin_city, r.origin_county) == (
            r.origin_school.province_code, r.origin_school.city_code, r.origin_school.county_code)
        last_round = [s for s in rows if s.round == r.round and s.step is not None]
        approved = [s.step for s in last_round if s.action == "approve"]
        assert approved == list(range(len(approved)))  # in chain order, none skipped
        if r.status == "done":
            assert r.closed_at is not None and r.open_student_id is None
            assert len(approved) == len(r.chain) and r.step == len(r.chain)
        elif r.status == "pending":
            open_students[r.student_id] += 1
            assert r.open_student_id == r.student_id and r.closed_at is None
            assert r.step == len(approved) and r.holder_node == r.chain[r.step]["node"]
            assert r.due_on is not None
        elif r.status == "returned":
            open_students[r.student_id] += 1
            assert rows[-1].action == "return" and r.holder_node == f"school:{r.origin_school_id}"
        elif r.status in ("rejected", "cancelled"):
            assert r.closed_at is not None and r.open_student_id is None
            assert rows[-1].action == {"rejected": "reject", "cancelled": "cancel"}[r.status]
    assert open_students and max(open_students.values()) == 1  # one open request per student
    unregistered = {sid for (sid,) in _rows("SELECT id FROM student WHERE registered = :f", f=False)}
    assert unregistered <= set(open_students)  # every temporary number waits in its review


def datetime_today():
    from datetime import datetime

    return datetime(2026, 9, 15, 10, 0)


def test_problem_cases_flag_their_records(built):
    cases = _rows("SELECT kind, status, count(*) FROM problem_case GROUP BY kind, status")
    assert cases
    (unflagged,) = _rows("SELECT count(*) FROM problem_member m JOIN problem_case c ON c.id = m.case_id "
                         "JOIN student s ON s.id = m.student_id WHERE c.status = 'open' AND s.problem = :f",
                         f=False)[0]
    assert unflagged == 0


def test_accounts_sign_in_with_their_roles(built):
    from app.extensions import db
    from app.models import XuejiUser

    province, app, _result = built
    client = app.test_client()
    response = client.post("/login/", data={"username": "430102_supervisor", "password": province.PASSWORD})
    assert response.status_code == 302 and "login" not in response.headers["Location"]

    users = db.session.query(XuejiUser).all()
    assert len(users) > 300
    county = next(u for u in users if u.username == "430102_supervisor")
    assert [r.name for r in county.roles] == ["county_supervisor"]
    assert county.jurisdiction.code == "430102"
    school = next(u for u in users if u.username.endswith("_registrar") and u.school_id)
    assert school.roles[0].name == "school_registrar"
    assert school.school.county_code == school.username[:6]
