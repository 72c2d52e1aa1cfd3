"""Field encryption for personal data, bound to table, column and row, with key ids and two profiles.

Each stored value names its algorithm and key:

* ``v1:<kid>:<base64url(nonce || ciphertext+tag)>`` -- AES-256-GCM (profile ``standard``);
* ``sm4:<kid>:<base64url(nonce || ciphertext+tag)>`` -- SM4-GCM (profile ``sm``, 国密);
* bytes (photos, files): ``len(kid) || kid || nonce || ct+tag`` (AES-256-GCM; a key id is never
  empty, so its length byte is never 0) or ``0x00 "sm4" || len(kid) || kid || nonce || ct+tag``.

Nonces are 12 bytes and tags 16 whatever the cipher.  The associated data is
``<table>.<column>.<row uid>``, so a ciphertext copied onto another row or column fails to decrypt.
Values decrypt by what their token says, whatever the active profile.  Exact look-ups use a blind
index under a separate key: HMAC-SHA256 as 64 hex digits (standard), or HMAC-SM3 as ``sm3:`` and
base64url without padding (47 characters, so every blind column's 64 still holds it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1"
SM4_PREFIX = "sm4"
SM4_BLOB = b"\x00sm4"
SM3_BLIND = "sm3:"
_URLSAFE = bytes.maketrans(b"-_", b"+/")  # base64url to base64
NONCE_BYTES = 12
TAG_BYTES = 16
STANDARD, SM = "standard", "sm"
PROFILES = (STANDARD, SM)


class KeyError_(Exception):
    """A key is missing, malformed or cannot decrypt a value."""


class _SM4GCM:
    """SM4 in GCM mode with the AESGCM interface (cryptography has no SM4 AEAD class)."""

    def __init__(self, key: bytes) -> None:
        self._key = algorithms.SM4(key)

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        encryptor = Cipher(self._key, modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        return encryptor.update(data) + encryptor.finalize() + encryptor.tag

    def decrypt(self, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        if len(sealed) < TAG_BYTES:
            raise InvalidTag
        decryptor = Cipher(self._key, modes.GCM(nonce, sealed[-TAG_BYTES:])).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(sealed[:-TAG_BYTES]) + decryptor.finalize()


@dataclass(frozen=True)
class Keyring:
    """Encryption keys by id (``sm4`` names the SM4 ones), the active one, the blind-index key and
    the profile that decides the cipher of new values and the blind index's hash."""

    keys: dict[str, bytes]
    active: str
    blind_key: bytes
    profile: str = STANDARD
    sm4: frozenset[str] = frozenset()
    _aead: dict[str, AESGCM | _SM4GCM] = field(default_factory=dict, compare=False, repr=False)
    # asked before each blind index with the profile (app/security/blind_state.check): the app's
    # own keyring refuses while the stored indexes are of another profile
    guard: Callable[[str], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise KeyError_(f"crypto profile must be 'standard' or 'sm', got {self.profile!r}")
        if self.active not in self.keys:
            raise KeyError_(f"active key id {self.active!r} is not among the configured keys")
        for kid, key in self.keys.items():
            if ":" in kid or not kid:
                raise KeyError_(f"key id {kid!r} must be non-empty and contain no ':'")
            self._aead[kid] = _cipher(kid, key, kid in self.sm4)
        if (self.active in self.sm4) != (self.profile == SM):
            kind = "an SM4" if self.active in self.sm4 else "an AES-256"
            raise KeyError_(
                f"the active key {self.active!r} is {kind} key but the crypto profile is "
                f"{self.profile!r}: make a key of the profile's kind active"
            )
        if len(self.blind_key) < 16:
            raise KeyError_("the blind-index key must be at least 16 bytes")

    # -- encryption -------------------------------------------------------------------------
    def encrypt(self, plaintext: str, aad: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.active].encrypt(nonce, plaintext.encode("utf-8"), aad)
        prefix = SM4_PREFIX if self.active in self.sm4 else PREFIX
        return f"{prefix}:{self.active}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, aad: bytes) -> str:
        try:
            prefix, kid, body = token.split(":", 2)
        except ValueError:
            raise KeyError_("stored value is not an encrypted token") from None
        if prefix not in (PREFIX, SM4_PREFIX):
            raise KeyError_(f"unknown token format {prefix!r}")
        aead = self._cipher_for(kid, prefix == SM4_PREFIX)
        try:
            # base64.urlsafe_b64decode's work without its pure-Python steps: an export decrypts
            # hundreds of thousands of values
            raw = binascii.a2b_base64(body.encode("ascii").translate(_URLSAFE))
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad).decode("utf-8")
        except (InvalidTag, ValueError):  # binascii.Error is a ValueError
            raise KeyError_("ciphertext does not belong to this row/column or was altered") from None

    def opener(self) -> Callable[[str, bytes], str]:
        """``decrypt`` for many values (an export's hundreds of thousands): a token's algorithm
        and key id are checked once, by ``decrypt``, and their cipher kept for the next tokens."""
        known: dict[str, AESGCM | _SM4GCM] = {}

        def open_(token: str, aad: bytes) -> str:
            head, _, body = token.rpartition(":")  # base64url has no ':'
            aead = known.get(head)
            if aead is None:
                plain = self.decrypt(token, aad)  # raises as it does for a token of any other form
                prefix, kid, _ = token.split(":", 2)
                if head == f"{prefix}:{kid}":  # then decrypt would split the next such token here too
                    known[head] = self._cipher_for(kid, prefix == SM4_PREFIX)
                return plain
            try:
                raw = binascii.a2b_base64(body.encode("ascii").translate(_URLSAFE))
                return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad).decode("utf-8")
            except (InvalidTag, ValueError):
                raise KeyError_("ciphertext does not belong to this row/column or was altered") from None

        return open_

    def encrypt_bytes(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        kid = self.active.encode()
        marker = SM4_BLOB if self.active in self.sm4 else b""
        return marker + bytes([len(kid)]) + kid + nonce + self._aead[self.active].encrypt(nonce, data, aad)

    def decrypt_bytes(self, blob: bytes, aad: bytes) -> bytes:
        is_sm4 = blob.startswith(SM4_BLOB)
        body = blob[len(SM4_BLOB) :] if is_sm4 else blob
        if not body or len(body) < 2 + body[0] + NONCE_BYTES:
            raise KeyError_("stored value is not an encrypted blob")
        n = body[0]
        aead = self._cipher_for(body[1 : 1 + n].decode(errors="replace"), is_sm4)
        rest = body[1 + n :]
        try:
            return aead.decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], aad)
        except InvalidTag:
            raise KeyError_("ciphertext does not belong to this row/column or was altered") from None

    def _cipher_for(self, kid: str, is_sm4: bool) -> AESGCM | _SM4GCM:
        aead = self._aead.get(kid)
        if aead is None:
            raise KeyError_(f"key {kid!r} is not configured; cannot decrypt")
        if is_sm4 != (kid in self.sm4):
            raise KeyError_(f"key {kid!r} is not a key of the value's algorithm")
        return aead

    @staticmethod
    def key_id_of(token: str | bytes) -> str:
        if isinstance(token, bytes):
            if token.startswith(SM4_BLOB):
                token = token[len(SM4_BLOB) :]
            return token[1 : 1 + token[0]].decode()
        return token.split(":", 2)[1]

    def derived(self, label: bytes) -> bytes:
        """A key of its own for one use (the audit chain, backup manifests): HKDF-SHA256 of the
        blind-index key under ``label`` -- never stored, the same in both profiles."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(self.blind_key)

    # -- blind index ------------------------------------------------------------------------
    def blind_index(self, purpose: str, value: str) -> str:
        """Keyed hash of a normalised value, for equality look-ups without decrypting."""
        if self.guard is not None:
            self.guard(self.profile)
        msg = f"{purpose}\x00{value}".encode("utf-8")
        if self.profile == SM:
            mac = crypto_hmac.HMAC(self.blind_key, hashes.SM3())
            mac.update(msg)
            return SM3_BLIND + base64.urlsafe_b64encode(mac.finalize()).decode().rstrip("=")
        return hmac.new(self.blind_key, msg, hashlib.sha256).hexdigest()

    def blind_is_current(self, digest: str) -> bool:
        """Whether a stored blind index was made by this profile's hash (else it must be redone)."""
        return digest.startswith(SM3_BLIND) == (self.profile == SM)


