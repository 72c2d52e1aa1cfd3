"""report sign-offs (签发): one row per node and month, with signer, time, key id and digest

Revision ID: 5e6f7a8b9c0d
Revises: 4d5e6f7a8b9c
Create Date: 2026-11-30 18:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e6f7a8b9c0d'
down_revision = '4d5e6f7a8b9c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_signoff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_code', sa.String(length=10), nullable=False),
    sa.Column('node_level', sa.String(length=10), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('signer', sa.String(length=128), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.Column('key_id', sa.String(length=20), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=True),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_signoff')),
    sa.UniqueConstraint('node_code', 'month', name=op.f('uq_report_signoff_node_code'))
    )
    with op.batch_alter_table('report_signoff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_signoff_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_signoff_province_code'), ['province_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_signoff_city_code'), ['city_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_signoff_county_code'), ['county_code'], unique=False)


def downgrade():
    with op.batch_alter_table('report_signoff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_signoff_county_code'))
        batch_op.drop_index(batch_op.f('ix_report_signoff_city_code'))
        batch_op.drop_index(batch_op.f('ix_report_signoff_province_code'))
        batch_op.drop_index(batch_op.f('ix_report_signoff_school_id'))
    op.drop_table('report_signoff')
