"""Child processes started with 'spawn' (the web and job processes hold database connections and
never fork): an import's readers, a large export's writer; and how the app's processes give memory
back."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.machinery import ModuleSpec


@contextmanager
def main_left_out() -> Iterator[None]:
    """A spawned child re-imports the parent's main script (``run.py`` imports the whole
    application); named '__main__', it is skipped, and the child imports only what it runs.
    Wrap every start or submit that may spawn a child."""
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


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def large_blocks_returned() -> None:
    """Blocks of XUEJI_MALLOC_MMAP_THRESHOLD bytes or more (default 256 KiB; 0: glibc's own rule)
    are mapped on their own and given back to the system when freed.  glibc otherwise raises its
    threshold each time such a block is freed, so an import's passing chunks (a few MB each) come
    from the heap and keep the process at its high-water mark.  Set where the app is created (web,
    job and command processes).  The import's reader processes keep glibc's rule: they free a
    chunk's buffers many times a second, and mapping each cost them about a tenth more CPU
    (tests/bench/bench_import.py, 20,000 rows, both ways).  Elsewhere than glibc, nothing."""
    threshold = int(os.environ.get("XUEJI_MALLOC_MMAP_THRESHOLD") or 256 * 1024)
    if threshold <= 0 or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, threshold)
    except (OSError, AttributeError):  # musl or another C library: its own allocator, left alone
        pass
