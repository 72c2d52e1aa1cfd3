"""Signing keys of the reports: one Ed25519 key pair per node (province, city, county or school),
kept in files outside the database -- like the data-encryption keys, never inside a backup of it.

Each node has one file ``<dir>/<node code>.json`` (mode 0600, the directory 0700)::

    {"node": "430102", "keys": [{"kid": "430102-1", "public": "<base64 raw 32 bytes>",
      "private": null, "valid_from": "2026-09-01T08:00:00", "valid_until": "2026-10-02T09:00:00"},
      {"kid": "430102-2", "public": "...", "private": "<base64 raw 32 bytes>",
      "valid_from": "2026-10-02T09:00:00", "valid_until": null}]}

A node's key is created the first time it is needed.  Rotation ends the active key's validity,
forgets its private half (no file can be signed with it any more) and starts a new one; the public
halves stay published with their periods, so a file signed under an old key still verifies.

The directory is ``XUEJI_SIGNING_KEY_DIR``; without it, ``<instance dir>/signing-keys`` in
development and tests.  Production never guesses: signing needs the setting, verifying without it
finds no published key.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

NODE_CODE = re.compile(r"^\d{6}(\d{4})?$")  # a 6-digit division or a 10-digit school code
_RAW = {"encoding": serialization.Encoding.Raw, "format": serialization.PublicFormat.Raw}


class SigningKeyError(RuntimeError):
    """No key directory configured, a damaged key file, or a node code that is not one."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def fingerprint(public: bytes) -> str:
    """A short, stable name of a public key: the first 16 hex digits of its SHA-256, in groups."""
    digest = hashlib.sha256(public).hexdigest()[:16]
    return " ".join(digest[i:i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class PublicKey:
    """One published public key of a node, with the period it signed in (``until`` None: active)."""

    node: str
    kid: str
    public: bytes
    valid_from: datetime
    valid_until: datetime | None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    @property
    def active(self) -> bool:
        return self.valid_until is None

    def valid_at(self, moment: datetime) -> bool:
        """Whether a signature made at ``moment`` falls in this key's period."""
        return self.valid_from <= moment and (self.valid_until is None or moment <= self.valid_until)

    def verify(self, signature: bytes, message: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "key_id": self.kid, "public_key": _b64(self.public),
                "fingerprint": self.fingerprint, "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat() if self.valid_until else None}


@dataclass(frozen=True)
class SigningKey:
    """The active private key of a node, able to sign."""

    node: str
    kid: str
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


class KeyStore:
    """The key files of one directory."""

    def __init__(self, directory: str | Path | None):
        self.directory = Path(directory) if directory else None

    # -- reading ------------------------------------------------------------------------------
    def public_keys(self, node: str | None = None) -> list[PublicKey]:
        """Every published key (of one node), by node and then oldest first."""
        if self.directory is None or not self.directory.is_dir():
            return []
        paths = [self._path(node)] if node else sorted(self.directory.glob("*.json"))
        out = []
        for path in paths:
            if path.exists():
                out += [self._public(entry, path) for entry in self._read(path)["keys"]]
        return out

    def find(self, node: str, kid: str) -> PublicKey | None:
        """The published key ``kid`` of ``node``, None if the node never published it."""
        if not NODE_CODE.match(node or ""):
            return None
        return next((k for k in self.public_keys(node) if k.kid == kid), None)

    # -- writing ------------------------------------------------------------------------------
    def active(self, node: str, now: datetime) -> SigningKey:
        """The node's active signing key, created on first need."""
        with self._locked():
            data = self._load_or_new(node)
            entry = next((e for e in data["keys"] if e["valid_until"] is None and e["private"]), None)
            if entry is None:
                entry = self._add(data, node, now)
                self._write(self._path(node), data)
        return self._signing(node, entry)

    def rotate(self, node: str, now: datetime) -> tuple[str | None, str]:
        """End the active key's period (its private half is forgotten) and start a new key;
        returns (old key id or None, new key id)."""
        with self._locked():
            data = self._load_or_new(node)
            old = None
            for entry in data["keys"]:
                if entry["valid_until"] is None:
                    entry["valid_until"], entry["private"], old = now.isoformat(), None, entry["kid"]
            new = self._add(data, node, now)
            self._write(self._path(node), data)
        return old, new["kid"]

    # -- the files ----------------------------------------------------------------------------
    def _dir(self) -> Path:
        if self.directory is None:
            raise SigningKeyError("no signing-key directory: set XUEJI_SIGNING_KEY_DIR "
                                  "(production never creates keys in a place it guessed)")
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.directory

    def _path(self, node: str) -> Path:
        if not NODE_CODE.match(node or ""):
            raise SigningKeyError(f"{node!r} is not a node code (6 or 10 digits)")
        return (self.directory or Path(".")) / f"{node}.json"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes (two first signatures must not make two keys)."""
        lock = self._dir() / ".lock"
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data.get("keys"), list):
                raise ValueError("no key list")
            return data
        except (OSError, ValueError, AttributeError) as exc:
            raise SigningKeyError(f"signing-key file {path} is damaged: {exc}") from exc

    def _load_or_new(self, node: str) -> dict[str, Any]:
        path = self._path(node)
        return self._read(path) if path.exists() else {"node": node, "keys": []}

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.replace(tmp, path)

    @staticmethod
    def _add(data: dict[str, Any], node: str, now: datetime) -> dict[str, Any]:
        numbers = [int(e["kid"].rpartition("-")[2]) for e in data["keys"]
                   if e["kid"].rpartition("-")[2].isdigit()]
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
        entry = {"kid": f"{node}-{1 + max(numbers, default=0)}",
                 "public": _b64(private.public_key().public_bytes(**_RAW)), "private": _b64(raw),
                 "valid_from": now.isoformat(), "valid_until": None}
        data["keys"].append(entry)
        return entry

    def _public(self, entry: dict[str, Any], path: Path) -> PublicKey:
        try:
            until = entry.get("valid_until")
            return PublicKey(path.stem, entry["kid"], base64.b64decode(entry["public"]),
                             datetime.fromisoformat(entry["valid_from"]),
                             datetime.fromisoformat(until) if until else None)
        except (KeyError, ValueError, TypeError) as exc:
            raise SigningKeyError(f"signing-key file {path} is damaged: {exc}") from exc

    @staticmethod
    def _signing(node: str, entry: dict[str, Any]) -> SigningKey:
        raw = base64.b64decode(entry["private"])
        return SigningKey(node, entry["kid"], Ed25519PrivateKey.from_private_bytes(raw))


def store_from_config(config: dict[str, Any]) -> KeyStore:
    """The key store the configuration names: XUEJI_SIGNING_KEY_DIR, or (development and tests,
    which keep their other keys in a local file too) ``<instance dir>/signing-keys``."""
    directory = config.get("XUEJI_SIGNING_KEY_DIR")
    if not directory and config.get("ENV_NAME") != "production":
        directory = Path(config.get("INSTANCE_DIR") or "instance") / "signing-keys"
    return KeyStore(directory)
