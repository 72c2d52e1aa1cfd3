"""The students' per-school tally (``student_tally``) that the landing page sums: the database's
triggers keep it equal to a live count through inserts (one by one, set-based, PostgreSQL COPY),
status changes, transfers, deletes and set-based updates; compaction and a rebuild leave the sums
as they were; each account's page shows what a live count of its jurisdiction says; and on
PostgreSQL two transactions changing students of one school never wait for each other."""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager

import pytest
from conftest import is_postgres
from sqlalchemy import create_engine, delete, func, insert, select, text, update

from app.extensions import db
from app.models import School, Student, StudentTally, XuejiUser
from app.models.base import new_uid
from app.security.scoping import Scope, scope_of
from app.services.exchange.import_writes import bulk_insert
from app.services.operations import jobs
from app.services.organisation import codes
from app.services.record import tally

SYSTEM = Scope("system")
PROVINCE, COUNTY, SCHOOL = "430000", "430102", "4301020001"
ACCOUNTS = ("prov_registrar", "county_registrar", "school_registrar", "prov_supervisor")
WAIT = 10  # seconds a writer may take before the test calls it blocked


def live(scope: Scope = SYSTEM) -> dict[str, int]:
    """{status: students} of ``scope``, counted from the records (the page's former query)."""
    return dict(db.session.execute(select(Student.status, func.count()).where(scope.clause(Student))
                                   .group_by(Student.status)).all())


def tallied(scope: Scope = SYSTEM) -> dict[str, int]:
    return dict(tally.by_status(db.session, scope))


def school_id(code: str) -> int:
    return db.session.scalar(select(School.id).where(School.code == code))


def scopes() -> list[Scope]:
    return [SYSTEM, Scope("province", PROVINCE), Scope("county", COUNTY),
            Scope("school", school_id=school_id(SCHOOL))]


def assert_right() -> None:
    """The tally equals a live count: per (school, status), and summed for every level's scope."""
    assert tally.differences(db.session) == {}
    for scope in scopes():
        assert tallied(scope) == live(scope), scope


def tally_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(StudentTally))


def copies(school_code: str, n: int) -> list[dict]:
    """``n`` new rows made from records of ``school_code``: every column but the id, a fresh uid
    and blind index (the ciphertexts stay bound to the old uid: these rows are only counted)."""
    table = Student.__table__
    rows = db.session.execute(select(table).where(table.c.school_id == school_id(school_code))
                              .order_by(table.c.id).limit(n)).mappings().all()
    assert len(rows) == n
    return [{**{k: v for k, v in row.items() if k != "id"}, "uid": new_uid(),
             "registry_blind": f"tally-{new_uid()}"} for row in rows]


def added_ids(made: list[dict]) -> list[int]:
    """The ids of the rows ``made``, in their order (inserted in it: ids ascend)."""
    return list(db.session.scalars(select(Student.id).where(Student.uid.in_([r["uid"] for r in made]))
                                   .order_by(Student.id)))


def test_the_tally_matches_the_records_as_seeded(ctx):
    assert_right()
    assert sum(tallied().values()) == db.session.scalar(select(func.count()).select_from(Student)) > 0


def test_the_tally_follows_inserts_status_changes_transfers_and_deletes(ctx):
    made = copies(SCHOOL, 3)
    db.session.execute(insert(Student.__table__), made)  # an INSERT per row
    assert_right()

    student = db.session.get(Student, added_ids(made)[0])
    before = tallied(Scope("school", school_id=student.school_id))
    student.status = "suspended"  # a status change through the ORM
    db.session.flush()
    after = tallied(Scope("school", school_id=student.school_id))
    assert (after.get("suspended", 0), after.get("in_school", 0)) == \
        (before.get("suspended", 0) + 1, before.get("in_school", 0) - (made[0]["status"] == "in_school"))
    assert_right()

    other = db.session.scalar(select(School).where(School.code == "4302020001"))  # another city's
    student.school = other  # a transfer: the school changes, the chain follows it
    db.session.flush()
    assert student.province_code == PROVINCE and student.county_code == "430202"
    assert_right()

    student.name = "改名不计数"  # an update that changes neither: no delta
    rows = tally_rows()
    db.session.flush()
    assert tally_rows() == rows

    db.session.execute(delete(Student).where(Student.id.in_(added_ids(made))))
    assert_right()


