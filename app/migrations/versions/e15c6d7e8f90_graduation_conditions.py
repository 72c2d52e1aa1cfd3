"""graduations kept as they happened (append-only; reports count them where they graduated)

Revision ID: e15c6d7e8f90
Revises: d04b5c6d7e8f
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e15c6d7e8f90'
down_revision = 'd04b5c6d7e8f'
branch_labels = None
depends_on = None


def upgrade():
    t = 'graduation'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=True),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('province_code', sa.String(6), nullable=False),
        sa.Column('city_code', sa.String(6), nullable=True),
        sa.Column('county_code', sa.String(6), nullable=True),
        sa.Column('stage', sa.String(10), nullable=False),
        sa.Column('grade_number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['student_id'], ['student.id'], ondelete='SET NULL',
                                name=op.f('fk_graduation_student_id_student')),
        sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_graduation_school_id_school')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_graduation')),
    )
    for col in ('student_id', 'school_id', 'province_code', 'city_code', 'county_code'):
        op.create_index(op.f(f'ix_{t}_{col}'), t, [col])
    op.create_index('ix_graduation_at', t, ['at'])
    # the records that stand graduated or completed today, where they are (a record pulled into the
    # next stage before this table existed no longer says where it graduated, and is not counted)
    op.execute(
        "INSERT INTO graduation (student_id, school_id, province_code, city_code, county_code, stage, "
        "grade_number, status, at) "
        "SELECT s.id, s.school_id, s.province_code, s.city_code, s.county_code, g.stage, g.number, s.status, "
        "COALESCE(s.graduated_at, s.updated_at, s.created_at) "
        "FROM student s JOIN grade g ON g.id = s.grade_id "
        "WHERE s.status IN ('graduated', 'completed') AND s.school_id IS NOT NULL")


def downgrade():
    op.drop_table('graduation')
