"""Key rotation: a new active key, then every personal value re-encrypted under it, in batches."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import FamilyMember, RegistryNumber, Student
from ...security.crypto import Keyring, aad_for
from ...security.keys import add_key_to_file, keyring_from_config
from ..common.transaction import transaction

BATCH = 1000
ENCRYPTED = {
    Student: ("registry_no_enc", "id_number_enc", "current_address_enc", "mailing_address_enc", "home_address_enc",
              "phone_enc", "email_enc", "photo_enc"),
    FamilyMember: ("id_number_enc", "current_address_enc", "phone_enc"),
    RegistryNumber: ("number_enc",),
}


def _reencrypt_row(ring: Keyring, table: str, row, columns) -> dict | None:
    values = {}
    for col in columns:
        token = getattr(row, col)
        if token is None or Keyring.key_id_of(token) == ring.active:
            continue
        aad = aad_for(table, col, row.uid)
        if isinstance(token, bytes):
            values[col] = ring.encrypt_bytes(ring.decrypt_bytes(token, aad), aad)
        else:
            values[col] = ring.encrypt(ring.decrypt(token, aad), aad)
    return values or None


def _reencrypt_batch(session: Session, ring: Keyring, model, rows, columns) -> int:
    """Rewrite the rows of one batch not under the active key; returns how many."""
    count = 0
    for row in rows:
        values = _reencrypt_row(ring, model.__tablename__, row, columns)
        if values:
            session.execute(update(model.__table__).where(model.__table__.c.id == row.id).values(**values))
            count += 1
    return count


def reencrypt_all(session: Session, ring: Keyring) -> dict[str, int]:
    """Re-encrypt every value not under the active key; returns rows rewritten per table."""
    done = {}
    for model, columns in ENCRYPTED.items():
        table = model.__tablename__
        cols = [model.__table__.c[c] for c in columns]
        last, count = 0, 0
        while True:
            with transaction(session):  # one batch: a rotation stopped half-way keeps what it did
                rows = session.execute(select(model.__table__.c.id, model.__table__.c.uid, *cols)
                                       .where(model.__table__.c.id > last)
                                       .order_by(model.__table__.c.id).limit(BATCH)).all()
                count += _reencrypt_batch(session, ring, model, rows, columns)
            if not rows:
                break
            last = rows[-1].id
        done[table] = count
    return done


def rotate(app, session: Session, *, new_key: bool = True) -> dict:
    """With a key file, add a fresh active key first; then re-encrypt to the active key."""
    key_file = app.config.get("XUEJI_KEY_FILE")
    if new_key:
        if not key_file or app.config.get("XUEJI_ENCRYPTION_KEYS"):
            raise SystemExit("keys come from the environment: add the new key there, make it "
                             "XUEJI_ACTIVE_KEY, then run `keys rotate --no-new-key`")
        add_key_to_file(Path(key_file))
    ring = keyring_from_config(app.config)
    app.extensions["xueji_keyring"] = ring
    return {"active": ring.active, "rewritten": reencrypt_all(session, ring)}


def key_usage(session: Session) -> dict[str, dict[str, int]]:
    usage: dict[str, dict[str, int]] = {}
    for model, columns in ENCRYPTED.items():
        for col in columns:
            for (token,) in session.execute(select(model.__table__.c[col])
                                            .where(model.__table__.c[col].is_not(None))):
                kid = Keyring.key_id_of(token)
                usage.setdefault(kid, {}).setdefault(model.__tablename__, 0)
                usage[kid][model.__tablename__] += 1
    return usage
