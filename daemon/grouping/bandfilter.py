"""Which LSH band keys may be in ``story_bands``: a bitmap that answers "certainly not" for
most keys a new item brings, so the band index is asked only about the others.

Story grouping looks up every band key of every new item (17 per item). Nearly all of them
are in no earlier item: in a 1,000-feed first cycle, 850,000 index probes found rows for a
few percent of the keys and cost the main process ~2.3 s of SQLite time, the largest share
after the inserts. Band keys are already uniform 64-bit hashes, so one bit per key position
(a Bloom filter with a single hash function) is enough: at 16 bits per stored key, about
6 % of absent keys get through to SQLite, and testing a key costs a shift and a mask.

The bitmap must hold every key the table holds, or a copy of a story would be missed. That
is only knowable by the process that does all the writing: SQLite with the process lock of
``service.lock_database`` (PostgreSQL processes write concurrently: no filter there). Keys
are added before their rows are written (a rolled-back write leaves bits that cost an
unneeded probe, never a missed row); deleted rows leave their bits (the same). The bitmap
is built from the table by the first write transaction that needs it, which reads every
key once (0.16 µs per key to set its bit, plus SQLite's scan of the table). A long-running
daemon pays that once; a one-shot run (``run --once``) builds it only when the table is
small enough for the build to cost less than the probes it saves (``Policy``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["BandFilter", "Policy"]

MIN_BITS_LOG2 = 24  # 2 MiB: room for ~1M keys at 16 bits each
MAX_BITS_LOG2 = 28  # 32 MiB: ~16M keys; beyond, more absent keys get through
BITS_PER_KEY = 16


@dataclass(frozen=True)
class Policy:
    """When a store builds its filter. ``max_keys``: tables estimated to hold more keys
    are not read (the probes are cheaper than the build)."""

    max_keys: int

    @classmethod
    def daemon(cls) -> Policy:
        return cls(max_keys=5_000_000)  # ~300,000 items: a build of ~3 s, once

    @classmethod
    def one_shot(cls) -> Policy:
        return cls(max_keys=200_000)  # ~12,000 items: ~0.1 s, less than one busy cycle saves


class BandFilter:
    def __init__(self, expected_keys: int = 0) -> None:
        log2 = MIN_BITS_LOG2
        while (1 << log2) < expected_keys * BITS_PER_KEY and log2 < MAX_BITS_LOG2:
            log2 += 1
        self.capacity = (1 << log2) // BITS_PER_KEY  # keys before the false-positive rate rises
        self._mask = (1 << log2) - 1
        self._bits = bytearray(1 << (log2 - 3))
        self.added = 0

    def add(self, keys: Iterable[int]) -> None:
        bits, mask = self._bits, self._mask
        n = 0
        for k in keys:
            i = k & mask
            bits[i >> 3] |= 1 << (i & 7)
            n += 1
        self.added += n

    def may_contain(self, keys: Iterable[int]) -> list[int]:
        """The keys that may be in the table (every key that is, and a few that are not)."""
        bits, mask = self._bits, self._mask
        return [k for k in keys if bits[(k & mask) >> 3] >> (k & 7) & 1]

    @property
    def full(self) -> bool:
        """Past its capacity: absent keys get through more often; worth rebuilding larger."""
        return self.added > self.capacity
