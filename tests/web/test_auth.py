"""Signing in as a registry of minors' data needs it: lockout per account, throttle per address,
sessions and tokens that end at logout, password change, reset and deactivation, idle timeout.

Each test signs in from its own client address (the throttle counts per address) with its own
account (the lockout counts per account), so nothing here leaks into the rest of the suite.  No
test holds an application context across requests: requests would then share one ``g`` and with
it Flask-Login's cached user, and a replayed cookie would pass for the wrong reason.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from conftest import PASSWORD
from factories import account, change_account, student_in
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, School, XuejiUser
from app.security import sessions
from config import Config

SCHOOL = "4301020001"  # county 430102
WRONG = "Wrong#Pass2026"
NEW_PASSWORD = "Another#Pass2027"
_addresses = itertools.count(1)


# -- helpers --------------------------------------------------------------------------------------
def client_from(app, address: str | None = None):
    """A test client whose requests come from an address of its own."""
    client = app.test_client()
    n = next(_addresses)
    client.environ_base["REMOTE_ADDR"] = address or f"10.77.{n // 250}.{n % 250 + 1}"
    return client


def fresh_account(app, prefix: str = "auth") -> XuejiUser:
    """A school registrar of SCHOOL nobody else signs in with (password: PASSWORD)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with app.app_context():
        account(name, "school_registrar", school_code=SCHOOL)
    return user_named(app, name)


def user_named(app, username: str) -> XuejiUser:
    """The account as stored now (detached: its columns only)."""
    with app.app_context():
        return db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))


def a_student(app) -> int:
    with app.app_context():
        return student_in(school_code=SCHOOL).id


def form_login(client, username: str, password: str = PASSWORD):
    return client.post("/login/", data={"username": username, "password": password})


def signed_in(client) -> bool:
    return client.get("/users/userinfo/").status_code == 200


def api_login(client, username: str, password: str = PASSWORD):
    return client.post("/api/v1/security/login",
                       json={"username": username, "password": password, "provider": "db",
                             "refresh": True})


def bearer(response) -> dict:
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def audit_rows(app, user: XuejiUser, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "account", AuditEvent.entity_id == user.id,
            AuditEvent.action == action).order_by(AuditEvent.id)))


def lock(app, user: XuejiUser):
    """Five wrong passwords through the form, from one address."""
    client = client_from(app)
    for _ in range(app.config["XUEJI_LOGIN_MAX_FAILURES"]):
        form_login(client, user.username, WRONG)
    return client


def backdate(app, user: XuejiUser, **minutes_back) -> None:
    """Move the account's lockout timestamps into the past (time passes, nobody sleeps)."""
    with app.app_context():
        stored = db.session.get(XuejiUser, user.id)
        for name, minutes in minutes_back.items():
            setattr(stored, name, getattr(stored, name) - timedelta(minutes=minutes))
        db.session.commit()


def flashed(client) -> str:
    return client.get("/login/").get_data(as_text=True)


@pytest.fixture
def shipped_throttle(app, monkeypatch):
    """The address limit as shipped (TestConfig loosens it for the rest of the suite)."""
    monkeypatch.setitem(app.config, "XUEJI_LOGIN_ADDRESS_LIMIT", Config.XUEJI_LOGIN_ADDRESS_LIMIT)


# -- lockout per account --------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(app):
    user = fresh_account(app)
    client = client_from(app)
    for _ in range(4):
        form_login(client, user.username, WRONG)
    assert user_named(app, user.username).locked_at is None
    form_login(client, user.username, WRONG)
    assert user_named(app, user.username).locked_at is not None
    assert "已锁定" in flashed(client)

    other = client_from(app)
    r = form_login(other, user.username, PASSWORD)
    assert r.status_code == 302 and "/login/" in r.headers["Location"]
    message = flashed(other)
    assert "已锁定" in message and "15 分钟" in message
    assert not signed_in(other)


def test_the_lock_and_its_cause_are_audited(app):
    user = fresh_account(app)
    lock(app, user)
    [row] = audit_rows(app, user, "account_locked")
    assert row.changes["failures"] == 5 and row.changes["address"].startswith("10.77.")
    assert row.school_id == user.school_id and row.user_id is None
    assert user.username in row.summary


