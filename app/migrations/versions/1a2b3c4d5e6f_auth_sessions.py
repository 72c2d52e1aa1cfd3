"""accounts: login throttling, lockout, session and token revocation

Revision ID: 1a2b3c4d5e6f
Revises: d9184da2c4fd
Create Date: 2026-11-30 14:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '1a2b3c4d5e6f'
down_revision = 'd9184da2c4fd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_epoch', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_failed_login', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('locked_at')
        batch_op.drop_column('last_failed_login')
        batch_op.drop_column('auth_epoch')
