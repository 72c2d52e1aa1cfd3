"""admission lists, duplicate admissions

Revision ID: ad1e2f3a4b5c
Revises: 9c0d1e2f3a4b
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'ad1e2f3a4b5c'
down_revision = '9c0d1e2f3a4b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=20), server_default='students',
                                      nullable=False))
    op.create_table(
        'admission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('id_blind', sa.String(length=64), nullable=False),
        sa.Column('live_key', sa.String(length=80), nullable=True),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('import_job_id', sa.Integer(), nullable=True),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('grade_number', sa.Integer(), nullable=False),
        sa.Column('class_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by', sa.String(length=128), nullable=True),
        sa.Column('province_code', sa.String(length=6), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=True),
        sa.Column('county_code', sa.String(length=6), nullable=True),
        sa.ForeignKeyConstraint(['class_id'], ['school_class.id']),
        sa.ForeignKeyConstraint(['import_job_id'], ['import_job.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.ForeignKeyConstraint(['student_id'], ['student.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('live_key', name='uq_admission_live'),
    )
    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.create_index('ix_admission_year_blind', ['school_year', 'id_blind'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_import_job_id'), ['import_job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_student_id'), ['student_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_province_code'), ['province_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_city_code'), ['city_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_county_code'), ['county_code'], unique=False)


def downgrade():
    with op.batch_alter_table('admission', schema=None) as batch_op:
        for name in ('county_code', 'city_code', 'province_code', 'status', 'student_id',
                     'import_job_id', 'school_id'):
            batch_op.drop_index(batch_op.f(f'ix_admission_{name}'))
        batch_op.drop_index('ix_admission_year_blind')
    op.drop_table('admission')
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_column('purpose')
