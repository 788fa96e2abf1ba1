"""Storage behind one typed interface (the idea of lemon24/reader's storage layer).

``Store`` owns the engine and offers short transactions for the CLI and the scheduler;
``Tx`` wraps the one connection of a write transaction so that the ingest of a poll (items,
stories, alerts and their outbox rows) commits or rolls back as a unit. Everything here is
SQL; what to do with the rows is decided in ``ingest``, ``schedule`` and ``dispatch``.
Every statement runs on SQLite and on PostgreSQL.

Both are assembled from one module per concern: ``feeds`` (the feeds table), ``leases``
(claims on feeds), ``items`` (items, stories, the full-text queue), ``bands`` (the LSH band
index), ``outbox`` (alerts and deliveries), ``views`` (read models for the CLI and the
dispatcher); ``sql`` holds the driver plumbing they share and ``writer`` what only the sole
SQLite writer may do (``SingleWriter``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from daemon.logs import log_event
from daemon.storage import db
from daemon.storage.bands import BandsTx
from daemon.storage.feeds import FeedsStore, FeedsTx
from daemon.storage.items import ItemsStore, ItemsTx
from daemon.storage.leases import LeasesStore
from daemon.storage.outbox import OutboxStore, OutboxTx
from daemon.storage.views import ViewsStore
from daemon.storage.writer import Group, ItemCache, SingleWriter

log = logging.getLogger(__name__)


class Tx(ItemsTx, BandsTx, OutboxTx, FeedsTx):
    """The statements of one transaction, on one connection (see ``daemon.storage.sql``)."""


class Store(FeedsStore, LeasesStore, ItemsStore, OutboxStore, ViewsStore):
    def __init__(self, engine: Engine, *, single_writer: SingleWriter | None = None) -> None:
        """``single_writer``: this process is the database's only writer (SQLite under
        ``service.lock_database``); ignored on PostgreSQL, where processes write at once."""
        self.engine = engine
        sqlite = engine.dialect.name == "sqlite"
        self.writer = single_writer if sqlite else None
        # SQLite has one writer at a time. Threads that wait for its lock inside SQLite's busy
        # handler sleep in growing steps (up to 100 ms) and miss the moment it frees; a
        # Python lock hands it over at once. (PostgreSQL writers run concurrently.)
        self._write_lock = threading.Lock() if sqlite else None
        self._waiting = 0  # threads queued for _write_lock
        self._waiting_lock = threading.Lock()
        self._flush_timer: threading.Timer | None = None
        if self.writer is not None:
            self.writer.flush_later = self._flush_later

    @classmethod
    def open(cls, url: str, *, single_writer: SingleWriter | None = None) -> Store:
        return cls(db.create_engine(url), single_writer=single_writer)

    @property
    def item_cache(self) -> ItemCache | None:
        return self.writer.cache if self.writer is not None else None

    def writers_queued(self) -> int:
        """Threads waiting for the write lock (a group commit stays open while any do)."""
        with self._waiting_lock:
            return self._waiting

    def close(self) -> None:
        self.flush()
        self.engine.dispose()

    def flush(self) -> None:
        """Commit the open group commit, if any: what this process wrote becomes visible to
        every connection (``run --once`` before it delivers the cycle's alerts)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        if self._write_lock is not None:
            with self._write_lock:
                if self.writer is not None:
                    self.writer.end_group(commit=True)

    def _flush_later(self, group: Group, delay: float) -> None:
        """Commit ``group`` after ``delay`` seconds unless it has ended by then (a lingering
        group, ``SingleWriter.linger``)."""
        timer = threading.Timer(delay, self._flush_group, args=(group,))
        timer.daemon = True
        self._flush_timer = timer
        timer.start()

    def _flush_group(self, group: Group) -> None:
        assert self._write_lock is not None
        with self._write_lock:
            w = self.writer
            if w is None or w.group is not group:
                return
            try:
                w.end_group(commit=True)
            except Exception:
                # The group's polls are rolled back whole, feed state included: their feeds
                # are due again and the next cycle polls them; nothing was delivered.
                log_event(log, "error", "store.group_commit_failed", exc_info=True)

    def upgrade(self) -> None:
        db.upgrade(self.engine)

    def is_current(self) -> bool:
        return db.current_revision(self.engine) == db.HEAD

    @contextmanager
    def tx(self, *, group: bool = False) -> Iterator[Tx]:
        """A write transaction.

        ``group=True`` (a poll's ingest, by the sole SQLite writer): while other writers are
        queued, the transaction is a savepoint inside one shared SQLite transaction,
        committed when nobody is waiting, after ``GROUP_MAX`` members or ``GROUP_AGE``
        seconds. In a first cycle, when every poll brings new items, that turns one commit
        per feed into one per ~64, and each commit rewrites every index page its inserts
        touched (a poll's ~850 band rows land all over the band index): 850,000 band rows
        cost 10.2 s of SQLite CPU committed per poll, 4.4 s per 16 polls, 3.3 s per 64. A
        crash before the commit loses the group's polls whole (items, stories, alerts and
        the feeds' poll state alike), so the next start polls those feeds again: nothing is
        lost, nothing was delivered. Other writers (delivery marks, health, retention) never
        join a group: they commit it first, so a "sent" mark is durable when its block ends.
        Without a ``SingleWriter`` every transaction is a plain one."""
        if self._write_lock is None:
            yield from self._plain_tx()
            return
        with self._waiting_lock:
            self._waiting += 1
        self._write_lock.acquire()
        with self._waiting_lock:
            self._waiting -= 1
        try:
            w = self.writer
            if w is None or not group:
                if w is not None:
                    w.end_group(commit=True)
                yield from self._plain_tx()
                return
            yield from w.member(  # type: ignore[misc]
                self.engine, lambda conn: Tx(conn, w), self.writers_queued
            )
        finally:
            self._write_lock.release()

    def _plain_tx(self) -> Iterator[Tx]:
        """A write transaction of its own (committed when the block ends)."""
        try:
            with db.write_tx(self.engine) as conn:
                tx = Tx(conn, self.writer)
                yield tx
                tx.close()
        except BaseException:
            if self.writer is not None:
                self.writer.rolled_back()
            raise

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction (no write lock): for planning before ``tx``."""
        with db.read_tx(self.engine) as conn:
            tx = Tx(conn)
            yield tx
            tx.close()
