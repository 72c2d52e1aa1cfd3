"""Problem records: detected automatically, listed to the right level, resolved by evidence, change
or deletion, arbitrated by the nearest common superior; a problem record can do no other business."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import PDF, account, actor_of, school
from sqlalchemy import select

from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.models import Grade, ProblemCase, Student
from app.services.record import problems
from app.services.requests import workflow as svc

NOW = datetime(2026, 9, 15, 10)


def _bare(school_code: str, name: str, *, id_number: str | None = None, born=date(2018, 10, 1),
          gender="1", id_type="1") -> Student:
    """A record written straight to the database (as legacy data or an import might)."""
    s = school(school_code)
    grade = db.session.scalar(select(Grade).where(Grade.school_id == s.id).order_by(Grade.number))
    st = Student(school=s, grade=grade, name=name, gender=gender, birth_date=born, status="in_school",
                 registry_kind="L", registered=True, id_type=id_type)
    st.id_number = id_number
    st.registry_no = f"L{s.county_code}{born:%Y%m%d}{abs(hash(name)) % 10000:04d}"
    db.session.add(st)
    db.session.commit()
    return st


def _fresh(county: str) -> Student:
    """A registered G record of that county not caught in any problem case yet."""
    from app.models import ProblemMember

    return db.session.scalars(select(Student).where(
        Student.county_code == county, Student.registry_kind == "G", Student.problem.is_(False),
        ~Student.id.in_(select(ProblemMember.student_id).where(ProblemMember.student_id.is_not(None))))
        .order_by(Student.id.desc())).first()


def _case_of(student: Student) -> ProblemCase:
    return db.session.scalars(select(ProblemCase).join(ProblemCase.members)
                              .where(ProblemCase.members.any(student_id=student.id))
                              .order_by(ProblemCase.id.desc())).first()


def test_a_duplicate_id_across_counties_is_found_and_blocks_other_business(ctx):
    original = _fresh("430202")
    copy = _bare("4301020001", "重复者", id_number=original.id_number, born=original.birth_date,
                 gender=original.gender)
    report = problems.detect(db.session, NOW)
    assert report["opened"] >= 1
    case = _case_of(copy)
    assert case.kind == "duplicate_id" and {m.student_id for m in case.members} == {original.id, copy.id}
    assert case.group_key != original.id_number and original.id_number not in case.group_key
    db.session.expire_all()
    assert db.session.get(Student, copy.id).problem and db.session.get(Student, original.id).problem
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="suspend", student=db.session.get(Student, copy.id),
                  actor=actor_of("school_registrar"), now=NOW, reason="疾病", files=[PDF])
    assert "problem_record" in {p.code for p in caught.value.problems}


def test_both_bureaus_insisting_goes_to_their_nearest_common_superior(ctx):
    original = _fresh("430202")
    copy = _bare("4301020001", "坚持者", id_number=original.id_number, born=original.birth_date,
                 gender=original.gender)
    problems.detect(db.session, NOW)
    case = _case_of(copy)
    mine = next(m for m in case.members if m.student_id == copy.id)
    theirs = next(m for m in case.members if m.student_id == original.id)
    with pytest.raises(Forbidden):  # Furong cannot speak for Hetang's record
        problems.confirm(db.session, case.id, theirs.id, actor_of("county_registrar"), NOW, evidence=PDF)
    problems.confirm(db.session, case.id, mine.id, actor_of("county_registrar"), NOW, evidence=PDF)
    hetang = account("hetang_reg", "county_registrar", node="430202")
    problems.confirm(db.session, case.id, theirs.id, hetang, NOW, evidence=PDF)
    db.session.expire_all()
    case = db.session.get(ProblemCase, case.id)
    assert (case.status, case.arbiter_code) == ("arbitration", "430000")  # Changsha and Zhuzhou
    with pytest.raises(Forbidden):
        problems.arbitrate(db.session, case.id, theirs.id, actor_of("city_registrar"), NOW)
    problems.arbitrate(db.session, case.id, theirs.id, actor_of("prov_registrar"), NOW, comment="公安核实")
    db.session.expire_all()
    assert not db.session.get(Student, original.id).problem  # the survivor is free again
    assert db.session.get(Student, copy.id).problem  # until Furong corrects or deletes its record
    loser = db.session.get(Student, copy.id)
    db.session.delete(loser)
    db.session.commit()
    problems.detect(db.session, NOW)
    db.session.expire_all()
    assert db.session.get(ProblemCase, case.id).status == "resolved"


def test_records_without_id_sharing_name_gender_and_birth_date_may_be_confirmed_distinct(ctx):
    a = _bare("4301020001", "同名同姓", id_type="Z", born=date(2018, 3, 3))
    b = _bare("4302020001", "同名同姓", id_type="Z", born=date(2018, 3, 3))
    problems.detect(db.session, NOW)
    case = _case_of(a)
    assert case.kind == "duplicate_no_id" and {m.student_id for m in case.members} == {a.id, b.id}
    hetang = account("hetang_reg", "county_registrar", node="430202")
    for member in case.members:
        who = actor_of("county_registrar") if member.student_id == a.id else hetang
        problems.confirm(db.session, case.id, member.id, who, NOW, evidence=PDF)
    db.session.expire_all()
    assert db.session.get(ProblemCase, case.id).resolution == "distinct"
    problems.detect(db.session, NOW)  # the same two records are not reported again
    assert _case_of(a).id == case.id and not db.session.get(Student, a.id).problem


def test_an_invalid_id_is_found_and_cleared_by_evidence(ctx):
    bad = _bare("4301020001", "错号者", id_number="430102201810010000")
    problems.detect(db.session, NOW)
    case = _case_of(bad)
    assert case.kind == "invalid_id" and db.session.get(Student, bad.id).problem
    with pytest.raises(ValidationFailed):
        problems.confirm(db.session, case.id, case.members[0].id, actor_of("county_registrar"), NOW,
                         evidence=None)
    problems.confirm(db.session, case.id, case.members[0].id, actor_of("county_registrar"), NOW,
                     evidence=PDF, comment="公安户籍证明")
    problems.detect(db.session, NOW)
    db.session.expire_all()
    assert db.session.get(ProblemCase, case.id).resolution == "evidence"
    assert not db.session.get(Student, bad.id).problem


def test_problem_records_are_listed_to_their_own_levels(ctx, client_for):
    original = _fresh("430202")
    copy = _bare("4301020001", "名单者", id_number=original.id_number, born=original.birth_date,
                 gender=original.gender)
    problems.detect(db.session, NOW)
    case = _case_of(copy)
    assert client_for("county_registrar").get(f"/problems/show/{case.id}").status_code == 200
    assert client_for("prov_supervisor").get(f"/problems/show/{case.id}").status_code == 200
    account("yuelu_reg", "county_registrar", node="430104")
    assert client_for("yuelu_reg").get(f"/problems/show/{case.id}").status_code == 404
    html = client_for("county_registrar").get("/problems/list/").get_data(as_text=True)
    assert f"/problems/show/{case.id}" in html


def test_detection_runs_from_the_page_and_the_command_line(app, ctx, client_for):
    r = client_for("county_registrar").post("/problems/detect", follow_redirects=True)
    assert r.status_code == 200 and "问题学籍检测" in r.get_data(as_text=True)
    assert "新发现问题学籍" in r.get_data(as_text=True)  # the job's outcome, on its page
    assert client_for("school_registrar").post("/problems/detect").status_code == 403
    result = app.test_cli_runner().invoke(args=["problems", "detect"])
    assert result.exit_code == 0 and '"open"' in result.output
