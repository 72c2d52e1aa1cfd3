"""What a human typed, as the machine wants it: full-width to half-width, no stray spaces."""

from __future__ import annotations

import unicodedata


def normalize_text(value) -> str:
    """NFKC (full-width digits and letters become ASCII), every kind of space removed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(ch for ch in text if not ch.isspace())


def normalize_id(value) -> str:
    """An ID or registry number: normalised text, upper case (a typed lowercase x is an X)."""
    return normalize_text(value).upper()
