"""National code tables (GB/T 2261.1, GB 3304, ...): stored as codes, shown as labels."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, Integer, String, UniqueConstraint


class CodeItem(Model):
    """One entry of one code table, e.g. (ethnicity, 01, 汉族, Han)."""

    __tablename__ = "code_item"
    __table_args__ = (UniqueConstraint("table_name", "code", name="uq_code_item"),)

    id = Column(Integer, primary_key=True)
    table_name = Column(String(40), nullable=False, index=True)
    code = Column(String(20), nullable=False)
    label = Column(String(100), nullable=False)
    label_en = Column(String(100))
    sort_order = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return f"{self.code} {self.label}"
