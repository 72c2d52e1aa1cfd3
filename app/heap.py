"""The garbage collector around long batch work (an export's rows, an import's dry run and commit)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def settled() -> Iterator[None]:
    """The objects alive now set aside from the collector until the block ends (``gc.freeze``): a
    full collection midway walks only what the work made, not the process's modules, mappers and
    caches again each time."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
