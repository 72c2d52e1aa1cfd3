"""The queue and escalation through the pages and the REST API: the filing page offers
窗口开放时自动提交 while the window is closed, the school's queue lists it with the day it opens and
withdraws it, and an escalated step shows in the upper supervisor's inbox with its reason."""

from __future__ import annotations

import base64
import io
import re
from contextlib import contextmanager
from datetime import datetime

from factories import PDF, actor_of, registered_in
from sqlalchemy import select

from app.extensions import db
from app.models import QueuedRequest
from app.services.requests import escalation
from app.services.requests import workflow as svc

CLOSED = "2027-07-20T10:00:00"  # key-field changes are closed in Hunan until 1 September


@contextmanager
def pinned(app, at: str):
    before = app.config["XUEJI_FIXED_NOW"]
    app.config["XUEJI_FIXED_NOW"] = at
    try:
        yield
    finally:
        app.config["XUEJI_FIXED_NOW"] = before


def _errors(r) -> list:
    return re.findall(r'alert-danger">\s*([^<]+)', r.get_data(as_text=True))


def test_a_closed_window_offers_the_queue_and_the_school_sees_and_withdraws_it(ctx, client_for):
    student = registered_in("4301020001")
    client = client_for("school_registrar")
    with pinned(ctx, CLOSED):
        page = client.get(f"/requests/new/{student.id}").get_data(as_text=True)
        assert 'id="queue-choice"' in page and "窗口开放时自动提交" in page and "2027-09-01" in page
        r = client.post(f"/requests/new/{student.id}", content_type="multipart/form-data", data={
            "kind": "change_field", "field_1": "ethnicity", "value_1": "06", "queue": "1",
            "evidence": (io.BytesIO(PDF[1]), "户籍证明.pdf")})
        assert r.status_code == 302 and r.headers["Location"].endswith("/queued/"), _errors(r)
        item = db.session.scalars(select(QueuedRequest).where(QueuedRequest.student_id == student.id)
                                  .order_by(QueuedRequest.id.desc())).first()
        listed = client.get("/queued/").get_data(as_text=True)
        assert f'id="queued-{item.id}"' in listed and "2027-09-01" in listed and "排队中" in listed
        supervisor = client_for("school_supervisor").get("/inbox/").get_data(as_text=True)
        waiting = supervisor[supervisor.index('id="inbox"'):].split("</table>")[0]
        assert student.name not in waiting  # not open business for a reviewer
        other = client_for("county2_registrar").get("/queued/").get_data(as_text=True)
        assert f'id="queued-{item.id}"' not in other
        r = client.post(f"/queued/{item.id}/cancel", follow_redirects=True)
        assert "已撤销排队业务" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(QueuedRequest, item.id).status == "cancelled"
    with pinned(ctx, "2027-09-10T10:00:00"):  # open: nothing to wait for
        page = client.get(f"/requests/new/{student.id}").get_data(as_text=True)
        assert 'id="queue-choice"' not in page


def test_the_rest_api_queues_lists_and_withdraws(ctx, api, token_for):
    student = registered_in("4301020001")
    headers = token_for("school_registrar")
    body = {"kind": "change_field", "student_id": student.id, "payload": {"ethnicity": "06"},
            "evidence": [{"filename": PDF[0], "content_base64": base64.b64encode(PDF[1]).decode()}]}
    with pinned(ctx, CLOSED):
        refused = api.post("/api/v1/request/", json=body, headers=headers)
        assert refused.status_code == 422
        assert [p["code"] for p in refused.get_json()["errors"]] == ["outside_window"]
        r = api.post("/api/v1/request/", json=body | {"queue": True}, headers=headers)
        assert r.status_code == 201 and r.get_json()["queued"] is True, r.get_json()
        qid = r.get_json()["id"]
        assert r.get_json()["result"]["opens_on"] == "2027-09-01"
        listed = api.get("/api/v1/queued_request/?status=queued", headers=headers).get_json()
        assert qid in [row["id"] for row in listed["result"]]
        assert "payload" not in listed["result"][0]
        assert api.get(f"/api/v1/queued_request/{qid}", headers=token_for("county2_registrar")).status_code == 404
        assert api.post(f"/api/v1/queued_request/{qid}/cancel", headers=token_for("school_supervisor")
                        ).status_code == 403
        assert api.post(f"/api/v1/queued_request/{qid}/cancel", headers=headers).status_code == 200
        assert api.post(f"/api/v1/queued_request/{qid}/cancel", headers=headers).status_code == 409
        assert api.get("/api/v1/queued_request/?status=nope", headers=headers).status_code == 400


def test_an_escalated_step_shows_in_the_upper_supervisors_inbox_with_its_reason(ctx, client_for):
    req = svc.start(db.session, kind="change_field", student=registered_in("4301020001"),
                    actor=actor_of("school_registrar"), now=datetime(2026, 9, 15, 10),
                    payload={"ethnicity": "11"}, files=[PDF])
    rid = req.id
    escalation.escalate(db.session, datetime(2026, 9, 28, 9))
    county = client_for("county_supervisor")
    inbox = county.get("/inbox/").get_data(as_text=True)
    assert f"/requests/show/{rid}" in inbox and "强制干预" in inbox and "rules/430000.yaml:" in inbox
    page = county.get(f"/requests/show/{rid}").get_data(as_text=True)
    assert 'id="escalation"' in page and 'id="approve"' in page and 'id="reject"' not in page
    r = county.post(f"/requests/{rid}/decide", data={"verdict": "approve", "step": "0"},
                    follow_redirects=True)
    assert not _errors(r), _errors(r)
    history = client_for("school_registrar").get(f"/requests/show/{rid}").get_data(as_text=True)
    assert "逾期上报，强制干预" in history and "强制干预，代" in history
    svc.cancel(db.session, rid, actor_of("school_registrar"), datetime(2026, 9, 29))


def test_the_school_reads_why_a_queued_request_was_not_submitted(ctx, client_for):
    from app.services.requests import release
    from app.services.requests.starting import start

    student = registered_in("4301020001")
    item = start(db.session, queue=True, kind="change_field", student=student, actor=actor_of("school_registrar"),
                      now=datetime(2027, 7, 20, 10), payload={"ethnicity": "12"}, files=[PDF])
    other = svc.start(db.session, kind="suspend", student=db.session.get(type(student), student.id),
                      actor=actor_of("school_registrar"), now=datetime(2027, 8, 20, 10), reason="疾病",
                      files=[PDF])
    assert release.release(db.session, datetime(2027, 9, 1, 8)).failed == [item.id]
    client = client_for("school_registrar")
    inbox = client.get("/inbox/")
    assert inbox.status_code == 200 and "排队业务未能提交" in inbox.get_data(as_text=True)
    listed = client.get("/queued/").get_data(as_text=True)
    assert f'id="queued-{item.id}"' in listed and "复核未通过" in listed and "2002" in listed
    svc.cancel(db.session, other.id, actor_of("school_registrar"), datetime(2027, 9, 2))