def test_the_json_login_counts_toward_the_lock_and_is_refused_while_locked(app):
    user = fresh_account(app)
    client = client_from(app)
    assert api_login(client, user.username).status_code == 200
    for _ in range(5):
        assert api_login(client, user.username, WRONG).status_code == 401
    assert user_named(app, user.username).locked_at is not None
    assert api_login(client_from(app), user.username).status_code == 401


def test_a_locked_account_leaves_every_other_account_alone(app):
    user, neighbour = fresh_account(app), fresh_account(app)
    client = lock(app, user)
    assert form_login(client, neighbour.username).status_code == 302
    assert signed_in(client)
    assert api_login(client_from(app), neighbour.username).status_code == 200


def test_a_successful_sign_in_starts_the_count_again(app):
    user = fresh_account(app)
    client = client_from(app)
    for _ in range(4):
        form_login(client, user.username, WRONG)
    form_login(client, user.username)
    assert signed_in(client)
    client.get("/logout/")
    for _ in range(4):
        form_login(client, user.username, WRONG)
    assert user_named(app, user.username).locked_at is None


def test_failures_further_apart_than_the_window_do_not_add_up(app):
    user = fresh_account(app)
    client = client_from(app)
    for _ in range(4):
        form_login(client, user.username, WRONG)
    backdate(app, user_named(app, user.username), last_failed_login=16)
    form_login(client, user.username, WRONG)
    user = user_named(app, user.username)
    assert user.locked_at is None and user.fail_login_count == 1


def test_the_lock_runs_out_after_the_configured_time_and_that_unlock_is_audited(app):
    user = fresh_account(app)
    lock(app, user)
    backdate(app, user_named(app, user.username), locked_at=14)
    client = client_from(app)
    form_login(client, user.username)
    assert not signed_in(client)

    backdate(app, user_named(app, user.username), locked_at=2)  # 16 minutes ago: the lock has run out
    form_login(client, user.username)
    assert signed_in(client)
    [row] = audit_rows(app, user, "account_unlocked")
    assert row.user_id is None and "自动解锁" in row.summary
    assert user_named(app, user.username).locked_at is None


