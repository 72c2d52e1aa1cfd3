"""The one business clock: the time business happens at, for pages, the API, the CLI and the
services' callers (services take ``now`` as an argument; a check with no caller's time to hand
asks this clock, never the system's).

Business time is the local time of XUEJI_TIMEZONE, unless XUEJI_FIXED_NOW pins it (an ISO local
date-time, e.g. ``2027-08-10T12:00:00``) for demos, acceptance runs and tests.  ``local_now`` is the
wall clock of the same zone, never pinned: the stamps of rows written and the windows that measure
real time (a sign-in lock, an idle session, an import whose worker died).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def _setting(name: str, default: str | None = None) -> str | None:
    """A clock setting of the running app, else of the environment (outside any app)."""
    if has_app_context():
        return current_app.config.get(name, default)
    return os.environ.get(name, default)


def local_now() -> datetime:
    """Naive wall-clock time of the registry's zone (Asia/Shanghai unless configured)."""
    zone = _setting("XUEJI_TIMEZONE", DEFAULT_ZONE) or DEFAULT_ZONE
    return datetime.now(ZoneInfo(zone)).replace(tzinfo=None)


def parse_fixed(value: str) -> datetime:
    """XUEJI_FIXED_NOW as a naive local date-time, or ValueError saying what it must be."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"XUEJI_FIXED_NOW={value!r} is not an ISO date-time such as "
                         "2027-08-10T12:00:00") from None
    if moment.tzinfo is not None:
        raise ValueError(f"XUEJI_FIXED_NOW={value!r}: give the local time of XUEJI_TIMEZONE, "
                         "without an offset")
    return moment


def now() -> datetime:
    """The business time: XUEJI_FIXED_NOW when the clock is pinned, else ``local_now()``."""
    fixed = _setting("XUEJI_FIXED_NOW")
    return parse_fixed(fixed) if fixed else local_now()


def today() -> date:
    """The business date (see ``now``)."""
    return now().date()
