"""Administrative jurisdictions (province, city, county) with their GB/T 2260 codes."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from .scope import Chain

LEVELS = ("province", "city", "county")
LEVEL_DEPTH = {"province": 0, "city": 1, "county": 2, "school": 3}


class Jurisdiction(Model):
    """A node of the province → city → county tree; an education bureau sits at each node."""

    __tablename__ = "jurisdiction"
    __table_args__ = (
        CheckConstraint("level in ('province', 'city', 'county')", name="level"),
    )
    __scope__ = Chain(school=None)  # its own chain; above every school, so no school sees it

    id = Column(Integer, primary_key=True)
    code = Column(String(6), nullable=False, unique=True)  # 430000, 430100, 430102
    name = Column(String(100), nullable=False)
    level = Column(String(10), nullable=False)
    parent_id = Column(Integer, ForeignKey("jurisdiction.id"), nullable=True, index=True)
    parent = relationship("Jurisdiction", remote_side=[id], backref="children")
    # The chain in clear, for scoping and indexes: a city's subtree is city_code == its code.
    province_code = Column(String(6), nullable=False, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)

    def __repr__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def short_code(self) -> str:
        """Significant digits: 43, 4301, 430102."""
        return {"province": self.code[:2], "city": self.code[:4]}.get(self.level, self.code)

    def chain_codes(self) -> dict[str, str | None]:
        return {
            "province_code": self.province_code,
            "city_code": self.city_code,
            "county_code": self.county_code,
        }

    def refresh_chain(self) -> None:
        """Recompute the clear-text chain from the parent (called before every flush)."""
        parent = self.parent
        if self.level == "province" or parent is None:
            self.province_code, self.city_code, self.county_code = self.code, None, None
        elif self.level == "city":
            self.province_code, self.city_code, self.county_code = parent.province_code, self.code, None
        else:
            self.province_code, self.city_code = parent.province_code, parent.city_code
            self.county_code = self.code
