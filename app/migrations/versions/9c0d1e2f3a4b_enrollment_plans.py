"""enrollment plans (招生计划): the plan per school, year and entry grade, its classes, and the
schools' change requests

Revision ID: 9c0d1e2f3a4b
Revises: 8b9c0d1e2f3a
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c0d1e2f3a4b'
down_revision = '8b9c0d1e2f3a'
branch_labels = None
depends_on = None


def _chain():
    return [sa.Column('province_code', sa.String(6), nullable=False),
            sa.Column('city_code', sa.String(6), nullable=True),
            sa.Column('county_code', sa.String(6), nullable=True)]


def _indexes(table, *columns):
    for col in columns:
        op.create_index(f'ix_{table}_{col}', table, [col])


def upgrade():
    op.create_table(
        'enrollment_plan',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('school.id'), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('grade', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(10), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('set_by', sa.String(128), nullable=False),
        sa.Column('set_at', sa.DateTime(), nullable=False),
        sa.Column('applied_at', sa.DateTime(), nullable=True),
        sa.Column('applied_by', sa.String(128), nullable=True),
        sa.Column('rule_version', sa.Integer(), nullable=True),
        *_chain(),
        sa.UniqueConstraint('school_id', 'school_year', 'grade', name='uq_enrollment_plan'),
        sa.CheckConstraint('grade in (1, 7, 10)', name='ck_enrollment_plan_entry_grade'),
        sa.CheckConstraint('seats >= 0', name='ck_enrollment_plan_seats'),
    )
    _indexes('enrollment_plan', 'school_id', 'province_code', 'city_code', 'county_code')
    op.create_table(
        'enrollment_plan_class',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('plan_id', sa.Integer(), sa.ForeignKey('enrollment_plan.id'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(40), nullable=False),
        sa.Column('cap', sa.Integer(), nullable=False),
        sa.Column('class_id', sa.Integer(), sa.ForeignKey('school_class.id'), nullable=True),
        sa.UniqueConstraint('plan_id', 'number', name='uq_enrollment_plan_class_number'),
        sa.CheckConstraint('cap > 0', name='ck_enrollment_plan_class_cap'),
    )
    _indexes('enrollment_plan_class', 'plan_id')
    op.create_table(
        'enrollment_plan_change',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('plan_id', sa.Integer(), sa.ForeignKey('enrollment_plan.id'), nullable=False),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('school.id'), nullable=False),
        sa.Column('open_key', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('classes', sa.JSON(), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(500), nullable=False),
        sa.Column('plan_version', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_by', sa.String(128), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by', sa.String(128), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('comment', sa.String(500), nullable=True),
        *_chain(),
        sa.UniqueConstraint('open_key', name='uq_enrollment_plan_change_open'),
    )
    _indexes('enrollment_plan_change', 'plan_id', 'school_id', 'province_code', 'city_code',
             'county_code')


def downgrade():
    op.drop_table('enrollment_plan_change')
    op.drop_table('enrollment_plan_class')
    op.drop_table('enrollment_plan')
