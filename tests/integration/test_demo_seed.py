"""The demo province: plausible, valid, and one account per role at each level."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import func, select
from stdnum.cn import ric

from app.extensions import db
from app.models import FamilyMember, Jurisdiction, RegistryNumber, School, Student
from app.services.operations.demo import birth_range, school_year
from app.services.record.validation import family_problems, field_problems

# other tests add bare records, schools, counties and a second province of their own: look at the
# seed's (its registry numbers, the divisions seed/demo.yaml declares)
SEEDED = select(RegistryNumber.student_id).where(RegistryNumber.issued_by == "seed")
DEMO = yaml.safe_load((Path(__file__).resolve().parents[2] / "seed" / "demo.yaml").read_text(encoding="utf-8"))
DIVISIONS = [DEMO["province"]["code"]] + [c["code"] for c in DEMO["cities"]] + [
    county["code"] for c in DEMO["cities"] for county in c["counties"]]


def test_the_demo_has_the_promised_shape(ctx):
    levels = dict(db.session.execute(select(Jurisdiction.level, func.count())
                                     .where(Jurisdiction.code.in_(DIVISIONS))
                                     .group_by(Jurisdiction.level)).all())
    assert levels == {"province": 1, "city": 2, "county": 4}
    schools = db.session.scalars(select(School)).all()
    assert len(schools) >= 12
    stages = {s for school in schools for s in school.stage_list}
    assert {"primary", "junior", "senior"} <= stages
    assert db.session.scalar(select(func.count()).select_from(Student)) >= 390


def test_every_demo_student_passes_the_registry_validation(ctx):
    today = date.today()
    for student in db.session.scalars(select(Student).where(Student.id.in_(SEEDED),  # not a test's
                                                            Student.registry_kind.in_(["G", "J"]))
                                      .order_by(Student.id).limit(150)):
        problems = field_problems(db.session, student, today) + family_problems(
            db.session, student, student.members)
        assert problems == [], (student.name, [str(p) for p in problems])


def test_demo_ids_are_valid_unique_and_agree_with_the_record(ctx):
    year = school_year(date.today())
    seen = set()
    for student in db.session.scalars(select(Student).where(Student.id.in_(SEEDED))):
        lo, hi = birth_range(student.grade.number, year)
        assert lo <= student.birth_date <= hi
        if student.id_number:
            assert ric.is_valid(student.id_number)
            assert ric.get_birth_date(student.id_number) == student.birth_date
            assert (int(student.id_number[16]) % 2 == 1) == (student.gender == "1")
            assert student.id_number not in seen
            seen.add(student.id_number)
        if student.registry_kind == "G":
            assert student.registry_no == "G" + student.id_number
    assert len(seen) > 0




def test_some_families_have_a_single_guardian_and_every_family_has_one(ctx):
    counts = dict(db.session.execute(select(FamilyMember.student_id, func.count())
                                     .where(FamilyMember.student_id.in_(SEEDED))
                                     .group_by(FamilyMember.student_id)).all())
    assert min(counts.values()) == 1 and max(counts.values()) >= 2
    without = db.session.scalar(
        select(func.count()).select_from(Student).where(Student.id.in_(SEEDED),
            ~Student.id.in_(select(FamilyMember.student_id).where(FamilyMember.is_guardian))))
    assert without == 0


def test_every_number_is_recorded_once_and_all_kinds_occur(ctx):
    kinds = dict(db.session.execute(select(Student.registry_kind, func.count())
                                    .where(Student.id.in_(SEEDED))
                                    .group_by(Student.registry_kind)).all())
    assert set(kinds) == {"G", "J", "L"}
    seeded = db.session.scalar(select(func.count()).select_from(RegistryNumber)
                               .where(RegistryNumber.issued_by == "seed"))
    assert seeded == sum(kinds.values()) >= 390


def test_users_list_json_names_one_account_per_role_per_level(app):
    result = app.test_cli_runner().invoke(args=["users", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["username"]: r for r in json.loads(result.output)}
    for level, prefix, code in [("province", "prov", "430000"), ("city", "city", "430100"),
                                ("county", "county", "430102"), ("school", "school", "4301020001")]:
        for function, suffix in [("registrar", "registrar"), ("supervisor", "supervisor"),
                                 ("sysadmin", "admin"), ("secadmin", "secadmin"), ("auditor", "auditor")]:
            row = rows[f"{prefix}_{suffix}"]
            assert row["roles"] == [f"{level}_{function}"] and row["jurisdiction"] == code


def test_seeding_twice_is_refused(app):
    result = app.test_cli_runner().invoke(args=["seed", "--demo"])
    assert result.exit_code != 0 and "演示数据已存在" in result.output
