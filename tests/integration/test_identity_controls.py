"""Identity controls through the real login form and the REST login: password expiry, history and
the forced change; the TOTP second factor (enrol, the code at sign-in, wrong and replayed codes,
administrators made to enrol, a lost one reset); dormant accounts sealed and unsealed; the
password-lending register logging the sign-ins of an approved period.

Each test signs in from a client address of its own with accounts of its own, as
tests/web/test_auth.py does, and holds no application context across requests.
"""

from __future__ import annotations

import html
import itertools
import re
import time
import uuid
from datetime import timedelta

import pyotp
import pytest
from conftest import PASSWORD
from factories import change_account
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import AccountTotp, AuditEvent, PasswordLoan, PasswordLoanUse, XuejiUser
from app.models.base import keyring, local_now
from app.security import totp
from app.security.crypto import KeyError_, aad_for
from app.services.common.actors import Actor
from app.services.organisation import accounts, approvals, identity
from app.services.organisation.accounts import create_account

SCHOOL, COUNTY = "4301020001", "430102"
NEW, NEWER = "Another#Pass2027", "Third#Pass2028"
_addresses = itertools.count(1)


# -- helpers --------------------------------------------------------------------------------------
def client_from(app):
    client = app.test_client()
    n = next(_addresses)
    client.environ_base["REMOTE_ADDR"] = f"10.88.{n // 250}.{n % 250 + 1}"
    return client


def fresh(app, role: str = "school_registrar", prefix: str = "idc") -> XuejiUser:
    """An account of its own (password PASSWORD, chosen by its owner): a school's, or the county's."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    binding = {"school_code": SCHOOL} if role.startswith("school_") else {"node_code": COUNTY}
    with app.app_context():
        create_account(db.session, username=name, password=PASSWORD, roles=[role], **binding)
    return stored(app, name)


def stored(app, username: str) -> XuejiUser:
    with app.app_context():
        return db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))


def form_login(client, username: str, password: str = PASSWORD):
    client.get("/logout/")
    return client.post("/login/", data={"username": username, "password": password})


def signed_in_as(app, user: XuejiUser, password: str = PASSWORD):
    client = client_from(app)
    assert form_login(client, user.username, password).status_code == 302
    return client


def api_login(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/api/v1/security/login", json={"username": username, "password": password, **extra})


def lands_on(client, url: str = "/users/userinfo/") -> str:
    """Where a signed-in page sends the account: '' when it is served, else the redirect's path."""
    r = client.get(url)
    return "" if r.status_code == 200 else r.headers.get("Location", str(r.status_code))


def change_own_password(client, password: str):
    return client.post("/resetmypassword/form", data={"password": password, "conf_password": password})


def events(app, user: XuejiUser, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "account", AuditEvent.entity_id == user.id, AuditEvent.action == action)))


def enrol(app, user: XuejiUser, offset: int = -1) -> pyotp.TOTP:
    """Enrol through the service, confirming with the code of the step ``offset`` from now."""
    with app.app_context():
        row = db.session.get(XuejiUser, user.id)
        otp = pyotp.TOTP(identity.start_enrolment(db.session, row))
        assert identity.confirm_enrolment(db.session, row, otp.at(time.time() + 30 * offset))
    return otp


