"""Each imported row is checked once: the commit reuses the dry run's verdicts and re-checks only
what the database can have changed since (a duplicate ID, a full class, another rule version);
the rows are read over worker processes and come back in order; pinyin as the form writes it;
stdnum once a row."""

from __future__ import annotations

import multiprocessing
import random

import pytest
from conftest import is_postgres
from factories import actor_of, on_record, school
from sqlalchemy import func, select
from test_excel import SCHOOL, _book, _check, _now
from workbooks import student_row

from app.errors import Conflict
from app.extensions import db
from app.models import ImportJob, SchoolClass, Student
from app.services.exchange import import_cells, import_checked, import_pool, imports
from app.services.policy import rulesets

REGISTRAR = "school_registrar"


def _rows(n: int, seed: int) -> list[dict]:
    """Rows for a class of its own (the suite's database is shared: no other test fills it), of
    people no record holds yet (other tests put random ID numbers on record)."""
    own = school(SCHOOL)
    grade = next(c.grade for c in own.classes if c.grade.number == 3)
    klass = SchoolClass(school=own, grade=grade, number=900 + seed % 100, name=f"整批{seed}班", entry_year=2024)
    db.session.add(klass)
    db.session.commit()
    rng, used, rows = random.Random(seed), set(), []
    while len(rows) < n:
        row = student_row(rng, SCHOOL, klass.name, 3, 2026, used)
        if not on_record(row["身份证件号"]):
            rows.append(row)
    return rows


@pytest.fixture
def rules_restored(ctx):
    texts = rulesets.current_texts(db.session)
    yield
    db.session.rollback()
    rulesets.activate(db.session, texts, by="test")


def _created(job: ImportJob) -> int:
    return db.session.scalar(select(func.count()).select_from(Student).where(Student.import_job_id == job.id))


@pytest.fixture
def validator_calls(monkeypatch):
    """Counts the record checks a reader runs (the form's validator)."""
    calls = []
    real = import_cells.record_problems

    def counted(values, ctx):
        calls.append(values.get("name"))
        return real(values, ctx)

    monkeypatch.setattr(import_cells, "record_problems", counted)
    return calls


def test_the_commit_reuses_the_dry_run_and_runs_no_record_check(ctx, validator_calls, monkeypatch):
    job = _check(_book(_rows(5, seed=901)))
    assert job.status == "checked" and len(validator_calls) == 5
    checked = import_checked.result(job)
    assert checked is not None and checked.invalid == [] and checked.rules == rulesets.current(db.session).digest

    def broken(values, ctx):
        raise AssertionError("the commit validated a row again")

    monkeypatch.setattr(import_cells, "record_problems", broken)
    imports.commit(db.session, job, actor_of(REGISTRAR), _now())
    assert (job.status, job.created, job.message) == ("done", 5, None)
    assert _created(job) == 5


def test_the_stored_result_is_encrypted_and_the_upload_reads_back_unchanged(ctx):
    data = _book(_rows(2, seed=902))
    job = _check(data)
    assert job.checked_enc is not None and b"invalid" not in job.checked_enc
    assert imports._file(job) == data


def test_a_result_an_older_dry_run_kept_in_front_of_the_workbook_is_still_read(ctx):
    """Jobs checked before import_job.checked_enc existed: MAGIC, the result, then the workbook."""
    import json
    from dataclasses import asdict

    from app.models.base import keyring

    data = _book(_rows(3, seed=915))
    job = _check(data)
    checked = import_checked.result(job)
    meta = json.dumps(asdict(checked)).encode()
    job.file_enc = keyring().encrypt_bytes(b"".join((import_checked.MAGIC, len(meta).to_bytes(4, "big"), meta,
                                                     data)), import_checked._aad(job))
    job.checked_enc = None
    db.session.commit()
    assert imports._file(job) == data and import_checked.result(job) == checked
    imports.commit(db.session, job, actor_of(REGISTRAR), _now())
    assert (job.status, job.created, job.message) == ("done", 3, None)


