"""student tally on PostgreSQL: an UPDATE adds deltas from a row-level trigger that fires only for
the rows whose status or school changed.  The statement-level UPDATE trigger's transition tables
held every updated row whole, old and new: the promotion's UPDATE of 682,574 students spilled more
than a gigabyte to temporary files and ran for minutes instead of seconds (tests/bench/bench_promotion.py)

Revision ID: 3d4e5f607182
Revises: 2c3d4e5f6071
Create Date: 2026-12-01 18:15:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '3d4e5f607182'
down_revision = '2c3d4e5f6071'
branch_labels = None
depends_on = None

ROW_FUNCTION = """
CREATE FUNCTION xueji_student_tally_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO student_tally (school_id, status, n)
    VALUES (OLD.school_id, OLD.status, -1), (NEW.school_id, NEW.status, 1);
    RETURN NULL;
END $$
"""
ROW_TRIGGER = """
CREATE TRIGGER student_tally_update AFTER UPDATE OF status, school_id ON student FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.school_id IS DISTINCT FROM NEW.school_id)
EXECUTE FUNCTION xueji_student_tally_moved()
"""
STATEMENT_TRIGGER = """
CREATE TRIGGER student_tally_update AFTER UPDATE ON student
REFERENCING OLD TABLE AS tally_old NEW TABLE AS tally_new
FOR EACH STATEMENT EXECUTE FUNCTION xueji_student_tally()
"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite's triggers are row-level already, the update's limited to the two columns
    op.execute('DROP TRIGGER student_tally_update ON student')
    op.execute(ROW_FUNCTION)
    op.execute(ROW_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TRIGGER student_tally_update ON student')
    op.execute('DROP FUNCTION xueji_student_tally_moved()')
    op.execute(STATEMENT_TRIGGER)
