"""The lockout counter on its own: failures in a row within the window lock, a pause resets."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from app.security.lockout import LockoutPolicy, clear, count_failure, is_locked, lock_has_expired

T0 = datetime(2026, 9, 15, 10, 0)
POLICY = LockoutPolicy(max_failures=5, window=timedelta(minutes=15),
                       duration=timedelta(minutes=15))


def account(**state):
    return SimpleNamespace(**{"fail_login_count": 0, "last_failed_login": None, "locked_at": None,
                              **state})


def fail_at(user, *minutes: int) -> list[bool]:
    return [count_failure(user, T0 + timedelta(minutes=m), POLICY) for m in minutes]


@pytest.mark.parametrize("minutes,locks", [
    ((0, 1, 2, 3, 4), [False, False, False, False, True]),  # five in a row
    ((0, 14, 28, 42, 56), [False, False, False, False, True]),  # each within the window of the last
    ((0, 1, 2, 3, 19), [False] * 5),  # a pause longer than the window starts the count again
])
def test_failures_lock_only_when_they_come_in_a_row(minutes, locks):
    assert fail_at(account(), *minutes) == locks


def test_the_lock_lasts_its_duration_then_expires():
    user = account()
    fail_at(user, 0, 0, 0, 0, 0)
    assert is_locked(user, T0 + timedelta(minutes=14, seconds=59), POLICY)
    assert not is_locked(user, T0 + timedelta(minutes=15), POLICY)
    assert lock_has_expired(user, T0 + timedelta(minutes=15), POLICY)


def test_a_lock_without_duration_lasts_until_cleared():
    forever = LockoutPolicy(max_failures=5, window=timedelta(minutes=15), duration=None)
    user = account(locked_at=T0, fail_login_count=5)
    assert is_locked(user, T0 + timedelta(days=365), forever)
    clear(user)
    assert not is_locked(user, T0 + timedelta(days=365), forever)
    assert user.fail_login_count == 0 and user.last_failed_login is None


def test_zero_failures_configured_never_locks():
    never = LockoutPolicy(max_failures=0, window=timedelta(minutes=15), duration=None)
    user = account()
    assert not any(count_failure(user, T0, never) for _ in range(50))


def test_policy_reads_the_configuration():
    policy = LockoutPolicy.from_config({"XUEJI_LOGIN_MAX_FAILURES": 3,
                                        "XUEJI_LOGIN_FAILURE_WINDOW_MINUTES": 10,
                                        "XUEJI_LOGIN_LOCKOUT_MINUTES": 0})
    assert policy == LockoutPolicy(3, timedelta(minutes=10), None)
