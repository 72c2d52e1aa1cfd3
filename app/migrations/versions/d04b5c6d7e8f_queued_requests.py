"""queued requests (filed outside their window, submitted when it opens) and escalation of overdue steps

Revision ID: d04b5c6d7e8f
Revises: cf3a4b5c6d7e
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd04b5c6d7e8f'
down_revision = 'cf3a4b5c6d7e'
branch_labels = None
depends_on = None


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKey(f'{target}.id', ondelete=ondelete, name=op.f(f'fk_{table}_{column}_{target}'))


def upgrade():
    t = 'queued_request'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(30), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('student_id', sa.Integer(), _fk(t, 'student_id', 'student', 'SET NULL'), nullable=True),
        sa.Column('student_name', sa.String(50), nullable=False),
        sa.Column('queued_student_id', sa.Integer(), _fk(t, 'queued_student_id', 'student', 'SET NULL'),
                  nullable=True),
        sa.Column('requester_id', sa.Integer(), nullable=True),
        sa.Column('requester_name', sa.String(128), nullable=False),
        sa.Column('origin_school_id', sa.Integer(), _fk(t, 'origin_school_id', 'school'), nullable=False),
        sa.Column('other_school_id', sa.Integer(), _fk(t, 'other_school_id', 'school'), nullable=True),
        sa.Column('target_class_id', sa.Integer(), _fk(t, 'target_class_id', 'school_class'), nullable=True),
        sa.Column('origin_province', sa.String(6), nullable=False),
        sa.Column('origin_city', sa.String(6), nullable=True),
        sa.Column('origin_county', sa.String(6), nullable=True),
        sa.Column('other_province', sa.String(6), nullable=True),
        sa.Column('other_city', sa.String(6), nullable=True),
        sa.Column('other_county', sa.String(6), nullable=True),
        sa.Column('reason', sa.String(100), nullable=True),
        sa.Column('note', sa.String(500), nullable=True),
        sa.Column('summary', sa.String(300), nullable=True),
        sa.Column('payload_enc', sa.Text(), nullable=True),
        sa.Column('opens_on', sa.Date(), nullable=True),
        sa.Column('closed_by', sa.String(80), nullable=True),
        sa.Column('problem', sa.String(500), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('request_id', sa.Integer(), _fk(t, 'request_id', 'request', 'SET NULL'), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_queued_request')),
        sa.UniqueConstraint('uid', name=op.f('uq_queued_request_uid')),
        sa.UniqueConstraint('queued_student_id', name=op.f('uq_queued_request_queued_student_id')),
    )
    for col in ('status', 'student_id', 'origin_school_id', 'other_school_id', 'origin_province',
                'origin_city', 'origin_county', 'other_province', 'other_city', 'other_county',
                'opens_on'):
        op.create_index(op.f(f'ix_{t}_{col}'), t, [col])
    a = 'queued_attachment'
    op.create_table(
        a,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(32), nullable=False),
        sa.Column('queued_id', sa.Integer(), _fk(a, 'queued_id', 'queued_request', 'CASCADE'), nullable=False),
        sa.Column('filename', sa.String(200), nullable=False),
        sa.Column('content_type', sa.String(50), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('data_enc', sa.LargeBinary(), nullable=False),
        sa.Column('uploaded_by', sa.String(128), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_queued_attachment')),
        sa.UniqueConstraint('uid', name=op.f('uq_queued_attachment_uid')),
    )
    op.create_index(op.f('ix_queued_attachment_queued_id'), a, ['queued_id'])
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_node', sa.String(20), nullable=True))
        batch_op.add_column(sa.Column('escalated_role', sa.String(20), nullable=True))
        batch_op.add_column(sa.Column('escalation', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_request_escalated_node'), ['escalated_node'], unique=False)


def downgrade():
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_escalated_node'))
        batch_op.drop_column('escalation')
        batch_op.drop_column('escalated_role')
        batch_op.drop_column('escalated_node')
    op.drop_index(op.f('ix_queued_attachment_queued_id'), table_name='queued_attachment')
    op.drop_table('queued_attachment')
    for col in ('status', 'student_id', 'origin_school_id', 'other_school_id', 'origin_province',
                'origin_city', 'origin_county', 'other_province', 'other_city', 'other_county',
                'opens_on'):
        op.drop_index(op.f(f'ix_queued_request_{col}'), table_name='queued_request')
    op.drop_table('queued_request')
