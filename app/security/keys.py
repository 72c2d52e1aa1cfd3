"""Where keys come from: configuration, or a local key file written on first run (development only).

The key file holds ``{"active", "keys": {kid: key text}, "blind_index_key", "secret_key"}`` and,
once a rotation moved it, ``"profile"``.  A key text is base64 (AES-256, as every older file has it)
or ``sm4:`` and base64 (SM4), the same syntax as ``XUEJI_ENCRYPTION_KEYS``.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .crypto import (
    PROFILES,
    STANDARD,
    KeyError_,
    Keyring,
    b64,
    key_text,
    new_key,
    parse_key_list,
    parse_key_text,
    unb64,
)


class MissingKeys(RuntimeError):
    """Production configuration without encryption keys: refuse to start."""


def _read_key_file(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _written_aside(path: Path, data: dict[str, Any]) -> Path:
    """``data`` in a new private file of its own beside ``path`` (never one another process writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    return Path(tmp)


def _write_key_file(path: Path, data: dict[str, Any]) -> None:
    os.replace(_written_aside(path, data), path)


def ensure_key_file(path: Path, profile: str = STANDARD) -> dict[str, Any]:
    """Return the key file's content, creating it with fresh keys (of the profile's kind) when absent.

    Two processes starting at once on a fresh instance (``serve`` and ``worker``) make one key
    file: the new file is linked into place only if none is there yet, and the loser reads the
    winner's -- never two files written in turn, one process encrypting under keys that are gone."""
    if path.exists():
        return _read_key_file(path)
    data = {
        "active": "k1",
        "keys": {"k1": key_text(new_key(profile), profile)},
        "profile": profile,
        "blind_index_key": b64(secrets.token_bytes(32)),
        "secret_key": secrets.token_urlsafe(48),
    }
    tmp = _written_aside(path, data)
    try:
        os.link(tmp, path)  # atomic: fails if another process made the file first
    except FileExistsError:
        return _read_key_file(path)
    finally:
        tmp.unlink()
    return data


def add_key_to_file(path: Path, profile: str = STANDARD) -> str:
    """Generate a new key of the profile's kind in the key file, make it and the profile active;
    returns its id."""
    data = ensure_key_file(path)
    n = 1 + max(int(k[1:]) for k in data["keys"] if k[1:].isdigit())
    kid = f"k{n}"
    data["keys"][kid] = key_text(new_key(profile), profile)
    data["active"], data["profile"] = kid, profile
    _write_key_file(path, data)
    return kid


def profile_of(config: dict[str, Any]) -> str:
    """The crypto profile in force: XUEJI_CRYPTO_PROFILE, else the key file's, else standard."""
    profile = config.get("XUEJI_CRYPTO_PROFILE")
    key_file = config.get("XUEJI_KEY_FILE")
    if not profile and key_file and not config.get("XUEJI_ENCRYPTION_KEYS") and Path(key_file).exists():
        profile = _read_key_file(Path(key_file)).get("profile")
    if (profile or STANDARD) not in PROFILES:
        raise KeyError_(f"XUEJI_CRYPTO_PROFILE must be 'standard' or 'sm', got {profile!r}")
    return profile or STANDARD


def keyring_from_config(config: dict[str, Any]) -> Keyring:
    """Build the keyring; fill SECRET_KEY from the key file in development."""
    spec = config.get("XUEJI_ENCRYPTION_KEYS")
    blind = config.get("XUEJI_BLIND_INDEX_KEY")
    key_file = config.get("XUEJI_KEY_FILE")
    if spec and blind:
        keys, sm4 = parse_key_list(spec)
        active = config.get("XUEJI_ACTIVE_KEY") or next(iter(keys))
        return Keyring(keys=keys, active=active, blind_key=unb64(blind), profile=profile_of(config), sm4=sm4)
    if not key_file:
        raise MissingKeys(
            "no encryption keys configured: set XUEJI_ENCRYPTION_KEYS (kid:base64-32-bytes,...) "
            "and XUEJI_BLIND_INDEX_KEY; production never generates keys by itself"
        )
    data = _key_file_for(Path(key_file), profile_of(config))
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = data["secret_key"]
    try:
        parsed = {kid: parse_key_text(text) for kid, text in data["keys"].items()}
        return Keyring(
            keys={kid: key for kid, (key, _) in parsed.items()},
            active=data["active"],
            blind_key=unb64(data["blind_index_key"]),
            profile=data.get("profile") or STANDARD,
            sm4=frozenset(kid for kid, (_, is_sm4) in parsed.items() if is_sm4),
        )
    except (KeyError, ValueError) as exc:
        raise KeyError_(f"key file {key_file} is damaged: {exc}") from exc


def _key_file_for(path: Path, profile: str) -> dict[str, Any]:
    """The key file, with an active key of the profile's kind: development makes its own keys, so
    switching XUEJI_CRYPTO_PROFILE adds one (the values stored stay readable; `keys rotate` moves them)."""
    data = ensure_key_file(path, profile)
    if (data.get("profile") or STANDARD) != profile:
        add_key_to_file(path, profile)
        data = _read_key_file(path)
    return data


# -- the key file changed under a running process ----------------------------------------------------

@dataclass
class KeyFileWatch:
    """Where a development keyring came from: the key file and the state it was read in.

    ``keys rotate`` run from another process adds a key to the file, makes it active and moves
    every value to it; a running ``serve`` or ``worker`` that kept the keyring it started with could
    read none of them.  ``keyring_in_force`` looks at the file at most once a second and takes the
    new keys in (production's keys come from the environment: a restart brings new ones)."""

    path: Path
    stamp: tuple[int, int] | None = None
    checked: float = field(default_factory=time.monotonic)
    interval: float = 1.0

    def __post_init__(self) -> None:
        self.stamp = self.stamp or self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def changed(self) -> bool:
        """Whether the file is not as it was last read (asked at most once per ``interval``)."""
        now = time.monotonic()
        if now - self.checked < self.interval:
            return False
        self.checked = now
        stamp = self._stamp()
        if stamp is None or stamp == self.stamp:
            return False
        self.stamp = stamp
        return True


def reloaded(ring: Keyring, path: Path) -> Keyring:
    """``ring`` with the key file's keys: all of them, so every value stays readable; its active
    key too when the file is of the ring's profile (another profile's keys wait for a restart, as
    app/security/blind_state.py says).  The ring's guard is kept."""
    data = _read_key_file(path)
    parsed = {kid: parse_key_text(text) for kid, text in data["keys"].items()}
    same_profile = (data.get("profile") or STANDARD) == ring.profile
    return replace(ring, keys={**ring.keys, **{kid: key for kid, (key, _) in parsed.items()}},
                   active=data["active"] if same_profile else ring.active,
                   sm4=ring.sm4 | {kid for kid, (_, is_sm4) in parsed.items() if is_sm4}, _aead={})


def watch_key_file(app) -> None:
    """Remember, in ``app.extensions``, the key file a development keyring was read from."""
    key_file = app.config.get("XUEJI_KEY_FILE")
    if key_file and not app.config.get("XUEJI_ENCRYPTION_KEYS"):
        app.extensions["xueji_key_file"] = KeyFileWatch(Path(key_file))


def keyring_in_force(app) -> Keyring:
    """The app's keyring, with any key added to its key file since (see ``KeyFileWatch``)."""
    watch = app.extensions.get("xueji_key_file")
    if watch is not None and watch.changed():
        try:
            app.extensions["xueji_keyring"] = reloaded(app.extensions["xueji_keyring"], watch.path)
        except (OSError, ValueError, KeyError, KeyError_):
            watch.stamp = None  # half-written or damaged: keep the keys in hand, read it again later
    return app.extensions["xueji_keyring"]
