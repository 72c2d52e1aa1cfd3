"""Where keys come from: configuration, or a local key file written on first run (development only)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from .crypto import KeyError_, Keyring, b64, new_key, parse_key_list, unb64


class MissingKeys(RuntimeError):
    """Production configuration without encryption keys: refuse to start."""


def _read_key_file(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_key_file(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, path)


def ensure_key_file(path: Path) -> dict[str, Any]:
    """Return the key file's content, creating it with fresh keys when absent."""
    if path.exists():
        return _read_key_file(path)
    data = {
        "active": "k1",
        "keys": {"k1": b64(new_key())},
        "blind_index_key": b64(secrets.token_bytes(32)),
        "secret_key": secrets.token_urlsafe(48),
    }
    _write_key_file(path, data)
    return data


def add_key_to_file(path: Path) -> str:
    """Generate a new key in the key file and make it active; returns its id."""
    data = ensure_key_file(path)
    n = 1 + max(int(k[1:]) for k in data["keys"] if k[1:].isdigit())
    kid = f"k{n}"
    data["keys"][kid] = b64(new_key())
    data["active"] = kid
    _write_key_file(path, data)
    return kid


def keyring_from_config(config: dict[str, Any]) -> Keyring:
    """Build the keyring; fill SECRET_KEY from the key file in development."""
    spec = config.get("XUEJI_ENCRYPTION_KEYS")
    blind = config.get("XUEJI_BLIND_INDEX_KEY")
    key_file = config.get("XUEJI_KEY_FILE")
    if spec and blind:
        keys = parse_key_list(spec)
        active = config.get("XUEJI_ACTIVE_KEY") or next(iter(keys))
        return Keyring(keys=keys, active=active, blind_key=unb64(blind))
    if not key_file:
        raise MissingKeys(
            "no encryption keys configured: set XUEJI_ENCRYPTION_KEYS (kid:base64-32-bytes,...) "
            "and XUEJI_BLIND_INDEX_KEY; production never generates keys by itself"
        )
    data = ensure_key_file(Path(key_file))
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = data["secret_key"]
    try:
        keys = {kid: unb64(v) for kid, v in data["keys"].items()}
        return Keyring(keys=keys, active=data["active"], blind_key=unb64(data["blind_index_key"]))
    except (KeyError, ValueError) as exc:
        raise KeyError_(f"key file {key_file} is damaged: {exc}") from exc