def test_a_set_based_update_and_a_copy_add_a_handful_of_rows(ctx):
    school = school_id(SCHOOL)
    moving = db.session.scalar(select(func.count()).where(Student.school_id == school,
                                                          Student.status == "in_school"))
    assert moving > 5
    rows = tally_rows()
    db.session.execute(update(Student).where(Student.school_id == school, Student.status == "in_school")
                       .values(status="suspended"))
    assert_right()
    assert tally_rows() - rows == 2 * moving  # a row-level trigger: -1 and +1 per record moved


def test_an_update_keeps_no_copy_of_the_rows_it_changes(ctx):
    """PostgreSQL: the UPDATE's trigger is row-level, for the rows whose status or school changed;
    a statement-level one with transition tables held every updated row whole (the promotion's
    UPDATE of 682,574 students spilled over a gigabyte to temporary files)."""
    if not is_postgres():
        pytest.skip("PostgreSQL's triggers")
    rows = db.session.execute(text(
        "SELECT tgname, tgnewtable, tgoldtable, (tgtype & 1) = 1 AS per_row FROM pg_trigger "
        "WHERE tgrelid = 'student'::regclass AND tgname LIKE 'student_tally_%'")).all()
    update_trigger = {r.tgname: r for r in rows}["student_tally_update"]
    assert update_trigger.per_row and update_trigger.tgnewtable is None and update_trigger.tgoldtable is None

    made = copies(SCHOOL, 30) + copies("4302020001", 30)
    rows = tally_rows()
    bulk_insert(db.session, Student.__table__, made)  # COPY on PostgreSQL, as an import writes
    assert_right()
    if is_postgres():
        pairs = {(r["school_id"], r["status"]) for r in made}
        assert tally_rows() - rows == len(pairs) < len(made)

    rows = tally_rows()
    db.session.execute(delete(Student).where(Student.id.in_(added_ids(made))))
    assert_right()
    if is_postgres():
        assert tally_rows() - rows == len(pairs)


def test_compaction_folds_the_deltas_and_keeps_every_sum(ctx):
    made = copies(SCHOOL, 5)
    db.session.execute(insert(Student.__table__), made)
    db.session.execute(update(Student).where(Student.id.in_(added_ids(made))).values(status="abroad"))
    db.session.execute(delete(Student).where(Student.id.in_(added_ids(made)[:2])))
    before = {scope: tallied(scope) for scope in scopes()}
    folded = tally.compact.__wrapped__(db.session)  # inside this test's transaction
    assert folded.deltas > folded.rows
    assert {scope: tallied(scope) for scope in scopes()} == before
    assert_right()
    # one row per (school, status), none zero
    per_pair = db.session.execute(select(StudentTally.school_id, StudentTally.status, func.count(),
                                         func.min(func.abs(StudentTally.n)))
                                  .group_by(StudentTally.school_id, StudentTally.status)).all()
    assert per_pair and all(n == 1 and smallest > 0 for *_, n, smallest in per_pair)


def test_the_worker_s_compaction_commits_and_changes_no_count(ctx):
    before = {scope: tallied(scope) for scope in scopes()}
    tally.compact(db.session)
    again = tally.compact(db.session)
    assert again == tally.Folded(0, 0)  # nothing left to fold
    assert {scope: tallied(scope) for scope in scopes()} == before
    assert_right()


