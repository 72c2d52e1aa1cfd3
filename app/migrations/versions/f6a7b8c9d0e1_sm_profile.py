"""sm profile (国密): no schema change -- an HMAC-SM3 blind index is written as 'sm3:' and base64url
(47 characters), so the String(64) blind columns (and admission.live_key, problem_case.group_key)
hold it; SM4 tokens go into the same Text/LargeBinary columns as AES ones

Revision ID: f6a7b8c9d0e1
Revises: f5e6a7b8c9d0
Create Date: 2026-12-01 04:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'f6a7b8c9d0e1'
down_revision = 'f5e6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
