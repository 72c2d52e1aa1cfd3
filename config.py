"""Configuration objects for Xueji.

Pick one with the XUEJI_ENV environment variable (``development`` by default, ``production``,
``test``) or pass the class to ``create_app``.  Everything secret comes from the environment in
production; development and the demo keep their keys in a local file under ``instance/``.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("XUEJI_INSTANCE_DIR") or BASE_DIR / "instance")


def _default_database_url() -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_PATH / 'xueji.db'}"
    # the driver installed is psycopg 3: accept the usual postgres:// spellings
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    APP_NAME = "学籍管理系统 Xueji"
    APP_THEME = ""
    INSTANCE_DIR = str(INSTANCE_PATH)
    RULES_DIR = os.environ.get("XUEJI_RULES_DIR", str(BASE_DIR / "rules"))
    SEED_DIR = str(BASE_DIR / "seed")

    SQLALCHEMY_DATABASE_URI = _default_database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # hide_parameters: a database error's message (and so a log line) never carries the values of
    # the statement -- names, addresses -- only the statement
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # PostgreSQL's connection pool, one per process (each gunicorn worker builds its own after the
    # fork): the factory adds it to the engine options on PostgreSQL (SQLite keeps SQLAlchemy's own
    # pools).  A process holds at most pool_size + max_overflow connections, so size them so that
    # web workers x (pool_size + max_overflow) + the job worker's stay under PostgreSQL's
    # max_connections less superuser_reserved_connections (README, "Production serving").
    XUEJI_DB_POOL: dict = {
        "pool_size": _int_env("XUEJI_DB_POOL_SIZE", 5),  # a gthread worker's threads, and one spare
        "max_overflow": _int_env("XUEJI_DB_MAX_OVERFLOW", 5),
        "pool_timeout": _int_env("XUEJI_DB_POOL_TIMEOUT", 30),  # seconds a request waits for one
        "pool_recycle": _int_env("XUEJI_DB_POOL_RECYCLE", 1800),  # under any idle cut-off of a proxy
    }
    # Where long work runs (app.services.operations.jobs): "worker" -- procrastinate's queue in
    # PostgreSQL, run by `run.py worker` (the default on PostgreSQL); "thread" -- in-process beside
    # the request (the SQLite demo's default: no queue server); "inline" -- before the request
    # returns (tests).
    XUEJI_JOBS = os.environ.get("XUEJI_JOBS") or (
        "worker" if SQLALCHEMY_DATABASE_URI.startswith("postgresql") else "thread")
    # Worker processes that read and check an import's rows (app/services/exchange/import_pool.py);
    # unset: one per core.  1: in the job's own process.
    XUEJI_IMPORT_PROCESSES = int(os.environ.get("XUEJI_IMPORT_PROCESSES") or 0) or os.cpu_count() or 1
    # One JSON object per log line, with the request id (app.web.logs); off: the usual text lines.
    XUEJI_LOG_JSON = os.environ.get("XUEJI_LOG_JSON", "1") not in ("0", "false", "no")

    # Secrets.  In production every one of these must come from the environment.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # "kid:base64key,kid2:base64key2" -- 32-byte AES-256-GCM keys, the first one is active
    # unless XUEJI_ACTIVE_KEY names another.
    XUEJI_ENCRYPTION_KEYS = os.environ.get("XUEJI_ENCRYPTION_KEYS")
    XUEJI_ACTIVE_KEY = os.environ.get("XUEJI_ACTIVE_KEY")
    XUEJI_BLIND_INDEX_KEY = os.environ.get("XUEJI_BLIND_INDEX_KEY")
    # "standard" (AES-256-GCM, HMAC-SHA256) or "sm" (国密: SM4-GCM, HMAC-SM3) for new values and
    # the blind index; unset: the key file's (development), else standard.  `keys rotate` moves data.
    XUEJI_CRYPTO_PROFILE = os.environ.get("XUEJI_CRYPTO_PROFILE") or None
    # Without configured keys, generate and keep them in this file (development and demo only).
    XUEJI_KEY_FILE: str | None = str(INSTANCE_PATH / "keys.json")
    # The reports' Ed25519 signing keys, one file per node (app.security.signing_keys): a directory
    # outside the database and its backups.  Unset: <INSTANCE_DIR>/signing-keys, except production.
    XUEJI_SIGNING_KEY_DIR: str | None = os.environ.get("XUEJI_SIGNING_KEY_DIR") or None
    # `backup` (app.services.operations.backups): where dumps and their manifests go (unset:
    # <INSTANCE_DIR>/backups; never a directory holding the key file or the signing keys) and how
    # many good backups to keep there (older ones are removed after each good backup).
    XUEJI_BACKUP_DIR: str | None = os.environ.get("XUEJI_BACKUP_DIR") or None
    XUEJI_BACKUP_KEEP = _int_env("XUEJI_BACKUP_KEEP", 14)
    # `audit prune` (app.services.operations.audit_chain) deletes log rows older than this; below 180
    # days it refuses.
    XUEJI_AUDIT_RETENTION_DAYS = _int_env("XUEJI_AUDIT_RETENTION_DAYS", 180)
    # Where the worker writes the logs' signed heads every five minutes (`audit anchor`): a directory
    # the database's owners cannot write (default <instance>/audit-anchors).
    XUEJI_AUDIT_ANCHOR_DIR: str | None = os.environ.get("XUEJI_AUDIT_ANCHOR_DIR") or None

    # Flask-AppBuilder
    AUTH_TYPE = 1  # AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"  # FAB's all-powerful role: created by FAB, never assigned here
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.XuejiSecurityManager"
    FAB_CREATE_DB = False  # the schema comes from Alembic migrations (python run.py init)
    FAB_UPDATE_PERMS = False  # permissions are synchronised by `init`, not at every start
    FAB_ADD_SECURITY_API = False  # FAB's user/role REST API takes cookie auth without CSRF
    FAB_ADD_SECURITY_PERMISSION_VIEW = False
    FAB_ADD_SECURITY_VIEW_MENU_VIEW = False
    FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW = False
    FAB_PASSWORD_HASH_METHOD = "scrypt"
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_PASSWORD_COMPLEXITY_VALIDATOR = "app.security.passwords.check_password_strength"
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 500
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    FAB_BASE_TEMPLATE = "xueji/baselayout.html"
    AUTH_RATE_LIMITED = False

    # CSRF for every state-changing request; JWT-authenticated API calls are exempt.
    WTF_CSRF_ENABLED = True
    WTF_CSRF_CHECK_DEFAULT = False  # app.security.csrf decides per request
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True  # FAB never sets Flask-Login's remember cookie; guarded anyway
    REMEMBER_COOKIE_SAMESITE = "Lax"
    JWT_ACCESS_TOKEN_EXPIRES = 3600

    # Signing in (app.security.lockout): an account locks after this many wrong passwords in a
    # row, each within the window of the one before, for this long (0: until a system
    # administrator unlocks it); a client address is refused (HTTP 429) once it has failed this
    # often, whatever the accounts (Flask-Limiter syntax, counted over a moving window).
    XUEJI_LOGIN_MAX_FAILURES = _int_env("XUEJI_LOGIN_MAX_FAILURES", 5)
    XUEJI_LOGIN_FAILURE_WINDOW_MINUTES = _int_env("XUEJI_LOGIN_FAILURE_WINDOW_MINUTES", 15)
    XUEJI_LOGIN_LOCKOUT_MINUTES = _int_env("XUEJI_LOGIN_LOCKOUT_MINUTES", 15)
    XUEJI_LOGIN_ADDRESS_LIMIT = os.environ.get("XUEJI_LOGIN_ADDRESS_LIMIT", "20 per 15 minutes")
    RATELIMIT_ENABLED = True  # Flask-AppBuilder turns Flask-Limiter off unless asked
    # Where the address counters live: memory:// is one process (the waitress server of `serve`);
    # several processes or hosts share redis://host:6379 (pip install "limits[redis]").
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_STRATEGY = "moving-window"
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto to believe (0: none): the
    # address throttle must see the client's address, not the proxy's.
    XUEJI_TRUSTED_PROXIES = _int_env("XUEJI_TRUSTED_PROXIES", 0)

    # Sessions (app.security.sessions): signed out after this long without a request, and after
    # this long in all; logout, a new password or deactivation ends every session and token.
    XUEJI_SESSION_IDLE_MINUTES = _int_env("XUEJI_SESSION_IDLE_MINUTES", 30)
    XUEJI_SESSION_MAX_HOURS = _int_env("XUEJI_SESSION_MAX_HOURS", 12)

    # Identity controls (app.security.password_age, totp, dormant): a password expires after
    # this many days (0: never) and may not repeat any of the last N; an account without a
    # sign-in for this many days is sealed until an administrator unseals it; the functions whose
    # accounts must use a TOTP second factor (comma-separated; everyone else may enrol).
    XUEJI_PASSWORD_MAX_AGE_DAYS = _int_env("XUEJI_PASSWORD_MAX_AGE_DAYS", 90)
    XUEJI_PASSWORD_HISTORY = _int_env("XUEJI_PASSWORD_HISTORY", 5)
    XUEJI_DORMANT_DAYS = _int_env("XUEJI_DORMANT_DAYS", 183)
    XUEJI_TOTP_REQUIRED_FOR = os.environ.get("XUEJI_TOTP_REQUIRED_FOR", "sysadmin,secadmin,auditor")
    XUEJI_TOTP_ISSUER = "Xueji"

    # The monthly report: an account in use without a sign-in for this many days is dormant.
    XUEJI_REPORT_DORMANT_DAYS = _int_env("XUEJI_REPORT_DORMANT_DAYS", 90)

    # Security headers (app.security.headers, flask-talisman); HTTPS redirects only in production.
    XUEJI_FORCE_HTTPS = False

    # Chinese by default, English available.
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_FOLDER = str(BASE_DIR / "app" / "translations")
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    # Business happens in local time (app.clock); XUEJI_FIXED_NOW=2027-08-10T12:00:00 (ISO local
    # time) pins the business clock of every command and of `serve`, for demos and acceptance runs.
    XUEJI_TIMEZONE = "Asia/Shanghai"
    XUEJI_FIXED_NOW: str | None = os.environ.get("XUEJI_FIXED_NOW") or None

    # Uploads
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    XUEJI_PHOTO_MAX_BYTES = 2 * 1024 * 1024

    # 导出审批: an approved export is downloadable by its requester this many times, for this many
    # days after the approval; then its encrypted file is wiped
    XUEJI_EXPORT_DOWNLOADS = _int_env("XUEJI_EXPORT_DOWNLOADS", 3)
    XUEJI_EXPORT_DOWNLOAD_DAYS = _int_env("XUEJI_EXPORT_DOWNLOAD_DAYS", 7)
    # an export no rule holds of more students than this is made by a job (stored like an approved
    # request, downloaded from its page) instead of inside the web request: 2000 students take about
    # 3 s as .xlsx and 5 s as confirmation-form PDF on 2 busy cores (tests/bench/bench_export_inline.py)
    XUEJI_EXPORT_INLINE_ROWS = _int_env("XUEJI_EXPORT_INLINE_ROWS", 2000)
    # a students export of at least this many rows is written by a process of its own while the
    # caller reads and decrypts (app/documents/export_process.py), on a machine of several cores; 0: never
    XUEJI_EXPORT_PROCESS_ROWS = _int_env("XUEJI_EXPORT_PROCESS_ROWS", 5000)
    # a page's list (not the REST API) counts at most this many rows exactly, on PostgreSQL; a longer
    # one shows the planner's estimate as "约 N 条": a province's million students counted on every
    # view read a million index entries (60-80 ms), and counting up to the limit costs about 1.5 ms
    # per 10,000 rows from an index, 15 ms when a search makes it read the rows (a school code
    # prefix); 0: always count.  SQLite always counts.
    XUEJI_LIST_EXACT_COUNT_MAX = _int_env("XUEJI_LIST_EXACT_COUNT_MAX", 10_000)


class DevelopmentConfig(Config):
    """Local use and the demo: SQLite under instance/, keys in instance/keys.json."""

    ENV_NAME = "development"
    # the demo's administrators sign in with the shared demo password alone (production: required)
    XUEJI_TOTP_REQUIRED_FOR = os.environ.get("XUEJI_TOTP_REQUIRED_FOR", "")


class ProductionConfig(Config):
    """Production: keys and secret from the environment, refuses to start without them."""

    ENV_NAME = "production"
    XUEJI_KEY_FILE = None
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    JWT_COOKIE_SECURE = True
    XUEJI_FORCE_HTTPS = os.environ.get("XUEJI_FORCE_HTTPS", "1") != "0"
    FAB_ADD_SECURITY_API = False


class TestConfig(Config):
    """The test suite: database from TEST_DATABASE_URL, throw-away keys."""

    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    XUEJI_KEY_FILE = None
    SECRET_KEY = "test-secret-key-of-at-least-32-bytes-long"
    # Fixed test keys (base64 of 32 bytes); never used outside tests.
    XUEJI_ENCRYPTION_KEYS = "t1:" + "dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LTE="
    XUEJI_BLIND_INDEX_KEY = "dGVzdC1ibGluZC1pbmRleC1rZXktdGVzdC1ibGluZC0x"
    XUEJI_CRYPTO_PROFILE = None  # the fixed test key is AES-256: standard, whatever the shell says
    WTF_CSRF_ENABLED = False
    # a day inside the shipped rules' registration, transfer and change windows (the environment's
    # XUEJI_FIXED_NOW, when set, pins another: as for every command)
    XUEJI_FIXED_NOW = os.environ.get("XUEJI_FIXED_NOW") or "2026-09-15T10:00:00"
    XUEJI_JOBS = os.environ.get("XUEJI_JOBS") or "inline"  # jobs run inside the request in tests
    XUEJI_TOTP_REQUIRED_FOR = ""  # tests/integration/test_identity_controls.py turns it on
    # The whole suite signs in from 127.0.0.1, and fuzzing fails sign-ins on purpose: the address
    # throttle is kept out of their way here (tests/web/test_auth.py puts the shipped one back).
    XUEJI_LOGIN_ADDRESS_LIMIT = "100000 per minute"


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def config_from_env() -> type[Config]:
    """The configuration class named by XUEJI_ENV."""
    name = os.environ.get("XUEJI_ENV", "development")
    if name not in CONFIGS:
        raise SystemExit(f"XUEJI_ENV={name!r} is not one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
