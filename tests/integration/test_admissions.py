"""Admission lists (录取名单): the template round trip, rows refused naming row and field, new records
under one registration review, lifelong records pulled (a junior graduate into senior school, a
kindergarten child into first grade), duplicate admissions listed to the lowest bureau and never
registered twice, the enrollment window, and one school's scope."""

from __future__ import annotations

import io
import random
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from factories import actor_of, school
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from workbooks import student_row

from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.models import Admission, AuditEvent, Grade, ImportJob, Request, SchoolClass, Student
from app.models.base import keyring
from app.services.schoolyear import admission_cases, admissions

NOW = datetime(2026, 9, 15, 10)
PRIMARY, JUNIOR, BOTH = "4301020001", "4301020002", "4301020003"  # 育英小学, 启明初中, 湘江中学 (初中+高中)
KINDERGARTEN = "4301020004"
OPEN = select(Request.id).where(Request.open_student_id == Student.id).exists()


def entry_class(code: str, grade: int) -> SchoolClass:
    return db.session.scalar(select(SchoolClass).join(Grade, Grade.id == SchoolClass.grade_id).where(
        SchoolClass.school_id == school(code).id, Grade.number == grade).order_by(SchoolClass.id))


def filled(code: str, rows: list[dict]) -> bytes:
    """The school's own downloaded template, filled below its header as a registrar does."""
    book = load_workbook(io.BytesIO(admissions.template(db.session, school(code))))
    sheet = book["录取名单"]
    headers = [c.value for c in sheet[1]]
    for n, row in enumerate(rows, start=2):
        for col, header in enumerate(headers, start=1):
            sheet.cell(row=n, column=col, value=row.get(header))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def new_rows(code: str, grade: int, n: int, seed: int) -> list[dict]:
    klass = entry_class(code, grade)
    rng, used = random.Random(seed), set()
    rows = []
    while len(rows) < n:
        row = student_row(rng, code, klass.name, grade, NOW.year, used)
        blind = keyring().blind_index("id_number", row["身份证件号"])
        if not db.session.scalar(select(Student.id).where(Student.id_blind == blind)):
            rows.append(row)
    return rows


def short_row(student: Student, klass: SchoolClass) -> dict:
    """A pulled person's row: identity and class only."""
    return {"姓名": student.name, "性别": "男" if student.gender == "1" else "女",
            "出生日期": student.birth_date.isoformat(), "身份证件类型": "居民身份证",
            "身份证件号": student.id_number, "班级": klass.name}


def check(code: str, rows: list[dict], user: str, now: datetime = NOW) -> ImportJob:
    job = admissions.upload(db.session, school=school(code), actor=actor_of(user), filename="录取名单.xlsx",
                            data=filled(code, rows))
    return admissions.dry_run(db.session, job, now)


def admit(code: str, rows: list[dict], user: str, now: datetime = NOW) -> ImportJob:
    job = check(code, rows, user, now)
    assert job.status == "checked" and not job.rows_invalid, (job.message, job.problems)
    return admissions.commit(db.session, job, actor_of(user), now)


def records_of(number: str) -> list[Student]:
    blind = keyring().blind_index("id_number", number)
    return list(db.session.scalars(select(Student).where(Student.id_blind == blind)))


