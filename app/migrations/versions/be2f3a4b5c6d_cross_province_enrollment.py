"""cross-province graduate enrollment (毕业后跨省就学): no schema change -- it is a request kind
(the request tables hold its chain, its pull and its audit; the record's own columns its move)

Revision ID: be2f3a4b5c6d
Revises: ad1e2f3a4b5c
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'be2f3a4b5c6d'
down_revision = 'ad1e2f3a4b5c'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
