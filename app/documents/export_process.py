"""The students export written by a process of its own: the caller reads the database and decrypts
while the child turns the rows into the workbook (``export.write``, the same file), so the two use
two cores.  Rows go to the child in batches through a pipe, which blocks the caller while the child
is a batch behind: memory stays flat whatever the export's size.

The child is started with 'spawn' -- the web or job process holds database connections and never
forks -- and imports only the writer, not the parent's script.  An export worth it (``worth_it``:
of ``PROCESS_ROWS`` rows or more, ``XUEJI_EXPORT_PROCESS_ROWS`` in the app's configuration, while
another core is free) is written this way; a smaller one in the caller, where a process's start
would cost more than it saves, and any one on a busy machine.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO

from ..spawning import main_left_out as _main_left_out
from . import export

PROCESS_ROWS = 5000  # below, the child's start (a Python process, XlsxWriter imported) costs more
BATCH = 250  # rows a message: a few hundred kB pickled, the child a batch behind the caller


def worth_it(rows: int, least: int = PROCESS_ROWS) -> bool:
    """Whether an export of ``rows`` rows is written by a process of its own: of ``least`` rows
    or more (0: never), while another core is free (a busy machine runs the two halves no faster
    than one process, and pickling the rows costs some 5 % more CPU)."""
    return 0 < least <= rows and _spare_core()


def _spare_core() -> bool:
    """Several cores, and besides the caller less than half a core's work on average (the load
    average of the last minute)."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this system
        busy = 0.0
    return cores > 1 and busy < cores - 0.5


def write(rows: Iterable[list], target: Path | IO[bytes]) -> int:
    """``export.write`` of ``rows`` to ``target`` (a path, or a binary file the workbook is copied
    into), done by a child process; returns the count.  An error of the rows (the caller's) or of
    the writer (the child's) is raised here, and no workbook is left half-written."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="xueji-export-") as folder:
        path = target if isinstance(target, Path) else Path(folder) / "export.xlsx"
        incoming, outgoing = context.Pipe(duplex=False)
        answers, answer = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(incoming, answer, str(path)), daemon=True,
                                name="xueji-export-writer")
        with _main_left_out():
            child.start()
        incoming.close()  # the child's ends: the caller keeps only its own
        answer.close()
        try:
            _send(rows, outgoing)
        except BaseException:
            outgoing.close()  # the child, reading past the last batch, stops without a workbook
            answers.close()
            child.join()
            raise
        outgoing.close()
        count = _answer(answers, child)
        if not isinstance(target, Path):
            with path.open("rb") as made:
                shutil.copyfileobj(made, target)
        return count


def _send(rows: Iterable[list], outgoing) -> None:
    rows = iter(rows)
    try:
        while batch := list(islice(rows, BATCH)):
            outgoing.send(batch)
        outgoing.send(None)
    except BrokenPipeError:  # the child stopped: its answer says why
        pass


def _answer(answers, child) -> int:
    try:
        answer = answers.recv()
    except EOFError:  # the child died without a word (killed, out of memory)
        answer = RuntimeError(f"the export's writer process stopped (exit code {child.exitcode})")
    finally:
        answers.close()
        child.join()
    if isinstance(answer, BaseException):
        raise answer
    return answer


# -- in the child ----------------------------------------------------------------------------------

def _child(incoming, answer, path: str) -> None:
    """Write the rows the caller sends to ``path``; answer their count, or the error."""
    try:
        count = export.write(_received(incoming), Path(path))
    except EOFError:  # the caller stopped sending (its own error is raised there): no workbook
        return
    except Exception as exc:  # noqa: BLE001 -- handed to the caller, which raises it
        answer.send(exc if _picklable(exc) else RuntimeError(repr(exc)))
        return
    answer.send(count)


def _received(incoming) -> Iterator[list]:
    while (batch := incoming.recv()) is not None:
        yield from batch


def _picklable(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 -- any failure: sent as its text instead
        return False
    return True