def test_an_id_put_on_record_elsewhere_after_the_check_is_still_caught(ctx):
    rows = _rows(3, seed=903)
    job = _check(_book(rows))
    assert job.status == "checked" and job.rows_invalid == 0
    other = db.session.scalar(select(Student).where(Student.school_id == school("4301020002").id)
                              .order_by(Student.id.desc()).limit(1))
    own_id = other.id_number
    other.id_number = rows[1]["身份证件号"]  # meanwhile another school records the same person
    db.session.commit()
    try:
        with pytest.raises(Conflict):
            imports.commit(db.session, job, actor_of(REGISTRAR), _now())
        assert _created(job) == 0
        imports.commit(db.session, job, actor_of(REGISTRAR), _now(), valid_only=True)
        assert job.created == 2 and _created(job) == 2
    finally:  # the suite's database is shared: the other school's record gets its own ID back
        db.session.rollback()
        other.id_number = own_id
        db.session.commit()


def test_a_class_filled_after_the_check_is_still_caught(ctx):
    rows = _rows(41, seed=904)  # 430102 primary cap: 40 -- one row too many
    job = _check(_book(rows[1:]))  # exactly fills the class
    assert job.status == "checked" and job.rows_invalid == 0
    first = _check(_book(rows[:1]))
    imports.commit(db.session, first, actor_of(REGISTRAR), _now())  # takes a seat meanwhile
    with pytest.raises(Conflict):
        imports.commit(db.session, job, actor_of(REGISTRAR), _now())
    job = db.session.get(ImportJob, job.id)
    assert job.status == "failed" and _created(job) == 0
    imports.commit(db.session, job, actor_of(REGISTRAR), _now(), valid_only=True)
    assert job.created == len(rows) - 2  # the last row finds the class full


def _new_rules(change: tuple[str, str] | None = None) -> None:
    texts = rulesets.current_texts(db.session)
    if change:
        old, new = change
        texts = {n: text.replace(old, new) for n, text in texts.items()}
    else:
        texts["430102.yaml"] += "\n# a new version, nothing else\n"
    assert rulesets.activate(db.session, texts, by="test") is not None


def test_a_new_rule_version_checks_every_row_again_and_says_so(ctx, rules_restored, validator_calls):
    job = _check(_book(_rows(4, seed=905)))
    assert len(validator_calls) == 4
    _new_rules()
    imports.commit(db.session, job, actor_of(REGISTRAR), _now())
    assert len(validator_calls) == 8 and job.created == 4
    assert job.status == "done" and job.message == import_checked.RECHECKED


def test_a_new_rule_version_that_refuses_the_rows_refuses_the_commit(ctx, rules_restored):
    job = _check(_book(_rows(2, seed=906)))
    _new_rules(("primary: {cap: 40}", "primary: {cap: 1}"))
    with pytest.raises(Conflict):
        imports.commit(db.session, job, actor_of(REGISTRAR), _now())
    assert _created(job) == 0


def test_rows_read_over_worker_processes_come_back_in_order_with_the_same_verdicts(app, ctx, monkeypatch):
    from app.documents.reader import Sheet

    monkeypatch.setattr(Sheet, "CHUNK_ROWS", 3)
    monkeypatch.setattr(import_pool, "POOL_BYTES", 0)  # a pool even for this small file
    rows = _rows(30, seed=907)  # the header is found in the first 4 chunks, 7 more go to the workers
    for key in ("身份证件号", "出生日期", "性别"):
        rows[25][key] = rows[1][key]  # a duplicate chunks apart
    rows[20]["性别"] = "未知"
    data = _book(rows)
    outcomes = {}
    for processes in (1, 2):
        app.config["XUEJI_IMPORT_PROCESSES"] = processes
        job = _check(data)
        outcomes[processes] = (job.rows_total, job.rows_valid, sorted((p["row"], p["code"]) for p in job.problems))
    assert outcomes[1] == outcomes[2]
    assert outcomes[2][:2] == (30, 28) and outcomes[2][2] == [(22, "code"), (27, "duplicate_in_file")]

    job = db.session.get(ImportJob, job.id)
    from app.services.exchange.import_rows import Checker

    sheet = imports.sheet_of(job)
    checker = Checker(db.session, job.school, sheet.layout, _now(), actor_of(REGISTRAR))
    numbers, workers = [], set()
    with import_pool.Workers(job.size, 2) as pool:
        for chunk in pool.read_rows(sheet, checker.reader):
            numbers += [r.number for r in chunk]
            workers |= {p.pid for p in multiprocessing.active_children()}
    assert numbers == list(range(2, 32)) and len(workers) == 2


