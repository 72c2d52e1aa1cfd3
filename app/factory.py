"""The application factory: one AppBuilder per app, keys loaded and checked, fails fast."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

from .errors import DomainError
from .extensions import db, migrate
from .i18n import english, t

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_foreign_keys(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()


def _configure(app: Flask, config_object, overrides: dict) -> None:
    from config import config_from_env

    app.config.from_object(config_object or config_from_env())
    app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):  # the pool of config.py, per process
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["XUEJI_DB_POOL"],
                                                   **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    _check_clock(app.config)
    from .security import blind_state
    from .security.keys import keyring_from_config, watch_key_file
    from .security.passwords import check_password_strength

    # the app's keyring makes no blind index while the stored ones are of another profile
    app.extensions["xueji_keyring"] = replace(keyring_from_config(app.config), guard=blind_state.check)
    watch_key_file(app)  # a key another process adds to the key file is taken in (development)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set: production refuses to start without it")
    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = check_password_strength
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)


def _check_clock(config) -> None:
    """A pinned clock that cannot be read stops the start, naming the variable."""
    from .clock import parse_fixed

    if config.get("XUEJI_FIXED_NOW"):
        try:
            parse_fixed(config["XUEJI_FIXED_NOW"])
        except ValueError as exc:
            raise RuntimeError(str(exc)) from None


def _error_handlers(app: Flask) -> None:
    """Errors mapped to answers in one place: JSON under /api/, else a page in the reader's
    language with the way back (app/web/errors.py).  An error that reaches these handlers escaped
    every use case's transaction (a hook's autoflush, a read): the request's unit of work is
    discarded here, the one rollback outside the transaction helper (tests/unit/test_transaction_rule.py)."""
    from .web import errors

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        if errors.wants_json():
            return jsonify(exc.as_json()), exc.status
        return errors.page(exc.status, [str(p.message) for p in exc.problems] or [str(exc)])

    @app.errorhandler(413)
    def _too_large(_exc):
        return jsonify(message=t("上传文件过大", "upload too large")), 413

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        """A refusal (403, 404, 405 ...): JSON naming what was wrong under /api/, else the page."""
        if exc.response is not None:
            return exc
        return errors.http_answer(exc)

    @app.errorhandler(DataError)
    def _data(_exc: DataError):
        """A value the database cannot hold (out of range, malformed) is the caller's error."""
        db.session.rollback()
        message = t("有数值超出字段允许的范围或格式", "a value does not fit its column")
        if request.path.startswith("/api/"):
            return jsonify(message=message), 400
        return errors.page(400, [str(message)])

    @app.errorhandler(ValidationError)
    def _invalid(exc: ValidationError):
        db.session.rollback()
        return jsonify(message=exc.messages), 400

    @app.errorhandler(InternalServerError)
    def _failed(exc: InternalServerError):
        """Anything unexpected: logged by Flask, answered with the 500 page (or JSON)."""
        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify(message=t("系统出错", "internal error")), 500
        return errors.page(500)


def create_app(config_object=None, **overrides) -> Flask:
    """Build the app; ``config_object`` defaults to the class XUEJI_ENV names."""
    from .spawning import large_blocks_returned

    large_blocks_returned()  # an import's, an export's or a report's passing MBs given back
    app = Flask(__name__, template_folder="templates", static_folder="static")
    _configure(app, config_object, overrides)
    from .security import headers

    headers.install(app)  # proxies trusted, security headers on every response (flask-talisman)
    from .web import logs

    logs.install(app)  # a request id on every request; JSON log lines where configured
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)
    if not event.contains(Engine, "connect", _sqlite_foreign_keys):
        event.listen(Engine, "connect", _sqlite_foreign_keys)

    from .models import events
    from .security import audit_chain, csrf, gate, inputs
    from .web import register

    events.install()
    with app.app_context():
        db.init_app(app)
        audit_chain.install(db.engine, app.extensions["xueji_keyring"])  # seal logs at commit
        migrate.init_app(app, db, directory=str(MIGRATIONS))
        csrf.install(app)
        inputs.install(app)  # bounded <int:> ids and the input check, before any view registers
        appbuilder = gate.XuejiAppBuilder()
        appbuilder.init_app(app, db.session)
        register(appbuilder)
        gate.install(app)  # every request meets the route table first
        gate.report(app)
    _error_handlers(app)
    app.jinja_env.globals.update(t=t, english=english)
    from .cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
    return app
