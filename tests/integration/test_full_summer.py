"""A full summer in order (issue 11 point 7): graduation (July), the promotion batch (10 August
24:00), enrollment (plans applied, admission lists from 11 August: graduates and a kindergarten
child pulled, new first-graders created) and the first-grade registration review (September),
with exact counts before and after each step; a request queued in July submits when its window
opens; and each step refused outside its window, citing the rules' file and line.

Each test builds a county of its own (a primary school, a junior school and a kindergarten), so the
counts are known and the demo county is never touched."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from factories import PDF, account, actor_of, new_id, student_payload, unused_county_code
from sqlalchemy import func, select
from test_admissions import admit, check, entry_class, new_rows, records_of, short_row

from app.errors import RuleViolation
from app.extensions import db
from app.models import (
    Grade,
    Graduation,
    Jurisdiction,
    QueuedRequest,
    Request,
    School,
    SchoolClass,
    Student,
)
from app.models.school import GRADE_NAMES, stage_of_grade
from app.services.requests import release
from app.services.requests import workflow as svc
from app.services.requests.starting import start
from app.services.schoolyear import graduation, plan_apply, plans, promotion

RULES = Path(__file__).resolve().parents[2] / "rules"
SPRING = datetime(2026, 5, 10, 10)  # the bureau sets the enrollment plans
JUNE = datetime(2026, 6, 15, 10)  # a repeat (留级) is filed and approved
GRADUATION_DAY = datetime(2026, 7, 20, 10)  # graduations done by 30 July
PROMOTION_DAY = datetime(2026, 8, 10, 23, 0)  # national promotion at 10 August 24:00
APPLY_DAY = datetime(2026, 8, 11, 9)  # enrollment from 11 August
ADMISSION_DAY = datetime(2026, 8, 20, 10)
TERM_STARTS = datetime(2026, 9, 1, 8)  # the queued key-field change's window opens
REVIEW_DAY = datetime(2026, 9, 7, 10)  # first-grade registration reviewed within the month


def window_line(file: str, business: str) -> str:
    """``rules/<file>:<line>`` of the first window line of ``business`` under ``windows:``."""
    lines = (RULES / file).read_text(encoding="utf-8").splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("windows:"))
    head = next(i for i in range(top, len(lines)) if lines[i].strip() == f"{business}:")
    return f"rules/{file}:{next(i for i in range(head, len(lines)) if '{from:' in lines[i]) + 1}"


def rule_line(file: str, text: str) -> str:
    """``rules/<file>:<line>`` of the first line holding ``text``."""
    lines = (RULES / file).read_text(encoding="utf-8").splitlines()
    return f"rules/{file}:{next(n for n, line in enumerate(lines, 1) if text in line)}"


def _student(school: School, grade: Grade, klass: SchoolClass, name: str, born: date,
             status: str = "in_school") -> Student:
    """A registered record (formal number G + its ID number)."""
    st = Student(school=school, grade=grade, school_class=klass, name=name, gender="1",
                 birth_date=born, status=status, registry_kind="G", registered=True, id_type="1",
                 ethnicity="01")
    st.id_number = new_id(born=born)
    st.registry_no = f"G{st.id_number}"
    db.session.add(st)
    return st


def build_county() -> dict:
    """A county under 长沙市 with three schools (key: what the class holds in 2025-26):
      P primary    一1: 3 · 二1: 3 · 五1: 2 + 1 suspended · 六1: 3 (final grade)
      J junior     初一1: 2 · 初二1: 2 · 初三1: 3 (final grade)
      K preschool  大班1: 2 (one six by 31 August 2026, one not)
    and a registrar and a supervisor for P and J, a registrar for the county."""
    code = unused_county_code()
    city = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "430100"))
    county = Jurisdiction(code=code, name=f"暑期区{code}", level="county", parent=city)
    db.session.add(county)
    out: dict = {"code": code}
    layout = {"P": ("primary", {1: 3, 2: 3, 5: 2, 6: 3}), "J": ("junior", {7: 2, 8: 2, 9: 3}),
              "K": ("preschool", {0: 2})}
    for n, (key, (stage, sizes)) in enumerate(layout.items(), start=1):
        school = School(code=f"{code}{n:04d}", name=f"暑期学校{code}-{key}", stages=stage,
                        jurisdiction=county)
        db.session.add(school)
        out[key] = school
        for number, size in sizes.items():
            grade = Grade(school=school, stage=stage_of_grade(number) if number else stage,
                          number=number, name=GRADE_NAMES.get(number, "大班"))
            klass = SchoolClass(school=school, grade=grade, number=1, name=f"{grade.name}1班",
                                entry_year=2026 - max(number, 1))
            db.session.add_all([grade, klass])
            out[f"{key}{number}"] = klass
            born = date(2020 - number, 3, 1)  # six by 31 August of the year entering grade 1
            for i in range(size):
                too_young = number == 0 and i == 1
                _student(school, grade, klass, f"{grade.name}{i}",
                         date(2020, 10, 1) if too_young else born)
    out["suspended"] = _student(out["P"], out["P5"].grade, out["P5"], "五年级休学", date(2015, 3, 1),
                                status="suspended")
    db.session.commit()
    account(f"{code}_registrar", "county_registrar", node=code)
    for key in ("P", "J"):
        for role in ("registrar", "supervisor"):
            account(f"{out[key].code}_{role}", f"school_{role}", school_code=out[key].code)
    out["bureau"] = actor_of(f"{code}_registrar")
    return out


def staff(school: School, role: str):
    return actor_of(f"{school.code}_{role}")


def _graduate(school: School, now: datetime) -> graduation.Outcome:
    """Graduate the school's final-grade cohort as its registrar (a compulsory graduation is the
    school's own action: the rules give it no chain)."""
    return graduation.graduate(db.session, staff(school, "registrar"), school.id, now)