@pytest.fixture
def required_for_admins(app, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_TOTP_REQUIRED_FOR", "sysadmin,secadmin,auditor")


# -- passwords ------------------------------------------------------------------------------------
def test_an_expired_password_forces_a_change_before_anything_else(app):
    user = fresh(app)
    change_account(app, user, password_changed_at=local_now() - timedelta(days=91))
    client = signed_in_as(app, user)
    assert lands_on(client).startswith("/resetmypassword/form")
    assert lands_on(client, "/students/list/").startswith("/resetmypassword/form")
    r = api_login(client_from(app), user.username)
    assert r.status_code == 403 and "90" in r.get_json()["message"]
    assert change_own_password(client, NEW).status_code == 302
    assert lands_on(client) == ""
    assert api_login(client_from(app), user.username, NEW).status_code == 200


def test_a_token_of_a_password_that_expired_since_is_refused_with_the_reason(app):
    user = fresh(app)
    token = api_login(client_from(app), user.username).get_json()["access_token"]
    change_account(app, user, password_changed_at=local_now() - timedelta(days=91))
    r = client_from(app).get("/api/v1/student/", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and "90" in r.get_json()["message"]


def test_the_history_refuses_any_of_the_last_passwords(app, monkeypatch):
    user = fresh(app)
    client = signed_in_as(app, user)
    assert change_own_password(client, NEW).status_code == 302
    r = change_own_password(client, PASSWORD)  # the first password, one of the last five
    assert r.status_code == 200 and "最近 5 次" in r.get_data(as_text=True)
    assert check_password_hash(stored(app, user.username).password, NEW)
    monkeypatch.setitem(app.config, "XUEJI_PASSWORD_HISTORY", 1)  # only the current one now
    assert change_own_password(client, PASSWORD).status_code == 302
    assert check_password_hash(stored(app, user.username).password, PASSWORD)
    with app.app_context():
        assert all(not h.startswith(("Test", "Another")) for h in db.session.scalars(
            select(XuejiUser.password).where(XuejiUser.id == user.id)))  # hashes only


def test_an_administrators_reset_forces_a_change_at_the_next_sign_in(app, client_for):
    user = fresh(app)
    r = client_for("county_admin").post(f"/resetpassword/form?pk={user.id}",
                                        data={"password": NEW, "conf_password": NEW})
    assert r.status_code == 302 and stored(app, user.username).password_must_change
    # the administrator now knows a registrar's password: the account waits for a security
    # administrator (三权分立) before anyone signs in with it
    waiting = client_from(app)
    form_login(waiting, user.username, NEW)
    assert lands_on(waiting) != ""
    assert api_login(client_from(app), user.username, NEW).status_code in (401, 403)
    with app.app_context():
        secadmin = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "county_secadmin"))
        approvals.decide_for(db.session, Actor.of(secadmin), user.username, approve=True, now=local_now())
    client = signed_in_as(app, user, NEW)
    assert lands_on(client).startswith("/resetmypassword/form")
    assert api_login(client_from(app), user.username, NEW).status_code == 403
    assert change_own_password(client, NEWER).status_code == 302
    assert lands_on(client) == "" and not stored(app, user.username).password_must_change


def test_an_operators_new_account_chooses_its_own_password_at_first_sign_in(app):
    name = f"idc_{uuid.uuid4().hex[:8]}"
    result = app.test_cli_runner().invoke(args=["users", "create", name, "--role", "school_registrar",
                                                "--school", SCHOOL, "--password", NEW])
    assert result.exit_code == 0, result.output
    client = signed_in_as(app, stored(app, name), NEW)
    assert lands_on(client).startswith("/resetmypassword/form")


def test_lockout_and_unlock_still_work(app):
    user, secadmin = fresh(app), fresh(app, "county_secadmin")
    client = client_from(app)
    for _ in range(5):
        form_login(client, user.username, "Wrong#Pass2026")
    form_login(client, user.username)
    assert lands_on(client) != ""  # locked: the right password is refused too
    with app.app_context():
        admin = db.session.get(XuejiUser, secadmin.id)
        assert accounts.unlock(db.session, Actor.of(admin), user.id, by=admin)[1]
    assert lands_on(signed_in_as(app, user)) == ""


# -- the second factor ----------------------------------------------------------------------------
def test_totp_enrolment_then_every_sign_in_needs_a_fresh_code(app):
    user = fresh(app)
    client = signed_in_as(app, user)
    page = client.post("/second-factor/start").get_data(as_text=True)
    secret = re.search(r'<code id="secret">([A-Z2-7]+)</code>', page).group(1)
    assert f"otpauth://totp/Xueji:{user.username}" in page
    uri = html.unescape(re.search(r'<code id="uri"[^>]*>([^<]+)</code>', page).group(1))
    assert f"secret={secret}" in uri and totp.qr_svg(uri) in page  # its QR code, made on the page
    first = pyotp.TOTP(secret).now()
    assert client.post("/second-factor/confirm", data={"code": first}).status_code == 302
    assert events(app, user, "totp_enrolled")
    with app.app_context():  # kept encrypted, bound to the account
        token = db.session.get(AccountTotp, user.id).secret
        assert secret not in token
        assert keyring().decrypt(token, aad_for("account_totp", "secret", str(user.id))) == secret
        with pytest.raises(KeyError_):
            keyring().decrypt(token, aad_for("account_totp", "secret", str(user.id + 1)))

    client = signed_in_as(app, user)  # the password alone signs in no further than the code page
    assert lands_on(client, "/students/list/").startswith("/second-factor/verify")
    assert client.get("/api/v1/student/").status_code in (401, 403)
    wrong = "000000" if first != "000000" else "111111"
    client.post("/second-factor/verify", data={"code": wrong})
    assert lands_on(client).startswith("/second-factor/verify")
    client.post("/second-factor/verify", data={"code": first})  # replayed: used at enrolment
    assert lands_on(client).startswith("/second-factor/verify")
    later = pyotp.TOTP(secret).at(time.time() + 30)  # the next step's code, inside the window
    assert client.post("/second-factor/verify", data={"code": later}).status_code == 302
    assert lands_on(client, "/students/list/") == ""


