"""student tally: students per school and status kept by triggers on student, as signed deltas
(the landing page sums them instead of counting a province's students)

Revision ID: 1b2c3d4e5f60
Revises: 0a1b2c3d4e5f
Create Date: 2026-12-01 16:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '1b2c3d4e5f60'
down_revision = '0a1b2c3d4e5f'
branch_labels = None
depends_on = None

# PostgreSQL: an INSERT or a DELETE adds its deltas from a statement-level trigger that reads the
# statement's rows as a transition table -- a COPY of 100,000 rows adds a handful of rows, and no
# counter row is ever updated in place, so concurrent writers never wait on each other.  An UPDATE
# adds them from a row-level trigger that fires only for the rows whose status or school changed:
# a statement-level UPDATE trigger's transition tables hold every updated row whole, old and new
# (the promotion's UPDATE of 682,574 students spilled over a gigabyte to temporary files, and
# took 218 s instead of 151: tests/bench/bench_promotion.py).
TALLY_FUNCTION = """
CREATE FUNCTION xueji_student_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO student_tally (school_id, status, n)
        SELECT school_id, status, count(*) FROM tally_new GROUP BY school_id, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO student_tally (school_id, status, n)
        SELECT school_id, status, -count(*) FROM tally_old GROUP BY school_id, status;
    ELSE  -- TRUNCATE: no student left to count
        DELETE FROM student_tally;
    END IF;
    RETURN NULL;
END $$
"""
MOVED_FUNCTION = """
CREATE FUNCTION xueji_student_tally_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO student_tally (school_id, status, n)
    VALUES (OLD.school_id, OLD.status, -1), (NEW.school_id, NEW.status, 1);
    RETURN NULL;
END $$
"""
PG_TRIGGERS = {  # a trigger with transition tables serves one event only
    'student_tally_insert': 'AFTER INSERT ON student REFERENCING NEW TABLE AS tally_new '
                            'FOR EACH STATEMENT EXECUTE FUNCTION xueji_student_tally()',
    'student_tally_update': 'AFTER UPDATE OF status, school_id ON student FOR EACH ROW '
                            'WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.school_id IS DISTINCT FROM NEW.school_id) '
                            'EXECUTE FUNCTION xueji_student_tally_moved()',
    'student_tally_delete': 'AFTER DELETE ON student REFERENCING OLD TABLE AS tally_old '
                            'FOR EACH STATEMENT EXECUTE FUNCTION xueji_student_tally()',
    'student_tally_truncate': 'AFTER TRUNCATE ON student FOR EACH STATEMENT EXECUTE FUNCTION xueji_student_tally()',
}

# SQLite: one writer at a time, so row-level triggers.  A batch migration that rebuilds the student
# table on SQLite drops these triggers with it: such a migration must create them again.
SQLITE_TRIGGERS = {
    'student_tally_insert': """
CREATE TRIGGER student_tally_insert AFTER INSERT ON student BEGIN
    INSERT INTO student_tally (school_id, status, n) VALUES (NEW.school_id, NEW.status, 1);
END""",
    'student_tally_update': """
CREATE TRIGGER student_tally_update AFTER UPDATE OF status, school_id ON student
WHEN OLD.status IS NOT NEW.status OR OLD.school_id IS NOT NEW.school_id BEGIN
    INSERT INTO student_tally (school_id, status, n)
    VALUES (OLD.school_id, OLD.status, -1), (NEW.school_id, NEW.status, 1);
END""",
    'student_tally_delete': """
CREATE TRIGGER student_tally_delete AFTER DELETE ON student BEGIN
    INSERT INTO student_tally (school_id, status, n) VALUES (OLD.school_id, OLD.status, -1);
END""",
}

BACKFILL = ('INSERT INTO student_tally (school_id, status, n) '
            'SELECT school_id, status, count(*) FROM student GROUP BY school_id, status')


def upgrade():
    op.create_table(
        'student_tally',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_student_tally')),
    )
    op.create_index('ix_student_tally_school_status', 'student_tally', ['school_id', 'status'], unique=False)
    # the triggers first: on PostgreSQL they lock student against writes until this commits, so
    # the backfill counts exactly the rows no trigger saw
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(TALLY_FUNCTION)
        op.execute(MOVED_FUNCTION)
        for name, definition in PG_TRIGGERS.items():
            op.execute(f'CREATE TRIGGER {name} {definition}')
    else:
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)
    op.execute(BACKFILL)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in PG_TRIGGERS:
            op.execute(f'DROP TRIGGER {name} ON student')
        op.execute('DROP FUNCTION xueji_student_tally()')
        op.execute('DROP FUNCTION xueji_student_tally_moved()')
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER {name}')
    op.drop_index('ix_student_tally_school_status', table_name='student_tally')
    op.drop_table('student_tally')