def census(c: dict) -> Counter:
    """Students of the county by (school key, grade number, status)."""
    keys = {c[k].id: k for k in ("P", "J", "K")}
    rows = db.session.execute(
        select(Student.school_id, Grade.number, Student.status, func.count())
        .join(Grade, Grade.id == Student.grade_id).where(Student.county_code == c["code"])
        .group_by(Student.school_id, Grade.number, Student.status))
    return Counter({(keys[s], g, st): n for s, g, st, n in rows})


def by_status(counts: Counter) -> Counter:
    out = Counter()
    for (_, _, status), n in counts.items():
        out[status] += n
    return out


def placement(c: dict) -> dict[int, tuple[int, int, str]]:
    """Every record of the county: id -> (school id, grade number, status)."""
    return {i: (s, g, st) for i, s, g, st in db.session.execute(
        select(Student.id, Student.school_id, Grade.number, Student.status)
        .join(Grade, Grade.id == Student.grade_id).where(Student.county_code == c["code"]))}


def persons(c: dict) -> tuple[int, int]:
    """Records in the county and distinct people (ID numbers) among them."""
    return db.session.execute(select(func.count(Student.id), func.count(func.distinct(Student.id_blind)))
                              .where(Student.county_code == c["code"])).one()


def cohort_of(c: dict, klass_key: str, status: str = "in_school") -> list[Student]:
    return db.session.scalars(select(Student).where(Student.class_id == c[klass_key].id,
                                                    Student.status == status)
                              .order_by(Student.id)).all()