def test_the_template_round_trips_into_new_records_under_one_registration_review(ctx):
    book = load_workbook(io.BytesIO(admissions.template(db.session, school(PRIMARY))))
    assert book.sheetnames[0] == "录取名单" and "已有学籍" in "".join(
        str(c.value or "") for row in book["填写说明"].iter_rows() for c in row)
    listed = {c.value for c in book["代码"]["A"]} | {c.value for col in book["代码"].iter_cols() for c in col}
    assert entry_class(PRIMARY, 1).name in listed and entry_class(PRIMARY, 3).name not in listed

    rows = new_rows(PRIMARY, 1, 3, seed=11)
    before = db.session.scalar(select(func.count(Student.id)).where(Student.school_id == school(PRIMARY).id))
    job = admit(PRIMARY, rows, "school_registrar")
    assert (job.status, job.created, job.updated) == ("done", 3, 0)
    made = [records_of(r["身份证件号"]) for r in rows]
    assert all(len(m) == 1 and m[0].status == "in_school" and m[0].grade.number == 1
               and m[0].registry_kind == "L" and not m[0].registered for m in made)
    after = db.session.scalar(select(func.count(Student.id)).where(Student.school_id == school(PRIMARY).id))
    assert after == before + 3
    review = db.session.get(Request, job.request_id)
    assert (review.kind, review.status, review.payload) == ("register_new", "pending", {"import_job": job.id})
    held = db.session.scalars(select(Admission).where(Admission.import_job_id == job.id)).all()
    assert {(a.status, a.outcome) for a in held} == {("admitted", "new")}
    assert {a.student_id for a in held} == {m[0].id for m in made}

    again = admit(PRIMARY, rows, "school_registrar")  # the same list again changes nothing
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_a_rejected_registration_frees_the_admission_for_a_corrected_list(ctx):
    from app.services.requests import workflow

    rows = new_rows(PRIMARY, 1, 1, seed=21)
    job = admit(PRIMARY, rows, "school_registrar")
    workflow.decide(db.session, job.request_id, actor_of("school_supervisor"), "reject", NOW, comment="信息有误")
    assert not records_of(rows[0]["身份证件号"])
    again = admit(PRIMARY, rows, "school_registrar")
    assert (again.created, again.unchanged) == (1, 0) and len(records_of(rows[0]["身份证件号"])) == 1


def test_a_bad_row_names_its_row_and_field_and_nothing_is_written(ctx):
    rows = new_rows(PRIMARY, 1, 3, seed=12)
    number = rows[1]["身份证件号"]
    rows[1]["身份证件号"] = number[:-1] + ("0" if number[-1] != "0" else "1")  # checksum broken
    rows[2]["班级"] = entry_class(PRIMARY, 3).name  # not an entry grade
    job = check(PRIMARY, rows, "school_registrar")
    found = {(p["row"], p["column"], p["code"]) for p in job.problems}
    assert (3, "身份证件号", "id_number") in found and (4, "班级", "entry_grade") in found
    assert (job.rows_valid, job.rows_invalid) == (1, 2)
    with pytest.raises(ValidationFailed):  # every row or none
        admissions.commit(db.session, job, actor_of("school_registrar"), NOW)
    assert not records_of(rows[0]["身份证件号"])


@contextmanager
def put_back(student_id: int):
    """The shared demo database gets the record back as it was (other tests read every record's
    grade against its birth date)."""
    columns = ("school_id", "grade_id", "class_id", "status", "destination", "entry_date", "graduated_at",
               "province_code", "city_code", "county_code")
    before = db.session.execute(select(*(getattr(Student, c) for c in columns))
                                .where(Student.id == student_id)).one()
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(update(Student).where(Student.id == student_id)
                           .values({**dict(zip(columns, before)), "version": Student.version + 1}))
        db.session.commit()


def graduated_junior() -> Student:
    student = db.session.scalar(select(Student).join(Grade, Grade.id == Student.grade_id).where(
        Student.school_id == school(JUNIOR).id, Grade.number == 9, Student.status == "in_school",
        Student.id_blind.is_not(None), Student.problem.is_(False),
        ~select(Request.id).where(Request.open_student_id == Student.id).exists()).order_by(Student.id))
    db.session.execute(update(Student).where(Student.id == student.id).values(
        status="graduated", graduated_at=datetime(2026, 7, 1), version=Student.version + 1))
    db.session.commit()
    db.session.expire_all()
    return student


def test_a_graduated_junior_student_admitted_to_senior_school_keeps_one_record(ctx):
    with put_back(graduated_junior_id()):
        _graduate_goes_to_senior_school()


def graduated_junior_id() -> int:
    return db.session.scalar(select(Student.id).join(Grade, Grade.id == Student.grade_id).where(
        Student.school_id == school(JUNIOR).id, Grade.number == 9, Student.status == "in_school",
        Student.id_blind.is_not(None), Student.problem.is_(False), ~OPEN).order_by(Student.id))


