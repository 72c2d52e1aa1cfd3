"""Two application processes share nothing but PostgreSQL: two ``run.py serve`` on two ports (and
a ``run.py worker``) against the test database.  A session made on one is good on the other and
ends on both; wrong passwords spread over both add up to one lock, which both enforce; a rule set
activated through one is in force on the other at its next request; a job queued through one is
run by the worker and followed on the other; and two approvals of one step, one through each,
make exactly one decision.  PostgreSQL only (SQLite is one process's demo)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests
from conftest import PASSWORD, ROOT, is_postgres
from factories import PDF, account, actor_of, registered_in
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Request, RequestStep, XuejiUser
from app.policy.vocab import STAGE_ZH
from app.security import lockout
from app.services.policy import rulesets as policy
from app.services.requests import workflow as requests_service

pytestmark = pytest.mark.skipif(not is_postgres(), reason="several processes share PostgreSQL, not a SQLite file")

NOW = datetime(2026, 9, 15, 10)
START_SECONDS = 40  # both servers answering, or the test fails naming the one that did not
LOCKED_WORDS = "账号已锁定"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(instance: Path) -> dict:
    return {**os.environ, "XUEJI_ENV": "test", "XUEJI_JOBS": "worker", "XUEJI_LOG_JSON": "0",
            "XUEJI_INSTANCE_DIR": str(instance)}


class Server:
    """``run.py serve`` in a process of its own, its output kept in a file."""

    def __init__(self, name: str, instance: Path):
        self.name, self.port = name, _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = instance / f"serve-{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "run.py", "serve", "--port", str(self.port), "--threads", "4"],
                cwd=ROOT, env=_env(instance), stdout=out, stderr=subprocess.STDOUT)

    def url(self, path: str) -> str:
        return self.base + path

    def answering(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server {self.name} exited ({self.process.returncode}): {self.tail()}")
        try:
            requests.get(self.url("/health"), timeout=2)
        except requests.ConnectionError:
            return False
        return True

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture(scope="module")
def servers(app, tmp_path_factory):
    """Two servers of the session's (seeded) database, as two hosts behind one balancer."""
    instance = tmp_path_factory.mktemp("two-processes")
    started = []
    try:
        started = [Server("A", instance), Server("B", instance)]
        begun = time.monotonic()
        waiting = list(started)
        while waiting:
            waiting = [s for s in waiting if not s.answering()]
            if waiting and time.monotonic() > begun + START_SECONDS:
                raise AssertionError(f"no answer on port {waiting[0].port} after {START_SECONDS} s: "
                                     f"{waiting[0].tail()}")
            time.sleep(0.2)
        print(f"two servers answering after {time.monotonic() - begun:.1f} s")
        yield started
    finally:
        for server in started:
            server.stop()


