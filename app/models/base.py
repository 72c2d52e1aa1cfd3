"""Building blocks shared by the models: row uids, timestamps, encrypted attributes."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import Column, DateTime, String

from ..clock import local_now  # the wall clock that stamps rows (re-exported for the models)
from ..security.crypto import Keyring, aad_for
from ..security.keys import keyring_in_force


def new_uid() -> str:
    return uuid.uuid4().hex


def keyring() -> Keyring:
    return keyring_in_force(current_app)


class RowUidMixin:
    """A random, immutable row id used to bind ciphertexts to their row (known before INSERT)."""

    uid = Column(String(32), nullable=False, unique=True, default=new_uid)

    def ensure_uid(self) -> str:
        if not self.uid:
            self.uid = new_uid()
        return self.uid


class TimestampMixin:
    created_at = Column(DateTime, nullable=False, default=local_now)
    updated_at = Column(DateTime, nullable=False, default=local_now, onupdate=local_now)


def encrypted(
    column: str, *, blind: str | None = None, purpose: str = "id_number", normalize=None
) -> property:
    """A plaintext attribute stored encrypted in ``<column>`` (and blind-indexed in ``<blind>``).

    It is a plain ``property`` so FAB shows it as a read-only field and forms can still set it.
    """

    def fget(self: Any) -> str | None:
        token = getattr(self, column)
        if token is None:
            return None
        return keyring().decrypt(token, aad_for(self.__tablename__, column, self.ensure_uid()))

    def fset(self: Any, value: str | None) -> None:
        if value is not None:
            value = normalize(value) if normalize else str(value).strip()
        if not value:
            setattr(self, column, None)
            if blind:
                setattr(self, blind, None)
            return
        if getattr(self, column) is not None and fget(self) == value:
            return  # unchanged: keep the ciphertext, so nothing looks edited
        ring = keyring()
        setattr(self, column, ring.encrypt(value, aad_for(self.__tablename__, column, self.ensure_uid())))
        if blind:
            setattr(self, blind, ring.blind_index(purpose, value))

    return property(fget, fset, doc=f"decrypted value of {column}")
