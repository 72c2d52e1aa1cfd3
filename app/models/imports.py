"""Import jobs: an uploaded template, checked (dry run), then committed in resumable batches."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import deferred, relationship

from .base import RowUidMixin, local_now
from .scope import Chain


class ImportJob(RowUidMixin, Model):
    __tablename__ = "import_job"
    __scope__ = Chain(school="school_id")

    id = Column(Integer, primary_key=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school = relationship("School")
    # the school's chain in clear, so the job is scoped like its school
    province_code = Column(String(6), nullable=False, index=True)
    city_code = Column(String(6), index=True)
    county_code = Column(String(6), index=True)
    created_by = Column(String(128), nullable=False)
    created_by_id = Column(Integer)
    created_at = Column(DateTime, nullable=False, default=local_now)
    updated_at = Column(DateTime, nullable=False, default=local_now, onupdate=local_now)
    filename = Column(String(200), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False, index=True)
    # the workbook holds personal data: encrypted; loaded only when read (a progress poll or the
    # job list loads no file)
    file_enc = deferred(Column(LargeBinary, nullable=False))
    checked_enc = deferred(Column(LargeBinary))  # the dry run's result (import_checked), encrypted
    # uploaded -> checking -> checked -> committing -> done; or refused / failed
    status = Column(String(20), nullable=False, default="uploaded", index=True)
    mode = Column(String(20))  # all (nothing unless every row is valid) / valid_only
    rows_total = Column(Integer, nullable=False, default=0)
    rows_valid = Column(Integer, nullable=False, default=0)
    rows_invalid = Column(Integer, nullable=False, default=0)
    rows_checked = Column(Integer, nullable=False, default=0)  # progress of the dry run
    rows_done = Column(Integer, nullable=False, default=0)  # the last Excel row committed
    created = Column(Integer, nullable=False, default=0)
    updated = Column(Integer, nullable=False, default=0)
    unchanged = Column(Integer, nullable=False, default=0)
    message = Column(String(500))
    problems = Column(JSON)  # [{row, column, message, code}] (the first thousands)
    request_id = Column(Integer)  # the batch registration review (no FK: it would close a cycle)
    # students: the template of records; admissions: an admission list (录取名单, its own commit)
    purpose = Column(String(20), nullable=False, default="students", server_default="students")

    def __repr__(self) -> str:
        return f"#{self.id} {self.filename}"

    def refresh_chain(self) -> None:
        if self.school is not None:
            self.province_code, self.city_code, self.county_code = (
                self.school.province_code, self.school.city_code, self.school.county_code)


class ImportChunk(Model):
    """The dry run's valid rows of one chunk of the sheet, ready to write: read values, the class
    named, pinyin, and a new record's columns already encrypted (``import_cells.seal``) -- so the
    commit reads these instead of parsing and checking the workbook again.  Encrypted as a whole
    (``data_enc``, associated data ``import_chunk.data_enc.<job id>:<seq>``); deleted when the job
    is committed or checked again."""

    __tablename__ = "import_chunk"
    __table_args__ = (UniqueConstraint("job_id", "seq"),)

    id = Column(Integer, primary_key=True)
    job_id = Column(Integer, ForeignKey("import_job.id", ondelete="CASCADE"), nullable=False)
    seq = Column(Integer, nullable=False)  # the chunk's place in the sheet, from 0
    last_row = Column(Integer, nullable=False)  # the Excel number of its last row
    data_enc = Column(LargeBinary, nullable=False)
