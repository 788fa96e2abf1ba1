"""Hand the heap memory Python has freed back to the operating system (glibc's malloc).

CPython takes objects larger than 512 bytes (feed bodies, row tuples of text, parse
results) from the C allocator, and glibc keeps what is freed for reuse: in the arena of the
thread that allocated it (a busy daemon has one per poll thread, up to eight per core), and
within an arena wherever a live block still sits above the free ones. So a daemon's RSS
records its busiest moment (a first cycle, a burst of large feeds), not what it holds now,
and an operator watching RSS (or systemd's ``MemoryMax``) sees growth that is only
retained free memory. ``malloc_trim(0)`` returns the free pages of every arena, from the
middle of the heap too. Measured in ``pantau run`` over 200 feeds under rotation
(bench/README.md, issue 9): after the first cycle it released ~8.5 MB of the main
process's ~105 MB, and with it called every 30 s the main process's RSS stayed within
99–103 MB from the fourth to the tenth minute, where without it RSS crept up. In a
synthetic four-thread test it returned 545 of 589 MB; a call costs 6–60 ms and runs
without the GIL (ctypes releases it), so poll threads go on meanwhile.

Elsewhere (musl, macOS, BSD) there is no such call and :func:`trim` does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

EVERY = 30.0  # seconds between trims in ``pantau run``


def _load() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


_MALLOC_TRIM = _load()


def available() -> bool:
    return _MALLOC_TRIM is not None


def trim() -> bool:
    """Return free heap pages to the system; True if any were returned. Safe from any
    thread at any time (glibc locks each arena while it trims it)."""
    if _MALLOC_TRIM is None:
        return False
    return bool(_MALLOC_TRIM(0))
