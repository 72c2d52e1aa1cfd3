"""jobs: the job_run table, and on PostgreSQL procrastinate's queue schema (its own SQL, pinned with it)

Revision ID: f5e6a7b8c9d0
Revises: f4d5e6a7b8c9
Create Date: 2026-12-01 04:00:00

"""
import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager

# revision identifiers, used by Alembic.
revision = 'f5e6a7b8c9d0'
down_revision = 'f4d5e6a7b8c9'
branch_labels = None
depends_on = None


def upgrade():
    t = 'job_run'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(40), nullable=False),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('params', sa.JSON(), nullable=True),
        sa.Column('subject', sa.String(60), nullable=True),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('message', sa.String(500), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('cancel_requested', sa.Boolean(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('queue_id', sa.BigInteger(), nullable=True),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('created_by', sa.String(128), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('school_id', sa.Integer(), nullable=True),
        sa.Column('province_code', sa.String(6), nullable=True),
        sa.Column('city_code', sa.String(6), nullable=True),
        sa.Column('county_code', sa.String(6), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    )
    for col in ('kind', 'status', 'school_id', 'province_code', 'city_code', 'county_code'):
        op.create_index(op.f(f'ix_{t}_{col}'), t, [col])
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':  # the queue lives in PostgreSQL; SQLite runs jobs in-process
        bind.exec_driver_sql(SchemaManager.get_schema().replace('%', '%%'))  # no parameters: % is literal


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        bind.exec_driver_sql(
            "DO $$ DECLARE r record; BEGIN "
            "FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE 'procrastinate%' LOOP "
            "EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(r.tablename) || ' CASCADE'; END LOOP; "
            "FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%' LOOP "
            "EXECUTE 'DROP FUNCTION IF EXISTS ' || r.f || ' CASCADE'; END LOOP; "
            "FOR r IN SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND typname LIKE 'procrastinate%' AND typtype IN ('e', 'c') LOOP "
            "EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(r.typname) || ' CASCADE'; END LOOP; END $$")
    op.drop_table('job_run')
