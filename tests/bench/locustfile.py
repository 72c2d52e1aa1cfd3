"""Many registrars and supervisors at once, for locust (run by tests/bench/bench_load.py).

Each simulated user signs in through the login form (with its CSRF token) as its own demo account,
round-robin over the registrars and supervisors of the province, a city, two counties and five
schools, then works through its own jurisdiction's pages: the student list (a page of it), a
student's record (which writes a personal-data log row, as for a person), a search by name and one
by exact ID number (the blind index), and the inbox.

XUEJI_LOAD_TARGETS names the JSON file of each account's students in scope (bench_load.py writes
it), XUEJI_LOAD_RAW the file every request's time and error is written to when the run ends (the
runner takes percentiles from it); XUEJI_LOAD_PROFILE is ``think`` (1 to 3 s between requests: a registrar at a desk reading
each page) or ``stress`` (no pause: the most the server gives).  A page answered with anything but
200 -- a redirect to the login page included -- is an error.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections import defaultdict
from urllib.parse import quote

from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
THINK = os.environ.get("XUEJI_LOAD_PROFILE", "think") != "stress"
_targets: dict = {}
_accounts = itertools.count()
_seen: dict[str, dict] = defaultdict(lambda: {"done": [], "errors": []})  # [end time, ms] per request


@events.init.add_listener
def _load_targets(environment, **_kwargs) -> None:
    with open(os.environ["XUEJI_LOAD_TARGETS"], encoding="utf-8") as f:
        _targets.update(json.load(f))


@events.request.add_listener
def _record(name, response_time, exception=None, **_kwargs) -> None:
    seen = _seen[name]
    seen["done"].append((round(time.time(), 3), round(response_time, 1)))
    if exception is not None:
        seen["errors"].append((round(time.time(), 3), str(exception)[:200]))


@events.quitting.add_listener
def _write_raw(environment, **_kwargs) -> None:
    if path := os.environ.get("XUEJI_LOAD_RAW"):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_seen, f)


class Registrar(FastHttpUser):
    """One person at a desk: signs in once, then reads what the day's work needs."""

    wait_time = between(1, 3) if THINK else constant(0)

    def on_start(self) -> None:
        names = sorted(_targets["accounts"])
        self.username = names[next(_accounts) % len(names)]
        self.mine = _targets["accounts"][self.username]
        self.rng = random.Random(self.username)
        page = self.client.get("/login/", name="login form")
        token = CSRF.search(page.text or "")
        with self.client.post("/login/", name="login", allow_redirects=False, catch_response=True,
                              data={"username": self.username, "password": _targets["password"],
                                    "csrf_token": token.group(1) if token else ""}) as answer:
            if answer.status_code != 302 or "login" in answer.headers.get("Location", ""):
                answer.failure(f"sign-in of {self.username} refused ({answer.status_code})")
                raise RuntimeError(f"sign-in of {self.username} refused")

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {answer.headers.get('Location', '')}".strip())

    def _student(self) -> dict:
        return self.rng.choice(self.mine["students"])

    @task(3)
    def student_list(self) -> None:
        self._get(f"/students/list/?page_StudentView={self.rng.randrange(self.mine['pages'])}", "list")

    @task(4)
    def student_show(self) -> None:
        self._get(f"/students/show/{self._student()['id']}", "show")

    @task(2)
    def search_by_name(self) -> None:
        self._get(f"/students/list/?_flt_0_name={quote(self._student()['name'])}", "search name")

    @task(1)
    def search_by_id_number(self) -> None:
        self._get(f"/students/list/?_flt_0_id_blind={quote(self._student()['id_number'])}", "search id")

    @task(2)
    def inbox(self) -> None:
        self._get("/inbox/", "inbox")
