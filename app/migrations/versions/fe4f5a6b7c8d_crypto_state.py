"""crypto state: the profile of the stored blind indexes, and whether `keys rotate` is moving them

Revision ID: fe4f5a6b7c8d
Revises: fd3e4f5a6b7c
Create Date: 2026-12-01 11:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'fe4f5a6b7c8d'
down_revision = 'fd3e4f5a6b7c'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('crypto_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('blind_profile', sa.String(length=10), nullable=False),
    sa.Column('rotating', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crypto_state'))
    )
    # the profile the stored indexes already have (an HMAC-SM3 index starts 'sm3:'); `run.py init`
    # of a database without students records the configured one instead
    sm = op.get_bind().execute(sa.text(
        "SELECT 1 FROM student WHERE id_blind LIKE 'sm3:%' OR registry_blind LIKE 'sm3:%' LIMIT 1")).first()
    op.bulk_insert(table, [{'id': 1, 'blind_profile': 'sm' if sm else 'standard', 'rotating': False}])


def downgrade():
    op.drop_table('crypto_state')