@pytest.mark.skipif(not is_postgres(), reason="the job worker's queue lives in PostgreSQL")
def test_the_worker_compacts_the_tally_every_five_minutes(app, ctx):
    from app.worker import build

    queue = build(app)
    crons = {key[1]: p.cron for key, p in queue.periodic_registry.periodic_tasks.items()}
    assert crons["tally"] == "*/5 * * * *"
    made = copies(SCHOOL, 2)
    db.session.execute(insert(Student.__table__), made)
    db.session.execute(delete(Student).where(Student.id.in_(added_ids(made))))
    db.session.commit()  # a +2 and a -2 delta, committed
    queue.tasks["xueji.tally"](timestamp=0)  # what the scheduler runs
    db.session.expire_all()
    assert tally.compact(db.session) == tally.Folded(0, 0)  # the task left nothing to fold
    assert_right()


@jobs.task("test_tally_idle", "测试空任务", "Test: nothing")
def _nothing(session, params, progress, actor, now) -> dict:
    return {}


def test_without_a_worker_a_job_run_in_process_folds_the_tally_when_it_ends(app, ctx, monkeypatch):
    """The demo (XUEJI_JOBS = thread) has no worker to run the periodic compaction: each job it
    runs in-process folds the deltas after it, so the tally stays about a row per school and status."""
    from datetime import datetime

    from app.services.common.actors import Actor
    from app.services.common.transaction import transaction

    monkeypatch.setitem(app.config, "XUEJI_JOBS", "thread")
    made = copies(SCHOOL, 2)
    db.session.execute(insert(Student.__table__), made)
    db.session.execute(delete(Student).where(Student.id.in_(added_ids(made))))
    db.session.commit()  # a +2 and a -2 delta, committed
    with transaction(db.session):
        run = jobs.start(db.session, "test_tally_idle", {}, Actor.system("t"), now=datetime(2026, 9, 15, 10))
    jobs.launch(run)
    worker = next(t for t in threading.enumerate() if t.name == f"job-{run.id}")
    worker.join(WAIT)
    assert not worker.is_alive()
    db.session.expire_all()
    assert db.session.get(type(run), run.id).status == "done"
    assert tally.compact(db.session) == tally.Folded(0, 0)  # the job's thread left nothing to fold
    assert_right()


def test_a_rebuild_repairs_a_wrong_tally(ctx):
    db.session.execute(insert(StudentTally).values(school_id=school_id(SCHOOL), status="in_school", n=7))
    assert tally.differences(db.session)  # control: the check sees it
    tally.rebuild.__wrapped__(db.session)
    assert_right()


# -- the landing page -------------------------------------------------------------------------------

def page_counts(client) -> dict[str, int]:
    response = client.get("/")
    assert response.status_code == 200
    table = re.search(r'<table[^>]*id="status-counts">(.*?)</table>', response.get_data(as_text=True), re.S)
    assert table, "no counts on the page"
    return {label: int(n) for label, n in re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td></tr>", table.group(1))}


def expected(username: str) -> dict[str, int]:
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))
    labels = codes.labels(db.session, "student_status")
    return {labels.get(status, status): n for status, n in live(scope_of(user)).items()}


@contextmanager
def transferred():
    """A student of the school account's school moved to another city's school and suspended,
    committed (so the pages see it); put back afterwards."""
    student = db.session.scalars(select(Student).where(Student.school_id == school_id(SCHOOL),
                                                       Student.status == "in_school")
                                 .order_by(Student.id)).first()
    home, status = student.school, student.status
    student.school = db.session.scalar(select(School).where(School.code == "4302020001"))
    student.status = "suspended"
    db.session.commit()
    try:
        yield student
    finally:
        db.session.rollback()
        student.school, student.status = home, status
        db.session.commit()


@pytest.mark.parametrize("username", ACCOUNTS)
def test_the_home_page_shows_the_live_count_of_each_jurisdiction(ctx, client_for, username):
    shown = page_counts(client_for(username))
    assert shown == expected(username) and shown


