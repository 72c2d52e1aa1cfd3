"""Masks for personal data in lists: no birth date, no sex digit, no house number."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """Keep the 3-digit area prefix and the check character: 430***************X."""
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 4) + value[-1]


def mask_phone(value: str | None) -> str:
    """138****5678; short numbers keep only their last two digits."""
    if not value:
        return ""
    if len(value) >= 11:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * max(len(value) - 2, 0) + value[-2:]


def mask_address(value: str | None) -> str:
    """Keep the first six characters (province, city), hide the rest."""
    if not value:
        return ""
    return value[:6] + "****"


def mask_registry_no(value: str | None) -> str:
    """Every kind of 学籍号 carries a birth date (G carries the whole ID): keep letter and area."""
    if not value:
        return ""
    return value[:7] + "*" * (len(value) - 8) + value[-1]
