"""the promotion batch: runs, the schools each has done, snapshots of what moved

Revision ID: 8b9c0d1e2f3a
Revises: 7a8b9c0d1e2f
Create Date: 2026-11-30 19:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8b9c0d1e2f3a'
down_revision = '7a8b9c0d1e2f'
branch_labels = None
depends_on = None


def _chain():
    return [sa.Column('province_code', sa.String(6), nullable=False),
            sa.Column('city_code', sa.String(6), nullable=True),
            sa.Column('county_code', sa.String(6), nullable=True)]


def _chain_indexes(table):
    for col in ('province_code', 'city_code', 'county_code'):
        op.create_index(f'ix_{table}_{col}', table, [col])


def upgrade():
    op.create_table(
        'promotion_run',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('node_code', sa.String(6), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('live_key', sa.String(20), nullable=True),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('started_by', sa.String(128), nullable=False),
        sa.Column('undone_by', sa.String(128), nullable=True),
        sa.Column('carried_over', sa.JSON(), nullable=True),
        sa.Column('schools_total', sa.Integer(), nullable=False),
        sa.Column('students_moved', sa.Integer(), nullable=False),
        sa.Column('classes_moved', sa.Integer(), nullable=False),
        sa.Column('held_back', sa.Integer(), nullable=False),
        sa.Column('rule_version', sa.Integer(), nullable=True),
        *_chain(),
        sa.UniqueConstraint('live_key', name='uq_promotion_run_live'),
    )
    op.create_index('ix_promotion_run_node_code', 'promotion_run', ['node_code'])
    _chain_indexes('promotion_run')
    op.create_table(
        'promotion_school',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('run_id', sa.Integer(), sa.ForeignKey('promotion_run.id'), nullable=False),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('school.id'), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('live_key', sa.String(24), nullable=True),
        sa.Column('done_at', sa.DateTime(), nullable=False),
        sa.Column('students_moved', sa.Integer(), nullable=False),
        sa.Column('classes_moved', sa.Integer(), nullable=False),
        sa.Column('held_back', sa.Integer(), nullable=False),
        *_chain(),
        sa.UniqueConstraint('live_key', name='uq_promotion_school_live'),
    )
    op.create_index('ix_promotion_school_run_id', 'promotion_school', ['run_id'])
    op.create_index('ix_promotion_school_school_id', 'promotion_school', ['school_id'])
    _chain_indexes('promotion_school')
    op.create_table(
        'promotion_student_snapshot',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('run_id', sa.Integer(), sa.ForeignKey('promotion_run.id'), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('old_grade_id', sa.Integer(), nullable=True),
        sa.Column('old_class_id', sa.Integer(), nullable=True),
        sa.Column('old_hold_back', sa.Boolean(), nullable=False),
    )
    op.create_index('ix_promotion_student_run', 'promotion_student_snapshot', ['run_id', 'student_id'])
    op.create_index('ix_promotion_student_snapshot_school_id', 'promotion_student_snapshot',
                    ['school_id'])
    op.create_table(
        'promotion_class_snapshot',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('run_id', sa.Integer(), sa.ForeignKey('promotion_run.id'), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('class_id', sa.Integer(), nullable=False),
        sa.Column('old_grade_id', sa.Integer(), nullable=False),
    )
    op.create_index('ix_promotion_class_run', 'promotion_class_snapshot', ['run_id', 'class_id'])
    op.create_index('ix_promotion_class_snapshot_school_id', 'promotion_class_snapshot',
                    ['school_id'])


def downgrade():
    op.drop_table('promotion_class_snapshot')
    op.drop_table('promotion_student_snapshot')
    op.drop_table('promotion_school')
    op.drop_table('promotion_run')
