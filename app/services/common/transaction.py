"""The one transaction rule: a use case commits when it succeeds and rolls back when it fails, here
and nowhere else (views, API resources and CLI commands never commit).

A use case called from inside another joins the outer transaction: only the outermost commits.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

_DEPTH = "xueji_transaction_depth"


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit on success, roll back on any error (and re-raise it); nested blocks join the outer."""
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def transactional(fn):
    """Run ``fn(session, ...)`` as one transaction (see ``transaction``)."""

    @functools.wraps(fn)
    def run(session: Session, *args, **kwargs):
        with transaction(session):
            return fn(session, *args, **kwargs)

    return run
