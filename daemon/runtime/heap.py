"""The C heap under the daemon (glibc's malloc): fewer arenas, and freed memory given back.

CPython takes objects larger than 512 bytes (feed bodies, rows of item text, parse results)
from the C allocator. glibc gives each thread that allocates an arena of its own, up to
eight per core, and keeps what is freed for reuse in the arena it came from, wherever a
live block still sits above it. A daemon with eight poll threads then holds many partly
used arenas: its RSS records its busiest moment (a first cycle, a burst of large feeds),
not what it holds now, and an operator watching RSS (or systemd's ``MemoryMax``) sees
growth that is only retained free memory.

Two remedies, both measured (bench/README.md, issue 9, seventh round):

- :func:`limit_arenas` caps the arenas at two before any thread starts. A 1,000-feed first
  cycle peaked at 164 MB in the main process instead of 179, and at 198 MB of PSS over the
  whole process tree instead of 213 (medians of four interleaved runs; wall and CPU time
  unchanged). Threads then share the two arenas: an arena's lock is held only while a
  block is taken or returned, and the GIL already serialises nearly all of that.
- :func:`trim` (``malloc_trim(0)``) returns the free pages of every arena, from the middle
  of the heap too. ``pantau run`` calls it every 30 s: after a 200-feed first cycle it
  released ~8.5 MB of the main process's ~105 MB, and in a four-thread test 545 of 589 MB.
  A call costs 6–60 ms and runs without the GIL (ctypes releases it).

Elsewhere (musl, macOS, BSD) neither call exists and both do nothing. ``MALLOC_ARENA_MAX``
set in the environment is the operator's choice and wins. Calling into libc through ctypes
needs no writable and executable memory, so the systemd unit's ``MemoryDenyWriteExecute``
stays on (checked: both calls succeed in a process under the kernel's ``PR_SET_MDWE``,
where a W+X mapping is refused).
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

EVERY = 30.0  # seconds between trims in ``pantau run``
ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter


def _libc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the C library the interpreter runs on
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc
        return None
    return libc


_LIBC = _libc()


def available() -> bool:
    return _LIBC is not None


def limit_arenas(n: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``n``. Only arenas made later are affected, so call it
    before any thread starts (``pantau run`` does, first thing). True if the cap was set."""
    if _LIBC is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(_LIBC.mallopt(_M_ARENA_MAX, n))


def trim() -> bool:
    """Return free heap pages to the system; True if any were returned. Safe from any
    thread at any time (glibc locks each arena while it trims it)."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))