def _sign_in(browser: requests.Session, server: Server, username: str, password: str = PASSWORD) -> bool:
    """Whether the form let the account in (a refusal leads back to the form, with its message
    flashed in ``browser``'s session)."""
    r = browser.post(server.url("/login/"), data={"username": username, "password": password},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text[:500]
    return "/login" not in r.headers["Location"]


def _token(server: Server, username: str) -> dict:
    r = requests.post(server.url("/api/v1/security/login"), timeout=30,
                      json={"username": username, "password": PASSWORD, "provider": "db"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _at_once(calls) -> list:
    """Run the callables in threads released together; their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i):
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_session_made_on_one_server_is_good_on_the_other_and_ends_on_both(servers):
    a, b = servers
    browser = requests.Session()  # one browser: cookies go by host, whatever the port
    assert _sign_in(browser, a, "county_registrar")
    assert browser.get(b.url("/jobs/"), allow_redirects=False, timeout=30).status_code == 200
    copied = dict(browser.cookies)
    browser.get(b.url("/logout/"), timeout=30)  # the account's epoch moves, in the database
    stale = requests.get(a.url("/jobs/"), cookies=copied, allow_redirects=False, timeout=30)
    assert stale.status_code == 302 and "/login" in stale.headers["Location"]


def test_wrong_passwords_spread_over_both_servers_add_up_to_one_lock_both_enforce(servers, ctx):
    a, b = servers
    account("two_process_probe", "school_registrar", school_code="4301020001")
    limit = lockout.policy_in_force().max_failures
    try:
        tries = [lambda s=(a if i % 2 else b): _sign_in(requests.Session(), s, "two_process_probe", "Wrong@pass1")
                 for i in range(limit - 1)]
        assert _at_once(tries) == [False] * (limit - 1)
        db.session.expire_all()
        user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "two_process_probe"))
        assert (user.fail_login_count, user.locked_at) == (limit - 1, None), "a failure was lost"
        assert not _sign_in(requests.Session(), a, "two_process_probe", "Wrong@pass1")  # this one locks
        browser = requests.Session()
        assert not _sign_in(browser, b, "two_process_probe")  # the right password, on the other server
        assert LOCKED_WORDS in browser.get(b.url("/login/"), timeout=30).text
    finally:
        db.session.rollback()
        db.session.execute(update(XuejiUser).where(XuejiUser.username == "two_process_probe")
                           .values(fail_login_count=0, last_failed_login=None, locked_at=None))
        db.session.commit()


def _primary_cap(server: Server, browser: requests.Session) -> int:
    html = browser.get(server.url("/policy/"), timeout=30).text
    caps = html[html.index('id="caps"'):]
    return int(re.search(rf"<td>{STAGE_ZH['primary']}</td><td>(\d+)</td>", caps).group(1))


def test_a_rule_set_activated_through_one_server_is_in_force_on_the_other_at_its_next_request(servers, ctx):
    a, b = servers
    reader, admin = requests.Session(), requests.Session()
    assert _sign_in(reader, b, "county_registrar")
    assert _sign_in(admin, a, "county_admin")
    original = policy.current_texts(db.session)["430102.yaml"]
    assert _primary_cap(b, reader) == 40  # B has the rules in force loaded
    try:
        r = admin.post(a.url("/policy/activate/"), allow_redirects=False, timeout=30,
                       data={"text": original.replace("primary: {cap: 40}", "primary: {cap: 37}")})
        assert r.status_code == 302 and "/policy/history" in r.headers["Location"]
        assert _primary_cap(b, reader) == 37
    finally:
        policy.activate(db.session, {**policy.current_texts(db.session), "430102.yaml": original},
                        by="test", note="restore")
    assert _primary_cap(b, reader) == 40


def test_a_job_queued_through_one_server_is_run_by_the_worker_and_followed_on_the_other(servers, tmp_path):
    a, b = servers
    browser = requests.Session()
    assert _sign_in(browser, a, "county_registrar")
    queued = browser.post(a.url("/problems/detect"), allow_redirects=False, timeout=30)
    assert queued.status_code == 302, queued.text[:500]
    job = int(re.search(r"/jobs/(\d+)", queued.headers["Location"]).group(1))
    progress = b.url(f"/jobs/{job}/progress")
    assert browser.get(progress, timeout=30).json()["status"] == "queued"  # neither server runs it
    worker = subprocess.run([sys.executable, "run.py", "worker", "--once"], cwd=ROOT, env=_env(tmp_path),
                            capture_output=True, text=True, timeout=120, check=False)
    assert worker.returncode == 0, worker.stderr[-2000:]
    seen = browser.get(progress, timeout=30).json()
    assert (seen["status"], seen["percent"]) == ("done", 100.0), seen


def test_two_approvals_of_one_step_through_two_servers_at_once_make_one_decision(servers, ctx):
    a, b = servers
    account("two_process_sup", "school_supervisor", school_code="4301020001")
    req = requests_service.start(db.session, kind="change_field", student=registered_in("4301020001"),
                                 actor=actor_of("school_registrar"), now=NOW, payload={"ethnicity": "14"},
                                 files=[PDF])
    rid = req.id
    calls = [(a, _token(a, "school_supervisor")), (b, _token(b, "two_process_sup"))]
    answers = _at_once([lambda s=s, h=h: requests.post(s.url(f"/api/v1/request/{rid}/approve"), json={},
                                                       headers=h, timeout=60) for s, h in calls])
    statuses = sorted(r.status_code for r in answers)
    assert statuses[0] == 200 and statuses[1] in (403, 409), [r.text[:300] for r in answers]
    db.session.expire_all()
    decided = db.session.scalar(select(func.count()).select_from(RequestStep).where(
        RequestStep.request_id == rid, RequestStep.step == 0))
    assert decided == 1 and db.session.get(Request, rid).step == 1
