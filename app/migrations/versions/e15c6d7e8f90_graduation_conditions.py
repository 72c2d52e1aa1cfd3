"""graduation conditions and completion (placeholder until its work lands: it may stay empty)

Revision ID: e15c6d7e8f90
Revises: d04b5c6d7e8f
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'e15c6d7e8f90'
down_revision = 'd04b5c6d7e8f'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
