"""Key rotation: a new active key (of the active profile's kind), then every personal value
re-encrypted under it and every blind index recomputed with the profile's hash, in batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import (
    AccountTotp,
    Attachment,
    CryptoState,
    ExportRequest,
    FamilyMember,
    ImportChunk,
    ImportJob,
    ProblemCase,
    ProblemMember,
    QualityForm,
    QueuedAttachment,
    QueuedRequest,
    RegistryNumber,
    Request,
    Student,
)
from ...security import blind_state
from ...security.crypto import Keyring, aad_for
from ...security.keys import add_key_to_file, keyring_from_config, profile_of
from ..common.transaction import transaction
from .reindex import BATCH, reindex_cases_without_id, repoint_person_keys, stale_left


@dataclass(frozen=True)
class Blind:
    """A blind-index column, the encrypted column whose value it hashes, and the hash's purpose."""

    column: str
    source: str
    purpose: str
    prefix: int | None = None  # hash only the value's first characters (a J number's series)


@dataclass(frozen=True)
class Sealed:
    """A table's encrypted columns, the columns that make the row part of their associated data
    (joined by ':'), and its blind indexes."""

    model: type
    columns: tuple[str, ...]
    row_key: tuple[str, ...] = ("uid",)
    blinds: tuple[Blind, ...] = ()

    def aad(self, column: str, row: Any) -> bytes:
        return aad_for(self.model.__tablename__, column, ":".join(str(getattr(row, c)) for c in self.row_key))


ENCRYPTED = (
    Sealed(Student, ("registry_no_enc", "id_number_enc", "current_address_enc", "mailing_address_enc",
                     "home_address_enc", "phone_enc", "email_enc", "photo_enc"),
           blinds=(Blind("registry_blind", "registry_no_enc", "registry_no"),
                   Blind("id_blind", "id_number_enc", "id_number"))),
    Sealed(FamilyMember, ("id_number_enc", "current_address_enc", "phone_enc"),
           blinds=(Blind("id_blind", "id_number_enc", "id_number"),)),
    Sealed(RegistryNumber, ("number_enc",),
           blinds=(Blind("number_blind", "number_enc", "registry_no"),
                   Blind("series", "number_enc", "registry_series", prefix=15))),
    Sealed(Request, ("payload_enc", "before_enc")),
    Sealed(QueuedRequest, ("payload_enc",)),
    Sealed(Attachment, ("data_enc",)),
    Sealed(QueuedAttachment, ("data_enc",)),
    Sealed(ImportJob, ("file_enc", "checked_enc")),
    Sealed(ImportChunk, ("data_enc",), row_key=("job_id", "seq")),
    Sealed(ProblemMember, ("evidence_enc",), row_key=("case_id", "id")),
    Sealed(QualityForm, ("scan_enc",)),
    Sealed(ExportRequest, ("file_enc",)),
    Sealed(AccountTotp, ("secret",), row_key=("user_id",)),  # aad account_totp.secret.<user id>
)


def _rewrite_row(ring: Keyring, sealed: Sealed, row: Any) -> dict:
    """The new values of one row: each value not under the active key, each stale blind index."""
    clear: dict[str, Any] = {}

    def plain(column: str) -> Any:
        if column not in clear:
            token, aad = getattr(row, column), sealed.aad(column, row)
            clear[column] = ring.decrypt_bytes(token, aad) if isinstance(token, bytes) else ring.decrypt(token, aad)
        return clear[column]

    values: dict[str, Any] = {}
    for col in sealed.columns:
        token = getattr(row, col)
        if token is not None and Keyring.key_id_of(token) != ring.active:
            aad = sealed.aad(col, row)
            values[col] = ring.encrypt_bytes(plain(col), aad) if isinstance(token, bytes) else ring.encrypt(plain(col), aad)
    for blind in sealed.blinds:
        digest = getattr(row, blind.column)
        if digest is not None and not ring.blind_is_current(digest):
            values[blind.column] = ring.blind_index(blind.purpose, plain(blind.source)[: blind.prefix])
    return values


