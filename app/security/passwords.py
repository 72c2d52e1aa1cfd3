"""Password strength: long enough, and mixing kinds of characters."""

from __future__ import annotations

import re

from flask_appbuilder.exceptions import PasswordComplexityValidationError

from ..i18n import t

MIN_LENGTH = 10
_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
_COMMON = {"password123", "qwerty12345", "1234567890", "abcdefghij", "a1234567890"}


def password_problem(password: str) -> str | None:
    """Why a password is too weak, or None when it is strong enough."""
    if len(password or "") < MIN_LENGTH:
        return t(f"密码至少 {MIN_LENGTH} 位", f"at least {MIN_LENGTH} characters")
    kinds = sum(1 for c in _CLASSES if re.search(c, password))
    if kinds < 3:
        return t("密码须包含大写字母、小写字母、数字、符号中的至少三类", "use 3 of: upper, lower, digit, symbol")
    if password.lower() in _COMMON or len(set(password)) < 5:
        return t("密码过于简单", "password too common")
    return None


def check_password_strength(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: raise when the password is too weak."""
    problem = password_problem(password)
    if problem:
        raise PasswordComplexityValidationError(problem)
