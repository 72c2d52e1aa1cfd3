"""export jobs: an export made by a job without approval says so; the export log names the class

Revision ID: fb1c2d3e4f5a
Revises: fa0b1c2d3e4f
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'fb1c2d3e4f5a'
down_revision = 'fa0b1c2d3e4f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('export_request') as batch:
        batch.add_column(sa.Column('needs_approval', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('export_log') as batch:  # nullable: the hash chain of older rows holds
        batch.add_column(sa.Column('class_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('export_log') as batch:
        batch.drop_column('class_id')
    with op.batch_alter_table('export_request') as batch:
        batch.drop_column('needs_approval')
