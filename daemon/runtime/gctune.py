"""Garbage-collector settings for the processes that ingest.

CPython's cyclic collector runs a young-generation pass every 700 net container allocations
and, every hundred of those, a full pass over the whole heap. Ingest allocates and frees
dataclasses, tuples and dicts by the hundred thousand but leaves almost no reference
cycles; the full passes walked every object of the imported modules (SQLAlchemy,
pydantic, feedparser) again and again, for nothing. Measured on a 1,000-feed first cycle's
ingest (bench/README.md, issue 9): 0.6 s of collector time in the main process out of
~20 s, none once the modules are frozen and the threshold is raised.

Freezing moves every object alive now into a permanent generation the collector never
scans, so it is called after start-up, once the modules are imported; a raised threshold
still collects cycles, just in larger, rarer batches.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # net container allocations between young-generation passes


def tune() -> None:
    # No gc.collect() first: after the imports and the config load of a run there was
    # nothing to collect (0 objects, for 35 ms of a 304-only ``run --once``; issue 29).
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
