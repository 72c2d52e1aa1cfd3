"""Words users read: Chinese by default, English when the user picks it (Flask-Babel's locale).

``t(zh, en)`` is a lazy string: it is rendered in the language of the request that shows it, so a
service can build a message without knowing who will read it (outside a request: Chinese).
"""

from __future__ import annotations

from flask import has_request_context
from flask_babel import LazyString, get_locale


def english() -> bool:
    if not has_request_context():
        return False
    try:
        return str(get_locale() or "zh").startswith("en")
    except Exception:  # no Babel on this app (a bare test app)
        return False


def t(zh: str, en: str) -> LazyString:
    """A message in both languages, shown in the reader's."""
    return LazyString(lambda: en if english() else zh)
