"""Which profile's hash the stored blind indexes are made with, and whether `keys rotate` is
moving them: while they are of another profile than the running app's, no look-up or new index is
made (app/security/blind_state.py)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, Integer, String


class CryptoState(Model):
    """One row (id 1)."""

    __tablename__ = "crypto_state"

    id = Column(Integer, primary_key=True)
    blind_profile = Column(String(10), nullable=False)  # standard / sm
    rotating = Column(Boolean, nullable=False, default=False)
    changed_at = Column(DateTime)
