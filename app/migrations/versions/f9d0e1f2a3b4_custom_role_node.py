"""custom roles belong to the node of the security administrator who made them

Revision ID: f9d0e1f2a3b4
Revises: f8c9d0e1f2a3
Create Date: 2026-12-01 07:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f9d0e1f2a3b4'
down_revision = 'f8c9d0e1f2a3'
branch_labels = None
depends_on = None

COLUMNS = (('school_id', sa.Integer()), ('province_code', sa.String(6)), ('city_code', sa.String(6)),
           ('county_code', sa.String(6)))


def upgrade():
    with op.batch_alter_table('custom_role') as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade():
    with op.batch_alter_table('custom_role') as batch:
        for name, _kind in reversed(COLUMNS):
            batch.drop_column(name)
