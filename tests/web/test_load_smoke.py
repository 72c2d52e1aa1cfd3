"""A bounded load smoke: 20 API clients at once on loopback, each with its own JWT, for 20 s or
150 requests each, whichever ends first, against the session's database served by waitress as
``run.py serve`` serves it.  Zero errors (no 5xx, no refused or dropped connection), every client
served; requests/s, p50 and p95 are printed but never asserted: CI shares its two cores with the
other half of the suite.  The load test with figures is tests/bench/bench_load.py (gunicorn, locust).

The clients read what registrars and supervisors read most: the student list, a student's record
(a personal-data log row is written for each one a registrar opens), the request list.  The clients
share the test process with the server, so the figures are a floor, not a benchmark.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD

pytestmark = pytest.mark.load

CLIENTS = 20
SECONDS = 20
REQUESTS = 150  # per client: the loop is bounded in count as well as in time
SERVER_THREADS = 8  # as `run.py serve` and `run.py demo` start waitress
ACCOUNTS = ["school_registrar", "county_registrar", "county_supervisor", "city_supervisor"]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    served: Counter = field(default_factory=Counter)

    def record(self, label: str, status: int | None, seconds: float, error: str | None = None,
               client: int = 0) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.served[client] += status == 200
            self.statuses[status] += 1
            if error or status is None or status >= 500:
                self.errors.append(f"{label}: {status} {error or ''}".strip())


@pytest.fixture(scope="module")
def served(app):
    """The session's database served by a second app, as in production: waitress, 8 threads."""
    from flask import got_request_exception
    from waitress import create_server

    from app import create_app
    from config import TestConfig

    serving = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         INSTANCE_DIR=tempfile.mkdtemp(prefix="xueji-load-"))
    crashes: list[str] = []
    got_request_exception.connect(
        lambda _sender, exception, **_: crashes.append("".join(traceback.format_exception(exception))),
        serving, weak=False)
    server = create_server(serving, host="127.0.0.1", port=0, threads=SERVER_THREADS)
    closing = threading.Event()

    def serve():
        try:
            server.run()
        except OSError:  # closing the listening socket under the loop's select() ends it so
            if not closing.is_set():
                raise

    thread = threading.Thread(target=serve, name="load-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", crashes
    closing.set()
    server.close()
    thread.join(timeout=10)
    with serving.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


class Client:
    """One API client: its own connection (kept alive) and its own token."""

    def __init__(self, base: str, username: str):
        host = urlsplit(base)
        self.conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        status, body = self.call("POST", "/api/v1/security/login", json.dumps(
            {"username": username, "password": PASSWORD, "provider": "db"}))
        assert status == 200, body
        self.headers["Authorization"] = f"Bearer {json.loads(body)['access_token']}"
        status, body = self.call("GET", "/api/v1/student/?q=(columns:!(id),page_size:100)")
        assert status == 200, body
        self.students = json.loads(body)["ids"] or [0]

    def call(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def next_path(self, rng: random.Random) -> str:
        roll = rng.random()
        if roll < 0.4:
            return f"/api/v1/student/?q=(page:{rng.randrange(4)},page_size:25)"
        if roll < 0.8:
            return f"/api/v1/student/{rng.choice(self.students)}"
        return "/api/v1/request/"


def _run(client: Client, tally: Tally, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(REQUESTS):
        if time.perf_counter() >= deadline:
            return
        path = client.next_path(rng)
        started = time.perf_counter()
        try:
            status, _ = client.call("GET", path)
        except (OSError, http.client.HTTPException) as exc:
            tally.record(path, None, time.perf_counter() - started, repr(exc), seed)
            client.conn.close()  # a fresh connection for the next request
            continue
        tally.record(path, status, time.perf_counter() - started, client=seed)


def test_twenty_clients_for_twenty_seconds_meet_no_error(served, capsys):
    base, crashes = served
    clients = [Client(base, ACCOUNTS[n % len(ACCOUNTS)]) for n in range(CLIENTS)]
    tally = Tally()
    started = time.perf_counter()
    deadline = started + SECONDS
    threads = [threading.Thread(target=_run, args=(c, tally, deadline, n)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)
    assert not any(thread.is_alive() for thread in threads), "a client outlived its bound"
    elapsed = time.perf_counter() - started
    total = len(tally.latencies)
    p50, p95 = (statistics.quantiles(tally.latencies, n=100)[i] * 1000 for i in (49, 94))
    with capsys.disabled():
        print(f"\nload smoke: {CLIENTS} clients × {SECONDS} s, {total} requests, {total / elapsed:.0f} "
              f"requests/s, p50 {p50:.0f} ms, p95 {p95:.0f} ms, statuses {dict(tally.statuses)}, "
              f"errors {len(tally.errors)}")
    assert not tally.errors, tally.errors[:10]
    assert all(tally.served[n] for n in range(CLIENTS)), f"a client was never served: {dict(tally.served)}"
    assert total <= CLIENTS * REQUESTS
    assert not crashes, crashes[0]
    assert set(tally.statuses) == {200}, tally.statuses
