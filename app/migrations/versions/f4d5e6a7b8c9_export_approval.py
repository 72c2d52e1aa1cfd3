"""export approval: exports above the rules' threshold held for a supervisor (export_request); the
export log keeps each file's sha256 and the request it downloads

Revision ID: f4d5e6a7b8c9
Revises: f3c4d5e6a7b8
Create Date: 2026-12-01 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f4d5e6a7b8c9'
down_revision = 'f3c4d5e6a7b8'
branch_labels = None
depends_on = None

INDEXED = ('user_id', 'province_code', 'city_code', 'county_code', 'school_id', 'status')


def upgrade():
    t = 'export_request'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(32), nullable=False),
        sa.Column('kind', sa.String(30), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(128), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('scope_level', sa.String(10), nullable=False),
        sa.Column('scope_code', sa.String(10), nullable=True),
        sa.Column('province_code', sa.String(6), nullable=True),
        sa.Column('city_code', sa.String(6), nullable=True),
        sa.Column('county_code', sa.String(6), nullable=True),
        sa.Column('school_id', sa.Integer(), nullable=True),
        sa.Column('class_id', sa.Integer(), nullable=True),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(300), nullable=False),
        sa.Column('rule_source', sa.String(200), nullable=False),
        sa.Column('rule_version', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('decided_by', sa.String(128), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('note', sa.String(300), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('downloads', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(200), nullable=False),
        sa.Column('content_type', sa.String(100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('file_enc', sa.LargeBinary(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused', 'downloaded', 'expired')",
                           name=op.f('ck_export_request_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_request')),
        sa.UniqueConstraint('uid', name=op.f('uq_export_request_uid')),
    )
    for col in INDEXED:
        op.create_index(op.f(f'ix_{t}_{col}'), t, [col])
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sha256', sa.String(64), nullable=True))
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_export_log_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_log_request_id'))
        batch_op.drop_column('request_id')
        batch_op.drop_column('sha256')
    for col in INDEXED:
        op.drop_index(op.f(f'ix_export_request_{col}'), table_name='export_request')
    op.drop_table('export_request')
