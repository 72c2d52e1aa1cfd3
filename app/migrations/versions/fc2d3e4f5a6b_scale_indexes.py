"""scale indexes: the three one-column chain indexes of student give way to (province_code |
city_code | county_code, status) -- a jurisdiction's count and its count by status read from a
small index alone -- and two small partial indexes for what a registrar still has to finish
(records not yet registered, temporary numbers)

Revision ID: fc2d3e4f5a6b
Revises: fb1c2d3e4f5a
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'fc2d3e4f5a6b'
down_revision = 'fb1c2d3e4f5a'
branch_labels = None
depends_on = None

OLD = {"province": "ix_student_province_code", "city": "ix_student_city_code",
       "county": "ix_student_county_code"}
NEW = {level: (f"ix_student_{level}_status", [f"{level}_code", "status"]) for level in OLD}
CHAIN = ["province_code", "city_code", "county_code", "school_id"]
PARTIAL = {"ix_student_unregistered": ("registered = false", "registered = 0"),
           "ix_student_temporary": ("registry_kind = 'L'", "registry_kind = 'L'")}


def upgrade():
    with op.batch_alter_table("student") as batch:
        for level, (name, columns) in NEW.items():
            batch.drop_index(OLD[level])
            batch.create_index(name, columns)
    for name, (pg_where, sqlite_where) in PARTIAL.items():
        op.create_index(name, "student", CHAIN, postgresql_where=sa.text(pg_where),
                        sqlite_where=sa.text(sqlite_where))


def downgrade():
    for name in PARTIAL:
        op.drop_index(name, table_name="student")
    with op.batch_alter_table("student") as batch:
        for level, (name, _columns) in NEW.items():
            batch.drop_index(name)
            batch.create_index(OLD[level], [f"{level}_code"])