def test_pinyin_is_one_function_for_the_form_and_the_import_and_reads_phrases():
    from pypinyin import lazy_pinyin

    from app.documents import pinyin

    for name in ("张三", "欧阳·娜娜", "Anna李", "李 四", "曾小明", "吕布", "张长江", "李重阳"):
        assert pinyin.pinyin(name) == " ".join(lazy_pinyin(name)).title()
    assert pinyin.pinyin("张长江") == "Zhang Chang Jiang"  # the phrase, not 长 alone


def test_stdnum_computes_the_check_character_once_a_row(monkeypatch):
    from datetime import date

    from stdnum.cn import ric

    from app.services.record import identity
    from app.services.record.validation import Context, record_problems

    calls = []
    real = ric.calc_check_digit
    monkeypatch.setattr(ric, "calc_check_digit", lambda n: calls.append(n) or real(n))
    body = "43010220180901123"
    number = body + real(body + "0")
    values = {"id_type": identity.RESIDENT_ID, "id_number": number, "birth_date": date(2018, 9, 1),
              "gender": "2" if int(number[16]) % 2 == 0 else "1"}
    problems = record_problems(values, Context(lambda _t: {"1", "2"}, date(2026, 9, 15)))
    assert len(calls) == 1 and not [p for p in problems if p.field in ("id_number", "birth_date", "gender")]


@pytest.fixture
def pooled(app, monkeypatch):
    """A pool of two workers and chunks of 3 rows, even for a small file."""
    from app.documents.reader import Sheet

    monkeypatch.setattr(Sheet, "CHUNK_ROWS", 3)
    monkeypatch.setattr(import_pool, "POOL_BYTES", 0)
    app.config["XUEJI_IMPORT_PROCESSES"] = 2
    yield
    app.config.pop("XUEJI_IMPORT_PROCESSES", None)


def _kept(job: ImportJob) -> list:
    from app.models import ImportChunk

    return db.session.scalars(select(ImportChunk).where(ImportChunk.job_id == job.id)
                              .order_by(ImportChunk.seq)).all()


def _refuse_reading(monkeypatch) -> None:
    def refused(*args, **kwargs):
        raise AssertionError("the commit read the workbook again")

    monkeypatch.setattr(import_pool.Workers, "read_rows", refused)
    monkeypatch.setattr(imports, "sheet_of", refused)  # nor opens it: the layout is the dry run's
    monkeypatch.setattr(import_checked, "workbook", refused)  # nor decrypts it


def test_the_commit_writes_the_rows_the_dry_run_kept_without_reading_the_workbook(ctx, pooled, monkeypatch):
    rows = _rows(14, seed=908)
    rows[6]["性别"] = "未知"  # one bad row: kept out
    for key in ("身份证件号", "出生日期", "性别"):
        rows[9][key] = rows[2][key]  # read well, kept by its worker, found a duplicate after
    job = _check(_book(rows))
    assert {p["row"] for p in job.problems} == {8, 11}, job.problems  # Excel rows: the header is row 1
    assert (job.status, job.rows_valid, job.rows_invalid) == ("checked", 12, 2)
    kept = _kept(job)
    assert len(kept) > 1 and kept[-1].last_row == 15  # 14 rows after the header, in chunks
    name = rows[0]["姓名"].encode()
    assert all(name not in chunk.data_enc for chunk in kept)  # encrypted as a whole
    _refuse_reading(monkeypatch)
    imports.commit(db.session, job, actor_of(REGISTRAR), _now(), valid_only=True)
    assert (job.status, job.created) == ("done", 12) and _kept(job) == []
    written = {s.name: s for s in db.session.scalars(select(Student).where(Student.import_job_id == job.id))}
    assert set(written) == {r["姓名"] for n, r in enumerate(rows) if n not in (6, 9)}
    first = written[rows[0]["姓名"]]
    assert first.id_number == rows[0]["身份证件号"] and first.name_pinyin
    assert first.members[0].phone == rows[0]["成员1联系电话"]
    # the import's log rows are in the chain (sealed as they went in, on PostgreSQL)
    from app.models import AuditEvent
    from app.services.operations import audit_chain as chain

    seqs = db.session.scalars(select(AuditEvent.seq).where(AuditEvent.action == "import",
                                                           AuditEvent.entity_id.in_([s.id for s in written.values()]))).all()
    assert len(seqs) == 12 and None not in seqs and chain.verify(db.session) == []


