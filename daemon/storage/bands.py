"""The LSH band index (``story_bands``) that story grouping looks candidates up in, and the
advisory locks that keep two PostgreSQL writers from opening one story twice."""

from __future__ import annotations

import struct
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from operator import itemgetter

import sqlalchemy as sa

from daemon.grouping.candidates import BUDGET
from daemon.storage.schema import items
from daemon.storage.sql import TxBase, chunks, epoch, lock_buckets, lookup_chunks

STORY_LOCK_CLASS = 0x7061  # advisory lock namespace for story assignment ("pa")
STORY_LOCK_BUCKETS = 64


# newest rows read per band key in a candidate lookup: enough to tell a stop word (issue 29)
PER_BAND = BUDGET.rows_per_key
BANDS_PER_ITEM = 17  # LSH bands plus the URL key: an estimate of the band table's size
KEYS_PER_QUERY = 500  # band keys per statement (SQLite's default cap is 32,766 parameters)


def pack_bands(keys: Iterable[int]) -> bytes:
    """An item's band keys as stored in ``items.bands``: distinct, signed 64-bit LE."""
    ks = list(dict.fromkeys(keys))
    return struct.pack(f"<{len(ks)}q", *ks)


def unpack_bands(blob: bytes | None) -> tuple[int, ...]:
    if not blob:
        return ()
    return struct.unpack(f"<{len(blob) // 8}q", blob[: len(blob) // 8 * 8])


def _band_rows_sql(n_keys: int) -> str:
    """(band, item_id, published_at): the newest ``PER_BAND`` rows of each of ``n_keys`` band
    keys within [?, ?], in ``?`` style. One index range scan per key, numbered per key by a
    window function; the per-key cap keeps a key that many items share (a boilerplate lead)
    from flooding the batch. Measured against a UNION ALL of one LIMITed SELECT per key, and
    one statement per key: 4x and 3x faster when, as usual, most keys match nothing."""
    return (
        "SELECT band, item_id, published FROM (SELECT band, item_id, published, "
        "row_number() OVER (PARTITION BY band ORDER BY published DESC, item_id DESC) AS rn "
        f"FROM story_bands WHERE band IN ({', '.join('?' * n_keys)}) "
        "AND published >= ? AND published <= ?) AS s WHERE rn <= ?"
    )


INSERT_BAND = "INSERT INTO story_bands (band, published, item_id) VALUES (?, ?, ?)"


class PendingBands:
    """Band rows written inside a group (see ``Store.tx``) but not inserted yet.

    Inside a group every poll's ingest is a SAVEPOINT, and SQLite copies every page a
    savepoint modifies first into its sub-journal, so that it could roll back: a poll's
    ~850 band rows land on ~850 different pages of the band index, and journaling them cost
    as much again as the inserts themselves (850,000 rows: 2.4 s of SQLite CPU with
    savepoints, 1.4 s without). So the group's band rows wait here, a failed member's are
    dropped with its savepoint (``rollback_to``), and the group inserts them all just
    before it commits. Lookups made before then read them from here (``Tx.band_rows``).

    Kept as rows plus a dict from key to its first row, so that adding a member's rows and
    finding which lookup keys are pending are dict operations done in C; a key with more
    than one pending row (copies of one story) also has them listed in ``multi``."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int]] = []  # (band, published, item_id)
        self.first: dict[int, tuple[int, int, int]] = {}
        self.multi: dict[int, list[tuple[int, int, int]]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, values: Collection[tuple[int, int, int]]) -> None:
        """Distinct rows (as a set of them is)."""
        new = dict(zip(map(itemgetter(0), values), values))
        self.rows.extend(values)
        if len(new) < len(values):
            self._index(values)  # a key listed twice in one batch: rare, done row by row
            return
        again = self.first.keys() & new.keys()  # keys an earlier member added (story copies)
        if again:
            self._index([new.pop(k) for k in again])
        self.first.update(new)

    def _index(self, values: Iterable[tuple[int, int, int]]) -> None:
        first, multi = self.first, self.multi
        for r in values:
            b = r[0]
            if b not in first:
                first[b] = r
            elif b in multi:
                multi[b].append(r)
            else:
                multi[b] = [first[b], r]

    def keys(self) -> Collection[int]:
        return self.first.keys()

    def get(self, keys: Iterable[int]) -> dict[int, list[tuple[int, int, int]]]:
        """The pending rows of those of ``keys`` that have any."""
        first, multi = self.first, self.multi
        return {k: multi.get(k) or [first[k]] for k in first.keys() & set(keys)}

    def mark(self) -> int:
        return len(self.rows)

    def rollback_to(self, mark: int) -> None:
        """Forget the rows added since ``mark`` (a member's savepoint was rolled back)."""
        if mark < len(self.rows):
            self._rebuild(self.rows[:mark])

    def drop_items(self, item_ids: set[int]) -> None:
        self._rebuild([r for r in self.rows if r[2] not in item_ids])

    def _rebuild(self, rows: list[tuple[int, int, int]]) -> None:
        self.rows, self.first, self.multi = rows, {}, {}
        self._index(rows)

    def take(self) -> list[tuple[int, int, int]]:
        """All rows, by key (an insert in key order walks the B-tree's pages in order: 8 %
        less than unsorted, measured with the sort), and empty the buffer."""
        rows = self.rows
        rows.sort(key=itemgetter(0))
        self._rebuild([])
        return rows


class BandsTx(TxBase):
    """Band rows inside a write transaction. The sole writer's band filter and pending
    rows (``SingleWriter``) are consulted when the transaction has them."""

    def item_bands(self, item_id: int) -> set[int]:
        blob = self.conn.execute(
            sa.select(items.c.bands).where(items.c.id == item_id)
        ).scalar_one_or_none()
        return set(unpack_bands(blob))

    def insert_bands(self, item_id: int, published_at: datetime, bands: Iterable[int]) -> None:
        """Add band keys to a stored item (its full text brought new ones): rows and
        ``items.bands`` alike."""
        old = self.item_bands(item_id)
        new = [b for b in dict.fromkeys(bands) if b not in old]
        if not new:
            return
        self.insert_bands_many([(item_id, published_at, new)])
        self.conn.execute(
            sa.update(items)
            .where(items.c.id == item_id)
            .values(bands=pack_bands([*sorted(old), *new]))
        )

    def insert_bands_many(self, rows: Iterable[tuple[int, datetime, Iterable[int]]]) -> None:
        """Band rows of many items in one executemany: (item_id, published_at, bands); the
        items' own ``bands`` column is written with the items. Sorted by key, so the
        B-tree is walked in order (fewer pages touched and written: ~12 % less SQLite time
        for a first cycle); a key listed twice for one item is one row. Inside a group they
        wait in ``pending`` and go in when the group commits."""
        values = {(b, e, i) for i, p, bands in rows for e in (epoch(p),) for b in bands}
        flt = self.writer.band_filter(self) if self.writer is not None else None
        if flt is not None:
            flt.add(map(itemgetter(0), values))  # before the rows: it may only over-claim
        if self.pending is not None:
            self.pending.add(values)
            return
        self._many(INSERT_BAND, sorted(values))

    def delete_bands(self, item_ids: Sequence[int]) -> int:
        """Remove the band rows of these items (before the items go): found through each
        item's ``bands``, by (band, item_id), a prefix of the key plus a short scan. The
        items are about to go (retention), so the item cache forgets them."""
        if self.cache is not None:
            self.cache.forget(item_ids)
            self.cache.stops.clear()
        keys: list[tuple[int, int]] = []
        for chunk in chunks(list(item_ids), 500):
            rows = self._fetch(
                f"SELECT id, bands FROM items WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
            keys += [(b, i) for i, blob in rows for b in unpack_bands(blob)]
        if self.pending is not None:
            self.pending.drop_items(set(item_ids))
        self._many("DELETE FROM story_bands WHERE band = ? AND item_id = ?", keys)
        return len(keys)

    def band_rows(
        self, bands: Iterable[int], since: datetime, until: datetime, url_keys: Iterable[int] = ()
    ) -> list[tuple[int, int, int]]:
        """(band, item_id, published) for every band key of a batch: text bands within
        [since, until], URL keys within ``URL_SPAN_DAYS`` of it, the newest ``PER_BAND`` rows
        of each key. ``published`` as stored: whole epoch seconds (a batch reads ~300 rows
        per feed; datetimes would be built only to be compared)."""
        from daemon.grouping.stories import URL_SPAN_DAYS

        span = timedelta(days=URL_SPAN_DAYS)
        out: list[tuple[int, int, int]] = []
        text_keys, link_keys = list(dict.fromkeys(bands)), list(dict.fromkeys(url_keys))
        flt = self.writer.band_filter(self) if self.writer is not None else None
        for keys, lo, hi in ((text_keys, since, until), (link_keys, since - span, until + span)):
            a, b = epoch(lo), epoch(hi) + 1
            found: list[tuple[int, int, int]] = []
            # keys certainly absent from the table are not looked up
            wanted = flt.may_contain(keys) if flt is not None else keys
            for chunk in lookup_chunks(wanted, KEYS_PER_QUERY):
                found.extend(self._fetch(_band_rows_sql(len(chunk)), [*chunk, a, b, PER_BAND]))
            out.extend(found if self.pending is None else self._with_pending(found, keys, a, b))
        return out

    def _with_pending(
        self, found: list[tuple[int, int, int]], keys: list[int], a: int, b: int
    ) -> list[tuple[int, int, int]]:
        """``found`` (rows of ``keys`` published in [a, b]) with the group's rows not
        inserted yet, still the newest ``PER_BAND`` per key."""
        assert self.pending is not None
        extra: dict[int, list[tuple[int, int]]] = {}
        for k, rows in self.pending.get(keys).items():
            inside = [(p, i) for _, p, i in rows if a <= p <= b]
            if inside:
                extra[k] = inside
        if not extra:
            return found
        out = [r for r in found if r[0] not in extra]
        for band, item_id, published in found:
            if band in extra:
                extra[band].append((published, item_id))
        for k, rows in extra.items():
            rows.sort(reverse=True)
            out.extend((k, i, p) for p, i in rows[:PER_BAND])
        return out

    def lock_story_keys(self, keys: Iterable[int]) -> None:
        """Serialise story assignment across processes on PostgreSQL.

        Two processes ingesting two copies of one story at the same moment would each miss
        the other's uncommitted band rows and open two stories. Before assigning stories,
        a transaction takes transaction-scoped advisory locks on the buckets of the band
        keys (and URL keys) of its new items, in sorted order (so no deadlock): copies of
        one story share keys, hence buckets, so the second transaction waits for the first
        to commit and then finds its rows. 64 buckets bound the locks one transaction
        holds (PostgreSQL's lock table is finite) at the price of occasional waits between
        unrelated stories. SQLite needs none of this: BEGIN IMMEDIATE already serialises
        writers."""
        lock_buckets(self, STORY_LOCK_CLASS, keys, STORY_LOCK_BUCKETS)
