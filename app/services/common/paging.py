"""One page of a list: its rows in a stable order (ending in a unique key), and the total count."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func
from sqlalchemy.orm import Session

PAGE_SIZE = 25  # rows of a page when the caller names no size
MOST_PER_PAGE = 100  # the largest page a caller may ask for


@dataclass(frozen=True)
class Page:
    """Rows ``page * size`` onwards of ``total``."""

    rows: list
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def page_of(session: Session, query: Select, *, page: int, size: int, options: tuple = ()) -> Page:
    """Page ``page`` (from 0) of ``query``, which must already be ordered by a unique key last,
    its rows loaded with ``options`` (eager loads: the page's rows in a fixed number of
    statements); the count is the query's own WHERE, without its ORDER BY, asked every time (a
    page sends the same statements however full it is)."""
    rows = list(session.scalars(query.options(*options).offset(page * size).limit(size)))
    total = session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True)
                           .order_by(None)) or 0
    return Page(rows, total, page, size)