def test_rows_sealed_under_another_key_are_read_again_from_the_workbook(ctx, pooled, monkeypatch):
    job = _check(_book(_rows(4, seed=909)))
    checked = import_checked.result(job)
    checked.key = "a-key-rotated-away"  # what the dry run recorded: the rows were sealed under it
    import_checked.record(job, checked)
    db.session.commit()
    reads = []
    real = import_pool.Workers.read_rows
    monkeypatch.setattr(import_pool.Workers, "read_rows", lambda *a, **k: reads.append(1) or real(*a, **k))
    imports.commit(db.session, job, actor_of(REGISTRAR), _now())
    assert reads and job.created == 4 and job.message is None  # the verdicts held: no second check
    from app.models.base import keyring
    from app.security.crypto import Keyring

    ring = keyring()
    for student in db.session.scalars(select(Student).where(Student.import_job_id == job.id)):
        assert Keyring.key_id_of(student.id_number_enc) == ring.active


def test_a_commit_resumed_after_a_failed_batch_writes_each_kept_row_once(ctx, pooled, monkeypatch):
    rows = _rows(10, seed=910)
    job = _check(_book(rows))
    monkeypatch.setattr(imports, "CHECKPOINT", 4)
    real, calls = imports.import_writes.write, []

    def failing_second(session, job_, batch, actor, now):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(session, job_, batch, actor, now)

    monkeypatch.setattr(imports.import_writes, "write", failing_second)
    with pytest.raises(RuntimeError):
        imports.commit(db.session, job, actor_of(REGISTRAR), _now())
    assert job.status == "failed" and _created(job) == 4 and job.rows_done == 5
    _refuse_reading(monkeypatch)
    imports.commit(db.session, job, actor_of(REGISTRAR), _now())
    assert job.created == 10 and _created(job) == 10 and _kept(job) == []


def test_slim_rows_that_describe_known_records_are_compared_in_full(ctx, pooled, monkeypatch):
    """A dry run's workers send rows back slim; a row that turns out to describe one of the school's
    records is read back from its chunk's pack (once a chunk) and compared item by item: here the
    two that change something are edits of records under registration review, which wait."""
    rows = _rows(20, seed=916)
    first = _check(_book(rows))
    imports.commit(db.session, first, actor_of(REGISTRAR), _now())
    assert first.created == 20 and first.request_id is not None  # the file's registration review
    rows[13]["联系电话"] = "13900000001"  # two known records changed, the rest as they are
    rows[17]["现住址"] = "湖南省长沙市芙蓉区五一大道1号"
    opened = []
    real = import_pool.unpack
    monkeypatch.setattr(import_pool, "unpack", lambda *a: opened.append(a[2]) or real(*a))
    job = _check(_book(rows))
    assert {(p["row"], p["code"]) for p in job.problems} == {(15, "under_review"), (19, "under_review")}
    assert sorted(import_checked.result(job).matched) == [n for n in range(2, 22) if n not in (15, 19)]
    assert sorted(opened) == [c.seq for c in _kept(job)] and len(opened) > 1  # each pack opened once
    imports.commit(db.session, job, actor_of(REGISTRAR), _now(), valid_only=True)
    assert (job.status, job.created, job.updated, job.unchanged) == ("done", 0, 0, 18)


