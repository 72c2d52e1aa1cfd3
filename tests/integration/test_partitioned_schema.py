"""The national tier's schema (docs/national-tier.md), built on the local PostgreSQL in a schema of
its own: ``student`` and ``request`` partitioned BY LIST (province_code) -- their columns taken from
the models, so the test follows the schema -- with two provinces' partitions and the national
ID-number table.  It shows that a one-province query reads one partition, that an ID number held in
one province is refused in another through the national table, that a cross-province transfer moves
the row between partitions in one transaction (or not at all), and that PostgreSQL refuses a
UNIQUE that leaves the partition key out.  PostgreSQL only."""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal

import pytest
from conftest import is_postgres
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, NotSupportedError

from app.models import Request, Student

pytestmark = pytest.mark.skipif(not is_postgres(), reason="declarative partitioning is PostgreSQL's")

SCHEMA = "xueji_national"
PROVINCES = {"430000": "hn", "440000": "gd"}  # 湖南, 广东
HUNAN, GUANGDONG = "430000", "440000"


def partitioned(model, metadata: MetaData, **extra: Column) -> Table:
    """The model's table as the national tier has it: every column of the model (no foreign key
    to the province-local tables, no single-column unique), ``province_code`` added where the model
    has none, the primary key (province_code, id) with ids from one sequence for all provinces,
    and partitioned by LIST (province_code)."""
    name = model.__tablename__
    ids = Sequence(f"{name}_id_seq", metadata=metadata, schema=SCHEMA)
    columns = [Column("id", BigInteger, ids, server_default=ids.next_value(), nullable=False)]
    columns += [Column(c.name, c.type, nullable=c.nullable) for c in model.__table__.columns if c.name != "id"]
    if "province_code" not in model.__table__.columns:
        columns.append(Column("province_code", String(6), nullable=False))
    columns += extra.values()
    return Table(name, metadata, *columns, PrimaryKeyConstraint("province_code", "id"),
                 UniqueConstraint("province_code", "uid"), schema=SCHEMA,
                 postgresql_partition_by="LIST (province_code)")


def _filler(column: Column):
    """A value for a NOT NULL column the test does not care about, by its type."""
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, (Integer, Numeric)):
        return Decimal(1) if isinstance(kind, Numeric) else 1
    if isinstance(kind, DateTime):
        return datetime(2026, 9, 15, 10)
    if isinstance(kind, Date):
        return date(2019, 10, 5)
    if isinstance(kind, JSON):
        return []
    if isinstance(kind, LargeBinary):
        return b"x"
    return "x"[: getattr(kind, "length", None) or 1]


def row(table: Table, **values) -> dict:
    """``values`` and a filler for every other NOT NULL column without a default."""
    for column in table.columns:
        if not column.nullable and column.server_default is None and column.name not in values:
            values[column.name] = _filler(column)
    return values


@pytest.fixture(scope="module")
def national():
    """The schema built afresh, its engine and tables; dropped afterwards."""
    engine = create_engine(os.environ["TEST_DATABASE_URL"])
    metadata = MetaData()
    student = partitioned(Student, metadata)
    request = partitioned(Request, metadata)
    national_id = Table(  # one row per ID number in the whole country: keyed by its blind index
        "national_id", metadata,
        Column("id_blind", String(64), primary_key=True),
        Column("province_code", String(6), nullable=False),
        Column("student_id", BigInteger, nullable=False),
        schema=SCHEMA)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        metadata.create_all(conn)
        for table in (student, request):
            for code, short in PROVINCES.items():
                conn.execute(text(f"CREATE TABLE {SCHEMA}.{table.name}_{short} PARTITION OF "
                                  f"{SCHEMA}.{table.name} FOR VALUES IN ('{code}')"))
    try:
        yield engine, student, request, national_id
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()


def register(conn, tables, province: str, id_blind: str, name: str) -> int:
    """A new record and its claim on the ID number, in the caller's transaction."""
    student, _request, national_id = tables
    sid = conn.scalar(insert(student).values(row(
        student, province_code=province, id_blind=id_blind, registry_blind=f"r-{id_blind}",
        uid=f"u-{id_blind}", name=name, school_id=1)).returning(student.c.id))
    conn.execute(insert(national_id).values(id_blind=id_blind, province_code=province, student_id=sid))
    return sid


def where_is(conn, student: Table, sid: int) -> list[str]:
    """The partitions (by province) holding student ``sid``."""
    return [code for code, short in PROVINCES.items()
            if conn.scalar(text(f"SELECT count(*) FROM {SCHEMA}.student_{short} WHERE id = :id"), {"id": sid})]


def test_the_partitioned_tables_carry_every_column_of_the_models(national):
    engine, student, request, _ = national
    with engine.connect() as conn:
        for table, model in ((student, Student), (request, Request)):
            found = set(conn.scalars(text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t"),
                {"s": SCHEMA, "t": table.name}))
            assert set(model.__table__.columns.keys()) | {"province_code"} == found
            strategy = conn.scalar(text(
                "SELECT partstrat FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relname = :t"),
                {"s": SCHEMA, "t": table.name})
            assert strategy == "l"  # LIST


