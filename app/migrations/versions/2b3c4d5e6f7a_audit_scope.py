"""audit rows of accounts and other nodes: jurisdiction columns; personal-data log rows that name
an import job (a report download) instead of a student

Revision ID: 2b3c4d5e6f7a
Revises: 1a2b3c4d5e6f
Create Date: 2026-11-30 14:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '2b3c4d5e6f7a'
down_revision = '1a2b3c4d5e6f'
branch_labels = None
depends_on = None


CHAIN = ("province_code", "city_code", "county_code")


def upgrade():
    # an account of a bureau has no school: its audit rows are scoped by the jurisdiction chain
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        for name in CHAIN:
            batch_op.add_column(sa.Column(name, sa.String(length=6), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_audit_event_{name}'), [name], unique=False)

    # the download of an import's report names the job: whom it shows is a whole sheet
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_job_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_personal_data_access_import_job_id'), ['import_job_id'],
                              unique=False)
        batch_op.alter_column('student_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('student_uid', existing_type=sa.String(length=32), nullable=True)
        batch_op.create_check_constraint(
            op.f('ck_personal_data_access_names_whom'),
            'student_id IS NOT NULL OR import_job_id IS NOT NULL')


def downgrade():
    op.execute("DELETE FROM personal_data_access WHERE student_id IS NULL")
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_personal_data_access_names_whom'), type_='check')
        batch_op.alter_column('student_uid', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('student_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f('ix_personal_data_access_import_job_id'))
        batch_op.drop_column('import_job_id')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        for name in reversed(CHAIN):
            batch_op.drop_index(batch_op.f(f'ix_audit_event_{name}'))
            batch_op.drop_column(name)
