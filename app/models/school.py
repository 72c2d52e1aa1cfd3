"""Schools, their grades and classes."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship

from .scope import Chain

STAGE_GRADES = {"preschool": (), "primary": range(1, 7), "junior": range(7, 10), "senior": range(10, 13)}
GRADE_NAMES = {
    1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级",
    7: "初一", 8: "初二", 9: "初三", 10: "高一", 11: "高二", 12: "高三",
}


def stage_of_grade(number: int) -> str:
    for stage, grades in STAGE_GRADES.items():
        if number in grades:
            return stage
    raise ValueError(f"grade {number} is not between 1 and 12")


class ScopedMixin:
    """The jurisdiction chain in clear on every row that belongs to a school."""

    province_code = Column(String(6), nullable=False, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)

    def copy_chain_from(self, source) -> None:
        self.province_code = source.province_code
        self.city_code = source.city_code
        self.county_code = source.county_code


class School(ScopedMixin, Model):
    """A school, supervised by the bureau of one jurisdiction (usually its county)."""

    __tablename__ = "school"
    __table_args__ = (CheckConstraint("length(code) = 10", name="code_length"),)
    __scope__ = Chain(school="id")  # its own chain; a school account sees its own row

    id = Column(Integer, primary_key=True)
    code = Column(String(10), nullable=False, unique=True)  # 学校标识码
    name = Column(String(100), nullable=False)
    stages = Column(String(40), nullable=False)  # comma-separated subset of STAGES
    kind = Column(String(20), nullable=False, default="ordinary")
    ownership = Column(String(10), nullable=False, default="public")
    jurisdiction_id = Column(Integer, ForeignKey("jurisdiction.id"), nullable=False, index=True)
    jurisdiction = relationship("Jurisdiction")
    address = Column(String(200))

    def __repr__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def stage_list(self) -> list[str]:
        return [s for s in (self.stages or "").split(",") if s]

    @property
    def school_id(self) -> int:
        return self.id

    def refresh_chain(self) -> None:
        if self.jurisdiction is not None:
            self.copy_chain_from(self.jurisdiction)


class SchoolScopedMixin(ScopedMixin):
    """Rows that belong to one school: the chain is copied from it before every flush."""

    __scope__ = Chain(school="school_id")  # declared once for every row that belongs to a school

    def refresh_chain(self) -> None:
        if self.school is not None:
            self.copy_chain_from(self.school)


class Grade(SchoolScopedMixin, Model):
    """One grade (年级) of a school."""

    __tablename__ = "grade"
    __table_args__ = (
        UniqueConstraint("school_id", "number", name="uq_grade_school_number"),
        CheckConstraint("number between 0 and 12", name="number"),
    )

    id = Column(Integer, primary_key=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school = relationship("School", backref="grades")
    stage = Column(String(10), nullable=False)
    number = Column(Integer, nullable=False)  # 1..12; 0 for preschool
    name = Column(String(20), nullable=False)

    def __repr__(self) -> str:
        return self.name


class SchoolClass(SchoolScopedMixin, Model):
    """A class (班级): belongs to one grade of one school."""

    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("school_id", "name", name="uq_class_school_name"),)

    id = Column(Integer, primary_key=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school = relationship("School", backref="classes")
    grade_id = Column(Integer, ForeignKey("grade.id"), nullable=False, index=True)
    grade = relationship("Grade", backref="classes")
    number = Column(Integer, nullable=False)
    name = Column(String(40), nullable=False)
    entry_year = Column(Integer, nullable=True)
    head_teacher = Column(String(50))

    def __repr__(self) -> str:
        return self.name
