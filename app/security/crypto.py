"""Field encryption for personal data: AES-256-GCM bound to table, column and row, with key ids.

A stored value looks like ``v1:<kid>:<base64url(nonce || ciphertext+tag)>``.  The associated data is
``<table>.<column>.<row uid>``, so a ciphertext copied onto another row or column fails to decrypt.
Exact look-ups use a blind index: HMAC-SHA256 under a separate key, never the encryption key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1"
NONCE_BYTES = 12


class KeyError_(Exception):
    """A key is missing, malformed or cannot decrypt a value."""


@dataclass(frozen=True)
class Keyring:
    """Encryption keys by id, the active one, and the blind-index key."""

    keys: dict[str, bytes]
    active: str
    blind_key: bytes
    _aead: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyError_(f"active key id {self.active!r} is not among the configured keys")
        for kid, key in self.keys.items():
            if ":" in kid or not kid:
                raise KeyError_(f"key id {kid!r} must be non-empty and contain no ':'")
            if len(key) != 32:
                raise KeyError_(f"key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
            self._aead[kid] = AESGCM(key)
        if len(self.blind_key) < 16:
            raise KeyError_("the blind-index key must be at least 16 bytes")

    # -- encryption -------------------------------------------------------------------------
    def encrypt(self, plaintext: str, aad: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.active].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{PREFIX}:{self.active}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, aad: bytes) -> str:
        try:
            prefix, kid, body = token.split(":", 2)
        except ValueError:
            raise KeyError_("stored value is not an encrypted token") from None
        if prefix != PREFIX:
            raise KeyError_(f"unknown token format {prefix!r}")
        aead = self._aead.get(kid)
        if aead is None:
            raise KeyError_(f"key {kid!r} is not configured; cannot decrypt")
        try:
            raw = base64.urlsafe_b64decode(body)
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad).decode("utf-8")
        except (InvalidTag, ValueError):  # binascii.Error is a ValueError
            raise KeyError_("ciphertext does not belong to this row/column or was altered") from None

    def encrypt_bytes(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        kid = self.active.encode()
        return bytes([len(kid)]) + kid + nonce + self._aead[self.active].encrypt(nonce, data, aad)

    def decrypt_bytes(self, blob: bytes, aad: bytes) -> bytes:
        if not blob or len(blob) < 2 + blob[0] + NONCE_BYTES:
            raise KeyError_("stored value is not an encrypted blob")
        n = blob[0]
        kid = blob[1 : 1 + n].decode(errors="replace")
        aead = self._aead.get(kid)
        if aead is None:
            raise KeyError_(f"key {kid!r} is not configured; cannot decrypt")
        rest = blob[1 + n :]
        try:
            return aead.decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], aad)
        except InvalidTag:
            raise KeyError_("ciphertext does not belong to this row/column or was altered") from None

    @staticmethod
    def key_id_of(token: str | bytes) -> str:
        if isinstance(token, bytes):
            return token[1 : 1 + token[0]].decode()
        return token.split(":", 2)[1]

    # -- blind index ------------------------------------------------------------------------
    def blind_index(self, purpose: str, value: str) -> str:
        """Keyed hash of a normalised value, for equality look-ups without decrypting."""
        msg = f"{purpose}\x00{value}".encode("utf-8")
        return hmac.new(self.blind_key, msg, hashlib.sha256).hexdigest()


def aad_for(table: str, column: str, row_uid: str) -> bytes:
    return f"{table}.{column}.{row_uid}".encode("utf-8")


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.strip())


def parse_key_list(spec: str) -> dict[str, bytes]:
    """Parse ``kid:base64,kid2:base64`` into a dict."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, sep, value = part.partition(":")
        if not sep:
            raise KeyError_(f"key entry {part[:8]}... must look like 'kid:base64key'")
        keys[kid] = unb64(value)
    return keys
