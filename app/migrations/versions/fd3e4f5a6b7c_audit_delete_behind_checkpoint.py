"""PostgreSQL deletes a log row only behind a checkpoint: the session setting that let any
connection delete (xueji.audit_prune) is gone; TRUNCATE is always refused

Revision ID: fd3e4f5a6b7c
Revises: fc2d3e4f5a6b
Create Date: 2026-12-01 10:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'fd3e4f5a6b7c'
down_revision = 'fc2d3e4f5a6b'
branch_labels = None
depends_on = None

# `audit prune` inserts the signed checkpoint first, then deletes the rows it covers.  A checkpoint
# inserted by hand, to let rows go, fails `audit verify` (its signature needs the province's key).
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION xueji_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION '% is append-only: it is never truncated', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.seq IS NOT NULL AND OLD.seq <= (SELECT max(seq) FROM audit_checkpoint
                                               WHERE log = TG_TABLE_NAME) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only: only rows behind a checkpoint are deleted (audit prune)',
            TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.seq IS NOT NULL THEN
        RAISE EXCEPTION '% row % is sealed into the audit chain and never changes', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION xueji_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        IF current_setting('xueji.audit_prune', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only: only audit prune deletes its rows', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.seq IS NOT NULL THEN
        RAISE EXCEPTION '% row % is sealed into the audit chain and never changes', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PREVIOUS)