def _graduate_goes_to_senior_school():
    student = graduated_junior()
    senior = entry_class(BOTH, 10)
    job = admit(BOTH, [short_row(student, senior)], "school3_registrar")
    assert (job.created, job.updated, job.request_id) == (0, 1, None)
    db.session.expire_all()
    (record,) = records_of(student.id_number)
    assert record.id == student.id
    assert (record.status, record.school.code, record.class_id) == ("in_school", BOTH, senior.id)
    assert record.destination == f"{BOTH} 长沙市湘江中学" and record.graduated_at is not None
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "admission_pull",
                                                         AuditEvent.entity_id == record.id))


def test_a_kindergarten_child_is_pulled_into_first_grade_not_retyped(ctx):
    first_child = db.session.scalar(select(Student.id).join(Grade, Grade.id == Student.grade_id).where(
        Student.school_id == school(KINDERGARTEN).id, Grade.stage == "preschool",
        Student.id_blind.is_not(None), ~OPEN).order_by(Student.id))
    with put_back(first_child):
        _kindergarten_child_goes_to_first_grade()


def _kindergarten_child_goes_to_first_grade():
    child = db.session.scalar(select(Student).join(Grade, Grade.id == Student.grade_id).where(
        Student.school_id == school(KINDERGARTEN).id, Grade.stage == "preschool",
        Student.id_blind.is_not(None), ~OPEN).order_by(Student.id))
    first = entry_class(PRIMARY, 1)
    now = datetime(2027, 8, 20, 10)  # the 大班 turns six by 31 August 2027
    job = admit(PRIMARY, [short_row(child, first)], "school_registrar", now)
    assert (job.created, job.updated) == (0, 1)
    db.session.expire_all()
    (record,) = records_of(child.id_number)
    assert (record.id, record.school.code, record.grade.number) == (child.id, PRIMARY, 1)
    too_young = db.session.scalar(select(Student).join(Grade, Grade.id == Student.grade_id).where(
        Student.school_id == school(KINDERGARTEN).id, Grade.stage == "preschool",
        Student.id_blind.is_not(None), ~OPEN).order_by(Student.id))
    job = check(PRIMARY, [short_row(too_young, first)], "school_registrar")  # September 2026: five
    assert {(p["column"], p["code"]) for p in job.problems} == {("出生日期", "entry_age")}
    assert "rules/430000.yaml:" in job.problems[0]["message"]  # 湖南: under age only by exception


def test_an_in_school_student_elsewhere_is_refused_with_the_reason(ctx):
    student = db.session.scalar(select(Student).where(
        Student.school_id == school(JUNIOR).id, Student.status == "in_school",
        Student.id_blind.is_not(None)).order_by(Student.id))
    job = check(BOTH, [short_row(student, entry_class(BOTH, 10))], "school3_registrar")
    (problem,) = job.problems
    assert problem["code"] == "on_record" and "转学" in problem["message"]


def test_another_provinces_graduate_is_refused_and_pointed_to_cross_province_enrollment(ctx):
    """An admission list never takes over another province's record: that takes the three parties
    of 毕业后跨省就学 (the receiving school's bureau and the graduating school's)."""
    import cross_province_data

    graduate = cross_province_data.student(grade=9)
    job = check(BOTH, [short_row(graduate, entry_class(BOTH, 10))], "school3_registrar")
    (problem,) = job.problems
    assert problem["code"] == "other_province" and "毕业后跨省就学" in problem["message"]
    db.session.refresh(graduate)
    assert (graduate.status, graduate.school.code) == ("graduated", cross_province_data.JUNIOR)


