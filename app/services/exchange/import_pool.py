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

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from itertools import chain

from ...documents.reader import Sheet, data_rows
from .import_cells import Row, RowReader, Sealing


def processes() -> int:
    """Worker processes for one import: ``XUEJI_IMPORT_PROCESSES``, else one per core."""
    from flask import current_app, has_app_context

    configured = current_app.config.get("XUEJI_IMPORT_PROCESSES") if has_app_context() else None
    return max(1, int(configured or os.cpu_count() or 1))


# -- in each worker --------------------------------------------------------------------------------

def _ready() -> None:
    """Nothing: submitted once per worker so that they start while the caller prepares."""


def _read_part(reader: RowReader, check: bool, after: int, skip: frozenset[int], sealing: Sealing | None,
               part) -> list[tuple]:
    """One chunk's rows, read (and ``check``ed, and ``sealing``: encrypted as new records), past
    ``after`` and not in ``skip``; as plain tuples, which pickle several times faster than rows."""
    return [_plain(reader.read(number, cells, check=check, sealing=sealing)) for number, cells in data_rows(part)
            if number > after and number not in skip]


def _plain(row: Row) -> tuple:
    return row.number, row.values, row.members, row.problems, row.read, row.class_name, row.pinyin, row.sealed


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
                  skip: frozenset[int] = frozenset(), sealing: Sealing | None = None) -> Iterator[list[Row]]:
        """The sheet's data rows, a chunk at a time, in the file's order; ``sealing`` (a commit):
        new records' columns encrypted by the workers (here, the writer does it as it goes)."""
        parts = sheet.parts()
        head = [p for p in (next(parts, None), next(parts, None)) if p is not None]
        pooled = self.pool is not None and len(head) > 1
        task = (reader, check, after, skip, sealing if pooled else None)
        if not pooled:
            for part in chain(head, parts):
                yield [_row(plain) for plain in _read_part(*task, part)]
            return
        pending: deque[Future] = deque()
        for part in chain(head, parts):
            with _main_left_out():  # a submit may start a worker again
                pending.append(self.pool.submit(_read_part, *task, part))
            if len(pending) >= self.count:  # a chunk ahead per worker, never the whole file
                yield [_row(plain) for plain in pending.popleft().result()]
        while pending:
            yield [_row(plain) for plain in pending.popleft().result()]


@contextmanager
def _main_left_out():
    """Spawned workers re-import the parent's main script (``run.py`` imports the whole
    application); named '__main__', it is skipped, and the workers import only what they run."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if main is None or (spec is not None and spec.name.endswith("__main__")):
        yield
        return
    main.__spec__ = ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = spec
