"""An import's rows read and checked over the machine's cores.

The reader cuts the sheet into small stand-alone workbooks of 2,000 rows; a pool of worker
processes parses them with calamine and runs each row's own checks (``import_cells.RowReader``: no
database), and the rows come back in the file's order, a chunk ahead per worker so memory
stays flat.  The workers are started with 'spawn' -- the web or job process holds database
connections and never forks -- and import only ``import_cells`` (not the parent's script).  An upload
under ``POOL_BYTES`` or of one chunk, or ``XUEJI_IMPORT_PROCESSES`` = 1, is read in the calling
process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain

from ...documents.reader import Sheet, data_rows
from ...spawning import main_left_out as _main_left_out
from .import_cells import Row, RowReader, Sealing, pack, unpack


def processes() -> int:
    """Worker processes for one import: ``XUEJI_IMPORT_PROCESSES``, else one per core."""
    from flask import current_app, has_app_context

    configured = current_app.config.get("XUEJI_IMPORT_PROCESSES") if has_app_context() else None
    return max(1, int(configured or os.cpu_count() or 1))


# -- in each worker --------------------------------------------------------------------------------

def _ready() -> None:
    """Submitted once per worker so that they start while the caller prepares: and load pypinyin's
    tables then (about 0.4 s of a core each), rather than on the first name of the first chunk.
    What is loaded by then lives as long as the worker: set aside from the collector (its full
    collections walk only the chunks' objects)."""
    from ...documents.pinyin import pinyin

    pinyin("学籍")
    gc.freeze()


def _read_part(reader: RowReader, check: bool, after: int, skip: frozenset[int], sealing: Sealing | None,
               keep_for: int | None, seq: int, part) -> tuple[list[tuple], tuple[bytes, int] | None]:
    """One chunk's rows, read (and ``check``ed, and ``sealing``: encrypted as new records), past
    ``after`` and not in ``skip``; as plain tuples, which pickle several times faster than rows.
    ``keep_for`` (a dry run's job id): the readable rows packed for the commit
    (``import_cells.pack``), and sent back slim (``_slim``)."""
    rows = [reader.read(number, cells, check=check, sealing=sealing) for number, cells in data_rows(part)
            if number > after and number not in skip]
    if keep_for is None or sealing is None:
        return [_plain(row) for row in rows], None
    packed = pack(sealing.keyring, keep_for, seq, rows)
    for row in rows:
        if row.ok and row.read:
            row.identify(sealing.keyring)
    return [_slim(row) for row in rows], packed


def _plain(row: Row) -> tuple:
    return row.number, row.values, row.members, row.problems, row.read, row.class_name, row.pinyin, row.sealed


def _slim(row: Row) -> tuple:
    """What the dry run decides a row by: its problems, the class it names, the keys that find the
    same person, its birth date (the rules' entry age).  The rest is in the packed chunk, which the
    caller reads back only for a row that describes a known record (``Row.restore``); sending
    every row whole cost the caller more than its own checks."""
    return row.number, row.problems, row.read, row.class_name, row.id_blind, row.person, row.values.get("birth_date")


def _row(plain: tuple) -> Row:
    number, values, members, problems, read, class_name, pinyin, sealed = plain
    return Row(number, values, members, problems, read=read, class_name=class_name, pinyin=pinyin,
               sealed=sealed)


# -- in the caller ---------------------------------------------------------------------------------

POOL_BYTES = 1 << 20  # an upload smaller than this (about 4,000 rows) is read in the caller


class Workers:
    """The worker processes of one import, started on entering (a large upload only) so that they
    start while the caller opens the file and prepares its checks."""

    def __init__(self, upload_bytes: int, processes_: int | None = None):
        self.count = processes_ or processes()
        self.pool: ProcessPoolExecutor | None = None
        if self.count > 1 and upload_bytes >= POOL_BYTES:
            self.pool = ProcessPoolExecutor(self.count, mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> Workers:
        if self.pool is not None:
            with _main_left_out():
                for _ in range(self.count):
                    self.pool.submit(_ready)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def read_rows(self, sheet: Sheet, reader: RowReader, *, check: bool = True, after: int = 0,
                  skip: frozenset[int] = frozenset(), sealing: Sealing | None = None,
                  keep_for: int | None = None) -> Iterator[Part]:
        """The sheet's data rows, a chunk at a time, in the file's order; ``sealing``: new records'
        columns encrypted by the workers (here, the writer does it as it goes); ``keep_for`` (the
        dry run's job id): each chunk's rows packed by its worker (``Part.packed``)."""
        parts = sheet.parts()
        head = [p for p in (next(parts, None), next(parts, None)) if p is not None]
        pooled = self.pool is not None and len(head) > 1
        task = (reader, check, after, skip, sealing if pooled else None, keep_for if pooled else None)
        if not pooled:
            for seq, part in enumerate(chain(head, parts)):
                yield Part(*_read_part(*task, seq, part))
            return
        pending: deque[tuple[int, Future]] = deque()
        for seq, part in enumerate(chain(head, parts)):
            with _main_left_out():  # a submit may start a worker again
                pending.append((seq, self.pool.submit(_read_part, *task, seq, part)))
            if len(pending) >= self.count:  # a chunk ahead per worker, never the whole file
                done, future = pending.popleft()
                yield Part(*future.result(), sealing=sealing, job_id=keep_for, seq=done)
        while pending:
            done, future = pending.popleft()
            yield Part(*future.result(), sealing=sealing, job_id=keep_for, seq=done)


class Part(list):
    """A chunk's rows (a list of them), and what its worker packed to keep, if it did: a dry run's
    worker (``job_id``) sends its rows back slim, and ``restore`` reads a row's values and members
    back from the pack (which holds every row that may need it: the readable rows without a problem)."""

    def __init__(self, plain: list[tuple], packed: tuple[bytes, int] | None = None, *,
                 sealing: Sealing | None = None, job_id: int | None = None, seq: int = 0):
        self.packed, self.sealing, self.job_id, self.seq = packed, sealing, job_id, seq
        self._kept: dict[int, list] | None = None
        if job_id is None:  # read for a commit, or in the caller: rows whole
            super().__init__(_row(p) for p in plain)
            return
        super().__init__(Row(number, {"birth_date": born}, problems=problems, read=read, class_name=class_name,
                             id_blind=id_blind, person=person, part=self)
                         for number, problems, read, class_name, id_blind, person, born in plain)

    def restore(self, row: Row) -> None:
        if self._kept is None:  # the pack, opened once for the chunk
            self._kept = {item[0]: item for item in unpack(self.sealing.keyring, self.job_id, self.seq,
                                                          self.packed[0])}
        _, values, members, _, pinyin, _ = self._kept[row.number]
        row.values = {**values, **row.values}  # what the caller has set since (the class placed) stays
        row.members, row.pinyin = members, pinyin
