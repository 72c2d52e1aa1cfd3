"""month-end snapshots for the monthly report: report_month (one row per closed month) and
report_snapshot (students and accounts counted by school / node, grade, status, gender)

Revision ID: 4d5e6f7a8b9c
Revises: 3c4d5e6f7a8b
Create Date: 2026-11-30 18:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4d5e6f7a8b9c'
down_revision = '3c4d5e6f7a8b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_month',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.Column('taken_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_report_month'))
    )
    op.create_table('report_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('subject', sa.String(length=10), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('province_code', sa.String(length=6), nullable=True),
    sa.Column('city_code', sa.String(length=6), nullable=True),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.Column('stage', sa.String(length=10), nullable=True),
    sa.Column('grade', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['month'], ['report_month.month'],
                            name=op.f('fk_report_snapshot_month_report_month')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_report_snapshot_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_snapshot'))
    )
    with op.batch_alter_table('report_snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_report_snapshot_month_subject', ['month', 'subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_snapshot_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_snapshot_province_code'), ['province_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_snapshot_city_code'), ['city_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_snapshot_county_code'), ['county_code'], unique=False)
    # the monthly report's history queries: requests closed or opened in a window, problems found in one
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.create_index('ix_request_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_request_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('problem_case', schema=None) as batch_op:
        batch_op.create_index('ix_problem_case_detected_at', ['detected_at'], unique=False)


def downgrade():
    with op.batch_alter_table('problem_case', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_case_detected_at')
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_index('ix_request_created_at')
        batch_op.drop_index('ix_request_closed_at')
    with op.batch_alter_table('report_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_snapshot_county_code'))
        batch_op.drop_index(batch_op.f('ix_report_snapshot_city_code'))
        batch_op.drop_index(batch_op.f('ix_report_snapshot_province_code'))
        batch_op.drop_index(batch_op.f('ix_report_snapshot_school_id'))
        batch_op.drop_index('ix_report_snapshot_month_subject')
    op.drop_table('report_snapshot')
    op.drop_table('report_month')