def test_the_rest_login_of_an_enrolled_account_needs_its_code_once(app):
    user = fresh(app)
    otp = enrol(app, user)
    r = api_login(client_from(app), user.username)
    assert r.status_code == 401 and "totp" in r.get_json()["message"]
    assert api_login(client_from(app), user.username, totp="12345x").status_code == 401
    code = otp.now()
    assert api_login(client_from(app), user.username, totp=code).status_code == 200
    assert api_login(client_from(app), user.username, totp=code).status_code == 401  # replayed


def test_the_rest_login_says_nothing_of_a_second_factor_to_a_wrong_password(app):
    """Without the right password nobody learns whether the account has a second factor, and a
    good code sent with a wrong password is not used up."""
    user, plain = fresh(app), fresh(app)
    otp = enrol(app, user)
    refused = [api_login(client_from(app), name, "Wrong#Pass2026").get_json()["message"]
               for name in (user.username, plain.username)]
    assert refused[0] == refused[1] and "totp" not in refused[0]
    code = otp.now()
    assert api_login(client_from(app), user.username, "Wrong#Pass2026", totp=code).status_code == 401
    assert api_login(client_from(app), user.username, totp=code).status_code == 200


def test_wrong_passwords_of_a_held_account_count_towards_the_lock(app):
    """A sealed account (or one awaiting approval) tells the right password why it is refused;
    wrong guesses at it lock it like any other."""
    user = fresh(app)
    change_account(app, user, sealed_at=local_now())
    client = client_from(app)
    for _ in range(5):
        form_login(client, user.username, "Wrong#Pass2026")
    assert stored(app, user.username).locked_at is not None


def test_wrong_codes_count_towards_the_lock_across_sign_ins(app):
    user = fresh(app)
    enrol(app, user, offset=1)  # every code of now and before is spent
    for tries in (3, 2):  # signing in again with the right password does not start the count again
        client = signed_in_as(app, user)
        for _ in range(tries):
            client.post("/second-factor/verify", data={"code": "123456"})
    assert stored(app, user.username).locked_at is not None
    assert lands_on(client).startswith("/login")


def test_an_administrator_without_a_second_factor_is_made_to_enrol(app, required_for_admins):
    admin = fresh(app, "county_sysadmin")
    client = signed_in_as(app, admin)
    assert lands_on(client, "/users/list/").startswith("/second-factor/")
    assert lands_on(client, "/second-factor/") == ""
    r = api_login(client_from(app), admin.username)
    assert r.status_code == 403 and "动态验证码" in r.get_json()["message"]
    registrar = fresh(app)
    assert api_login(client_from(app), registrar.username).status_code == 200  # available, not required
    otp = enrol(app, admin)
    client = signed_in_as(app, admin)
    assert client.post("/second-factor/verify", data={"code": otp.now()}).status_code == 302
    assert lands_on(client, "/users/list/") == ""


def test_a_security_administrator_resets_a_lost_second_factor_audited(app, client_for):
    user, secadmin = fresh(app), fresh(app, "county_secadmin")
    enrol(app, user)
    assert signed_in_as(app, fresh(app, "county_sysadmin")).post(
        f"/identity/{user.id}/reset-second-factor").status_code == 403
    admin = signed_in_as(app, secadmin)
    assert str(user.id) in admin.get("/identity/").get_data(as_text=True)
    assert admin.post(f"/identity/{user.id}/reset-second-factor").status_code == 302
    with app.app_context():
        assert db.session.get(AccountTotp, user.id) is None
    assert [e.username for e in events(app, user, "totp_reset")] == [secadmin.username]
    assert lands_on(signed_in_as(app, user)) == ""  # the password alone again


# -- dormant accounts -----------------------------------------------------------------------------
@pytest.fixture
def only_ours_sealed(app):
    """seal_dormant seals every dormant account of the shared database: unseal the others after."""
    ours: list[int] = []
    yield ours
    with app.app_context():
        for user in db.session.scalars(select(XuejiUser).where(XuejiUser.sealed_at.is_not(None),
                                                                XuejiUser.id.not_in(ours))):
            user.sealed_at = None
        db.session.commit()


