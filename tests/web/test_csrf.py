"""CSRF: every state-changing form needs its token; FAB's GET delete is refused; JWT calls pass."""

from __future__ import annotations

from conftest import PASSWORD, form_token
from factories import first_class, new_id, student_in, student_payload

from app.extensions import db
from app.models import Student


def _login(client) -> None:
    token = form_token(client.get("/login/").get_data(as_text=True))
    r = client.post("/login/", data={"username": "school_registrar", "password": PASSWORD,
                                      "csrf_token": token})
    assert r.status_code == 302


def test_login_without_a_token_is_refused(csrf_app):
    r = csrf_app.test_client().post("/login/", data={"username": "school_registrar",
                                                      "password": PASSWORD})
    assert r.status_code == 400


def test_a_form_post_without_a_token_changes_nothing(csrf_app):
    client = csrf_app.test_client()
    _login(client)
    with csrf_app.app_context():
        student = student_in(school_code="4301020001", kind="L")
        r = client.post(f"/students/delete/{student.id}")
        assert r.status_code == 400
        assert db.session.get(Student, student.id) is not None


def test_delete_by_get_is_refused_when_csrf_is_on(csrf_app):
    client = csrf_app.test_client()
    _login(client)
    with csrf_app.app_context():
        student = student_in(school_code="4301020001", kind="L")
        client.get(f"/students/delete/{student.id}")
        db.session.expire_all()
        assert db.session.get(Student, student.id) is not None


def test_an_api_call_with_a_bearer_token_needs_no_csrf_token(csrf_app):
    client = csrf_app.test_client()
    r = client.post("/api/v1/security/login", json={"username": "school_registrar",
                                                    "password": PASSWORD, "provider": "db"})
    headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    with csrf_app.app_context():
        payload = student_payload(first_class("4301020001"), new_id(), name="令牌学生")
        r = client.post("/api/v1/student/", json=payload, headers=headers)
    assert r.status_code == 201, r.get_json()


def test_an_api_write_riding_on_a_cookie_is_refused(csrf_app):
    client = csrf_app.test_client()
    _login(client)
    with csrf_app.app_context():
        payload = student_payload(first_class("4301020001"), new_id(), name="饼干学生")
    r = client.post("/api/v1/student/", json=payload)
    assert r.status_code in (400, 401)
