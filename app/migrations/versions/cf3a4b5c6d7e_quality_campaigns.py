"""data-quality campaigns: the campaigns a province opens, and per student the form's marks and scan

Revision ID: cf3a4b5c6d7e
Revises: be2f3a4b5c6d
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'cf3a4b5c6d7e'
down_revision = 'be2f3a4b5c6d'
branch_labels = None
depends_on = None


def _chain():
    return [sa.Column('province_code', sa.String(6), nullable=False),
            sa.Column('city_code', sa.String(6), nullable=True),
            sa.Column('county_code', sa.String(6), nullable=True)]


def _indexes(table, columns):
    for col in columns:
        op.create_index(f'ix_{table}_{col}', table, [col])


def upgrade():
    op.create_table(
        'quality_campaign',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('jurisdiction_id', sa.Integer(),
                  sa.ForeignKey('jurisdiction.id', name=op.f('fk_quality_campaign_jurisdiction_id_jurisdiction')),
                  nullable=False),
        sa.Column('region_code', sa.String(6), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('note', sa.String(300), nullable=True),
        sa.Column('opened_by', sa.String(128), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('closed_by', sa.String(128), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        *_chain(),
        sa.CheckConstraint("status in ('open', 'closed')", name=op.f('ck_quality_campaign_status')),
        sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_quality_campaign_dates')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_campaign')),
    )
    _indexes('quality_campaign', ('jurisdiction_id', 'region_code', 'province_code', 'city_code',
                                  'county_code'))
    op.create_table(
        'quality_form',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(32), nullable=False),
        sa.Column('campaign_id', sa.Integer(),
                  sa.ForeignKey('quality_campaign.id', ondelete='CASCADE',
                                name=op.f('fk_quality_form_campaign_id_quality_campaign')),
                  nullable=False),
        sa.Column('student_id', sa.Integer(),
                  sa.ForeignKey('student.id', ondelete='CASCADE',
                                name=op.f('fk_quality_form_student_id_student')),
                  nullable=False),
        sa.Column('school_id', sa.Integer(),
                  sa.ForeignKey('school.id', name=op.f('fk_quality_form_school_id_school')),
                  nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=True),
        sa.Column('issued_by', sa.String(128), nullable=True),
        sa.Column('returned_at', sa.DateTime(), nullable=True),
        sa.Column('returned_by', sa.String(128), nullable=True),
        sa.Column('corrected', sa.Boolean(), nullable=True),
        sa.Column('entered_at', sa.DateTime(), nullable=True),
        sa.Column('entered_by', sa.String(128), nullable=True),
        sa.Column('scan_enc', sa.LargeBinary(), nullable=True),
        sa.Column('scan_type', sa.String(20), nullable=True),
        sa.Column('scan_size', sa.Integer(), nullable=True),
        sa.Column('scan_sha256', sa.String(64), nullable=True),
        sa.Column('scan_at', sa.DateTime(), nullable=True),
        sa.Column('scan_by', sa.String(128), nullable=True),
        *_chain(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_form')),
        sa.UniqueConstraint('uid', name=op.f('uq_quality_form_uid')),
        sa.UniqueConstraint('campaign_id', 'student_id', name='uq_quality_form_student'),
    )
    _indexes('quality_form', ('campaign_id', 'student_id', 'school_id', 'province_code', 'city_code',
                              'county_code'))


def downgrade():
    op.drop_table('quality_form')
    op.drop_table('quality_campaign')