def test_a_dormant_account_is_sealed_and_unsealed_by_a_security_administrator(app, only_ours_sealed):
    user, secadmin = fresh(app), fresh(app, "county_secadmin")
    only_ours_sealed.append(user.id)
    change_account(app, user, last_login=local_now() - timedelta(days=200))
    result = app.test_cli_runner().invoke(args=["users", "seal-dormant"])
    assert result.exit_code == 0 and result.output.startswith("sealed ")
    assert stored(app, user.username).sealed_at is not None
    assert events(app, user, "account_sealed")
    client = client_from(app)
    form_login(client, user.username)
    assert "封存" in client.get("/login/").get_data(as_text=True)
    assert lands_on(client) != ""
    form_login(client, user.username, "Wrong#Pass2026")  # a wrong password learns nothing
    assert "封存" not in client.get("/login/").get_data(as_text=True)
    assert signed_in_as(app, secadmin).post(f"/identity/{user.id}/unseal").status_code == 302
    assert [e.username for e in events(app, user, "account_unsealed")] == [secadmin.username]
    assert lands_on(signed_in_as(app, user)) == ""


def test_an_account_dormant_at_sign_in_is_sealed_then_without_waiting_for_the_job(app):
    user = fresh(app)
    change_account(app, user, last_login=local_now() - timedelta(days=200))
    form_login(client_from(app), user.username)
    assert stored(app, user.username).sealed_at is not None
    with app.app_context():
        assert identity.seal_dormant(db.session, local_now()) >= 0  # sealed once, not twice
    assert len(events(app, user, "account_sealed")) == 1


# -- the password-lending register ----------------------------------------------------------------
def _file(client, start, end, to: str = "李四"):
    return client.post("/password-loans/file", data={
        "lent_to": to, "reason": "休产假期间代为办理转学", "starts_at": start.isoformat(timespec="minutes"),
        "ends_at": end.isoformat(timespec="minutes")})


def _uses(app, user: XuejiUser) -> list[tuple[str, str]]:
    with app.app_context():
        return [(loan.lent_to, use.via) for use, loan in db.session.execute(
            select(PasswordLoanUse, PasswordLoan).join(PasswordLoan)
            .where(PasswordLoan.user_id == user.id).order_by(PasswordLoanUse.id))]


def _loan(app, user: XuejiUser, to: str) -> PasswordLoan:
    with app.app_context():
        return db.session.scalar(select(PasswordLoan).where(PasswordLoan.user_id == user.id,
                                                            PasswordLoan.lent_to == to))


def test_lending_needs_approval_and_every_sign_in_of_the_period_is_logged(app, client_for):
    user, now = fresh(app), local_now()
    owner = signed_in_as(app, user)
    _file(owner, now - timedelta(hours=1), now + timedelta(hours=2))
    _file(owner, now + timedelta(days=1), now + timedelta(days=2), to="王五")
    _file(owner, now + timedelta(hours=2), now + timedelta(hours=1), to="赵六")  # ends before it starts
    assert _loan(app, user, "赵六") is None
    loan = _loan(app, user, "李四")
    assert loan.status == "pending" and events(app, user, "password_loan_filed")
    signed_in_as(app, user)
    assert _uses(app, user) == []  # not approved: an ordinary sign-in
    assert owner.post(f"/password-loans/{loan.id}/decide", data={"decision": "approve"}).status_code == 403
    admin = client_for("county_admin")
    for to in ("李四", "王五"):
        admin.post(f"/password-loans/{_loan(app, user, to).id}/decide", data={"decision": "approve"})
    assert _loan(app, user, "李四").status == "approved"
    assert [e.username for e in events(app, user, "password_loan_approved")] == ["county_admin"] * 2
    signed_in_as(app, user)
    assert api_login(client_from(app), user.username).status_code == 200
    assert _uses(app, user) == [("李四", "web"), ("李四", "api")]  # 王五's period has not begun
    page = admin.get("/password-loans/").get_data(as_text=True)
    assert "李四" in page and user.username in page


def test_a_refused_loan_logs_nothing(app, client_for):
    user, now = fresh(app), local_now()
    _file(signed_in_as(app, user), now - timedelta(hours=1), now + timedelta(hours=1))
    loan = _loan(app, user, "李四")
    client_for("county_admin").post(f"/password-loans/{loan.id}/decide", data={"decision": "refuse"})
    assert _loan(app, user, "李四").status == "refused" and events(app, user, "password_loan_refused")
    signed_in_as(app, user)
    assert _uses(app, user) == []
