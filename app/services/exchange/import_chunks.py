"""The dry run's valid rows, kept ready to write (``ImportChunk``): the commit reads them back instead
of parsing, converting, checking and encrypting the workbook's cells a second time.

One chunk per chunk of the sheet the readers cut: its rows pickled (plain data: a restricted
unpickler builds no class but dates and decimals), compressed (zstandard), and encrypted -- authenticated,
under the job's id and the chunk's place -- with the job's other personal data.  What a row keeps: its
number, the values read (the class and school as named in the cells), its members, the class
named, pinyin, and -- where a worker read it -- a new record's columns already encrypted.  The
encryption key and blind-index profile they were made with are recorded in the dry run's result;
the commit trusts them only while both are still the ones in force (``import_checked.kept_rows_usable``).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...models import ImportChunk, ImportJob
from ...models.base import keyring
from .import_cells import Row, pack, unpack


def keep(session: Session, job: ImportJob, seq: int, rows: list[Row]) -> int:
    """Keep a chunk's readable rows (in the caller's transaction), packed here; returns the chunks
    kept (0 or 1)."""
    return store(session, job, seq, pack(keyring(), job.id, seq, rows))


def store(session: Session, job: ImportJob, seq: int, packed: tuple[bytes, int] | None) -> int:
    """Keep a chunk a worker packed (``import_cells.pack``); returns the chunks kept (0 or 1)."""
    if packed is None:
        return 0
    data, last_row = packed
    session.add(ImportChunk(job_id=job.id, seq=seq, last_row=last_row, data_enc=data))
    return 1


def rows(session: Session, job: ImportJob, school_code: str, *, after: int = 0,
         skip: frozenset[int] = frozenset()) -> Iterator[list[Row]]:
    """The kept rows past Excel row ``after`` and not in ``skip`` (found invalid after they were
    read), a chunk at a time, in the sheet's order (one chunk in memory at a time: each is read in
    its own statement)."""
    ring, table = keyring(), ImportChunk.__table__
    seqs = session.scalars(select(table.c.seq).where(table.c.job_id == job.id, table.c.last_row > after)
                           .order_by(table.c.seq)).all()
    for seq in seqs:
        token = session.scalar(select(table.c.data_enc).where(table.c.job_id == job.id, table.c.seq == seq))
        kept = unpack(ring, job.id, seq, token)
        del token
        yield [_row(item, school_code) for item in kept if item[0] > after and item[0] not in skip]


def _row(item: list, school_code: str) -> Row:
    number, values, members, class_name, pinyin, sealed = item
    values["class_name"], values["school_code"] = class_name, school_code
    return Row(number, values, members, read=True, class_name=class_name, pinyin=pinyin, sealed=sealed)


def clear(session: Session, job: ImportJob) -> None:
    """Forget a job's kept rows (in the caller's transaction)."""
    session.execute(delete(ImportChunk).where(ImportChunk.job_id == job.id))
