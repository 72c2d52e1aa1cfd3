"""backup runs: one row per backup (file, sha256, size, times, ok/failed) for the last good backup's age

Revision ID: f1a2b3c4d5e6
Revises: e15c6d7e8f90
Create Date: 2026-12-01 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e15c6d7e8f90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('backup_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file', sa.String(length=1000), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_run'))
    )
    with op.batch_alter_table('backup_run', schema=None) as batch_op:
        batch_op.create_index('ix_backup_run_status_finished_at', ['status', 'finished_at'], unique=False)


def downgrade():
    with op.batch_alter_table('backup_run', schema=None) as batch_op:
        batch_op.drop_index('ix_backup_run_status_finished_at')
    op.drop_table('backup_run')
