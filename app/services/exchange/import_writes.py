"""Writing imported rows: new records in set-based batches (encrypted in Python, inserted with
executemany), known records compared and updated through the same service as the form."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from operator import itemgetter
from types import SimpleNamespace

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, selectinload

from ...models import AuditEvent, FamilyMember, ImportJob, RegistryNumber, Student
from ...models.base import keyring, new_uid
from ...security import audit_chain
from ..common.actors import Actor
from ..common.sets import among
from ..record import personal_data, registry_numbers
from ..record.identity import RESIDENT_ID
from .import_cells import STUDENT_ITEMS, own_columns, seal
from .import_cells import enc as _enc
from .import_rows import Row, pinyin

# -- matching rows to records ------------------------------------------------------------------------

def match_existing(session: Session, school, rows: list[Row], actor: Actor) -> None:
    """Known ID (or name, gender, birth date without ID): same school updates, elsewhere refuses
    (naming the other record only inside the uploader's jurisdiction)."""
    by_blind = {r.id_blind: r for r in rows if r.ok and r.id_blind}
    by_person = {r.person: r for r in rows if r.ok and r.person}
    if by_blind:
        for student in session.scalars(select(Student).options(selectinload(Student.members))
                                       .where(among(session, Student.id_blind, list(by_blind)))):
            _attach(session, actor, school, by_blind[student.id_blind], student, personal_data.BY_ID)
    if by_person:
        names = {p[0] for p in by_person}
        for student in session.scalars(select(Student).options(selectinload(Student.members)).where(
                among(session, Student.name, list(names)),
                (Student.id_type != RESIDENT_ID) | Student.id_blind.is_(None))):
            row = by_person.get((student.name, student.gender, student.birth_date))
            if row is not None:
                _attach(session, actor, school, row, student, personal_data.BY_PERSON)


def _attach(session: Session, actor: Actor, school, row: Row, student: Student, by: tuple) -> None:
    """The row describes this record: an update of it if it is the school's own (the rules for
    editing are the checker's), a transfer to file if it is another school's."""
    if student.school_id != school.id:
        problem = personal_data.duplicate_problem(session, actor, student, hint_transfer=True, by=by)
        column = "身份证件号" if by is personal_data.BY_ID else "姓名"
        row.problems.append((column, str(problem.message), "duplicate_id"))
        return
    row.restore()  # a slim row: what it says in full, to compare
    row.existing = student
    row.changes = _diff(student, row)


def _same(new, old) -> bool:
    blank = (None, "")
    return new == old or (new in blank and old in blank)


def _diff(student: Student, row: Row) -> dict:
    changes = {}
    for name in STUDENT_ITEMS:
        if name in row.values and not _same(row.values[name], getattr(student, name)):
            changes[name] = row.values[name]
    if row.klass is not None and student.class_id != row.klass.id:
        changes["school_class"] = row.klass
    members = sorted(student.members, key=lambda m: m.seq)
    for n, values in enumerate(row.members, start=1):
        current = members[n - 1] if n <= len(members) else None
        for name, value in values.items():
            if current is None or not _same(value, getattr(current, name)):
                changes[f"member{n}.{name}"] = value
    return changes


# -- writing ---------------------------------------------------------------------------------------

def write(session: Session, job: ImportJob, rows: list[Row], actor: Actor, now: datetime) -> None:
    new = [r for r in rows if r.existing is None]
    known = [r for r in rows if r.existing is not None]
    if new:
        insert_new(session, job, new, actor, now)
    for row in known:
        _update(session, row, actor, now, job)


def _update(session: Session, row: Row, actor: Actor, now: datetime, job: ImportJob) -> None:
    from ..record.students import prepare_update

    if not row.changes:
        job.unchanged += 1
        return
    student = row.existing
    members = sorted(student.members, key=lambda m: m.seq)
    for key, value in row.changes.items():
        if key.startswith("member"):
            seq, name = int(key[6]), key.split(".", 1)[1]
            while len(members) < seq:
                members.append(FamilyMember(student=student, seq=len(members) + 1, name="", relation="9",
                                            is_guardian=False))
            setattr(members[seq - 1], name, value)
        elif key != "school_class":
            setattr(student, key, value)
        else:
            student.school_class = value
    prepare_update(session, student, actor, now)
    job.updated += 1


STATISTICS_ROWS = 10_000  # a large import ANALYZEs after 10,000 rows, 20,000, 40,000, ...


def statistics_due(before: int, after: int) -> bool:
    """Whether rows ``before``..``after`` of an import cross a point where the planner's
    statistics are refreshed: each time the rows written have doubled since the last (an import
    of 100,000 rows: four ANALYZEs, not ten)."""
    return (before // STATISTICS_ROWS).bit_length() != (after // STATISTICS_ROWS).bit_length()


# The columns an import's look-ups filter on: only these are ANALYZEd (a fifth of the cost of the
# whole of student's ninety columns); the others keep what autovacuum gives them.
LOOKED_UP = {"student": ("id_blind", "name", "gender", "birth_date", "id_type", "school_id", "class_id",
                         "status", "import_job_id"),
             "family_member": ("student_id", "id_blind"),
             "registry_number": ("number_blind", "student_id")}
STALE_SHARE = 0.1  # a table is ANALYZEd again once a tenth of it changed since (autovacuum's default)


def refresh_statistics(session: Session) -> None:
    """ANALYZE what an import reads by blind index (PostgreSQL), in the tables changed by a tenth or
    more since their last ANALYZE.  Without fresh statistics the planner takes each 1,000-value
    look-up for the whole table and scans it: a batch then costs what the table holds, and a large
    import into a young database slows down as it goes.  A province whose statistics are fresh
    pays nothing (a full ANALYZE of these tables costs over a second whatever their size).  An
    ANALYZE of some columns leaves the change counter to the next full one (autovacuum's): a table
    the import has grown stays stale until then, and each of ``statistics_due``'s points ANALYZEs
    it again."""
    if session.connection().dialect.name != "postgresql":
        return
    stale = stale_tables(session)
    if stale:
        session.execute(text("ANALYZE " + ", ".join(f"{name} ({', '.join(LOOKED_UP[name])})" for name in stale)))


def stale_tables(session: Session) -> list[str]:
    """The tables of ``LOOKED_UP`` changed by ``STALE_SHARE`` or more since their last ANALYZE
    (PostgreSQL's own counters, as autovacuum reads them)."""
    return list(session.scalars(text(
        "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY(:names) "
        "AND n_mod_since_analyze >= :share * GREATEST(n_live_tup, 1000) ORDER BY relname"),
        {"names": list(LOOKED_UP), "share": STALE_SHARE}))


def bulk_insert(session: Session, table, rows: Iterable[dict], meanwhile: Callable[[], object] | None = None) -> None:
    """Insert many rows of one shape in the session's transaction: COPY on PostgreSQL (an
    executemany there is one round of the protocol per row), executemany elsewhere.  ``rows`` may
    be made as they go in (a generator: on PostgreSQL the database takes each in as the next is
    made).  ``meanwhile``: the caller's own work, done while the database takes the rows in (on
    PostgreSQL a thread of psycopg's sends them as this one goes on; elsewhere it is done after)."""
    connection = session.connection()
    rows = iter(rows)
    first = next(rows, None)
    if first is None or connection.dialect.name != "postgresql":
        if first is not None:
            session.execute(insert(table), [first, *rows])
        if meanwhile is not None:
            meanwhile()
        return
    names = list(first)
    defaults = {c.name: c.default for c in table.columns
                if c.name not in first and c.default is not None and not c.default.is_sequence}
    context = SimpleNamespace(connection=connection)  # what a default reads: a log row's token
    fill = {name: (d.arg(context) if d.is_callable else d.arg) for name, d in defaults.items()}
    columns = names + list(fill)
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
    target = connection.dialect.identifier_preparer.format_table(table)
    extra = tuple(fill.values())
    picked = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    with connection.connection.driver_connection.cursor() as cursor:
        writer = QueuedLibpqWriter(cursor) if meanwhile is not None else None
        with cursor.copy(f"COPY {target} ({quoted}) FROM STDIN", writer=writer) as copy:
            copy.write_row(picked(first) + extra)
            for row in rows:
                copy.write_row(picked(row) + extra)
            if meanwhile is not None:
                meanwhile()


def _next_ids(session: Session, table, n: int) -> list[int]:
    """``n`` ids drawn from the table's sequence (PostgreSQL)."""
    return list(session.scalars(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                                     "FROM generate_series(1, :n)"), {"t": table.name, "n": n}))


class LogRows:
    """Rows of a hash-chained log to insert in bulk, sealed before they go in on PostgreSQL (ids
    from the sequence, seq and mac computed here and set in the rows; COPY), elsewhere sealed by the
    commit as usual.  ``ready`` takes the sealers' lock (held to commit) and the log's head: after
    it, ``seal`` is work for the client alone, to do while the database takes other rows in."""

    def __init__(self, session: Session, table, rows: list[dict]):
        self.session, self.table, self.rows = session, table, rows
        self.connection = session.connection()
        self.start: tuple[int, str] | None = None  # the chain's head, once ready
        self.sealed = self.connection.dialect.name != "postgresql" or not rows  # elsewhere: at commit

    def ready(self) -> None:
        if not self.sealed and self.start is None:
            for row, i in zip(self.rows, _next_ids(self.session, self.table, len(self.rows))):
                row["id"] = i
            self.start = audit_chain.seal_ahead(self.connection, self.table.name)

    def seal(self) -> None:
        if not self.sealed:
            self.ready()  # (a statement: not while a COPY is under way -- call ready before it)
            audit_chain.presealed(self.connection, self.table.name, self.rows, start=self.start)
            self.sealed = True

    def insert(self) -> None:
        self.ready()
        self.seal()
        bulk_insert(self.session, self.table, self.rows)


def insert_returning_ids(session: Session, table, rows: Iterable[dict], count: int,
                         meanwhile: Callable[[list[int]], object] | None = None) -> list[int]:
    """Insert the ``count`` rows and return their ids in order, with no look-up afterwards: on
    PostgreSQL the ids are drawn from the table's sequence first (and set in the rows) and the rows
    go in with COPY, each as it is made (``rows`` may be a generator); elsewhere INSERT ...
    RETURNING.  ``meanwhile(ids)``: as ``bulk_insert``'s."""
    if session.connection().dialect.name == "postgresql":
        ids = _next_ids(session, table, count)
        bulk_insert(session, table, (_numbered(data, i) for data, i in zip(rows, ids)),
                    None if meanwhile is None else (lambda: meanwhile(ids)))
        return ids
    # multi-row INSERT ... RETURNING (rows come back in any order: each tells its uid)
    rows = list(rows)
    by_uid = dict(session.execute(insert(table).returning(table.c.uid, table.c.id), rows).all())
    ids = [by_uid[data["uid"]] for data in rows]
    if meanwhile is not None:
        meanwhile(ids)
    return ids


def _numbered(data: dict, i: int) -> dict:
    data["id"] = i
    return data


def insert_new(session: Session, job: ImportJob, rows: list[Row], actor: Actor, now: datetime) -> None:
    """New records, their members, numbers and log rows: each record's row made as the database
    takes the one before in, the rows that name the records built while it takes the last ones in,
    the log rows sealed while it takes the members in."""
    ring, school = keyring(), job.school
    numbers = registry_numbers.temporary_numbers(session, school, [r.values["birth_date"] for r in rows])
    students, kin = [], []

    def records() -> Iterator[dict]:
        for row, (number, number_blind) in zip(rows, numbers):
            data, own = _student_row(ring, job, school, row, number, number_blind, actor, now)
            students.append(data)
            kin.append(own)
            yield data

    members, issued, events = [], [], []
    school_id, filename = school.id, job.filename  # read here: no statement while the COPY is under way

    def naming(ids: list[int]) -> None:
        for row, sid, data, (number, _), own in zip(rows, ids, students, numbers, kin):
            uid = data["uid"]
            for member in own:
                member["student_id"] = sid
            members.extend(own)
            number_uid = new_uid()
            issued.append({"uid": number_uid, "number_enc": _enc(ring, "registry_number", "number_enc",
                                                                 number_uid, number),
                           "number_blind": data["registry_blind"], "kind": "L", "student_id": sid,
                           "student_uid": uid, "issued_at": now, "issued_by": actor.username})
            events.append({"at": now, "user_id": actor.user_id, "username": actor.username,
                           "action": "import", "entity": "student", "entity_id": sid, "entity_uid": uid,
                           "school_id": school_id, "summary": f"导入 {filename} 第 {row.number} 行"[:300]})

    insert_returning_ids(session, Student.__table__, records(), len(rows), meanwhile=naming)
    log = LogRows(session, AuditEvent.__table__, events)
    log.ready()
    bulk_insert(session, FamilyMember.__table__, members, meanwhile=log.seal)
    bulk_insert(session, RegistryNumber.__table__, issued)
    log.insert()
    job.created += len(rows)


def _student_row(ring, job, school, row: Row, number: str, number_blind: str, actor: Actor,
                 now: datetime) -> tuple[dict, list[dict]]:
    """The record's columns (encrypted where the row was read, a worker process, or here) and its
    members' rows."""
    values = row.values
    sealed, members = row.sealed or seal(ring, values, row.members)
    data, uid = own_columns(values, sealed), sealed["uid"]
    data.update(
        version=1, status="in_school", registered=False, problem=False, hold_back=False,
        school_id=school.id, grade_id=row.klass.grade_id, class_id=row.klass.id,
        province_code=school.province_code, city_code=school.city_code, county_code=school.county_code,
        registry_no_enc=_enc(ring, "student", "registry_no_enc", uid, number),
        registry_blind=number_blind, registry_kind="L", import_job_id=job.id,
        id_blind=row.id_blind, name_pinyin=row.pinyin or pinyin(values["name"]), created_by_id=actor.user_id,
        created_at=now, updated_at=now)
    return data, members


def open_review(session: Session, job: ImportJob, actor: Actor, now: datetime) -> None:
    """One registration review (注册核办) for every record the file created."""
    if job.created == 0 or job.request_id is not None:
        return
    from ..requests.workflow import open_batch_registration

    job.request_id = open_batch_registration(session, job, actor, now).id
