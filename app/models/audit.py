"""Append-only logs: who viewed whose personal data, and who changed what."""

from __future__ import annotations

import secrets

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, DateTime, Index, Integer, String

from .base import local_now
from .scope import AnyOf, Chain, Via

# The per-transaction token every log row carries until its commit seals it into the chain
# (app/security/audit_chain.py).  Kept in the DBAPI connection's info, so ORM inserts, bulk
# executemany and COPY alike stamp the rows of one transaction with one token.
TXN_TOKEN = "xueji_audit_txn"


def transaction_token(context) -> str:
    """The token of the transaction inserting this row, created on its first log row."""
    return context.connection.info.setdefault(TXN_TOKEN, secrets.token_hex(16))


class ChainedMixin:
    """Hash-chained: ``seq`` and ``mac`` are set at commit, in the inserting transaction."""

    seq = Column(BigInteger, nullable=True, unique=True)  # position in its log's chain
    txn = Column(String(32), nullable=True, default=transaction_token)
    mac = Column(String(64), nullable=True)  # HMAC-SHA256(prev mac, this row)


class PersonalDataAccess(ChainedMixin, Model):
    """One view of a student's unmasked personal data (who, whom, when, through what); a look-up
    outside one's jurisdiction; or the download of an import's report (the whole uploaded sheet),
    which names the job instead of a student."""

    __tablename__ = "personal_data_access"
    __scope__ = AnyOf(Via("student_id", "Student"), Via("import_job_id", "ImportJob"))

    __table_args__ = (CheckConstraint("student_id IS NOT NULL OR import_job_id IS NOT NULL",
                                      name="names_whom"),)

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=local_now, index=True)
    user_id = Column(Integer, nullable=True, index=True)
    username = Column(String(128), nullable=False)
    student_id = Column(Integer, nullable=True, index=True)
    student_uid = Column(String(32), nullable=True)
    import_job_id = Column(Integer, nullable=True, index=True)  # a whole uploaded sheet was seen
    channel = Column(String(10), nullable=False)  # web / api / edit / request / lookup / dup / report
    fields = Column(String(200), nullable=False)


class AuditEvent(ChainedMixin, Model):
    """A change to a record: action, entity, before and after (personal values never in clear)."""

    __tablename__ = "audit_event"
    # a row about a school's record or account goes by its school; one about what has no school
    # (a bureau's account) by its own chain
    __scope__ = AnyOf(Via("school_id", "School"), Chain(school=None))

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=local_now, index=True)
    user_id = Column(Integer, nullable=True)
    username = Column(String(128), nullable=True)
    action = Column(String(40), nullable=False)
    entity = Column(String(40), nullable=False)
    entity_id = Column(Integer, nullable=True, index=True)
    entity_uid = Column(String(32), nullable=True, index=True)  # known before INSERT
    school_id = Column(Integer, nullable=True, index=True)
    # the jurisdiction chain, for rows about what has no school (a bureau's account)
    province_code = Column(String(6), nullable=True, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)
    changes = Column(JSON, nullable=True)
    summary = Column(String(300))
    rule_version = Column(Integer, nullable=True)  # the rule set the decision was made under


class ExportLog(ChainedMixin, Model):
    """Data leaving the system: who exported what scope, how many rows, when."""

    __tablename__ = "export_log"
    __scope__ = Chain(school="school_id")  # scoped like the data it describes

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=local_now, index=True)
    user_id = Column(Integer, nullable=True)
    username = Column(String(128), nullable=False)
    kind = Column(String(30), nullable=False)  # students / confirmation_xlsx / confirmation_pdf
    scope_level = Column(String(10), nullable=False)
    scope_code = Column(String(10), nullable=True)  # jurisdiction code or school code
    province_code = Column(String(6), nullable=True, index=True)
    city_code = Column(String(6), nullable=True, index=True)
    county_code = Column(String(6), nullable=True, index=True)
    school_id = Column(Integer, nullable=True, index=True)
    class_id = Column(Integer, nullable=True)  # one class's confirmation forms (none on older rows)
    rows = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=True)  # of the file as it left (none on older rows)
    request_id = Column(Integer, nullable=True, index=True)  # the approved export it downloads


def _unsealed_index(model) -> Index:
    """Rows waiting for their seal (a handful at any time), found by their transaction's token."""
    table = model.__table__
    where = table.c.seq.is_(None)
    return Index(f"ix_{table.name}_unsealed", table.c.txn, postgresql_where=where, sqlite_where=where)


for _model in (PersonalDataAccess, AuditEvent, ExportLog):
    _unsealed_index(_model)