def test_a_full_summer_in_order_with_exact_counts(ctx):
    c = build_county()
    P, J, bureau = c["P"], c["J"], c["bureau"]
    start_counts = Counter({("P", 1, "in_school"): 3, ("P", 2, "in_school"): 3, ("P", 5, "in_school"): 2,
                            ("P", 5, "suspended"): 1, ("P", 6, "in_school"): 3, ("J", 7, "in_school"): 2,
                            ("J", 8, "in_school"): 2, ("J", 9, "in_school"): 3, ("K", 0, "in_school"): 2})
    assert census(c) == start_counts and persons(c) == (21, 21)

    # spring: the bureau plans grade 1 and grade 7; June: a second-grader is held back (留级)
    plan_p = plans.set_plan(db.session, bureau, school_code=P.code, school_year=2026, grade=1,
                            classes=[{"name": "2026级一年级1班", "cap": 45}], seats=45, now=SPRING)
    plan_j = plans.set_plan(db.session, bureau, school_code=J.code, school_year=2026, grade=7,
                            classes=[{"name": "2026级初一1班", "cap": 50}], seats=50, now=SPRING)
    held = cohort_of(c, "P2")[0]
    req = svc.start(db.session, kind="repeat", student=held, actor=staff(P, "registrar"), now=JUNE,
                    reason="学业", files=[PDF])
    for approver in (staff(P, "supervisor"), bureau):
        svc.decide(db.session, req.id, approver, "approve", JUNE)
    db.session.expire_all()
    assert db.session.get(Student, held.id).hold_back is True
    assert census(c) == start_counts

    # July: a key-field change is closed in Hunan until 1 September: it waits in the queue
    waiting = cohort_of(c, "P1")[0]
    item = start(db.session, queue=True, kind="change_field", student=waiting,
                 actor=staff(P, "registrar"), now=GRADUATION_DAY, payload={"ethnicity": "06"},
                 files=[PDF])
    assert isinstance(item, QueuedRequest) and item.opens_on == date(2026, 9, 1)

    # 20 July: both schools graduate their final grades (compulsory: at once, no review)
    sixth, ninth = {s.id for s in cohort_of(c, "P6")}, {s.id for s in cohort_of(c, "J9")}
    done = [_graduate(school, GRADUATION_DAY) for school in (P, J)]
    assert [(o.graduated, o.reviews, o.refused) for o in done] == [(3, 0, []), (3, 0, [])]
    db.session.expire_all()
    graduated = start_counts - Counter({("P", 6, "in_school"): 3, ("J", 9, "in_school"): 3}) + Counter(
        {("P", 6, "graduated"): 3, ("J", 9, "graduated"): 3})
    assert census(c) == graduated and persons(c) == (21, 21)
    assert {s.id for s in cohort_of(c, "P6", "graduated")} == sixth
    assert {s.id for s in cohort_of(c, "J9", "graduated")} == ninth
    assert db.session.scalar(select(func.count()).select_from(Graduation)
                             .where(Graduation.county_code == c["code"])) == 6

    # 10 August 23:00: the promotion batch moves every in-school non-final student exactly once
    before = placement(c)
    p = promotion.plan(db.session, bureau, c["code"], PROMOTION_DAY)
    assert p.allowed and p.students == 11 and p.blockers.open_total == 0  # the queued one blocks nothing
    assert db.session.get(QueuedRequest, item.id).status == "queued"
    outcome = promotion.promote(db.session, bureau, c["code"], PROMOTION_DAY)
    assert (outcome.run.status, outcome.students_now, outcome.run.held_back) == ("done", 11, 1)
    db.session.expire_all()
    after = placement(c)
    moved = {i for i in before if after[i] != before[i]}
    expected_moved = {i for i, (_, g, st) in before.items()
                      if st == "in_school" and g not in (0, 6, 9) and i != held.id}
    assert moved == expected_moved and len(moved) == 11
    assert all(after[i] == (before[i][0], before[i][1] + 1, "in_school") for i in moved)
    assert after[held.id] == before[held.id] and db.session.get(Student, held.id).hold_back is False
    assert after[c["suspended"].id] == (P.id, 5, "suspended")
    promoted = Counter({("P", 2, "in_school"): 4, ("P", 3, "in_school"): 2, ("P", 5, "suspended"): 1,
                        ("P", 6, "in_school"): 2, ("P", 6, "graduated"): 3, ("J", 8, "in_school"): 2,
                        ("J", 9, "in_school"): 2, ("J", 9, "graduated"): 3, ("K", 0, "in_school"): 2})
    assert census(c) == promoted and persons(c) == (21, 21)

    # 11 August: the plans create the entry classes; 20 August: the admission lists
    for plan in (plan_p, plan_j):
        assert plan_apply.apply_plan(db.session, bureau, plan.id, APPLY_DAY)["classes_created"] == 1
    seventh, first = entry_class(J.code, 7), entry_class(P.code, 1)
    assert (seventh.name, first.name) == ("2026级初一1班", "2026级一年级1班")
    graduates = db.session.scalars(select(Student).where(Student.id.in_(sixth)).order_by(Student.id)).all()
    job_j = admit(J.code, [short_row(s, seventh) for s in graduates], f"{J.code}_registrar", ADMISSION_DAY)
    assert (job_j.created, job_j.updated, job_j.request_id) == (0, 3, None)
    child = next(s for s in cohort_of(c, "K0") if s.birth_date == date(2020, 3, 1))
    newcomers = new_rows(P.code, 1, 2, seed=2026)
    # one list: the kindergarten child pulled, two new first-graders created
    job_p = admit(P.code, [short_row(child, first), *newcomers], f"{P.code}_registrar", ADMISSION_DAY)
    assert (job_p.created, job_p.updated) == (2, 1) and job_p.request_id is not None
    db.session.expire_all()
    for s in graduates:  # one lifelong record, in grade 7 now, its destination (去向) filled
        (record,) = records_of(s.id_number)
        assert (record.id, record.school_id, record.class_id, record.status) == (s.id, J.id, seventh.id,
                                                                                 "in_school")
        assert record.destination == f"{J.code} {J.name}"
    assert {s.destination for s in cohort_of(c, "J9", "graduated")} == {None}  # nobody pulled them
    (pulled_child,) = records_of(child.id_number)
    assert (pulled_child.id, pulled_child.school_id, pulled_child.class_id) == (child.id, P.id, first.id)
    made = [records_of(r["身份证件号"]) for r in newcomers]
    assert all(len(m) == 1 and m[0].class_id == first.id and not m[0].registered for m in made)
    enrolled = promoted - Counter({("P", 6, "graduated"): 3, ("K", 0, "in_school"): 1}) + Counter(
        {("J", 7, "in_school"): 3, ("P", 1, "in_school"): 3})
    assert census(c) == enrolled
    assert by_status(census(c)) == Counter({"in_school": 19, "suspended": 1, "graduated": 3})
    assert persons(c) == (23, 23)  # 21 before + 2 created: nobody lost, nobody doubled
    # the pulled graduates' graduations stay where they happened (what the reports count)
    assert Counter(db.session.execute(select(Graduation.school_id, Graduation.stage).where(
        Graduation.student_id.in_([s.id for s in graduates]))).all()) == Counter({(P.id, "primary"): 3})
    assert set(before) <= set(placement(c))

    # 1 September: the queued key-field change submits as its window opens (not a day before)
    release.release(db.session, datetime(2026, 8, 31, 23))
    db.session.expire_all()
    assert db.session.get(QueuedRequest, item.id).status == "queued"
    out = release.release(db.session, TERM_STARTS)
    db.session.expire_all()
    item = db.session.get(QueuedRequest, item.id)
    assert item.status == "released" and item.request_id in out.submitted
    change = db.session.get(Request, item.request_id)
    assert (change.kind, change.status, change.open_student_id, change.created_at) == (
        "change_field", "pending", waiting.id, TERM_STARTS)

    # September: the first-grade registration review (注册核办) goes through its chain
    review = db.session.get(Request, job_p.request_id)
    assert (review.kind, review.status) == ("register_new", "pending")
    assert [(s["role"], s["node"]) for s in review.chain] == [("supervisor", f"school:{P.id}"),
                                                              ("registrar", f"bureau:{c['code']}")]
    svc.decide(db.session, review.id, staff(P, "supervisor"), "approve", REVIEW_DAY)
    db.session.expire_all()
    assert not any(records_of(r["身份证件号"])[0].registered for r in newcomers)  # not yet
    svc.decide(db.session, review.id, bureau, "approve", REVIEW_DAY)
    db.session.expire_all()
    assert db.session.get(Request, review.id).status == "done"
    registered = [records_of(r["身份证件号"])[0] for r in newcomers]
    assert all(r.registered and r.registry_no and r.registry_kind == "G" for r in registered)
    assert census(c) == enrolled and persons(c) == (23, 23)


