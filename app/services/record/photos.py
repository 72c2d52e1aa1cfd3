"""Student photos: type and size checked, stored encrypted with the row's other personal data."""

from __future__ import annotations

from flask import current_app

from ...errors import ValidationFailed
from ...i18n import t
from ...models.base import keyring
from ...security.crypto import aad_for

_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def sniff(data: bytes) -> str | None:
    for magic, mime in _SIGNATURES.items():
        if data.startswith(magic):
            return mime
    return None


def store(student, data: bytes) -> None:
    limit = current_app.config.get("XUEJI_PHOTO_MAX_BYTES", 2 * 1024 * 1024)
    if len(data) > limit:
        raise ValidationFailed(t(f"照片不能超过 {limit // 1024} KB", "photo too large"), "photo_upload")
    mime = sniff(data)
    if mime is None:
        raise ValidationFailed(t("照片须为 JPEG 或 PNG 图片", "photo must be JPEG or PNG"), "photo_upload")
    student.photo_enc = keyring().encrypt_bytes(data, aad_for("student", "photo_enc", student.ensure_uid()))
    student.photo_type = mime


def attach_upload(student, upload) -> None:
    """Store an uploaded photo from a form, if one was sent."""
    if upload is None or not getattr(upload, "filename", ""):
        return
    store(student, upload.read(current_app.config.get("XUEJI_PHOTO_MAX_BYTES", 2 << 20) + 1))


def decrypt(student) -> bytes:
    return keyring().decrypt_bytes(student.photo_enc, aad_for("student", "photo_enc", student.uid))
