"""What only the database's sole writer may do: ``SingleWriter``.

A SQLite database written by one process (the daemon or ``run --once`` under the lock file
of ``service.lock_database``) can keep state across transactions that no other process could
keep exact: a commit shared by queued ingest writers (group commit), a cache of what ingest
derived from stored items, a bitmap of the band keys in the table, the band rows of the
open group that are not inserted yet, and the term counts and event profiles it has read.
``Store.open(url, single_writer=SingleWriter.daemon())`` turns them on; PostgreSQL, where
several processes write at once, never has one (``Store`` drops it), and neither have the
CLI's short-lived stores. Why each exists and what it gained: docs/design.md, "Speed
machinery".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine

from daemon.grouping.bandfilter import BandFilter, Policy
from daemon.grouping.candidates import StopMemo
from daemon.storage import db
from daemon.storage.bands import BANDS_PER_ITEM, INSERT_BAND, PendingBands
from daemon.storage.events import (
    ADD_TERMS,
    INSERT_KEY,
    GroupEventWrites,
    ProfileCache,
    TermCounts,
    term_rows,
)
from daemon.storage.lru import Lru

if TYPE_CHECKING:
    from daemon.storage.sql import TxBase

ITEM_CACHE_SIZE = 32_768  # items; ~0.8 KB each as ingest keeps them (see ItemCache)


class ItemCache(Lru[int, Any]):
    """What ingest derived from stored items, kept across transactions by the database's
    only writer (SQLite under ``service.lock_database``), keyed by item id.

    Story grouping meets the same earlier items as candidates poll after poll: in a
    1,000-feed first cycle, 118,500 candidate reads were of 17,541 distinct items, and each
    read was a row lookup plus a Doc and a Candidate built in the main process. Ingest keeps
    the candidates it built here (``ingest.BandCandidates``), at most ``capacity`` of them, the
    least recently used dropped first: on a 1,000-feed templated first cycle's 814,668
    lookups, 108,452 misses against 127,493 dropping the oldest put (a replay of the
    lookups; bench/README.md, "Fifth session"). 32,768 rather than 16,384 since its
    entries lost their ``__dict__``s, their stored text once decoded and their copies of
    equal guard sets (~1.5 -> ~0.8 KB): the templated first cycle's main process 20.8 ->
    19.2 CPU-s, its tree's PSS 194 -> 196 MB; the plain farm's 184 -> 174 MB ("Sixth
    session").

    Exact, not approximate: a write that changes what a candidate holds of an item (its
    story, link, date or features: ``Tx.update_item``, ``Tx.move_item``) or removes the item
    (``Tx.delete_bands``, which retention calls before it deletes items) forgets the item,
    and a rolled-back transaction or group empties the cache (it may have read rows that no
    longer exist, and SQLite may give a rolled-back insert's id to the next item). Only the
    only writer has one: another process's writes would not reach it."""

    def __init__(self, capacity: int = ITEM_CACHE_SIZE) -> None:
        super().__init__(capacity)
        # the stop-word band keys met (issue 29): cleared with the cache, and when band
        # rows are deleted (``Tx.delete_bands``)
        self.stops = StopMemo()

    def clear(self) -> None:
        super().clear()
        self.stops.clear()


GROUP_MAX = 64  # ingest transactions per SQLite commit at most (group commit)
GROUP_AGE = 2.0  # seconds an open group may stay uncommitted while writers queue
# ``run --once``: seconds a group stays open with no writer queued, for the polls still in
# flight. Ingest outpaces the polls' arrival at moments, so a group committed whenever
# nobody queued held ~8 polls in a 1,000-feed first cycle (132 commits); lingering, ~25
# (39 commits), and SQLite's commit CPU fell 2.25 -> 1.06 s (each commit rewrites every
# band-index page its group touched; bench/README.md, "Fifth session"). Not in the daemon,
# whose scheduler reads a feed's next poll from the committed table.
GROUP_LINGER = 0.5
# A group's inserts land at random places in the band index; with SQLite's default 2 MiB
# page cache most of them re-read their page from the OS. Only while a group is open.
# 8 MiB: from 32 to 16 MiB the main process of a 1,000-feed first cycle peaked 11 MB lower
# (160 -> 149 MB) for no measurable time (8 interleaved pairs, median -0.5 s of ~15 s); from
# 16 to 8 MiB, with lingering groups, 7-12 MB lower again (templated 158-160 -> 151-152 MB,
# plain 153-156 -> 143-144 MB, 2 interleaved pairs each), the group commits' CPU within
# 0.1 s (bench/README.md, "Fifth session").
GROUP_CACHE_KIB = 8 * 1024


def _pragma(conn: Connection, setting: str) -> None:
    """A PRAGMA outside any transaction (SQLAlchemy's execute would begin one)."""
    cur = conn.connection.cursor()
    try:
        cur.execute(f"PRAGMA {setting}")
    finally:
        cur.close()


@dataclass
class Group:
    """A SQLite write transaction shared by queued ingest writers (see ``SingleWriter.member``)."""

    conn: Connection
    trans: Any
    opened: float
    members: int = 0
    flush_armed: bool = False  # a commit is scheduled (``SingleWriter.linger``)
    bands: PendingBands = field(default_factory=PendingBands)
    events: GroupEventWrites = field(default_factory=GroupEventWrites)


class _Savepoint:
    """A group member's SAVEPOINT, issued on the driver's connection: SQLAlchemy's
    ``begin_nested`` and its commit cost ~0.25 ms of the main process's one GIL per poll
    (0.25 s in a 1,000-feed first cycle) for two one-word statements. SQLAlchemy's own
    transaction (the group's BEGIN IMMEDIATE ... COMMIT) is unaware of it, and need
    not be: a member's savepoint is always released or rolled back before the group ends."""

    _NAME = "pantau_member"

    def __init__(self, conn: Connection) -> None:
        self._cur = conn.connection.cursor()
        self._cur.execute(f"SAVEPOINT {self._NAME}")

    def commit(self) -> None:
        try:
            self._cur.execute(f"RELEASE {self._NAME}")
        finally:
            self._cur.close()

    def rollback(self) -> None:
        try:
            self._cur.execute(f"ROLLBACK TO {self._NAME}")
            self._cur.execute(f"RELEASE {self._NAME}")
        finally:
            self._cur.close()


class SingleWriter:
    """Group commit, the item cache, the band filter and the group's pending band rows of
    the one process that writes a SQLite database. ``filter_policy`` None: no band filter
    (the rest stays)."""

    def __init__(
        self,
        filter_policy: Policy | None = None,
        *,
        cache_size: int = ITEM_CACHE_SIZE,
        linger: float = 0.0,
    ) -> None:
        """``linger``: seconds a group stays open when no writer is queued (see
        ``GROUP_LINGER``); the store commits it then (``flush_later``), or when it closes."""
        self.filter_policy = filter_policy
        self.linger = linger
        # set by the store: commit this group (if still open) after this many seconds
        self.flush_later: Callable[[Group, float], None] | None = None
        self.filter: BandFilter | None = None
        self.filter_declined = False  # the table was too big for this policy to read
        self.cache = ItemCache(cache_size)
        self.terms = TermCounts()  # stored term frequencies read so far (events)
        self.profiles = ProfileCache()  # stored event profiles read so far (events)
        self.group: Group | None = None  # the open group commit, if any

    @classmethod
    def daemon(cls) -> SingleWriter:
        return cls(Policy.daemon())

    @classmethod
    def one_shot(cls) -> SingleWriter:
        return cls(Policy.one_shot(), linger=GROUP_LINGER)

    @property
    def pending(self) -> PendingBands | None:
        """The open group's band rows that wait for its commit (see ``PendingBands``)."""
        return self.group.bands if self.group is not None else None

    def band_filter(self, tx: TxBase) -> BandFilter | None:
        """The filter, built on first use from the table as ``tx`` sees it (its own
        uncommitted rows included); rebuilt larger once it has taken more keys than it was
        sized for. Called only from write transactions, which the write lock serialises."""
        policy = self.filter_policy
        if policy is None or self.filter_declined:
            return None
        flt = self.filter
        if flt is not None and not flt.full:
            return flt
        cur = tx._cur()
        cur.execute("SELECT coalesce(max(id), 0) FROM items")
        estimate = cur.fetchone()[0] * BANDS_PER_ITEM
        if estimate > policy.max_keys:
            self.filter, self.filter_declined = None, True
            return None
        flt = BandFilter(max(estimate, flt.added if flt is not None else 0))
        cur.execute("SELECT band FROM story_bands")
        while rows := cur.fetchmany(20_000):
            flt.add(r[0] for r in rows)
        if self.pending is not None:  # the group's rows that are not in the table yet
            flt.add(self.pending.keys())
        self.filter = flt
        return flt

    def rolled_back(self) -> None:
        """A write transaction or group did not commit: what was read inside it may be gone."""
        self.cache.clear()
        self.terms.clear()
        self.profiles.clear()

    def member(
        self, engine: Engine, make_tx: Callable[[Connection], TxBase], queued: Callable[[], int]
    ) -> Iterator[TxBase]:
        """One member of the group (called with the store's write lock held): a savepoint
        in the shared transaction, opened if there is none. ``queued``: how many writers
        wait for the lock; the group commits when none do (see ``Store.tx``)."""
        g = self.group
        if g is None:
            conn = engine.connect().execution_options(pantau_write=True)
            try:
                _pragma(conn, f"cache_size=-{GROUP_CACHE_KIB}")
                trans = conn.begin()
            except BaseException:
                conn.close()
                raise
            g = self.group = Group(conn, trans, time.monotonic())
        try:
            savepoint = _Savepoint(g.conn)
        except BaseException:
            self.end_group(commit=False)
            raise
        tx = make_tx(g.conn)
        mark, events_mark = g.bands.mark(), g.events.mark()
        try:
            yield tx
            tx.close()
            savepoint.commit()
        except BaseException:
            tx.close()
            g.bands.rollback_to(mark)
            g.events.rollback_to(events_mark)
            self.rolled_back()
            try:
                savepoint.rollback()
            except BaseException:
                self.end_group(commit=False)  # the connection is unusable: drop the group
                raise
            self._finish_member(g, queued)
            raise
        self._finish_member(g, queued)

    def _finish_member(self, g: Group, queued: Callable[[], int]) -> None:
        g.members += 1
        age = time.monotonic() - g.opened
        if g.members >= GROUP_MAX or age > GROUP_AGE:
            self.end_group(commit=True)
        elif queued():
            return  # the next member takes the lock at once
        elif age < self.linger and self.flush_later is not None:
            if not g.flush_armed:
                g.flush_armed = True
                self.flush_later(g, self.linger - age)
        else:
            self.end_group(commit=True)

    def end_group(self, *, commit: bool) -> None:
        """Commit (or roll back) and close the open group, if any (write lock held)."""
        g, self.group = self.group, None
        if g is None:
            return
        try:
            terms: list[tuple[int, int]] = []
            if commit:
                if g.bands or g.events:
                    cur = g.conn.connection.cursor()
                    try:
                        if g.bands:
                            cur.executemany(INSERT_BAND, g.bands.take())
                        if g.events:
                            rows, terms = g.events.take()
                            cur.executemany(INSERT_KEY, rows)
                            cur.executemany(ADD_TERMS, term_rows(terms))
                    finally:
                        cur.close()
                g.trans.commit()
                self.terms.committed(terms)
            else:
                self.rolled_back()
                g.trans.rollback()
        except BaseException:
            self.rolled_back()
            try:
                g.trans.rollback()
            finally:
                g.conn.close()
            raise
        try:
            # back to SQLite's default before the connection returns to the pool: the pages
            # beyond it are freed, so idle pooled connections do not each keep a big cache
            _pragma(g.conn, f"cache_size=-{db.DEFAULT_CACHE_KIB}")
        finally:
            g.conn.close()
