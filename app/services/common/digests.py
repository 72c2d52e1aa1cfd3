"""The SHA-256 a file is known by (exports, backups): of a path, read in blocks, or of bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_of(out: Path | bytes) -> str:
    if isinstance(out, bytes):
        return hashlib.sha256(out).hexdigest()
    with Path(out).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
