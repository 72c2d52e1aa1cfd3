"""Evidence attachments: PDF, JPEG or PNG, size-limited, stored encrypted and bound to their row."""

from __future__ import annotations

import hashlib
import os

from ...errors import ValidationFailed
from ...i18n import t
from ...models import Attachment
from ...models.base import keyring
from ...security.crypto import aad_for

MAX_BYTES = 5 * 1024 * 1024
_TYPES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg",
          b"\x89PNG\r\n\x1a\n": "image/png"}


def sniff(data: bytes) -> str | None:
    """The file's type by its first bytes (PDF, JPEG, PNG), or None for anything else."""
    return next((mime for magic, mime in _TYPES.items() if data.startswith(magic)), None)


def evidence(model, upload, actor, **owner):
    """One uploaded file (a FileStorage, or a (name, bytes) pair) as a ``model`` row (a request's
    ``Attachment`` or a queued filing's ``QueuedAttachment``): checked, encrypted, bound to its row."""
    name, data = (upload if isinstance(upload, tuple)
                  else (upload.filename, upload.read(MAX_BYTES + 1)))
    name = os.path.basename(name or "evidence")[:200]
    if len(data) > MAX_BYTES:
        raise ValidationFailed(t(f"文件 {name} 超过 5 MB", f"{name} is larger than 5 MB"), "evidence")
    mime = sniff(data)
    if mime is None:
        raise ValidationFailed(t(f"文件 {name} 须为 PDF、JPEG 或 PNG", f"{name} must be PDF, JPEG or PNG"),
                               "evidence")
    item = model(filename=name, content_type=mime, size=len(data),
                 sha256=hashlib.sha256(data).hexdigest(), uploaded_by=actor.username, **owner)
    item.data_enc = keyring().encrypt_bytes(data, aad_for(model.__tablename__, "data_enc",
                                                          item.ensure_uid()))
    return item


def attach(session, req, upload, actor) -> Attachment:
    """Store one uploaded file on a request."""
    item = evidence(Attachment, upload, actor, request=req)
    session.add(item)
    return item


def read(item) -> bytes:
    """A stored file's bytes, decrypted (bound to its row: moved elsewhere, they do not open)."""
    return keyring().decrypt_bytes(item.data_enc, aad_for(item.__tablename__, "data_enc", item.uid))
