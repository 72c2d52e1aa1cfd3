"""Never lose a request to a closed window: a filing refused only by its window waits in the queue
and is submitted, re-checked, when the business clock enters the window; one that became invalid
meanwhile is not submitted and its school is told; two release runs at once release it once."""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import is_postgres
from factories import PDF, _class_of, account, actor_of, registered_in
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Notification, QueuedRequest, Request, Student
from app.services.requests import queue, release
from app.services.requests import workflow as svc
from app.services.requests.starting import start

ROOT = Path(__file__).resolve().parents[2]
JULY = datetime(2027, 7, 20, 10)  # key-field changes are closed in Hunan (rules/430000.yaml)
AUGUST_END = datetime(2027, 8, 31, 23)
SEPTEMBER = datetime(2027, 9, 1, 8)  # ... and open again


def line_of(file: str, text: str) -> str:
    """``rules/<file>:<line>`` of the first line holding ``text`` (robust to lines appended)."""
    lines = (ROOT / "rules" / file).read_text(encoding="utf-8").splitlines()
    return f"rules/{file}:{next(n for n, line in enumerate(lines, 1) if text in line)}"


def queue_change(student: Student, now: datetime = JULY, value: str = "06") -> QueuedRequest:
    return start(db.session, queue=True, kind="change_field", student=student, actor=actor_of("school_registrar"),
                      now=now, payload={"ethnicity": value}, files=[PDF], note="排队测试")


@pytest.fixture
def clean_queue(ctx):
    """Each test releases only what it queued: anything left queued is withdrawn afterwards."""
    yield
    db.session.rollback()
    for item in db.session.scalars(select(QueuedRequest).where(QueuedRequest.status == "queued")):
        item.status, item.queued_student_id = "cancelled", None
    db.session.commit()


def test_a_request_filed_outside_its_window_is_queued_then_submitted_when_the_window_opens(clean_queue):
    student = registered_in("4301020001")
    with pytest.raises(ValidationFailed) as refused:  # filed at once: refused by the window
        svc.start(db.session, kind="change_field", student=student, actor=actor_of("school_registrar"),
                  now=JULY, payload={"ethnicity": "06"}, files=[PDF])
    window = line_of("430000.yaml", 'key_field_change:').rsplit(":", 1)
    assert [(p.code, p.source) for p in refused.value.problems] == [
        ("outside_window", f"{window[0]}:{int(window[1]) + 1}")]

    item = queue_change(student)
    assert item.status == "queued" and item.opens_on == date(2027, 9, 1)
    assert item.payload == {"ethnicity": "06"} and "ethnicity" not in item.payload_enc  # encrypted
    assert len(item.attachments) == 1 and item.closed_by.startswith("rules/430000.yaml:")
    # not business in progress: no request holds the student, nothing waits in a reviewer's inbox
    assert db.session.scalar(select(func.count()).select_from(Request).where(
        Request.student_id == student.id, Request.status.in_(("pending", "returned")))) == 0
    assert student.name not in [r.student_name for r in svc.inbox(db.session, actor_of("school_supervisor"))]

    assert release.release(db.session, AUGUST_END).submitted == []  # still closed on 31 August
    db.session.expire_all()
    assert db.session.get(QueuedRequest, item.id).status == "queued"

    out = release.release(db.session, SEPTEMBER)
    db.session.expire_all()
    item = db.session.get(QueuedRequest, item.id)
    assert item.status == "released" and out.submitted == [item.request_id]
    req = db.session.get(Request, item.request_id)
    assert (req.kind, req.status, req.payload, req.note) == ("change_field", "pending", {"ethnicity": "06"},
                                                            "排队测试")
    assert req.requester_name == "school_registrar" and req.open_student_id == student.id
    assert [a.filename for a in req.attachments] == [PDF[0]]
    assert [s.action for s in req.steps] == ["submit", "release"]
    assert req.created_at == SEPTEMBER and req.due_on is not None
    assert release.release(db.session, SEPTEMBER).submitted == []  # idempotent
    svc.cancel(db.session, req.id, actor_of("school_registrar"), SEPTEMBER)


