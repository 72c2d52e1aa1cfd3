"""Production serving (app/serving.py): gunicorn's configuration loads as documented, and
``run.py serve --workers 2`` starts two worker processes that each build their own app and serve
/health and a signed-in page from the session's database; the connection pool of config.py is the
engine's on PostgreSQL and stays out of SQLite's way."""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import PASSWORD, is_postgres
from gunicorn.app.base import Application

from app import create_app
from app import serving as serving_module
from app.extensions import db
from app.serving import gunicorn_argv
from config import TestConfig

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"worker (\d+) ready")
BOOT_SECONDS = 180  # two apps built at once on a busy 2-core CI machine


class _Configured(Application):
    """gunicorn's own reading of the configuration module, as `gunicorn -c python:app.serving`."""

    def init(self, parser, opts, args):
        return None

    def load_config(self):
        self.load_config_from_module_name_or_filename("python:app.serving")

    def load(self):
        raise AssertionError("the configuration is read, no app is loaded")


@pytest.fixture
def configured(monkeypatch):
    """The configuration gunicorn reads under the environment the test sets (the module reads it
    on import), put back afterwards."""

    def read(**environment: str | None):
        for name, value in environment.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        importlib.reload(serving_module)
        return _Configured().cfg

    yield read
    monkeypatch.undo()
    importlib.reload(serving_module)


def test_gunicorn_configuration_loads_with_threaded_workers_and_no_preload(configured):
    cfg = configured(XUEJI_WORKERS="3", XUEJI_THREADS=None, XUEJI_WORKER_CLASS=None, XUEJI_LOG_JSON="1")
    assert (cfg.worker_class_str, cfg.workers, cfg.threads) == ("gthread", 3, 4)
    assert cfg.preload_app is False  # each worker opens its own pool after the fork
    assert cfg.wsgi_app == "app:create_app()"
    assert (cfg.timeout, cfg.graceful_timeout) == (60, 30)
    assert cfg.logconfig_dict["handlers"]["error_console"]["formatter"] == "json"  # gunicorn's lines too
    assert cfg.secure_scheme_headers == {} and cfg.forwarded_allow_ips == []  # XUEJI_TRUSTED_PROXIES decides
    assert "%({x-request-id}o)s" in cfg.access_log_format and "%(q)s" not in cfg.access_log_format


def test_gunicorn_workers_default_to_two_per_core_and_one(configured):
    assert configured(XUEJI_WORKERS=None).workers == 2 * (os.cpu_count() or 1) + 1


def test_serve_with_workers_becomes_gunicorn_and_warns_of_a_per_process_throttle(capsys):
    argv = gunicorn_argv({"RATELIMIT_STORAGE_URI": "memory://"}, bind="127.0.0.1:8000", workers=2, threads=None)
    assert argv[1:] == ["-m", "gunicorn", "--config", "python:app.serving", "--bind", "127.0.0.1:8000",
                        "--workers", "2"]
    assert "per worker process" in capsys.readouterr().err
    assert gunicorn_argv({"RATELIMIT_STORAGE_URI": "redis://r:6379"}, bind="h:1", workers=1, threads=3)[-2:] \
        == ["--threads", "3"]
    assert not capsys.readouterr().err


def test_postgresql_engine_pools_per_process_and_sqlite_keeps_its_own(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    served = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, INSTANCE_DIR=str(tmp_path))
    with served.app_context():
        pool, options = db.engine.pool, served.config["SQLALCHEMY_ENGINE_OPTIONS"]
        if is_postgres():
            assert (pool.size(), pool._max_overflow, pool._recycle, pool._timeout) == (5, 5, 1800, 30)
            assert options["pool_pre_ping"] and options["hide_parameters"]
        else:
            assert "pool_size" not in options and "max_overflow" not in options
        db.engine.dispose()
    in_memory = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://", INSTANCE_DIR=str(tmp_path))
    with in_memory.app_context():
        assert db.session.execute(db.text("select 1")).scalar() == 1  # StaticPool takes no pool_size


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_workers(server: subprocess.Popen, log: Path, count: int) -> set[str]:
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server stopped:\n{log.read_text()[-3000:]}"
        pids = set(READY.findall(log.read_text(errors="replace")))
        if len(pids) >= count:
            return pids
        time.sleep(0.5)
    raise AssertionError(f"{count} workers not ready in {BOOT_SECONDS} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn's graceful stop
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def test_two_gunicorn_workers_serve_health_and_a_signed_in_page(app, tmp_path):
    port, log = _free_port(), tmp_path / "gunicorn.log"
    env = {**os.environ, "XUEJI_ENV": "test", "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "XUEJI_INSTANCE_DIR": str(tmp_path / "instance"), "XUEJI_LOG_JSON": "1", "XUEJI_ACCESS_LOG": "-"}
    with log.open("wb") as sink:
        server = subprocess.Popen([sys.executable, "run.py", "serve", "--workers", "2", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            assert len(_wait_for_workers(server, log, 2)) == 2
            base = f"http://127.0.0.1:{port}"
            with urllib.request.urlopen(f"{base}/health", timeout=30) as answer:
                assert answer.status == 200 and json.load(answer)["database"] is True
            browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            signed_in = browser.open(f"{base}/login/", data=urlencode(
                {"username": "county_registrar", "password": PASSWORD}).encode(), timeout=30)
            assert "/login" not in signed_in.url
            page = browser.open(f"{base}/students/list/", timeout=30)
            request_id = page.headers["X-Request-ID"]
            assert page.status == 200 and "/students/show/" in page.read().decode()
        finally:
            _stop(server)
    text = log.read_text(errors="replace")
    assert server.returncode == 0, text[-3000:]
    assert "Traceback" not in text and "\"level\": \"ERROR\"" not in text, text[-3000:]
    access = [json.loads(line) for line in text.splitlines() if '"logger": "gunicorn.access"' in line]
    assert {"request_id": request_id, "path": "/students/list/", "status": "200"}.items() \
        <= next(a for a in access if a["request_id"] == request_id).items()
