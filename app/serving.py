"""gunicorn's configuration: production serving in several worker processes on Linux.

    python run.py serve --workers 5                       (what this module sets, from the command line)
    gunicorn -c python:app.serving                        (the same, for systemd or supervisor)

Every worker builds its own app, engine and connection pool after the fork (no ``preload_app``: a
pool opened before the fork would be shared by every child).  The numbers are set by the
environment, as the rest of the configuration is (README, "Production serving"); each can also be
given on gunicorn's command line, which wins.  Imports nothing of the app but, by name, its JSON log
formatter: the master process stays free of the database.
"""

from __future__ import annotations

import json
import os
import sys


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def default_workers() -> int:
    """gunicorn's rule of thumb, two per core and one (tests/bench/bench_load.py measures 1, 2, 4, 5)."""
    return 2 * (os.cpu_count() or 1) + 1


wsgi_app = "app:create_app()"  # the configuration XUEJI_ENV names, built in each worker
bind = os.environ.get("XUEJI_BIND", "127.0.0.1:8000")
workers = _int("XUEJI_WORKERS", default_workers())
# gthread: each worker serves a few requests at once, so a page waiting on PostgreSQL leaves the
# core to another (tests/bench/bench_load.py measures it against "sync"); its pool_size of
# config.py is one more than these threads
worker_class = os.environ.get("XUEJI_WORKER_CLASS", "gthread")
threads = _int("XUEJI_THREADS", 4)
preload_app = False

# A worker that has not checked in for `timeout` s is killed and replaced (gthread: its main loop
# stuck, not a slow request; sync: the request itself); on HUP (reload) or TERM (stop) workers get
# `graceful_timeout` s to finish what they serve.  The slowest request served inline, a 2,000-row
# confirmation-form PDF, takes about 10 s on one core (README, 导出).
timeout = _int("XUEJI_WORKER_TIMEOUT", 60)
graceful_timeout = _int("XUEJI_GRACEFUL_TIMEOUT", 30)
keepalive = 5
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat off the disk
control_socket_disable = True  # signals (HUP, TERM, TTIN/TTOU) manage it; no socket in $HOME

# The scheme and the client's address come from XUEJI_TRUSTED_PROXIES (app.security.headers),
# not from gunicorn's own reading of X-Forwarded-* headers: one place decides whom to believe.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = ""

# The app writes one JSON line per request itself, with its request id (app.web.logs), so
# gunicorn's access log is off unless XUEJI_ACCESS_LOG names a file ("-": stdout); then it is JSON
# too, with the same request id (the X-Request-ID the app answers with) and no query string (a
# search carries names and ID numbers).
accesslog = os.environ.get("XUEJI_ACCESS_LOG") or None
access_log_format = json.dumps({
    "ts": "%(t)s", "logger": "gunicorn.access", "request_id": "%({x-request-id}o)s",
    "method": "%(m)s", "path": "%(U)s", "status": "%(s)s", "ms": "%(M)s", "bytes": "%(B)s",
    "pid": "%(p)s"})
errorlog = "-"
loglevel = os.environ.get("XUEJI_GUNICORN_LOGLEVEL", "info")
if os.environ.get("XUEJI_LOG_JSON", "1") not in ("0", "false", "no"):  # as config.py reads it
    # gunicorn's own lines (start, workers booted, timed out, stopping) as JSON objects too, as the
    # app's (app.web.logs); the root logger is left to the app, which adds its handler in each worker
    logconfig_dict = {
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access"] if accesslog else [],
                                "propagate": False},
        },
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json",
                              "stream": "ext://sys.stderr"},
            "access": ({"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stdout"}
                       if accesslog == "-" else
                       {"class": "logging.FileHandler", "formatter": "line", "filename": accesslog or os.devnull}),
        },
        "formatters": {"json": {"()": "app.web.logs.JsonFormatter"}, "line": {"format": "%(message)s"}},
    }
proc_name = "xueji"


def post_fork(server, worker) -> None:
    server.log.info("worker %s started (%s, %s threads)", worker.pid, server.cfg.worker_class_str,
                    server.cfg.threads)


def post_worker_init(worker) -> None:
    worker.log.info("worker %s ready", worker.pid)  # its app built: tests/bench/bench_load.py waits for it


def gunicorn_argv(config, *, bind: str, workers: int, threads: int | None) -> list[str]:
    """The command `run.py serve --workers N` becomes (it replaces itself with gunicorn)."""
    if os.name != "posix":
        raise RuntimeError("gunicorn runs on Linux and other POSIX systems: serve without --workers here")
    if workers > 1 and str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        print("warning: RATELIMIT_STORAGE_URI=memory:// counts failed sign-ins per worker process; "
              "set a shared store (redis://...) so the address throttle holds across them", file=sys.stderr)
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:app.serving", "--bind", bind,
            "--workers", str(workers)]
    return argv + (["--threads", str(threads)] if threads else [])
