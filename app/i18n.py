"""Words users read: Chinese by default, English when the user picks it (Flask-Babel's locale).

``t(zh, en)`` is a lazy string: it is rendered in the language of the request that shows it, so a
service can build a message without knowing who will read it (outside a request: Chinese).
``speaking("en")`` renders them in one language inside a block, whoever reads (a job making a
report in both languages has no reader).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context
from flask_babel import LazyString, get_locale

_SPOKEN: ContextVar[str | None] = ContextVar("xueji_spoken", default=None)


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Inside the block every ``t(...)`` is rendered in ``lang`` ("zh" or "en")."""
    token = _SPOKEN.set(lang)
    try:
        yield
    finally:
        _SPOKEN.reset(token)


def english() -> bool:
    spoken = _SPOKEN.get()
    if spoken is not None:
        return spoken == "en"
    if not has_request_context():
        return False
    try:
        return str(get_locale() or "zh").startswith("en")
    except Exception:  # no Babel on this app (a bare test app)
        return False


def t(zh: str, en: str) -> LazyString:
    """A message in both languages, shown in the reader's."""
    return LazyString(lambda: en if english() else zh)
