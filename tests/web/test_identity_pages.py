"""The identity-control pages: each answers its roles in Chinese and English, a bad filing of the
lending register names what is wrong, nobody decides a loan of their own account or outside their
jurisdiction, and a security administrator's page lists only its own jurisdiction's accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import account
from sqlalchemy import select

from app.extensions import db
from app.models import PasswordLoan, XuejiUser
from app.models.base import local_now


def _page(client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)


@pytest.mark.parametrize("username,url,zh,en", [
    ("school_registrar", "/second-factor/", "动态验证码", "Second factor"),
    ("school_registrar", "/password-loans/", "借用密码登记", "Password lending register"),
    ("county_secadmin", "/identity/", "身份安全", "Identity controls"),
])
def test_the_pages_answer_in_chinese_and_in_english(client_for, username, url, zh, en):
    client = client_for(username)
    assert zh in _page(client, url)
    client.get("/lang/en")
    assert en in _page(client, url)


@pytest.mark.parametrize("username", ["school_registrar", "county_admin"])
def test_only_a_security_administrator_opens_the_identity_page(client_for, username):
    assert client_for(username).get("/identity/").status_code == 403


def _loans(username: str) -> list[PasswordLoan]:
    db.session.expire_all()
    return list(db.session.scalars(select(PasswordLoan).join(XuejiUser, PasswordLoan.user_id == XuejiUser.id)
                                   .where(XuejiUser.username == username)))


def _file(client, **values):
    now = local_now()
    data = {"lent_to": "李四", "reason": "代为办理", "starts_at": now.isoformat(timespec="minutes"),
            "ends_at": (now + timedelta(hours=2)).isoformat(timespec="minutes"), **values}
    return client.post("/password-loans/file", data=data)


def test_a_bad_filing_names_each_item_and_files_nothing(ctx, client_for):
    account("loan_bad", "school_registrar", school_code="4301020001")
    client = client_for("loan_bad")
    assert _file(client, lent_to=" ", reason="", ends_at="not a time").status_code == 302
    page = _page(client, "/password-loans/")
    assert "请填写借用人姓名" in page and "请填写借用原因" in page and "请填写借用起止时间" in page
    assert _loans("loan_bad") == []


def test_nobody_decides_the_loan_of_their_own_account(ctx, client_for):
    account("loan_own_admin", "county_sysadmin", node="430102")
    client = client_for("loan_own_admin")
    _file(client)
    [loan] = _loans("loan_own_admin")
    client.post(f"/password-loans/{loan.id}/decide", data={"decision": "approve"})
    assert "不能审批自己账号的借用登记" in _page(client, "/password-loans/")
    assert _loans("loan_own_admin")[0].status == "pending"


def test_an_administrator_of_another_county_neither_sees_nor_decides_a_loan(ctx, client_for):
    account("loan_far_admin", "county_sysadmin", node="430202")
    account("loan_near", "school_registrar", school_code="4301020001")
    _file(client_for("loan_near"), lent_to="周七")
    [loan] = _loans("loan_near")
    far = client_for("loan_far_admin")
    assert "周七" not in _page(far, "/password-loans/")
    far.post(f"/password-loans/{loan.id}/decide", data={"decision": "approve"})
    assert _loans("loan_near")[0].status == "pending"
    assert "周七" in _page(client_for("county_admin"), "/password-loans/")


def test_the_identity_page_lists_sealed_accounts_of_its_own_jurisdiction_only(ctx, client_for):
    for name, school in (("seal_near", "4301020001"), ("seal_far", "4302020001")):
        account(name, "school_registrar", school_code=school)
        db.session.scalar(select(XuejiUser).where(XuejiUser.username == name)).sealed_at = local_now()
    db.session.commit()
    page = _page(client_for("county_secadmin"), "/identity/")
    assert "seal_near" in page and "seal_far" not in page
