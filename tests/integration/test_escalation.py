"""强制干预: a step overdue past its deadline and the rules' extra working days escalates, once, to
the supervisor of the level above; that supervisor may approve or return it on behalf of the overdue
party, and nothing else; `rules explain` and the commands say so with the rule's file:line."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import is_postgres
from factories import PDF, actor_of, registered_in
from sqlalchemy import func, select

from app.errors import Forbidden
from app.extensions import db
from app.models import Notification, QueuedRequest, Request, RequestStep
from app.services.requests import escalation
from app.services.requests import workflow as svc

ROOT = Path(__file__).resolve().parents[2]
FILED = datetime(2026, 9, 15, 10)  # change_field in Hunan: the school supervisor within 5 working days


def line_of(file: str, text: str) -> str:
    lines = (ROOT / "rules" / file).read_text(encoding="utf-8").splitlines()
    return f"rules/{file}:{next(n for n, line in enumerate(lines, 1) if text in line)}"


def _change() -> Request:
    return svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                     actor=actor_of("school_registrar"), now=FILED, payload={"ethnicity": "09"},
                     files=[PDF])


def _escalations(rid: int) -> int:
    return db.session.scalar(select(func.count()).select_from(RequestStep).where(
        RequestStep.request_id == rid, RequestStep.action == "escalate"))


def test_an_overdue_step_escalates_once_and_the_supervisor_above_decides_it(ctx):
    req = _change()
    rid, due = req.id, req.due_on
    source = line_of("430000.yaml", "escalate: {after_days: 3")  # change_field's own rule
    assert due == date(2026, 9, 22)
    with pytest.raises(Forbidden):  # not escalated yet: the county supervisor may not decide it
        svc.decide(db.session, rid, actor_of("county_supervisor"), "approve", FILED)
    assert rid not in escalation.escalate(db.session, datetime(2026, 9, 25, 18)).escalated  # 3 days: not yet
    assert rid in escalation.escalate(db.session, datetime(2026, 9, 28, 9)).escalated
    assert rid not in escalation.escalate(db.session, datetime(2026, 9, 28, 10)).escalated  # once
    db.session.expire_all()
    req = db.session.get(Request, rid)
    assert (req.escalated_node, req.escalated_role) == ("bureau:430102", "supervisor")
    assert req.escalation["source"] == source and req.escalation["step"] == 0
    assert _escalations(rid) == 1
    row = db.session.scalar(select(RequestStep).where(RequestStep.request_id == rid,
                                                      RequestStep.action == "escalate"))
    assert source in row.comment and "逾期" in row.comment and row.party_node == "bureau:430102"
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.request_id == rid, Notification.node == "bureau:430102",
        Notification.message.like("强制干预%"))) == 1
    assert rid in [r.id for r in svc.inbox(db.session, actor_of("county_supervisor"))]
    assert rid not in [r.id for r in svc.inbox(db.session, actor_of("city_supervisor"))]

    with pytest.raises(Forbidden):  # 强制干预 approves or returns; it does not reject
        svc.decide(db.session, rid, actor_of("county_supervisor"), "reject", FILED, comment="不行")
    svc.decide(db.session, rid, actor_of("county_supervisor"), "approve", datetime(2026, 9, 28, 11))
    db.session.expire_all()
    req = db.session.get(Request, rid)
    assert req.step == 1 and req.escalated_node is None
    decided = db.session.scalar(select(RequestStep).where(RequestStep.request_id == rid,
                                                          RequestStep.action == "approve"))
    assert decided.actor_name == "county_supervisor" and "强制干预" in decided.comment
    assert source in decided.comment
    # the next step (the county registrar's) is not escalated: its supervisor may not decide it
    with pytest.raises(Forbidden):
        svc.decide(db.session, rid, actor_of("county_supervisor"), "approve", datetime(2026, 9, 29))
    svc.cancel(db.session, rid, actor_of("school_registrar"), datetime(2026, 9, 29))


def test_a_county_step_escalates_to_the_city(ctx):
    req = _change()
    rid = req.id
    svc.decide(db.session, rid, actor_of("school_supervisor"), "approve", FILED)
    db.session.expire_all()
    due = db.session.get(Request, rid).due_on
    assert escalation.escalate(db.session, datetime.combine(due, datetime.min.time())).escalated.count(rid) == 0
    later = datetime(2026, 11, 2, 9)  # long past the county's deadline and 3 more working days
    assert rid in escalation.escalate(db.session, later).escalated
    db.session.expire_all()
    req = db.session.get(Request, rid)
    assert (req.escalated_node, req.escalated_role) == ("bureau:430100", "supervisor")
    with pytest.raises(Forbidden):  # the province is not who the rules named
        svc.decide(db.session, rid, actor_of("prov_supervisor"), "approve", later)
    svc.decide(db.session, rid, actor_of("city_supervisor"), "return", later, comment="补充户籍证明")
    db.session.expire_all()
    req = db.session.get(Request, rid)
    assert req.status == "returned" and req.escalated_node is None
    svc.cancel(db.session, rid, actor_of("school_registrar"), later)


def _invoke(app, args, at):
    before = app.config["XUEJI_FIXED_NOW"]
    app.config["XUEJI_FIXED_NOW"] = at
    try:
        result = app.test_cli_runner().invoke(args=args)
    finally:
        app.config["XUEJI_FIXED_NOW"] = before
    assert result.exit_code == 0, result.output
    return result.output


def test_the_commands_escalate_and_release_at_the_business_clock(app, ctx):
    rid = _change().id
    out = json.loads(_invoke(app, ["requests", "escalate", "--json"], "2026-09-28T09:00:00"))
    assert rid in out["escalated"]
    out = json.loads(_invoke(app, ["requests", "escalate", "--json"], "2026-09-28T09:00:00"))
    assert rid not in out["escalated"]
    svc.cancel(db.session, rid, actor_of("school_registrar"), datetime(2026, 9, 29))

    student = registered_in("4301020001")
    item = svc.start(db.session, queue=True, kind="change_field", student=student, actor=actor_of("school_registrar"),
                      now=datetime(2027, 7, 20, 10), payload={"ethnicity": "10"}, files=[PDF])
    assert json.loads(_invoke(app, ["requests", "release-queued", "--json"], "2027-08-30T10:00:00")) \
        ["submitted"] == []
    out = json.loads(_invoke(app, ["requests", "release-queued", "--json"], "2027-09-01T08:00:00"))
    db.session.expire_all()
    released = db.session.get(QueuedRequest, item.id)
    assert out["submitted"] == [released.request_id] and released.status == "released"
    listed = _invoke(app, ["requests", "queued", "--as", "school_registrar"], "2027-09-01T09:00:00")
    assert f"#{item.id} released" in listed
    svc.cancel(db.session, released.request_id, actor_of("school_registrar"), datetime(2027, 9, 2))


def test_rules_explain_shows_queuing_and_escalation_with_their_lines(app, ctx):
    text = _invoke(app, ["rules", "explain", "--school", "4301020001", "--action", "change_field"],
                   "2027-07-20T10:00:00")
    window = line_of("430000.yaml", "key_field_change:").rsplit(":", 1)
    assert f"{window[0]}:{int(window[1]) + 1}" in text  # the window that closes it
    assert "可以排队，2027-09-01 开放时自动提交" in text
    assert line_of("430000.yaml", "escalate: {after_days: 3") in text and "after_days=3" in text
    text = _invoke(app, ["rules", "explain", "--school", "4301020001", "--action", "suspend", "--json"],
                   "2027-07-20T10:00:00")
    data = json.loads(text)
    assert data["escalation"]["source"] == line_of("national.yaml", "escalation: {after_days")
    assert data["escalation"]["after_days"] == 5 and data["queue"]["applies"] is True


@pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")
def test_two_escalation_runs_at_once_escalate_a_step_once(app, ctx):
    from test_queued_requests import race

    rid = _change().id
    results = race(app, lambda: escalation.escalate(db.session, datetime(2026, 9, 28, 9)).escalated, 2)
    db.session.expire_all()
    assert sorted(r for found in results for r in found if r == rid) == [rid]
    assert _escalations(rid) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.request_id == rid, Notification.message.like("强制干预%"))) == 1
    svc.cancel(db.session, rid, actor_of("school_registrar"), datetime(2026, 9, 29))