def _cipher(kid: str, key: bytes, is_sm4: bool) -> AESGCM | _SM4GCM:
    if is_sm4:
        if len(key) != 16:
            raise KeyError_(f"key {kid!r} must be 16 bytes (SM4), got {len(key)}")
        return _SM4GCM(key)
    if len(key) != 32:
        raise KeyError_(f"key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
    return AESGCM(key)


def aad_for(table: str, column: str, row_uid: str) -> bytes:
    return f"{table}.{column}.{row_uid}".encode("utf-8")


def new_key(profile: str = STANDARD) -> bytes:
    return os.urandom(16) if profile == SM else AESGCM.generate_key(bit_length=256)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.strip())


def key_text(key: bytes, profile: str = STANDARD) -> str:
    """A key as configured: base64 for AES-256, ``sm4:`` and base64 for SM4."""
    return f"{SM4_PREFIX}:{b64(key)}" if profile == SM else b64(key)


def parse_key_text(text: str) -> tuple[bytes, bool]:
    """``base64`` (AES-256) or ``sm4:base64`` -> (key, is it SM4)."""
    kind, sep, value = text.strip().rpartition(":")
    if sep and kind != SM4_PREFIX:
        raise KeyError_(f"unknown key kind {kind!r}: a key is base64 (AES-256) or 'sm4:' and base64")
    return unb64(value), bool(sep)


def parse_key_list(spec: str) -> tuple[dict[str, bytes], frozenset[str]]:
    """Parse ``kid:base64,kid2:sm4:base64`` into the keys by id and the ids of the SM4 ones."""
    keys: dict[str, bytes] = {}
    sm4: set[str] = set()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, sep, value = part.partition(":")
        if not sep:
            raise KeyError_(f"key entry {part[:8]}... must look like 'kid:base64key'")
        keys[kid], is_sm4 = parse_key_text(value)
        if is_sm4:
            sm4.add(kid)
    return keys, frozenset(sm4)