def test_a_duplicate_admission_is_listed_to_the_county_and_nobody_is_registered_twice(ctx):
    rows = new_rows(JUNIOR, 7, 1, seed=13)
    first = admit(JUNIOR, rows, "school2_registrar")
    other = dict(rows[0], 班级=entry_class(BOTH, 7).name, 学校标识码=BOTH)
    assert "已被" in next(p["message"] for p in check(BOTH, [other], "school3_registrar").problems)
    second = admit(BOTH, [other], "school3_registrar")
    assert (first.created, second.created) == (1, 0)
    assert admit(BOTH, [other], "school3_registrar").unchanged == 1  # waiting: not listed twice
    assert len(records_of(rows[0]["身份证件号"])) == 1

    cases = admission_cases.cases(db.session, actor_of("county_registrar"))
    (case,) = [c for c in cases if c.name == rows[0]["姓名"]]
    assert (case.level, case.code) == ("county", "430102")
    assert {r.status for r in case.rows} == {"contested", "duplicate"}
    assert not [c for c in admission_cases.cases(db.session, actor_of("county2_registrar"))
                if c.name == rows[0]["姓名"]]

    keep = next(r for r in case.rows if r.status == "duplicate")
    admission_cases.resolve(db.session, actor_of("county_registrar"), keep.id, "家长选择湘江中学", NOW)
    db.session.expire_all()
    (record,) = records_of(rows[0]["身份证件号"])
    assert record.school.code == BOTH and record.grade.number == 7
    statuses = dict(db.session.execute(select(Admission.school_id, Admission.status).where(
        Admission.id.in_([r.id for r in case.rows]))).all())
    assert statuses == {school(BOTH).id: "admitted", school(JUNIOR).id: "dropped"}
    assert db.session.scalar(select(Request.kind).where(Request.open_student_id == record.id)) == \
        "register_in_school"
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "admission_resolved"))
    refused = check(JUNIOR, rows, "school2_registrar")  # the dropped school cannot admit again
    assert {p["code"] for p in refused.problems} == {"admission_dropped"}


def test_outside_the_enrollment_window_the_list_is_refused_citing_the_rule(ctx):
    job = check(PRIMARY, new_rows(PRIMARY, 1, 1, seed=14), "school_registrar", datetime(2026, 8, 5, 10))
    assert job.status == "refused" and "rules/national.yaml:" in job.message and "招生" in job.message


def test_a_school_cannot_admit_into_another_school(ctx):
    with pytest.raises(Forbidden):
        admissions.upload(db.session, school=school(BOTH), actor=actor_of("school2_registrar"),
                          filename="x.xlsx", data=filled(BOTH, new_rows(BOTH, 7, 1, seed=15)))
    db.session.rollback()


def test_the_student_import_will_not_commit_an_admission_list(ctx):
    from app.errors import Conflict
    from app.services.exchange import imports

    job = check(PRIMARY, new_rows(PRIMARY, 1, 1, seed=16), "school_registrar")
    with pytest.raises(Conflict):
        imports.claim(db.session, job, actor_of("school_registrar"))
    assert date(2026, 9, 1) <= NOW.date()


