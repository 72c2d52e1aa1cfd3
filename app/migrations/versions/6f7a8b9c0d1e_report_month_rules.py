"""the monthly report: a closed month keeps the rule-set version in force when it was closed (its
calendar counts the month's deadlines), and graduations in a window are found by an index

Revision ID: 6f7a8b9c0d1e
Revises: 5e6f7a8b9c0d
Create Date: 2026-11-30 19:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '6f7a8b9c0d1e'
down_revision = '5e6f7a8b9c0d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_month', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rule_version', sa.Integer(), nullable=True))
    with op.batch_alter_table('student', schema=None) as batch_op:
        batch_op.create_index('ix_student_graduated_at', ['graduated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('student', schema=None) as batch_op:
        batch_op.drop_index('ix_student_graduated_at')
    with op.batch_alter_table('report_month', schema=None) as batch_op:
        batch_op.drop_column('rule_version')
