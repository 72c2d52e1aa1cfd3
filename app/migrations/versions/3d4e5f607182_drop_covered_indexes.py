"""three indexes another index already covers, dropped: student.name (ix_student_name_gender_birth
leads with it), student.school_id (ix_student_school_status) and family_member.student_id
(uq_member_student_seq) -- every row an import, an enrollment or a promotion writes no longer
maintains them

Revision ID: 3d4e5f607182
Revises: 2c3d4e5f6071
Create Date: 2026-12-01 22:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '3d4e5f607182'
down_revision = '2c3d4e5f6071'
branch_labels = None
depends_on = None

DROPPED = (("ix_student_name", "student", ["name"]), ("ix_student_school_id", "student", ["school_id"]),
           ("ix_family_member_student_id", "family_member", ["student_id"]))


def upgrade():
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade():
    for name, table, columns in DROPPED:
        op.create_index(name, table, columns)
