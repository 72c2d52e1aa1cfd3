"""lists and searches of a jurisdiction answered from an index: a county's or a city's students in
id order (the lists' stable order: a county whose records have high ids read 750,000 rows for its
first page), and student.name under text_pattern_ops (PostgreSQL), which a LIKE 'prefix%' of a
Chinese name uses whatever the database's collation

Revision ID: ff5a6b7c8d9e
Revises: fe4f5a6b7c8d
Create Date: 2026-12-01 11:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'ff5a6b7c8d9e'
down_revision = 'fe4f5a6b7c8d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_student_county_id', 'student', ['county_code', 'id'], unique=False)
    op.create_index('ix_student_city_id', 'student', ['city_code', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_student_name_prefix', 'student', ['name'], unique=False,
                        postgresql_ops={'name': 'text_pattern_ops'})


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_student_name_prefix', table_name='student')
    op.drop_index('ix_student_city_id', table_name='student')
    op.drop_index('ix_student_county_id', table_name='student')