def test_a_query_inside_one_province_reads_that_province_s_partition_only(national):
    engine, student, *_ = national
    with engine.begin() as conn:
        register(conn, national[1:], HUNAN, "blind-prune-hn", "湘一")
        register(conn, national[1:], GUANGDONG, "blind-prune-gd", "粤一")
        plan = "\n".join(conn.scalars(text(
            f"EXPLAIN SELECT count(*) FROM {SCHEMA}.student WHERE province_code = :p AND status = 'in_school'"),
            {"p": HUNAN}))
        national_plan = "\n".join(conn.scalars(text(f"EXPLAIN SELECT count(*) FROM {SCHEMA}.student")))
        county_plan = "\n".join(conn.scalars(text(
            f"EXPLAIN SELECT count(*) FROM {SCHEMA}.student WHERE county_code = '430102'")))
    assert "student_hn" in plan and "student_gd" not in plan, plan
    # a county's code implies its province, but not to the planner: scopes must name the province
    assert "student_hn" in county_plan and "student_gd" in county_plan
    assert "student_hn" in national_plan and "student_gd" in national_plan  # the national count reads all


def test_an_id_number_held_in_one_province_is_refused_in_another_through_the_national_table(national):
    engine, student, _request, national_id = national
    with engine.begin() as conn:
        first = register(conn, national[1:], HUNAN, "blind-dup", "湘二")
    with pytest.raises(IntegrityError) as refused, engine.begin() as conn:
        register(conn, national[1:], GUANGDONG, "blind-dup", "粤二")
    assert refused.value.orig.sqlstate == "23505" and "national_id_pkey" in str(refused.value.orig)
    with engine.connect() as conn:
        assert conn.execute(select(student.c.province_code, student.c.id)
                            .where(student.c.id_blind == "blind-dup")).all() == [(HUNAN, first)]
        assert conn.execute(select(national_id.c.province_code, national_id.c.student_id)
                            .where(national_id.c.id_blind == "blind-dup")).all() == [(HUNAN, first)]


def test_a_cross_province_transfer_moves_the_row_between_partitions_in_one_transaction(national):
    engine, student, request, national_id = national
    with engine.begin() as conn:
        sid = register(conn, national[1:], HUNAN, "blind-move", "湘三")
        rid = conn.scalar(insert(request).values(row(
            request, province_code=HUNAN, kind="transfer", status="pending", variant="cross_province",
            student_id=sid, student_uid="u-blind-move", origin_province=GUANGDONG,
            other_province=HUNAN, uid="req-move")).returning(request.c.id))
    with pytest.raises(RuntimeError), engine.begin() as conn:  # fails half-way: nothing moved
        conn.execute(update(student).where(student.c.province_code == HUNAN, student.c.id == sid)
                     .values(province_code=GUANGDONG, city_code="440100", county_code="440106"))
        raise RuntimeError("the receiving province's seat check failed")
    with engine.connect() as conn:
        assert where_is(conn, student, sid) == [HUNAN]
    with engine.begin() as conn:  # the last approval: the record, its claim and the request at once
        conn.execute(update(student).where(student.c.province_code == HUNAN, student.c.id == sid)
                     .values(province_code=GUANGDONG, city_code="440100", county_code="440106"))
        conn.execute(update(national_id).where(national_id.c.id_blind == "blind-move")
                     .values(province_code=GUANGDONG))
        conn.execute(update(request).where(request.c.province_code == HUNAN, request.c.id == rid)
                     .values(status="approved"))
    with engine.connect() as conn:
        assert where_is(conn, student, sid) == [GUANGDONG]  # same id, other partition
        assert conn.scalar(select(national_id.c.province_code).where(national_id.c.id_blind == "blind-move")) \
            == GUANGDONG
        # the request stays with the province that decided it, as its history does
        assert conn.scalar(text(f"SELECT status FROM {SCHEMA}.request_hn WHERE id = :id"), {"id": rid}) == "approved"


def test_ids_come_from_one_sequence_so_they_never_meet_across_provinces(national):
    engine, student, *_ = national
    with engine.begin() as conn:
        made = [register(conn, national[1:], code, f"blind-seq-{i}-{code}", "序号")
                for i in range(3) for code in PROVINCES]
        by_province = {code: set(conn.scalars(select(student.c.id).where(student.c.province_code == code)))
                       for code in PROVINCES}
    assert len(set(made)) == len(made) and not by_province[HUNAN] & by_province[GUANGDONG]


def test_postgresql_refuses_a_unique_constraint_without_the_partition_key(national):
    engine, *_ = national
    with pytest.raises(NotSupportedError) as refused, engine.begin() as conn:
        conn.execute(text(f"CREATE UNIQUE INDEX ux_student_registry ON {SCHEMA}.student (registry_blind)"))
    assert refused.value.orig.sqlstate == "0A000"  # feature_not_supported
    assert "must include all partitioning columns" in str(refused.value.orig)
    with engine.begin() as conn:  # with the key it is accepted: unique inside each province
        conn.execute(text(f"CREATE UNIQUE INDEX ux_student_registry ON {SCHEMA}.student "
                          "(province_code, registry_blind)"))
