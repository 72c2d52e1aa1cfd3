"""``column IN (many values)`` as the database takes it best."""

from __future__ import annotations

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def among(session: Session, column, values: list):
    """``column IN values``: on PostgreSQL one array parameter (``= ANY(:array)``) -- a statement
    with thousands of placeholders costs the driver more to prepare than the database to run --
    elsewhere SQLAlchemy's expanding IN."""
    if session.connection().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))