def test_a_chunk_packed_with_zlib_before_zstandard_is_still_read():
    import os
    import pickle
    import zlib

    from app.security.crypto import Keyring

    ring = Keyring({"k": os.urandom(32)}, "k", os.urandom(32), "standard")
    kept = [[2, {"name": "张三"}, [], "一年级1班", "Zhang San", None]]
    old = ring.encrypt_bytes(zlib.compress(pickle.dumps(kept, protocol=5), 1), import_cells.chunk_aad(7, 0))
    assert import_cells.unpack(ring, 7, 0, old) == kept
    new, last = import_cells.pack(ring, 7, 0, [import_cells.Row(2, {"name": "张三"}, read=True)])
    assert ring.decrypt_bytes(new, import_cells.chunk_aad(7, 0))[:4] == import_cells._ZSTD and last == 2
    assert import_cells.unpack(ring, 7, 0, new)[0][:2] == [2, {"name": "张三"}]


def test_a_kept_chunk_builds_no_class_but_dates_and_decimals():
    import pickle
    from datetime import date
    from decimal import Decimal

    def load(obj):
        return import_cells._Unpickler(__import__("io").BytesIO(pickle.dumps(obj))).load()

    assert load([1, {"a": date(2020, 1, 2), "b": Decimal("1.5")}]) == [1, {"a": date(2020, 1, 2), "b": Decimal("1.5")}]
    with pytest.raises(pickle.UnpicklingError):
        load(ImportJob)  # any other global: refused


@pytest.mark.skipif(not is_postgres(), reason="the planner's statistics are PostgreSQL's")
def test_the_statistics_are_refreshed_where_a_tenth_changed_and_for_what_the_import_looks_up(ctx):
    import time

    from sqlalchemy import text

    from app.services.exchange import import_writes

    def counters() -> dict[str, tuple[int, int]]:
        db.session.commit()
        db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
        return {name: (analyzed, changed) for name, analyzed, changed in db.session.execute(text(
            "SELECT relname, analyze_count, n_mod_since_analyze FROM pg_stat_user_tables "
            "WHERE relname IN ('student', 'family_member', 'registry_number')"))}

    db.session.execute(text("ANALYZE student, family_member, registry_number"))
    before = counters()
    assert import_writes.stale_tables(db.session) == []
    import_writes.refresh_statistics(db.session)  # nothing changed since: nothing analyzed
    assert {k: v[0] for k, v in counters().items()} == {k: v[0] for k, v in before.items()}

    live = db.session.scalar(select(func.count()).select_from(text("registry_number")))
    share = int(import_writes.STALE_SHARE * max(live, 1000)) + 1
    db.session.execute(text("UPDATE registry_number SET issued_by = issued_by WHERE id IN "
                            "(SELECT id FROM registry_number ORDER BY id LIMIT :n)"), {"n": share})
    db.session.commit()
    for _ in range(50):  # a backend reports its counters within a second or so
        db.session.execute(text("SELECT pg_stat_force_next_flush()"))
        if counters()["registry_number"][1] >= share:
            break
        time.sleep(0.2)
    assert import_writes.stale_tables(db.session) == ["registry_number"]
    import_writes.refresh_statistics(db.session)
    after = counters()
    assert after["registry_number"][0] == before["registry_number"][0] + 1
    assert (after["student"][0], after["family_member"][0]) == (before["student"][0], before["family_member"][0])
    # (an ANALYZE of some columns leaves the change counter to the next full one, autovacuum's)
    sampled = set(db.session.scalars(text("SELECT attname FROM pg_stats WHERE tablename = 'registry_number'")))
    assert {"number_blind", "student_id"} <= sampled


def test_a_large_import_refreshes_the_planner_statistics_as_the_tables_double():
    from app.services.exchange.import_writes import statistics_due

    done, due = 0, []
    for end in range(4_000, 100_001, 4_000):  # the commit's checkpoints
        if statistics_due(done, end):
            due.append(end)
        done = end
    assert due == [12_000, 20_000, 40_000, 80_000]
