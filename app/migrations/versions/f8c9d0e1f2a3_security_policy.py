"""security policy: the settings the security administrator sets over the configured defaults

Revision ID: f8c9d0e1f2a3
Revises: f7b8c9d0e1f2
Create Date: 2026-12-01 05:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f8c9d0e1f2a3'
down_revision = 'f7b8c9d0e1f2'
branch_labels = None
depends_on = None

SETTINGS = ("max_failures", "failure_window_minutes", "lockout_minutes", "password_max_age_days",
            "password_history", "dormant_days")


def upgrade():
    op.create_table(
        "security_policy",
        sa.Column("id", sa.Integer(), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=True) for name in SETTINGS),
        sa.Column("totp_required_for", sa.String(100), nullable=True),
        sa.Column("session_idle_minutes", sa.Integer(), nullable=True),
        sa.Column("session_max_hours", sa.Integer(), nullable=True),
        sa.Column("set_by", sa.JSON(), nullable=True),
    )


def downgrade():
    op.drop_table("security_policy")
