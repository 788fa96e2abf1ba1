"""Candidate retrieval: which earlier items a new item is compared with, at a bounded cost.

A new item's LSH band keys (``stories.fingerprint``) are looked up in the band index; the
items found under them are its candidates, those sharing the most keys first, and
``stories.choose_story`` confirms each. Templated news makes some keys common: the stock
sentences of the day's gold and fuel reports ("harga emas hari ini ...", "hingga berita ini
diturunkan ...") put the same minimum shingle, hence the same key, into hundreds of items a
day. Left alone, every new item carrying such a key reads and counts all of its rows, so
the cost per item grows with the database (issue 29; docs/design.md, "Stop-word band keys").

``KeyBudget`` is the policy that bounds it, in the manner of stop words in a search index:

- a key holding more than ``stop_above`` items in a new item's window (its publication
  time ± ``stories.window``) is a *stop word* for that item;
- the band index is read at most ``rows_per_key`` rows per key (enough to tell a stop word;
  the newest first), in one statement per poll (``Tx.band_rows``, daemon/storage/bands.py);
- the new item's rows are not written under its stop words (the poll's earlier items
  counted too): the table itself keeps each key's count in a window at about
  ``rows_per_key``, so counting a key is reading those rows, and the index stays small
  however alike the news is;
- a stop word still offers its newest ``stop_sample`` rows, but a candidate met only through
  stop words must share at least ``stop_only_share`` of the new item's keys: a story copied
  word for word by more outlets than ``stop_above`` (all of its keys become stop words)
  still finds itself, while a shared stock sentence brings nobody;
- at most ``per_item`` candidates are confirmed per item (``stories.CANDIDATE_LIMIT``).

The database's only writer also remembers the stop words it met (``StopMemo``), so that a
stop word costs one read until the rows that made it one leave the window.

Pure code: the rows come from the store (or, in bench/eval_stories.py, from memory).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["BUDGET", "KeyBudget", "StopMemo", "rank", "stop_keys"]


@dataclass(frozen=True)
class KeyBudget:
    """What one band key may cost a lookup, and how many candidates one item may cost.
    Measured in bench/README.md (issue 29); quality on tests/data/stories_labelled.jsonl
    with bench/eval_stories.py."""

    stop_above: int = 32  # a key with more items than this in the window is a stop word
    stop_sample: int = 4  # a stop word's newest rows that still bring candidates ...
    stop_only_share: float = 0.5  # ... sharing at least this share of the item's keys
    per_item: int = 50  # candidates confirmed per item (24: see docs/design.md)

    @property
    def rows_per_key(self) -> int:
        """Rows read per key: one more than a key that is not a stop word can hold."""
        return self.stop_above + 1

    def is_stop(self, items: int) -> bool:
        """``items``: how many items carry the key in the window, as far as read."""
        return items > self.stop_above


BUDGET = KeyBudget()


def stop_keys(
    rows: Mapping[int, Sequence[tuple[int, int]]],
    keys: Iterable[int],
    lo: float = -math.inf,
    hi: float = math.inf,
    *,
    extra: Mapping[int, int] | None = None,
    budget: KeyBudget = BUDGET,
) -> set[int]:
    """Those of ``keys`` that are stop words in [lo, hi]: more than ``stop_above`` of their
    rows (``rows``: key -> (item, published), as the band index returned them, at most
    ``rows_per_key``) published in [lo, hi], counting ``extra[key]`` more items known to
    carry the key there (the batch's own, not written yet)."""
    out = set()
    for k in keys:
        n = extra.get(k, 0) if extra else 0
        found = rows.get(k)
        if found and budget.is_stop(len(found) + n):
            n += sum(1 for _, p in found if lo <= p <= hi)
        if budget.is_stop(n):
            out.add(k)
    return out


def rank(
    keys: Sequence[int],
    rows: Mapping[int, Sequence[tuple[int, int]]],
    lo: float,
    hi: float,
    limit: int,
    *,
    stop: Collection[int] = (),
    budget: KeyBudget = BUDGET,
) -> list[int]:
    """The candidates of an item with band keys ``keys``: ids of the items that share keys
    with it, most shared keys first (then the lowest id), at most ``limit``.

    ``rows``: key -> (item id, published as epoch seconds), newest first, as read from the
    band index (``Tx.band_rows``), an item at most once per key (as the index is written);
    only rows published in [lo, hi] count. ``stop``: the keys
    that are stop words in [lo, hi] (``stop_keys``); each counts only through its newest
    ``stop_sample`` rows there, and a candidate that shares no other key with the item must
    share at least ``stop_only_share`` of ``keys``. The cost is bounded by the budget, not
    by how many items share a key: at most ``len(keys) * rows_per_key`` rows are looked at."""
    shared: dict[int, int] = {}
    get = shared.get
    distinct = dict.fromkeys(keys)
    stopped: list[Sequence[tuple[int, int]]] = []  # the stop words' rows
    cap = budget.rows_per_key
    for k in distinct:
        found = rows.get(k)
        if not found:
            continue
        if k in stop:
            stopped.append(found)
            continue
        for item_id, published in found[:cap]:
            if lo <= published <= hi:
                shared[item_id] = get(item_id, 0) + 1
    if stopped:
        need = budget.stop_only_share * len(distinct)
        # A key's rows name an item once, so an item met through stop words alone is counted
        # at most len(stopped) times: with fewer stop words than ``need``, it is never kept,
        # and the samples only add to the candidates met through other keys (on templated
        # news, a quarter of the lookups that meet stop words; no filtering pass then).
        plain = set(shared) if len(stopped) >= need else None  # those met through other keys
        for found in stopped:
            left = budget.stop_sample  # a stop word's sample: its first rows in [lo, hi]
            for item_id, published in found:
                if lo <= published <= hi:
                    if (c := get(item_id)) is not None:
                        shared[item_id] = c + 1
                    elif plain is not None:
                        shared[item_id] = 1
                    left -= 1
                    if not left:
                        break
        if plain is not None:
            shared = {i: c for i, c in shared.items() if c >= need or i in plain}
    # (-count, id) pairs sorted as tuples: no key function called per candidate
    return [i for _, i in sorted([(-c, i) for i, c in shared.items()])[:limit]]


class StopMemo:
    """Stop words already read, kept across transactions by the database's only writer
    (``storage.writer.ItemCache`` holds one): key -> (oldest and newest of the rows that made
    it a stop word, its newest ``stop_sample`` rows). No rows are written under a stop word,
    so those rows stay what they were until retention deletes some (the store then clears
    the memo, as it does after a rollback); a lookup whose window still holds them all has
    its answer without reading the key again. At most ``capacity`` keys (~0.5 KB each), the
    oldest noted dropped first."""

    def __init__(self, capacity: int = 16_384, budget: KeyBudget = BUDGET) -> None:
        self.capacity = capacity
        self.budget = budget
        # the oldest noted dropped first, in O(1) (see ``storage.writer.ItemCache``)
        self._data: OrderedDict[int, tuple[int, int, list[tuple[int, int]]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def known(self, keys: Iterable[int], lo: float, hi: float) -> dict[int, list[tuple[int, int]]]:
        """Those of ``keys`` that are stop words in [lo, hi] for certain, with their sample
        rows (as ``rank`` takes them)."""
        data = self._data
        out = {}
        for k in data.keys() & set(keys):
            oldest, newest, sample = data[k]
            if lo <= oldest and newest <= hi:
                out[k] = sample
        return out

    def note(self, rows: Mapping[int, Sequence[tuple[int, int]]], stop: Iterable[int]) -> None:
        """Remember the stop words ``stop`` from the rows just read for them (newest first)."""
        data, n = self._data, self.budget.stop_sample
        for k in stop:
            found = rows[k]
            if len(data) >= self.capacity and k not in data:
                data.popitem(last=False)  # the entry noted first
            data[k] = (min(p for _, p in found), max(p for _, p in found), list(found[:n]))

    def clear(self) -> None:
        self._data.clear()
