"""monthly report files: stored monthly reports (the report_monthly job's) and their files

Revision ID: fa0b1c2d3e4f
Revises: f9d0e1f2a3b4
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'fa0b1c2d3e4f'
down_revision = 'f9d0e1f2a3b4'
branch_labels = None
depends_on = None

CHAIN = ('school_id', 'province_code', 'city_code', 'county_code')


def upgrade():
    op.create_table('monthly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_code', sa.String(length=10), nullable=False),
    sa.Column('node_level', sa.String(length=10), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('generated_by', sa.String(length=128), nullable=False),
    sa.Column('job_run_id', sa.Integer(), nullable=True),
    sa.Column('millis', sa.Integer(), nullable=True),
    sa.Column('rule_version', sa.Integer(), nullable=True),
    sa.Column('snapshot_taken_at', sa.DateTime(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=True),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.ForeignKeyConstraint(['job_run_id'], ['job_run.id'], name=op.f('fk_monthly_report_job_run_id_job_run'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_report')),
    sa.UniqueConstraint('node_code', 'month', name=op.f('uq_monthly_report_node_code'))
    )
    with op.batch_alter_table('monthly_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_report_job_run_id'), ['job_run_id'], unique=False)
        for name in CHAIN:
            batch_op.create_index(batch_op.f(f'ix_monthly_report_{name}'), [name], unique=False)
    op.create_table('monthly_report_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['monthly_report.id'],
                            name=op.f('fk_monthly_report_file_report_id_monthly_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_report_file')),
    sa.UniqueConstraint('report_id', 'kind', 'lang', name=op.f('uq_monthly_report_file_report_id'))
    )
    with op.batch_alter_table('monthly_report_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_report_file_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('monthly_report_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_report_file_report_id'))
    op.drop_table('monthly_report_file')
    with op.batch_alter_table('monthly_report', schema=None) as batch_op:
        for name in reversed(CHAIN):
            batch_op.drop_index(batch_op.f(f'ix_monthly_report_{name}'))
        batch_op.drop_index(batch_op.f('ix_monthly_report_job_run_id'))
    op.drop_table('monthly_report')