def _rewrite_batch(session: Session, ring: Keyring, sealed: Sealed, rows) -> int:
    """Rewrite the rows of one batch that need it; returns how many."""
    table = sealed.model.__table__
    pk = next(iter(table.primary_key.columns))
    moved: list[dict[str, str]] = []  # a person's ID index, old and new: what admissions and cases hold
    count = 0
    for row in rows:
        values = _rewrite_row(ring, sealed, row)
        if values:
            session.execute(update(table).where(pk == getattr(row, pk.name)).values(**values))
            count += 1
            if sealed.model is Student and "id_blind" in values:
                moved.append({"old": row.id_blind, "new": values["id_blind"]})
    repoint_person_keys(session, moved)
    return count


def _rewrite_table(session: Session, ring: Keyring, sealed: Sealed) -> int:
    table = sealed.model.__table__
    pk = next(iter(table.primary_key.columns))
    names = dict.fromkeys((pk.name, *sealed.row_key, *sealed.columns, *(b.column for b in sealed.blinds)))
    last, count = None, 0
    while True:
        with transaction(session):  # one batch: a rotation stopped half-way keeps what it did
            query = select(*(table.c[n] for n in names)).order_by(pk).limit(BATCH)
            rows = session.execute(query if last is None else query.where(pk > last)).all()
            count += _rewrite_batch(session, ring, sealed, rows)
        if not rows:
            return count
        last = getattr(rows[-1], pk.name)


def reencrypt_all(session: Session, ring: Keyring) -> dict[str, dict[str, int]]:
    """Re-encrypt every value not under the active key and redo every blind index not made by the
    active profile; returns rows rewritten per table, and index values no record could redo."""
    done = {sealed.model.__tablename__: _rewrite_table(session, ring, sealed) for sealed in ENCRYPTED}
    done[ProblemCase.__tablename__] = reindex_cases_without_id(session, ring)
    return {"rewritten": done, "unmatched": stale_left(session, ring)}


def rotate(app, session: Session, *, new_key: bool = True, profile: str | None = None) -> dict:
    """With a key file, add a fresh active key of the target profile first; then move every value
    to the active key and profile.  Keys from the environment must already say the target."""
    key_file = app.config.get("XUEJI_KEY_FILE")
    configured = profile_of(app.config)
    target = profile or configured
    if new_key or target != configured:
        if not key_file or app.config.get("XUEJI_ENCRYPTION_KEYS"):
            raise SystemExit(
                "keys come from the environment: add the new key there (an SM4 key as "
                "'kid:sm4:base64'), make it XUEJI_ACTIVE_KEY, set XUEJI_CRYPTO_PROFILE "
                f"to {target!r}, then run `keys rotate --no-new-key`"
            )
        if app.config.get("XUEJI_CRYPTO_PROFILE") not in (None, "", target):
            raise SystemExit(
                f"XUEJI_CRYPTO_PROFILE is {configured!r}: set it to {target!r} (or unset "
                "it) to rotate to that profile"
            )
        add_key_to_file(Path(key_file), target)
    ring = keyring_from_config(app.config)  # no guard: it is what finishes the move
    app.extensions["xueji_keyring"] = ring
    with transaction(session):  # indexes to move: every other process stops looking up until done
        state = session.get(CryptoState, 1)
        if state is None or state.rotating or state.blind_profile != ring.profile:
            blind_state.record(session, ring.profile, rotating=True, now=datetime.now())
    moved = reencrypt_all(session, ring)
    with transaction(session):
        blind_state.record(session, ring.profile, rotating=False, now=datetime.now())
    return {"active": ring.active, "profile": ring.profile, **moved}


def key_usage(session: Session) -> dict[str, dict[str, int]]:
    usage: dict[str, dict[str, int]] = {}
    for sealed in ENCRYPTED:
        table = sealed.model.__table__
        for col in sealed.columns:
            for (token,) in session.execute(select(table.c[col]).where(table.c[col].is_not(None))):
                kid = Keyring.key_id_of(token)
                usage.setdefault(kid, {}).setdefault(table.name, 0)
                usage[kid][table.name] += 1
    return usage
