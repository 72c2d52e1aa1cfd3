"""GET /health (the bare status, no sign-in, nothing personal) and the structured request log
(a request id on every response and log line, no query string)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import text

from app.extensions import db
from app.web.logs import JsonFormatter


def test_health_answers_without_signing_in_with_figures_only(app, ctx):
    response = app.test_client().get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] is True
    assert body["worker"] == {"mode": "inline", "alive": True}
    assert isinstance(body["queue_depth"], int) and "last_backup_age_h" in body
    assert set(body) == {"status", "database", "worker", "queue_depth", "last_backup_age_h", "backup_overdue"}


def test_health_says_degraded_when_no_worker_is_alive(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_JOBS", "worker")
    if db.engine.dialect.name != "postgresql":  # no queue, so no worker: said, not a 500
        response = app.test_client().get("/health")
        assert response.status_code == 503 and response.get_json()["worker"]["alive"] is False
        return
    db.session.execute(text("DELETE FROM procrastinate_workers"))
    db.session.commit()
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["worker"] == {"mode": "worker", "alive": False, "heartbeat_age_s": None}
    db.session.execute(text("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now())"))
    db.session.commit()
    response = app.test_client().get("/health")
    assert response.status_code == 200 and response.get_json()["worker"]["alive"] is True
    db.session.execute(text("DELETE FROM procrastinate_workers"))
    db.session.commit()


def test_every_response_carries_a_request_id_and_its_log_line_no_query(client_for, caplog):
    web = client_for("school_registrar")
    with caplog.at_level(logging.INFO, logger="xueji.request"):
        response = web.get("/students/list/?_flt_0_name=张三丰", headers={"X-Request-ID": "abc-12345678"})
        other = web.get("/health", headers={"X-Request-ID": "bad id; drop table"})
    assert response.headers["X-Request-ID"] == "abc-12345678"
    assert other.headers["X-Request-ID"] != "bad id; drop table" and len(other.headers["X-Request-ID"]) == 32
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "xueji.request"]
    mine = next(line for line in lines if line["request_id"] == "abc-12345678")
    assert (mine["method"], mine["path"], mine["status"]) == ("GET", "/students/list/", 200)
    assert isinstance(mine["user_id"], int) and mine["ms"] >= 0
    assert not any("张三丰" in json.dumps(line, ensure_ascii=False) for line in lines)


def test_a_database_error_logs_the_statement_not_its_values(app, ctx):
    """A refused write's message (what an error log line would carry) names no value of the row."""
    from sqlalchemy.exc import IntegrityError

    from app.models import School

    assert db.engine.hide_parameters
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(School.__table__.insert().values(code="12345", name="秘密学校名称"))
    db.session.rollback()
    assert "parameters hidden" in str(caught.value)
    record = logging.LogRecord("app", logging.ERROR, __file__, 1, "refused", None,
                               (type(caught.value), caught.value, caught.value.__traceback__))
    line = json.loads(JsonFormatter().format(record))
    assert "INSERT INTO school" in line["exc"] and "秘密学校名称" not in json.dumps(line, ensure_ascii=False)