def test_the_home_page_follows_a_committed_transfer(ctx, client_for):
    clients = {u: client_for(u) for u in ("prov_registrar", "county_registrar", "school_registrar")}
    before = {u: page_counts(c) for u, c in clients.items()}
    with transferred():
        after = {u: page_counts(c) for u, c in clients.items()}
        for username in clients:
            assert after[username] == expected(username), username
    in_school = codes.labels(db.session, "student_status")["in_school"]
    assert after["school_registrar"][in_school] == before["school_registrar"][in_school] - 1
    assert after["county_registrar"][in_school] == before["county_registrar"][in_school] - 1
    assert sum(after["prov_registrar"].values()) == sum(before["prov_registrar"].values())
    assert {u: page_counts(c) for u, c in clients.items()} == before  # and back


# -- PostgreSQL: writers of one school never wait for each other -----------------------------------

@pytest.fixture
def two_connections(ctx):
    if not is_postgres():
        pytest.skip("statement triggers and concurrent writers are PostgreSQL's")
    engine = create_engine(os.environ["TEST_DATABASE_URL"], pool_size=3)
    try:
        yield engine
    finally:
        engine.dispose()


def _two_in_school(school: int) -> list[int]:
    return list(db.session.scalars(select(Student.id).where(Student.school_id == school,
                                                            Student.status == "in_school")
                                   .order_by(Student.id).limit(2)))


def _in_thread(fn) -> BaseException | None:
    """Run ``fn`` in a thread; its error, TimeoutError if it did not finish within WAIT seconds."""
    outcome: list = []

    def run():
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 -- handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(WAIT)
    return outcome[0] if outcome else TimeoutError(f"blocked for {WAIT} s")


def _suspend(conn, student_id: int) -> None:
    conn.execute(text("SET LOCAL lock_timeout = '5s'"))
    conn.execute(update(Student).where(Student.id == student_id).values(status="suspended"))


def test_two_transactions_changing_one_school_do_not_wait_for_each_other(two_connections):
    school = school_id(SCHOOL)
    first, second = _two_in_school(school)
    db.session.rollback()
    a, b = two_connections.connect(), two_connections.connect()
    try:
        a.begin()
        _suspend(a, first)  # a's deltas written, a still open

        def other():
            with b.begin():
                _suspend(b, second)  # the same school, the same statuses

        assert _in_thread(other) is None  # b committed while a was open
        a.commit()
        assert_right()
    finally:
        a.rollback()
        a.close()
        b.close()
        db.session.rollback()
        db.session.execute(update(Student).where(Student.id.in_([first, second])).values(status="in_school"))
        db.session.commit()
    assert_right()


def test_compaction_beside_open_writers_keeps_every_delta(two_connections):
    school = school_id(SCHOOL)
    first, second = _two_in_school(school)
    db.session.rollback()
    writer, compactor = two_connections.connect(), two_connections.connect()
    try:
        writer.begin()
        _suspend(writer, first)  # uncommitted deltas: the compaction neither sees nor waits for them
        assert _in_thread(lambda: _compact_on(compactor)) is None
        writer.commit()
        compactor.begin()  # a compaction open while a writer commits deltas of the same pairs
        compactor.execute(text("SET LOCAL lock_timeout = '5s'"))
        compactor.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": tally.TALLY_LOCK})
        compactor.execute(tally._FOLD)

        def write():
            with writer.begin():
                _suspend(writer, second)

        assert _in_thread(write) is None
        compactor.commit()
        assert_right()
    finally:
        writer.close()
        compactor.close()
        db.session.rollback()
        db.session.execute(update(Student).where(Student.id.in_([first, second])).values(status="in_school"))
        db.session.commit()
    assert_right()


def _compact_on(conn) -> None:
    with conn.begin():
        conn.execute(text("SET LOCAL lock_timeout = '5s'"))
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": tally.TALLY_LOCK})
        conn.execute(tally._FOLD)