def test_each_summer_step_is_refused_outside_its_window_citing_the_rule(ctx, api, token_for, monkeypatch):
    """Graduation on 31 July, promotion on 9 August, an admission list on promotion day and a
    first-grade registration in October: each refused, citing its window's line; nothing changes."""
    c = build_county()
    P, bureau = c["P"], c["bureau"]
    start_counts = census(c)

    late = _graduate(P, datetime(2026, 7, 31, 10))
    assert late.graduated == 0 and [(p.code, p.source) for p in late.refused] == [
        ("outside_window", window_line("national.yaml", "graduation"))]

    with pytest.raises(RuleViolation) as early:
        promotion.promote(db.session, bureau, c["code"], datetime(2026, 8, 9, 23))
    assert [(p.code, p.source) for p in early.value.problems] == [
        ("outside_window", window_line("national.yaml", "promotion")),
        ("promotion_blocked", rule_line("national.yaml", "promotion_carry_over:"))]  # final grades

    job = check(P.code, new_rows(P.code, 1, 1, seed=2027), f"{P.code}_registrar", PROMOTION_DAY)
    assert job.status == "refused" and f"（{window_line('national.yaml', 'enrollment')}）" in job.message

    payload = student_payload(c["P1"], new_id(born=date(2020, 3, 1)), born=date(2020, 3, 1))
    headers = token_for(f"{P.code}_registrar")
    monkeypatch.setitem(ctx.config, "XUEJI_FIXED_NOW", "2026-10-08T10:00:00")
    refused = api.post("/api/v1/student/", json=payload, headers=headers)
    assert refused.status_code == 422
    assert [(e["code"], e["source"]) for e in refused.get_json()["errors"]] == [
        ("outside_window", window_line("430000.yaml", "register_new"))]
    db.session.expire_all()
    assert census(c) == start_counts and persons(c) == (21, 21)
    # the same registration inside the window is accepted: the window alone refused it
    monkeypatch.setitem(ctx.config, "XUEJI_FIXED_NOW", "2026-09-10T10:00:00")
    assert api.post("/api/v1/student/", json=payload, headers=headers).status_code == 201