def test_the_excel_menu_page_uploads_checks_and_commits_and_the_county_resolves(ctx, client_for):
    import re

    rows = new_rows(PRIMARY, 1, 1, seed=17)
    client = client_for("school_registrar")
    page = client.get("/admissions/")
    assert page.status_code == 200 and "导入录取名单" in page.get_data(as_text=True)
    assert client.get("/admissions/template").status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    sent = client.post("/admissions/upload", data={"csrf_token": token,
                                                   "file": (io.BytesIO(filled(PRIMARY, rows)), "录取.xlsx")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    shown = client.get(sent.headers["Location"])
    assert "确认录取" in shown.get_data(as_text=True)
    pk = int(sent.headers["Location"].rstrip("/").split("/")[-1])
    assert client.post(f"/admissions/job/{pk}/commit", data={"csrf_token": token}).status_code == 302
    assert len(records_of(rows[0]["身份证件号"])) == 1
    assert client_for("school2_registrar").get(f"/admissions/job/{pk}").status_code == 404
    assert client_for("county_registrar").get("/admissions/duplicates").status_code == 200
    assert client.get("/admissions/duplicates").status_code in (302, 403)


def test_rest_uploads_a_dry_run_then_commits_and_lists_duplicates(ctx, api, token_for):
    import base64

    rows = new_rows(JUNIOR, 7, 1, seed=18)
    content = base64.b64encode(filled(JUNIOR, rows)).decode()
    headers = token_for("school2_registrar")
    dry = api.post("/api/v1/admission/", json={"filename": "a.xlsx", "content_base64": content,
                                               "dry_run": True}, headers=headers)
    assert dry.status_code == 200 and dry.get_json()["status"] == "checked"
    assert not records_of(rows[0]["身份证件号"])
    done = api.post(f"/api/v1/admission/{dry.get_json()['id']}/commit", json={}, headers=headers)
    assert done.status_code == 200 and done.get_json()["created"] == 1
    other = dict(rows[0], 班级=entry_class(BOTH, 7).name, 学校标识码=BOTH)
    content = base64.b64encode(filled(BOTH, [other])).decode()
    second = api.post("/api/v1/admission/", json={"filename": "b.xlsx", "content_base64": content},
                      headers=token_for("school3_registrar"))
    assert second.status_code == 200 and second.get_json()["created"] == 0
    county = token_for("county_registrar")
    listed = api.get("/api/v1/admission/duplicates", headers=county).get_json()
    (case,) = [c for c in listed["result"] if c["name"] == rows[0]["姓名"]]
    keep = next(a["id"] for a in case["admissions"] if a["holds"])
    assert api.post("/api/v1/admission/duplicates/resolve", json={"keep": keep, "reason": "x"},
                    headers=token_for("county2_registrar")).status_code == 404  # not its case
    assert api.post("/api/v1/admission/duplicates/resolve", json={"keep": keep},
                    headers=county).status_code == 400
    kept = api.post("/api/v1/admission/duplicates/resolve", json={"keep": keep, "reason": "先录取"},
                    headers=county)
    assert kept.status_code == 200 and {a["status"] for a in kept.get_json()["admissions"]} == {
        "admitted", "dropped"}
    assert api.post("/api/v1/admission/", json={"filename": "c.xlsx", "content_base64": "!!"},
                    headers=headers).status_code == 400
    assert api.get("/api/v1/admission/duplicates", headers=headers).status_code in (401, 403)
    assert len(records_of(rows[0]["身份证件号"])) == 1


def test_the_command_line_checks_and_admits_a_list(app, ctx, tmp_path):
    import json

    rows = new_rows(PRIMARY, 1, 1, seed=19)
    path = tmp_path / "录取名单.xlsx"
    path.write_bytes(filled(PRIMARY, rows))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["year", "admit", "--school", PRIMARY, str(path), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["status"] == "checked" and not records_of(rows[0]["身份证件号"])
    done = runner.invoke(args=["year", "admit", "--school", PRIMARY, str(path)])
    assert done.exit_code == 0 and "已录取" in done.output
    assert len(records_of(rows[0]["身份证件号"])) == 1


@pytest.mark.skipif(not __import__("conftest").is_postgres(), reason="concurrent commits are tested on PostgreSQL")
def test_two_schools_committing_the_same_child_at_once_register_it_once(app, ctx):
    from test_concurrency import race

    rows = new_rows(JUNIOR, 7, 2, seed=20)
    lists = {JUNIOR: ("school2_registrar", rows),
             BOTH: ("school3_registrar", [dict(r, 班级=entry_class(BOTH, 7).name, 学校标识码=BOTH) for r in rows])}
    jobs = {code: check(code, data, user).id for code, (user, data) in lists.items()}
    db.session.commit()
    order = [JUNIOR, BOTH]

    def work(i):
        code = order[i]
        job = db.session.get(ImportJob, jobs[code])
        return admissions.commit(db.session, job, actor_of(lists[code][0]), NOW).created

    results = race(app, work, 2)
    assert all(kind == "ok" for kind, _ in results), results
    db.session.expire_all()
    for row in rows:
        assert len(records_of(row["身份证件号"])) == 1
        held = db.session.scalars(select(Admission).where(
            Admission.id_blind == keyring().blind_index("id_number", row["身份证件号"]))).all()
        assert sorted(a.status for a in held) == ["contested", "duplicate"]
        assert sum(1 for a in held if a.live_key) == 1
    assert sorted(created for _, created in results) in ([0, 2], [2, 0], [1, 1])
    assert sum(created for _, created in results) == 2
