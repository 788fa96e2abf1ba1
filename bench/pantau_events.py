"""pantau's event layer as a grouper for bench/eval_events.py, through the daemon's own code.

    .venv/bin/python bench/eval_events.py --grouper bench.pantau_events:group --split dev
    .venv/bin/python bench/eval_events.py --grouper bench.pantau_events:group_full  # full text

Stories come from the story layer as bench/eval_stories.py runs it on the real corpus (title
plus the first 300 characters, dates at noon WIB); events are then assigned by
``daemon.pipeline.events.assign_events`` on a real SQLite database (the candidate index,
the term frequencies, the profiles), one transaction per (day, outlet), as polls would.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import eval_stories  # noqa: E402

from daemon.pipeline import events as eventing  # noqa: E402
from daemon.storage.store import Store  # noqa: E402

WINDOW = timedelta(hours=36)


def assign(
    rows: Sequence[Any], window: timedelta = WINDOW
) -> tuple[dict[int, int], dict[int, int]]:
    """(item id -> story id, story id -> event id) for eval_stories rows, in arrival order."""
    stories = eval_stories.group(list(rows))
    ordered = sorted(rows, key=lambda r: (r.doc.published_at, r.id))
    batches: dict[tuple[Any, str], list[Any]] = defaultdict(list)
    for r in ordered:
        batches[(r.doc.published_at, r.outlet)].append(r)
    event_of: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/events.db")
        store.upgrade()
        real: dict[int, int] = {}  # eval story label -> stored story id
        for _key, batch in sorted(batches.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            opened = []
            with store.tx() as tx:
                fresh = [r for r in batch if stories[r.id] == r.id]
                ids = tx.new_stories(
                    [(r.doc.title, r.doc.published_at, r.doc.published_at, 1) for r in fresh]
                )
                for r, sid in zip(fresh, ids, strict=True):
                    real[r.id] = sid
                    opened.append(eventing.Opened(sid, r.doc, r.doc.title, r.doc.published_at))
                got = eventing.assign_events(tx, opened, window)
                eventing.count_terms(tx, got)
                for r in fresh:
                    event_of[r.id] = got.events[real[r.id]]
        store.close()
    return stories, event_of


def group(articles: Sequence[Any]) -> Mapping[str, Hashable]:
    return _grouped(eval_stories.load_real(False))


def group_full(articles: Sequence[Any]) -> Mapping[str, Hashable]:
    """As ``group``, each item carrying its whole text as content (a feed with
    ``content:encoded``): the signature then reads the content's lead, not the summary."""
    return _grouped(eval_stories.load_real(True))


def _grouped(rows: Sequence[Any]) -> Mapping[str, Hashable]:
    stories, event_of = assign(rows)
    return {r.doc.url: event_of[stories[r.id]] for r in rows}
