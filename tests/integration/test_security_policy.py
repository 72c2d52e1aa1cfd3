"""The security policy (安全策略) a province security administrator sets over the environment's
defaults: the real login form and sign-in obey it, values out of bounds are refused naming the
setting, nobody else may change it, and every change is audited with the values before and after.

Each test leaves no policy row behind (``no_policy``): the other tests run on the defaults.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import PASSWORD
from factories import actor_of, change_account
from sqlalchemy import func, select
from test_identity_controls import client_from, form_login, fresh, lands_on

from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.models import AuditEvent, SecurityPolicy, XuejiUser
from app.models.base import local_now
from app.security import policy_settings
from app.services.organisation import security_policy

pytestmark = pytest.mark.usefixtures("no_security_policy")


def _set(app, values: dict, username: str = "prov_secadmin") -> dict:
    with app.app_context():
        return security_policy.change(db.session, actor_of(username), values, app.config, local_now())


def _policy_events(app, after: int = 0) -> list[AuditEvent]:
    """The policy's audit rows with an id above ``after`` (log rows outlive the tests)."""
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "security_policy",
                                                                AuditEvent.id > after)
                                       .order_by(AuditEvent.id)))


def _last_event_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def test_with_no_row_the_environment_defaults_apply(app):
    with app.app_context():
        settings = policy_settings.effective(db.session, app.config)
        assert all(settings.sources[name] is None for name in policy_settings.NAMES)
        for setting in policy_settings.SETTINGS:
            assert settings[setting.config_key] == app.config[setting.config_key]
        assert {r.name: r.value for r in security_policy.rows(db.session, app.config)}["max_failures"] == \
            app.config["XUEJI_LOGIN_MAX_FAILURES"]


def test_lowering_max_failures_to_three_locks_the_real_login_form_after_three(app):
    assert app.config["XUEJI_LOGIN_MAX_FAILURES"] > 3  # the default would not lock yet
    client = client_from(app)
    form_login(client, "prov_secadmin")
    assert client.post("/security-policy/", data={"max_failures": "3"}).status_code == 302
    user = fresh(app, prefix="pol")
    for _ in range(3):
        form_login(client, user.username, "Wrong#Pass2026")
    form_login(client, user.username)
    assert lands_on(client) != ""  # locked: the right password is refused
    with app.app_context():
        assert db.session.get(XuejiUser, user.id).locked_at is not None


def test_a_password_age_of_thirty_days_expires_a_31_day_old_password_at_sign_in(app):
    user = fresh(app, prefix="pol")
    change_account(app, user, password_changed_at=local_now() - timedelta(days=31))
    client = client_from(app)
    form_login(client, user.username)
    assert lands_on(client) == ""  # the default (90 days) lets it in
    result = app.test_cli_runner().invoke(args=["security-policy", "set", "password_max_age_days", "30",
                                                "--as", "prov_secadmin"])
    assert result.exit_code == 0 and "password_max_age_days: 90 -> 30" in result.output, result.output
    shown = app.test_cli_runner().invoke(args=["security-policy", "show"]).output
    assert "password_max_age_days = 30  (set by prov_secadmin at " in shown
    assert "max_failures = 5  (configured default" in shown
    form_login(client, user.username, PASSWORD)
    assert "resetmypassword" in lands_on(client)


@pytest.mark.parametrize("name,value", [
    ("max_failures", "0"), ("max_failures", "11"), ("failure_window_minutes", "4"),
    ("lockout_minutes", "4"), ("lockout_minutes", "1441"), ("password_max_age_days", "0"),
    ("password_max_age_days", "181"), ("password_history", "2"), ("password_history", "25"),
    ("dormant_days", "184"), ("dormant_days", "29"), ("session_idle_minutes", "121"),
    ("session_max_hours", "0"), ("session_max_hours", "25"), ("max_failures", "five"),
    ("totp_required_for", "root"),
])
def test_a_value_out_of_bounds_is_refused_naming_the_setting(app, name, value):
    with pytest.raises(ValidationFailed) as refused:
        _set(app, {name: value})
    assert [p.field for p in refused.value.problems] == [name]
    assert value in str(refused.value)
    with app.app_context():
        assert db.session.get(SecurityPolicy, policy_settings.POLICY_ID) is None


def test_every_value_out_of_bounds_is_named_at_once_and_nothing_is_stored(app):
    before = _last_event_id(app)
    with pytest.raises(ValidationFailed) as refused:
        _set(app, {"max_failures": "4", "dormant_days": "365", "session_idle_minutes": "1"})
    assert [p.field for p in refused.value.problems] == ["dormant_days", "session_idle_minutes"]
    assert not _policy_events(app, before)


def test_lock_until_unlocked_is_allowed_and_production_administrators_keep_their_second_factor(
        app, monkeypatch):
    assert _set(app, {"lockout_minutes": "0"})["lockout_minutes"]["new"] == 0
    monkeypatch.setitem(app.config, "XUEJI_TOTP_REQUIRED_FOR", "sysadmin,secadmin,auditor")
    with pytest.raises(ValidationFailed, match="sysadmin"):
        _set(app, {"totp_required_for": "secadmin,auditor"})
    assert _set(app, {"totp_required_for": "supervisor,sysadmin,secadmin,auditor"})[
        "totp_required_for"]["new"] == "supervisor,sysadmin,secadmin,auditor"


@pytest.mark.parametrize("username", ["prov_admin", "prov_auditor", "city_secadmin"])
def test_only_the_provinces_security_administrator_changes_it(app, username):
    with pytest.raises(Forbidden):
        _set(app, {"max_failures": "3"}, username)
    client = client_from(app)
    form_login(client, username)
    assert client.post("/security-policy/", data={"max_failures": "3"}).status_code in (302, 403)
    with app.app_context():
        assert db.session.get(SecurityPolicy, policy_settings.POLICY_ID) is None
    result = app.test_cli_runner().invoke(args=["security-policy", "set", "max_failures", "3", "--as", username])
    assert result.exit_code != 0


def test_each_change_is_audited_with_the_values_before_and_after(app):
    default, before = app.config["XUEJI_LOGIN_MAX_FAILURES"], _last_event_id(app)
    _set(app, {"max_failures": "3", "session_max_hours": "8"})
    _set(app, {"max_failures": "", "session_max_hours": "8"})  # back to the default; 8 unchanged
    first, second = _policy_events(app, before)
    assert first.username == "prov_secadmin" and first.province_code == "430000"
    assert first.changes == {"max_failures": {"old": default, "new": 3},
                             "session_max_hours": {"old": app.config["XUEJI_SESSION_MAX_HOURS"], "new": 8}}
    assert second.changes == {"max_failures": {"old": 3, "new": default}}
    with app.app_context():
        settings = policy_settings.effective(db.session, app.config)
        assert settings.sources["max_failures"] is None
        assert settings.sources["session_max_hours"]["by"] == "prov_secadmin"
    assert not _set(app, {"session_max_hours": "8"})  # nothing changed: no audit row
    assert len(_policy_events(app, before)) == 2
