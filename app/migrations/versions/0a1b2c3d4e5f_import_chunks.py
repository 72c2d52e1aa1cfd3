"""an import's dry run keeps its valid rows ready to write, a chunk of the sheet per row of
import_chunk (encrypted), so the commit writes them without reading the workbook again

Revision ID: 0a1b2c3d4e5f
Revises: ff5a6b7c8d9e
Create Date: 2026-12-01 13:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0a1b2c3d4e5f'
down_revision = 'ff5a6b7c8d9e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_chunk',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('last_row', sa.Integer(), nullable=False),
        sa.Column('data_enc', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['import_job.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('job_id', 'seq'),
    )


def downgrade():
    op.drop_table('import_chunk')