def test_lockout_minutes_zero_locks_until_an_administrator_unlocks(app, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_LOGIN_LOCKOUT_MINUTES", 0)
    user = fresh_account(app)
    lock(app, user)
    backdate(app, user_named(app, user.username), locked_at=60 * 24 * 365)
    client = client_from(app)
    form_login(client, user.username)
    assert not signed_in(client)
    assert "联系安全管理员" in flashed(client)


def test_a_security_administrator_unlocks_the_account_from_its_page(app, client_for):
    user = fresh_account(app)
    lock(app, user)
    assert "解除锁定" not in client_for("county_admin").get(f"/users/show/{user.id}").get_data(as_text=True)
    client_for("county_admin").post(f"/users/action/unlock/{user.id}")  # 三权分立: no longer theirs
    assert user_named(app, user.username).locked_at is not None
    admin = client_for("county_secadmin")
    page = admin.get(f"/users/show/{user.id}").get_data(as_text=True)
    assert "解除锁定" in page and f"/users/action/unlock/{user.id}" in page
    r = admin.post(f"/users/action/unlock/{user.id}")
    assert r.status_code == 302
    assert user_named(app, user.username).locked_at is None
    [row] = audit_rows(app, user, "account_unlocked")
    assert row.username == "county_secadmin" and row.user_id == user_named(app, "county_secadmin").id

    client = client_from(app)
    form_login(client, user.username)
    assert signed_in(client)
    assert f"/users/action/unlock/{user.id}" not in admin.get(f"/users/show/{user.id}").get_data(
        as_text=True)


def test_an_administrator_of_another_county_cannot_unlock(app):
    with app.app_context():
        account("far_county_admin", "county_secadmin", node="430202")
    user = fresh_account(app)
    lock(app, user)
    far = client_from(app)
    form_login(far, "far_county_admin")
    assert far.post(f"/users/action/unlock/{user.id}").status_code == 404
    assert user_named(app, user.username).locked_at is not None
    assert audit_rows(app, user, "account_unlocked") == []


def test_a_registrar_cannot_unlock_anyone(app, client_for):
    user = fresh_account(app)
    lock(app, user)
    client_for("county_registrar").post(f"/users/action/unlock/{user.id}")
    assert user_named(app, user.username).locked_at is not None


def test_a_system_administrators_password_reset_no_longer_unlocks(app, client_for):
    user = fresh_account(app)
    lock(app, user)
    r = client_for("county_admin").post(f"/resetpassword/form?pk={user.id}",
                                        data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert r.status_code == 302
    assert user_named(app, user.username).locked_at is not None  # 解除锁定 is the security admin's
    assert audit_rows(app, user, "account_unlocked") == []


# -- throttle per address -------------------------------------------------------------------------
def test_an_address_that_fails_too_often_is_refused_whatever_the_account(app, shipped_throttle):
    address = "10.66.0.1"
    client = client_from(app, address)
    for n in range(20):  # accounts that do not exist: no account lock helps here
        assert form_login(client, f"nobody{n}", WRONG).status_code == 302
    r = form_login(client, "school_registrar")  # a real account, the right password
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in r.get_data(as_text=True)
    assert not signed_in(client)
    r = api_login(client_from(app, address), "school_registrar")
    assert r.status_code == 429 and "message" in r.get_json()

    elsewhere = client_from(app)
    assert form_login(elsewhere, "school_registrar").status_code == 302 and signed_in(elsewhere)


def test_json_login_failures_count_toward_the_address_limit_too(app, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_LOGIN_ADDRESS_LIMIT", "3 per 15 minutes")
    client = client_from(app)
    for n in range(3):
        assert api_login(client, f"nobody{n}", WRONG).status_code == 401
    assert api_login(client, "school_registrar").status_code == 429
    assert form_login(client, "school_registrar").status_code == 429


def test_successful_sign_ins_never_count_toward_the_address_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_LOGIN_ADDRESS_LIMIT", "3 per 15 minutes")
    client = client_from(app)
    for _ in range(6):
        assert api_login(client, "school_registrar").status_code == 200
        client.get("/logout/")
        form_login(client, "school_registrar")
        assert signed_in(client)
        client.get("/logout/")


# -- sessions and tokens that end -------------------------------------------------------------------
def copy_of(app, client):
    """Another client holding the same session cookie, as a thief would."""
    thief = client_from(app)
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_session_cookie_dies_at_logout(app):
    user = fresh_account(app)
    student = a_student(app)
    client = client_from(app)
    form_login(client, user.username)
    token = bearer(api_login(client_from(app), user.username))
    thief = copy_of(app, client)
    assert thief.get(f"/students/show/{student}").status_code == 200  # the copy works ...

    client.get("/logout/")
    r = thief.get(f"/students/show/{student}")
    assert r.status_code == 302 and "/login/" in r.headers["Location"]  # ... until logout
    assert client_from(app).get(f"/api/v1/student/{student}", headers=token).status_code == 401


def test_signing_in_again_after_logout_works(app):
    user = fresh_account(app)
    client = client_from(app)
    form_login(client, user.username)
    client.get("/logout/")
    form_login(client, user.username)
    assert signed_in(client)


def test_changing_ones_own_password_ends_the_other_sessions_and_tokens_but_not_this_one(app):
    user = fresh_account(app)
    here, there = client_from(app), client_from(app)
    form_login(here, user.username)
    form_login(there, user.username)
    login = api_login(client_from(app), user.username)
    r = here.post("/resetmypassword/form", data={"password": NEW_PASSWORD,
                                                 "conf_password": NEW_PASSWORD})
    assert r.status_code == 302
    assert signed_in(here)
    assert not signed_in(there)
    assert client_from(app).get("/api/v1/school/", headers=bearer(login)).status_code == 401
    refresh = {"Authorization": f"Bearer {login.get_json()['refresh_token']}"}
    assert client_from(app).post("/api/v1/security/refresh", headers=refresh).status_code == 401


def test_an_administrators_reset_ends_the_accounts_sessions_and_tokens(app, client_for):
    user = fresh_account(app)
    student = a_student(app)
    client = client_from(app)
    form_login(client, user.username)
    token = bearer(api_login(client_from(app), user.username))
    assert client_from(app).get(f"/api/v1/student/{student}", headers=token).status_code == 200

    admin = client_for("county_admin")
    admin.post(f"/resetpassword/form?pk={user.id}",
               data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert client.get(f"/students/show/{student}").status_code == 302
    assert client_from(app).get(f"/api/v1/student/{student}", headers=token).status_code == 401
    assert signed_in(admin)  # the administrator's own session is not touched


def _edit_form(app, user: XuejiUser, *, active: bool) -> dict:
    with app.app_context():
        role = db.session.scalar(select(Role.id).where(Role.name == "school_registrar"))
        school = db.session.scalar(select(School.id).where(School.code == SCHOOL))
    data = {"username": user.username, "first_name": user.first_name, "last_name": user.last_name,
            "email": user.email, "roles": str(role), "school": str(school)}
    if active:
        data["active"] = "y"
    return data


def test_deactivating_an_account_ends_its_sessions_and_tokens_for_good(app, client_for):
    user = fresh_account(app)
    client = client_from(app)
    form_login(client, user.username)
    token = bearer(api_login(client_from(app), user.username))
    admin = client_for("county_admin")

    assert admin.post(f"/users/edit/{user.id}", data=_edit_form(app, user, active=False)).status_code == 302
    assert user_named(app, user.username).active is False
    assert not signed_in(client)
    assert client_from(app).get("/api/v1/school/", headers=token).status_code == 401

    admin.post(f"/users/edit/{user.id}", data=_edit_form(app, user, active=True))
    assert user_named(app, user.username).active is True
    assert not signed_in(client)  # reactivation revives nothing issued before
    assert client_from(app).get("/api/v1/school/", headers=token).status_code == 401


def test_a_deactivated_account_cannot_sign_in(app):
    user = fresh_account(app)
    change_account(app, user, active=False)
    client = client_from(app)
    form_login(client, user.username)
    assert not signed_in(client)
    assert api_login(client, user.username).status_code == 401


def test_the_epoch_moves_with_a_new_password_or_a_deactivation_wherever_they_are_made(app):
    user = fresh_account(app)
    epoch = user.auth_epoch
    change_account(app, user, first_name="改", active=True, password=user.password)
    assert user_named(app, user.username).auth_epoch == epoch
    change_account(app, user, password="scrypt:not-a-real-hash")
    assert user_named(app, user.username).auth_epoch == epoch + 1
    change_account(app, user, active=False)
    assert user_named(app, user.username).auth_epoch == epoch + 2


def test_a_token_without_the_epoch_claim_is_refused(app):
    from flask_jwt_extended import create_access_token

    user = fresh_account(app)
    with app.test_request_context():
        forged_old = create_access_token(identity=str(user.id), additional_claims={
            sessions.TOKEN_CLAIM: None})
    r = client_from(app).get("/api/v1/school/", headers={"Authorization": f"Bearer {forged_old}"})
    assert r.status_code == 401


# -- idle timeout ------------------------------------------------------------------------------------
def idle_for(client, minutes: int) -> None:
    with client.session_transaction() as session:
        session[sessions.SEEN] -= minutes * 60


def test_a_session_idle_longer_than_the_limit_is_signed_out(app):
    user = fresh_account(app)
    client = client_from(app)
    form_login(client, user.username)
    idle_for(client, 29)
    assert signed_in(client)  # ... and this request counts as activity
    idle_for(client, 29)
    assert signed_in(client)
    idle_for(client, 31)
    r = client.get("/students/list/")
    assert r.status_code == 302 and "/login/" in r.headers["Location"]
    assert "长时间未操作" in client.get("/login/").get_data(as_text=True)
    assert not signed_in(client)


def test_the_idle_limit_is_configuration(app, monkeypatch):
    monkeypatch.setitem(app.config, "XUEJI_SESSION_IDLE_MINUTES", 2)
    user = fresh_account(app)
    client = client_from(app)
    form_login(client, user.username)
    idle_for(client, 3)
    assert not signed_in(client)


def test_a_busy_session_still_ends_after_the_maximum_hours(app):
    user = fresh_account(app)
    client = client_from(app)
    form_login(client, user.username)
    with client.session_transaction() as session:
        session[sessions.STARTED] -= (app.config["XUEJI_SESSION_MAX_HOURS"] * 60 + 1) * 60
    assert not signed_in(client)


def test_a_session_cookie_without_the_stamps_is_not_accepted(app):
    user = fresh_account(app)
    client = client_from(app)
    form_login(client, user.username)
    with client.session_transaction() as session:
        del session[sessions.SEEN]
    assert not signed_in(client)
