"""audit chain: the three logs are hash-chained (seq, txn, mac); pruning leaves signed checkpoints

Revision ID: f2b3c4d5e6a7
Revises: f1a2b3c4d5e6
Create Date: 2026-12-01 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2b3c4d5e6a7'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


LOGS = ('audit_event', 'personal_data_access', 'export_log')

# PostgreSQL also refuses, itself, to change a sealed row or to delete or truncate a log, except in
# a transaction of `audit prune` (SET LOCAL xueji.audit_prune = 'on').  Someone owning the tables
# can still switch this off: the chain is what shows it.
APPEND_ONLY = """
CREATE FUNCTION xueji_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
    # rows already there stay unsealed: `run.py init` adopts them into the new, empty chains
    unsealed = sa.text('seq IS NULL')
    for table in LOGS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
            batch_op.add_column(sa.Column('txn', sa.String(length=32), nullable=True))
            batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_seq'), ['seq'])
            batch_op.create_index(f'ix_{table}_unsealed', ['txn'], unique=False,
                                  postgresql_where=unsealed, sqlite_where=unsealed)
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('log', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.Column('pruned', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('node', sa.String(length=10), nullable=False),
    sa.Column('kid', sa.String(length=40), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint')),
    sa.UniqueConstraint('log', 'seq', name=op.f('uq_audit_checkpoint_log'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY)
        for table in LOGS:
            op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} '
                       'FOR EACH ROW EXECUTE FUNCTION xueji_audit_append_only()')
            op.execute(f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} '
                       'FOR EACH STATEMENT EXECUTE FUNCTION xueji_audit_append_only()')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in LOGS:
            op.execute(f'DROP TRIGGER {table}_no_truncate ON {table}')
            op.execute(f'DROP TRIGGER {table}_append_only ON {table}')
        op.execute('DROP FUNCTION xueji_audit_append_only()')
    op.drop_table('audit_checkpoint')
    for table in LOGS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_unsealed')
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_seq'), type_='unique')
            batch_op.drop_column('mac')
            batch_op.drop_column('txn')
            batch_op.drop_column('seq')
