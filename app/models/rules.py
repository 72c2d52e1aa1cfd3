"""Rule-set versions: every activation of the rule files, kept whole, never edited."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, Integer, String

from .base import local_now


class RuleSetVersion(Model):
    """One activated rule set: the text of every file, who activated it and when."""

    __tablename__ = "rule_set_version"

    id = Column(Integer, primary_key=True)  # the version number decisions record
    created_at = Column(DateTime, nullable=False, default=local_now)
    created_by = Column(String(128), nullable=False)
    note = Column(String(300))
    digest = Column(String(64), nullable=False, index=True)
    files = Column(JSON, nullable=False)  # {"national.yaml": "...", "430000.yaml": "..."}
    changed = Column(JSON, nullable=True)  # names of the files that differ from the version before

    def __repr__(self) -> str:
        return f"v{self.id}"
