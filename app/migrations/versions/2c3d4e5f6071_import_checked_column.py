"""an import's dry-run result in a column of its own (import_job.checked_enc, encrypted): the commit
of the rows the dry run kept reads it without decrypting the workbook, and the dry run no longer
seals the workbook a second time; results kept in front of the workbook by older dry runs are
still read

Revision ID: 2c3d4e5f6071
Revises: 1b2c3d4e5f60
Create Date: 2026-12-01 17:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '2c3d4e5f6071'
down_revision = '1b2c3d4e5f60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_job') as batch:
        batch.add_column(sa.Column('checked_enc', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_job') as batch:
        batch.drop_column('checked_enc')
