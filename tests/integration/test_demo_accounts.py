"""The demo's accounts let every journey be tried: two counties (in two cities), two or more schools
with a registrar and a supervisor in each, every account named in the README's table."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from factories import PDF, _class_of, actor_of, registered_in
from sqlalchemy import select

from app.extensions import db
from app.models import Request, School, XuejiUser
from app.services.requests import workflow as svc

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
WORKERS = {"registrar", "supervisor"}
NOW = datetime(2026, 9, 15, 10)


def _accounts(app) -> list[dict]:
    result = app.test_cli_runner().invoke(args=["users", "list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _staffed_schools(app) -> dict[str, set[str]]:
    """School code -> the functions its accounts hold (registrar, supervisor, sysadmin)."""
    out: dict[str, set[str]] = {}
    for row in _accounts(app):
        for role in row["roles"]:
            if role.startswith("school_"):
                out.setdefault(row["jurisdiction"], set()).add(role.split("_", 1)[1])
    return out


def test_two_counties_in_two_cities_have_a_registrar_and_a_supervisor(app):
    bureaus: dict[str, set[str]] = {}
    for row in _accounts(app):
        for role in row["roles"]:
            if role.startswith("county_"):
                bureaus.setdefault(row["jurisdiction"], set()).add(role.split("_", 1)[1])
    staffed = [code for code, functions in bureaus.items() if WORKERS <= functions]
    assert len(staffed) >= 2 and len({code[:4] for code in staffed}) >= 2, bureaus


def test_two_counties_each_have_two_schools_with_a_registrar_and_a_supervisor(ctx, app):
    schools = {s.code: s for s in db.session.scalars(select(School))}
    per_county: dict[str, list[School]] = {}
    for code, functions in _staffed_schools(app).items():
        if WORKERS <= functions:
            per_county.setdefault(schools[code].county_code, []).append(schools[code])
    assert sum(1 for staffed in per_county.values() if len(staffed) >= 2) >= 2, per_county


def test_a_transfer_within_a_county_and_one_across_cities_have_accounts_at_both_ends(ctx, app):
    staffed = [s for s in db.session.scalars(select(School))
               if WORKERS <= _staffed_schools(app).get(s.code, set())]
    pairs = [(a, b) for a in staffed for b in staffed
             if a.code < b.code and set(a.stage_list) & set(b.stage_list)]
    assert any(a.county_code == b.county_code for a, b in pairs), "no same-county pair of one stage"
    assert any(a.city_code != b.city_code for a, b in pairs), "no cross-city pair of one stage"


def test_every_demo_account_is_in_the_readme_table(app):
    table = README[README.index("### Demo accounts"):README.index("## Tests")]
    listed = set(re.findall(r"`([a-z0-9_]+_(?:registrar|supervisor|admin|secadmin|auditor))`", table))
    assert listed == set(app.config["SEED_REPORT"]["accounts"])


def test_demo_accounts_carry_their_whole_name(ctx):
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "school_registrar"))
    assert (user.first_name, user.last_name) == ("芙蓉区育英小学学籍管理员", "")
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "county2_supervisor"))
    assert user.first_name == "荷塘区学籍主管领导"


# -- the transfers themselves, with the demo's accounts only ------------------------------------

def _transfer(student, to_school: str, receiver: str, *approvers: str):
    req = svc.start(db.session, kind="transfer", student=student, actor=actor_of(receiver), now=NOW,
                    target_class=_class_of(to_school, student.grade.number), files=[PDF])
    for username in approvers:
        svc.decide(db.session, req.id, actor_of(username), "approve", NOW)
    db.session.expire_all()
    return db.session.get(Request, req.id)


def test_a_cross_city_transfer_runs_on_the_demo_accounts_alone(ctx):
    student = registered_in("4301020001", grade=4)
    req = _transfer(student, "4302020001", "county2_school_registrar",
                    "county2_registrar", "school_supervisor", "county_registrar")
    assert req.status == "done" and student.school.code == "4302020001"


def test_a_same_county_transfer_runs_on_the_demo_accounts_alone(ctx):
    student = registered_in("4301020002", grade=8)
    req = _transfer(student, "4301020003", "school3_registrar", "school2_supervisor", "county_registrar")
    assert req.status == "done" and student.school.code == "4301020003"