def test_one_list_pulling_a_kindergarten_child_and_creating_new_first_graders_opens_the_review(ctx):
    """The admission list the summer walk splits in two: one kindergarten child pulled and two new
    first-graders in one list must open one first-grade registration review for the two."""
    c = build_county()
    P, bureau = c["P"], c["bureau"]
    for school in (P, c["J"]):
        _graduate(school, GRADUATION_DAY)
    promotion.promote(db.session, bureau, c["code"], PROMOTION_DAY)
    plan = plans.set_plan(db.session, bureau, school_code=P.code, school_year=2026, grade=1,
                          classes=[{"name": "2026级一年级1班", "cap": 45}], seats=45, now=APPLY_DAY)
    plan_apply.apply_plan(db.session, bureau, plan.id, APPLY_DAY)
    first = entry_class(P.code, 1)
    child = next(s for s in cohort_of(c, "K0") if s.birth_date == date(2020, 3, 1))
    newcomers = new_rows(P.code, 1, 2, seed=2028)
    job = admit(P.code, [short_row(child, first), *newcomers], f"{P.code}_registrar", ADMISSION_DAY)
    db.session.expire_all()
    assert all(len(records_of(r["身份证件号"])) == 1 for r in newcomers)  # the records were created
    assert (job.created, job.updated) == (2, 1)
    review = db.session.get(Request, job.request_id) if job.request_id else None
    assert review is not None and (review.kind, review.status) == ("register_new", "pending")
