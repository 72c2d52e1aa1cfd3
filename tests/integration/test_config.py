"""Configuration: production refuses to start without keys; FAB's security API stays off but works."""

from __future__ import annotations

import json
import stat

import pytest

from app import create_app
from app.security.crypto import KeyError_, b64
from app.security.keys import MissingKeys
from config import CONFIGS, Config, ProductionConfig, TestConfig, config_from_env

KEY = b64(bytes(range(32)))
BLIND = b64(b"b" * 32)
MEMORY = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}  # never the shared test database


class BareProduction(ProductionConfig):
    """Production as shipped, with nothing set in the environment."""

    XUEJI_ENCRYPTION_KEYS = None
    XUEJI_BLIND_INDEX_KEY = None
    XUEJI_ACTIVE_KEY = None
    SECRET_KEY = "a-production-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"XUEJI_ENCRYPTION_KEYS": f"k1:{KEY}"},  # no blind-index key
        {"XUEJI_BLIND_INDEX_KEY": BLIND},  # no encryption key
        {"XUEJI_ENCRYPTION_KEYS": "", "XUEJI_BLIND_INDEX_KEY": ""},
    ],
    ids=["nothing", "no-blind-key", "no-encryption-key", "empty-strings"],
)
def test_production_without_keys_refuses_to_start(tmp_path, overrides):
    with pytest.raises(MissingKeys):
        create_app(BareProduction, INSTANCE_DIR=str(tmp_path), **overrides)
    assert not list(tmp_path.rglob("keys.json")), "production must never generate keys"


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(BareProduction, INSTANCE_DIR=str(tmp_path), SECRET_KEY=None,
                   XUEJI_ENCRYPTION_KEYS=f"k1:{KEY}", XUEJI_BLIND_INDEX_KEY=BLIND)


def test_production_with_keys_from_the_environment_starts_with_the_named_active_key(tmp_path):
    app = create_app(BareProduction, INSTANCE_DIR=str(tmp_path),
                     XUEJI_ENCRYPTION_KEYS=f"old:{KEY},new:{b64(bytes(32))}",
                     XUEJI_BLIND_INDEX_KEY=BLIND, XUEJI_ACTIVE_KEY="new")
    ring = app.extensions["xueji_keyring"]
    assert ring.active == "new" and set(ring.keys) == {"old", "new"}


def test_first_configured_key_is_active_unless_another_is_named(tmp_path):
    app = create_app(BareProduction, INSTANCE_DIR=str(tmp_path),
                     XUEJI_ENCRYPTION_KEYS=f"old:{KEY},new:{b64(bytes(32))}",
                     XUEJI_BLIND_INDEX_KEY=BLIND)
    assert app.extensions["xueji_keyring"].active == "old"


def test_production_configuration_keeps_secrets_out_of_files_and_fab_security_api_off():
    assert ProductionConfig.XUEJI_KEY_FILE is None
    assert ProductionConfig.FAB_ADD_SECURITY_API is False
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert Config.FAB_ADD_SECURITY_API is False
    assert ProductionConfig.FAB_CREATE_DB is False


def test_xueji_env_selects_the_configuration(monkeypatch):
    monkeypatch.setenv("XUEJI_ENV", "production")
    assert config_from_env() is ProductionConfig
    monkeypatch.setenv("XUEJI_ENV", "staging")
    with pytest.raises(SystemExit):
        config_from_env()
    assert set(CONFIGS) == {"development", "production", "test"}


def test_default_app_exposes_no_fab_user_api(app):
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert "/api/v1/security/login" in rules
    assert not any(r.startswith("/api/v1/security/users") for r in rules)
    assert not any(r.startswith("/api/v1/security/roles") for r in rules)


def test_app_builds_with_fab_security_api_on(tmp_path):
    """FAB builds its user/role REST resources (their marshmallow schemas are what breaks on
    marshmallow 4) -- and the route table still serves none of them: nobody chose them."""
    app = create_app(TestConfig, INSTANCE_DIR=str(tmp_path), FAB_ADD_SECURITY_API=True, **MEMORY)
    built = {type(v).__name__ for v in app.appbuilder.baseviews}
    assert {"UserApi", "RoleApi"} <= built
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert not any(r.startswith(("/api/v1/security/users", "/api/v1/security/roles")) for r in rules)


def test_development_key_file_is_created_once_private_and_reused(tmp_path):
    overrides = dict(XUEJI_ENCRYPTION_KEYS=None, XUEJI_BLIND_INDEX_KEY=None, SECRET_KEY=None,
                     XUEJI_KEY_FILE=str(tmp_path / "keys.json"), INSTANCE_DIR=str(tmp_path),
                     **MEMORY)
    first = create_app(TestConfig, **overrides)
    path = tmp_path / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    assert first.config["SECRET_KEY"] == data["secret_key"]
    second = create_app(TestConfig, **overrides)
    a, b = first.extensions["xueji_keyring"], second.extensions["xueji_keyring"]
    assert a.keys == b.keys and a.active == b.active == "k1"
    assert a.blind_index("id_number", "x") == b.blind_index("id_number", "x")


def test_damaged_key_file_stops_the_start(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"active": "k1", "keys": {"k1": KEY}}), encoding="utf-8")
    with pytest.raises(KeyError_, match="damaged"):
        create_app(TestConfig, XUEJI_ENCRYPTION_KEYS=None, XUEJI_BLIND_INDEX_KEY=None,
                   XUEJI_KEY_FILE=str(path), INSTANCE_DIR=str(tmp_path), **MEMORY)
