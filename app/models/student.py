"""The student record: every item of the official template, personal data encrypted."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import mapped_column, relationship

from ..security.masking import mask_address, mask_id_number, mask_phone, mask_registry_no
from ..text import normalize_id, normalize_text
from .base import RowUidMixin, TimestampMixin, encrypted
from .school import SchoolScopedMixin


class Student(RowUidMixin, TimestampMixin, SchoolScopedMixin, Model):
    """One person, one record, one number, for life."""

    __tablename__ = "student"
    __table_args__ = (
        Index("ix_student_name_gender_birth", "name", "gender", "birth_date"),
        # a county's or city's list in its stable order (id), read from the index alone
        Index("ix_student_county_id", "county_code", "id"),
        Index("ix_student_city_id", "city_code", "id"),
        # a name search's LIKE 'prefix%' (app/web/data.PrefixFilter), whatever the collation
        Index("ix_student_name_prefix", "name", postgresql_ops={"name": "text_pattern_ops"}).ddl_if(
            dialect="postgresql"),
        Index("ix_student_school_status", "school_id", "status"),
        # the chain columns, indexed with the status instead of one by one as ScopedMixin indexes
        # them: a jurisdiction's count and its count by status are read from a small index alone
        # (PostgreSQL deduplicates the repeated (code, status) keys)
        Index("ix_student_province_status", "province_code", "status"),
        Index("ix_student_city_status", "city_code", "status"),
        Index("ix_student_county_status", "county_code", "status"),
        # the few records a registrar still has to finish (home page): small partial indexes
        Index("ix_student_unregistered", "province_code", "city_code", "county_code", "school_id",
              postgresql_where=text("registered = false"), sqlite_where=text("registered = 0")),
        Index("ix_student_temporary", "province_code", "city_code", "county_code", "school_id",
              postgresql_where=text("registry_kind = 'L'"), sqlite_where=text("registry_kind = 'L'")),
    )

    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False, default=1)
    # 学籍号: every kind carries a birth date and a G number is the whole ID, so it is encrypted
    # like the ID; the blind index keeps it unique and findable.
    registry_no_enc = Column(Text, nullable=False)
    registry_blind = Column(String(64), nullable=False, unique=True)
    registry_kind = Column(String(1), nullable=False)  # L temporary, G / J formal
    status = Column(String(20), nullable=False, default="in_school", index=True)
    # registration review (注册核办) done: the record holds a formal number and its items are
    # controlled from now on; until then the school may still correct it
    registered = Column(Boolean, nullable=False, default=False)
    problem = Column(Boolean, nullable=False, default=False, index=True)  # 问题学籍: no other business
    hold_back = Column(Boolean, nullable=False, default=False)  # 留级: stays in grade at promotion
    import_job_id = Column(Integer, ForeignKey("import_job.id", ondelete="SET NULL"), index=True)

    # no index of its own: ix_student_school_status (school_id, status) serves every look-up by school
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False)
    school = relationship("School")
    # the chain of ScopedMixin, indexed with the status (above) instead of one by one, and kept
    # after every other column as the mixin places it
    province_code = mapped_column(String(6), nullable=False, sort_order=1)
    city_code = mapped_column(String(6), nullable=True, sort_order=1)
    county_code = mapped_column(String(6), nullable=True, sort_order=1)
    grade_id = Column(Integer, ForeignKey("grade.id"), nullable=True, index=True)
    grade = relationship("Grade")
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=True, index=True)
    school_class = relationship("SchoolClass", backref="students")

    # identity
    # no index of its own: ix_student_name_gender_birth (equality, order) and, on PostgreSQL,
    # ix_student_name_prefix (LIKE 'prefix%') serve every look-up by name
    name = Column(String(50), nullable=False)
    name_pinyin = Column(String(100))
    former_name = Column(String(50))
    gender = Column(String(1), nullable=False)
    birth_date = Column(Date, nullable=False)
    birthplace = Column(String(12))
    native_place = Column(String(50))
    ethnicity = Column(String(2))
    nationality = Column(String(3))
    id_type = Column(String(1))
    id_number_enc = Column(Text)
    id_blind = Column(String(64), index=True)  # duplicates are problem records, not impossible
    id_valid_until = Column(String(30))
    hmt_status = Column(String(2))
    health = Column(String(2))
    political_status = Column(String(2))
    blood_type = Column(String(1))
    specialty = Column(String(200))
    photo_enc = Column(LargeBinary)
    photo_type = Column(String(20))

    # registry
    entry_date = Column(Date)
    entry_mode = Column(String(2))
    study_mode = Column(String(1))
    source = Column(String(1))
    secondary_registry_no = Column(String(30))
    class_seat_no = Column(String(20))

    # residence and contact
    hukou_nature = Column(String(1))
    hukou_location = Column(String(12))
    current_address_enc = Column(Text)
    mailing_address_enc = Column(Text)
    home_address_enc = Column(Text)
    phone_enc = Column(Text)
    postcode = Column(String(6))
    email_enc = Column(Text)
    homepage = Column(String(200))

    # social
    only_child = Column(Boolean)
    had_preschool = Column(Boolean)
    left_behind = Column(String(1))
    migrant_child = Column(Boolean)
    needs_subsidy = Column(Boolean)
    receives_subsidy = Column(Boolean)
    orphan = Column(Boolean)
    martyr_child = Column(Boolean)
    disability = Column(String(2))
    inclusive_schooling = Column(String(1))
    govt_purchased_seat = Column(Boolean)
    distance_km = Column(Numeric(6, 2))
    travel_mode = Column(String(1))
    needs_school_bus = Column(Boolean)

    created_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    graduated_at = Column(DateTime)
    # 去向: where a graduate went on, filled in when the same person is enrolled elsewhere
    destination = Column(String(200))

    members = relationship(
        "FamilyMember",
        back_populates="student",
        cascade="all, delete-orphan",
        order_by="FamilyMember.seq",
    )

    __mapper_args__ = {"version_id_col": version}

    registry_no = encrypted("registry_no_enc", blind="registry_blind", purpose="registry_no",
                            normalize=normalize_id)
    id_number = encrypted("id_number_enc", blind="id_blind", normalize=normalize_id)
    current_address = encrypted("current_address_enc")
    mailing_address = encrypted("mailing_address_enc")
    home_address = encrypted("home_address_enc")
    phone = encrypted("phone_enc", normalize=normalize_text)
    email = encrypted("email_enc", normalize=normalize_text)

    def __repr__(self) -> str:
        return f"{self.name} {self.registry_no_masked}"

    # masked views for lists: neither the birth date nor the sex digit shows
    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def registry_no_masked(self) -> str:
        return mask_registry_no(self.registry_no)

    @property
    def current_address_masked(self) -> str:
        return mask_address(self.current_address)

    @property
    def school_code(self) -> str | None:
        return self.school.code if self.school else None

    @property
    def class_name(self) -> str | None:
        return self.school_class.name if self.school_class else None

    @property
    def stage(self) -> str | None:
        return self.grade.stage if self.grade else None

    @property
    def guardians(self) -> list:
        return [m for m in self.members if m.is_guardian]