def test_a_queued_request_that_became_invalid_is_not_submitted_and_the_filer_is_told(clean_queue):
    student = registered_in("4301020001")
    item = queue_change(student, value="07")
    # meanwhile the school files a suspension (the change window is open all year): business in progress
    other = svc.start(db.session, kind="suspend", student=db.session.get(Student, student.id),
                      actor=actor_of("school_registrar"), now=datetime(2027, 8, 20, 10), reason="疾病",
                      files=[PDF])
    out = release.release(db.session, SEPTEMBER)
    db.session.expire_all()
    item = db.session.get(QueuedRequest, item.id)
    assert out.failed == [item.id] and out.submitted == []
    assert item.status == "failed" and item.request_id is None and "2002" in item.problem
    told = db.session.scalars(select(Notification.message).where(
        Notification.node == f"school:{student.school_id}", Notification.request_id.is_(None))).all()
    assert any("排队业务未能提交" in m and "2002" in m for m in told)
    assert release.release(db.session, SEPTEMBER).failed == []  # told once
    svc.cancel(db.session, other.id, actor_of("school_registrar"), SEPTEMBER)


def test_only_a_closed_window_may_be_waited_for(clean_queue):
    student = registered_in("4301020001")
    with pytest.raises(ValidationFailed) as refused:  # no evidence: refused, window or not
        start(db.session, queue=True, kind="change_field", student=student, actor=actor_of("school_registrar"),
                   now=JULY, payload={"ethnicity": "06"})
    assert "evidence_required" in [p.code for p in refused.value.problems]
    assert db.session.scalar(select(func.count()).select_from(QueuedRequest).where(
        QueuedRequest.student_id == student.id, QueuedRequest.status == "queued")) == 0


def test_a_student_has_one_queued_exclusive_request_and_its_school_may_withdraw_it(clean_queue):
    student = registered_in("4301020001")
    item = queue_change(student)
    with pytest.raises(Conflict):
        queue_change(db.session.get(Student, student.id), value="08")
    with pytest.raises(NotFound):  # another county's registrar does not see it
        queue.cancel(db.session, item.id, actor_of("county2_school_registrar"), JULY)
    with pytest.raises(Forbidden):  # the supervisor sees it, but only the filing registrar withdraws
        queue.cancel(db.session, item.id, actor_of("school_supervisor"), JULY)
    queue.cancel(db.session, item.id, actor_of("school_registrar"), JULY)
    with pytest.raises(Conflict):
        queue.cancel(db.session, item.id, actor_of("school_registrar"), JULY)
    db.session.expire_all()
    assert db.session.get(QueuedRequest, item.id).status == "cancelled"
    assert release.release(db.session, SEPTEMBER).submitted == []


def test_inside_the_window_the_queue_choice_files_at_once(clean_queue):
    student = registered_in("4301020001")
    req = queue_change(student, now=SEPTEMBER)
    assert isinstance(req, Request) and req.status == "pending"
    svc.cancel(db.session, req.id, actor_of("school_registrar"), SEPTEMBER)


def test_a_transfer_filed_in_the_summer_freeze_waits_for_15_august(clean_queue):
    student = registered_in("4301020002", grade=7)
    receiving = account("recv_reg_c", "school_registrar", school_code="4301020003")
    target = _class_of("4301020003", 7)
    item = start(db.session, queue=True, kind="transfer", student=student, actor=receiving, now=JULY,
                      target_class=target, files=[PDF])
    assert isinstance(item, QueuedRequest) and item.opens_on == date(2027, 8, 15)
    assert item.other_school_id == student.school_id and item.target_class_id == target.id
    assert item.id in [q.id for q in queue.listing(db.session, actor_of("school2_registrar"))]  # both ends
    assert release.release(db.session, datetime(2027, 8, 14, 23)).submitted == []
    out = release.release(db.session, datetime(2027, 8, 15, 8))
    db.session.expire_all()
    req = db.session.get(Request, db.session.get(QueuedRequest, item.id).request_id)
    assert out.submitted == [req.id] and req.kind == "transfer" and req.variant == "same_county"
    assert req.target_class_id == target.id and req.chain[0]["node"] == f"school:{student.school_id}"
    svc.cancel(db.session, req.id, receiving, datetime(2027, 8, 16))


def race(app, work, n: int) -> list:
    """Run ``work()`` in ``n`` threads, each with its own session, released together."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        with app.app_context():
            try:
                barrier.wait()
                results[i] = work()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")
def test_two_releases_at_once_submit_a_queued_request_once(app, clean_queue):
    student = registered_in("4301020001")
    item = queue_change(student)
    before = db.session.scalar(select(func.max(Request.id))) or 0
    results = race(app, lambda: release.release(db.session, SEPTEMBER).submitted, 2)
    db.session.expire_all()
    made = db.session.scalars(select(Request).where(Request.student_id == student.id,
                                                    Request.id > before)).all()
    assert len(made) == 1 and db.session.get(QueuedRequest, item.id).request_id == made[0].id
    assert sorted(rid for found in results for rid in found) == [made[0].id]
    svc.cancel(db.session, made[0].id, actor_of("school_registrar"), SEPTEMBER)
