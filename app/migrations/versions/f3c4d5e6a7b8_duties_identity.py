"""duties identity: separation of duties -- custom roles, account changes awaiting approval

Revision ID: f3c4d5e6a7b8
Revises: f2b3c4d5e6a7
Create Date: 2026-12-01 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3c4d5e6a7b8'
down_revision = 'f2b3c4d5e6a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'custom_role',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('level', sa.String(length=10), nullable=False),
        sa.Column('grants', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_role')),
        sa.UniqueConstraint('name', name=op.f('uq_custom_role_name')),
    )
    op.create_table(
        'account_approval',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_by', sa.String(length=128), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by', sa.String(length=128), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE',
                                name=op.f('fk_account_approval_user_id_ab_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_approval')),
    )
    op.create_index(op.f('ix_account_approval_user_id'), 'account_approval', ['user_id'])
    op.create_index(op.f('ix_account_approval_status'), 'account_approval', ['status'])
    pending = sa.text("status = 'pending'")
    op.create_index('uq_account_approval_pending', 'account_approval', ['user_id'], unique=True,
                    postgresql_where=pending, sqlite_where=pending)


def downgrade():
    op.drop_table('account_approval')
    op.drop_table('custom_role')
