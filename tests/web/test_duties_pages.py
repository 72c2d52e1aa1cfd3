"""The security administrator's pages (三权分立): 账号审批 decides only with the form's CSRF token,
自定义角色 offers the permission catalogue in words, both pages in Chinese and in English."""

from __future__ import annotations

import uuid

from conftest import PASSWORD, form_token
from factories import actor_of
from sqlalchemy import select

from app.extensions import db
from app.models import AccountApproval, XuejiUser
from app.services.organisation import approvals
from app.services.organisation.accounts import create_account
from app.services.organisation.audit import account_state


def _waiting(username: str) -> AccountApproval:
    """A school registrar county_admin made: pending."""
    create_account(db.session, username=username, password=PASSWORD, roles=["school_registrar"],
                   school_code="4301020002")
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))
    row = approvals.request(db.session, user, actor_of("county_admin"), None, account_state(user))
    db.session.commit()
    return row


def test_the_approval_page_decides_only_with_its_csrf_token(csrf_app):
    client = csrf_app.test_client()
    token = form_token(client.get("/login/").get_data(as_text=True))
    r = client.post("/login/", data={"username": "county_secadmin", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    with csrf_app.app_context():
        row = _waiting(f"csrf_{uuid.uuid4().hex[:6]}")
        assert client.post(f"/approvals/{row.id}/decide", data={"decision": "approve"}).status_code == 400
        db.session.expire_all()
        assert db.session.get(AccountApproval, row.id).status == "pending"
        page = client.get("/approvals/").get_data(as_text=True)
        r = client.post(f"/approvals/{row.id}/decide", data={"decision": "approve", "csrf_token": form_token(page)})
        assert r.status_code == 302
        db.session.expire_all()
        assert db.session.get(AccountApproval, row.id).status == "approved"


def test_the_pages_speak_chinese_and_english(ctx, client_for):
    _waiting(f"words_{uuid.uuid4().hex[:6]}")
    client = client_for("county_secadmin")
    approvals_page = client.get("/approvals/").get_data(as_text=True)
    form = client.get("/customroles/add").get_data(as_text=True)
    assert "账号审批" in approvals_page and "学校学籍管理员" in approvals_page and "批准" in approvals_page
    assert "学生：查看" in form and "操作日志：查看" in form and 'value="Student.read"' in form
    client.get("/lang/en")
    approvals_page = client.get("/approvals/").get_data(as_text=True)
    form = client.get("/customroles/add").get_data(as_text=True)
    assert "Account approvals" in approvals_page and "School registrar" in approvals_page
    assert "students: see" in form and "New custom role" in form


def test_the_security_administrator_finds_both_pages_in_the_menu_and_the_auditor_neither(ctx, client_for):
    secadmin = client_for("county_secadmin").get("/").get_data(as_text=True)
    assert "/approvals/" in secadmin and "/customroles/" in secadmin and "/audit-log/list/" not in secadmin
    auditor = client_for("county_auditor").get("/").get_data(as_text=True)
    assert "/audit-log/list/" in auditor and "/approvals/" not in auditor and "/users/list/" not in auditor
