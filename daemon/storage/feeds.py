"""The feeds table: the config's feeds, their poll state and counters, which are due."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from daemon.storage import db
from daemon.storage.schema import UTCDateTime, feeds
from daemon.storage.sql import TxBase, chunks, from_db

SYNC_LOCK = 0x70616E7461750002  # advisory lock key for syncing the feeds table with the config


@dataclass
class FeedRow:
    id: int
    url: str
    name: str
    active: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    interval: float | None
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_status: int | None
    last_error: str | None
    last_ok_at: datetime | None
    last_new_at: datetime | None
    error_count: int
    gone: bool
    item_count: int
    polls: int
    polls_not_modified: int
    polls_failed: int
    title: str | None = None
    added_at: datetime | None = None
    health: str | None = None
    health_reason: str | None = None
    health_since: datetime | None = None

    @classmethod
    def from_row(cls, r: Any) -> FeedRow:
        m = r._mapping
        return cls(**{k: m[k] for k in cls.__dataclass_fields__})


@dataclass
class FeedSpec:
    """What the config says about a feed, as the store needs it."""

    url: str
    name: str
    interval: float


_FEED_COLUMNS = frozenset(feeds.c.keys())
# a poll's counters, added (polls, not modified, failed, items added)
_ADD_STATS = (
    "polls = polls + ?, polls_not_modified = polls_not_modified + ?, "
    "polls_failed = polls_failed + ?, item_count = item_count + ?"
)
_ROW_COLUMNS = ", ".join(f'"{f.name}"' for f in fields(FeedRow))
# (field index, conversion) of FeedRow's times and flags, in the order of its fields
_ROW_CONVERTERS: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
    (i, from_db if isinstance(feeds.c[f.name].type, UTCDateTime) else bool)
    for i, f in enumerate(fields(FeedRow))
    if isinstance(feeds.c[f.name].type, UTCDateTime | sa.Boolean)
)


class FeedsTx(TxBase):
    """A feed's state, written inside a transaction (a poll's outcome goes with its items)."""

    def update_feed(self, feed_id: int, **values: Any) -> None:
        self.update_feeds([(feed_id, values)])

    def update_feeds(
        self,
        rows: Sequence[tuple[int, dict[str, Any]]],
        stats: Sequence[tuple[int, int, int, int]] | None = None,
    ) -> None:
        """Set columns of many feeds: one executemany per distinct set of columns. ``stats``:
        per row, the counters to add in the same statement (polls, not modified, failed,
        items added): a cycle of 304s at 1,000 feeds wrote them in a
        second pass of 1,000 UPDATEs (~4 ms of its ~15 ms of bookkeeping)."""
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for k, (feed_id, values) in enumerate(rows):
            for c in values:
                if c not in _FEED_COLUMNS:
                    raise ValueError(f"feeds has no column {c!r}")
            cols = tuple(values)
            groups.setdefault(cols, []).append(
                (
                    *(self._ts(v) if isinstance(v, datetime) else v for v in values.values()),
                    *(stats[k] if stats is not None else ()),
                    feed_id,
                )
            )
        for cols, params in groups.items():
            sets = [f'"{c}" = ?' for c in cols]
            if stats is not None:
                sets.append(_ADD_STATS)
            if sets:
                self._many(f"UPDATE feeds SET {', '.join(sets)} WHERE id = ?", params)

    def add_feed_stats(
        self,
        feed_id: int,
        *,
        polls: int = 0,
        not_modified: int = 0,
        failed: int = 0,
        items_added: int = 0,
    ) -> None:
        self.update_feeds([(feed_id, {})], [(polls, not_modified, failed, items_added)])


class FeedsStore:
    """Short transactions on the feeds table (mixed into ``Store``)."""

    engine: Any

    # -- feeds -----------------------------------------------------------------------------
    def sync_feeds(
        self, specs: Sequence[FeedSpec], now: datetime, first_poll: dict[str, datetime]
    ) -> dict[str, int]:
        """Make the feeds table match the config: add new feeds, rename, deactivate removed."""
        wanted = {s.url: s for s in specs}
        ids: dict[str, int] = {}
        with self.tx() as tx:
            if tx.conn.dialect.name == "postgresql":
                # processes starting together must not insert the same feeds twice
                tx.conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_LOCK})
            existing = {
                r.url: r
                for r in tx.conn.execute(
                    sa.select(
                        feeds.c.id,
                        feeds.c.url,
                        feeds.c.name,
                        feeds.c.active,
                        feeds.c.next_poll_at,
                        feeds.c.gone,
                    )
                )
            }
            added = [
                {
                    "url": url,
                    "name": spec.name,
                    "active": True,
                    "added_at": now,
                    "next_poll_at": first_poll.get(url, now),
                }
                for url, spec in wanted.items()
                if url not in existing
            ]
            if added:  # one executemany (a first start with 1,000 feeds: 0.6 s -> 0.01 s)
                tx.conn.execute(sa.insert(feeds), added)
                urls = [a["url"] for a in added]
                for chunk in chunks(urls, 500):
                    found = tx.conn.execute(
                        sa.select(feeds.c.url, feeds.c.id).where(feeds.c.url.in_(chunk))
                    )
                    ids.update({u: i for u, i in found})
            for url, spec in wanted.items():
                row = existing.get(url)
                if row is not None:
                    ids[url] = row.id
                    values: dict[str, Any] = {}
                    if row.name != spec.name:
                        values["name"] = spec.name
                    if not row.active:
                        values["active"] = True
                        values["gone"] = False  # re-added: try it again
                        values["next_poll_at"] = first_poll.get(url, now)
                    elif row.next_poll_at is None and not row.gone:
                        values["next_poll_at"] = first_poll.get(url, now)
                    if values:
                        tx.update_feed(row.id, **values)
            gone = [r.id for url, r in existing.items() if url not in wanted and r.active]
            if gone:
                tx.conn.execute(sa.update(feeds).where(feeds.c.id.in_(gone)).values(active=False))
        return {url: ids[url] for url in wanted}  # in the config's order

    def feed_rows(self, *, active_only: bool = True) -> list[FeedRow]:
        """Every feed, by id. Read with the driver's cursor: every run reads every feed
        first, and SQLAlchemy's row processing took 13 of 15 ms of it at 1,000 feeds (a
        cycle of 304s is ~0.9 s); converted here as ``schema.UTCDateTime`` and
        ``sa.Boolean`` would (tests/test_store.py holds the two readings together)."""
        sql = f"SELECT {_ROW_COLUMNS} FROM feeds"
        with self.read() as tx:
            rows = tx._fetch(sql + (" WHERE active = ?" if active_only else "") + " ORDER BY id",
                             (True,) if active_only else ())  # fmt: skip
        out = []
        for r in rows:
            v = list(r)
            for i, conv in _ROW_CONVERTERS:
                if v[i] is not None:
                    v[i] = conv(v[i])
            out.append(FeedRow(*v))
        return out

    def due_feeds(
        self, now: datetime, *, exclude: Iterable[int] = (), limit: int = 1000
    ) -> list[FeedRow]:
        q = (
            sa.select(feeds)
            .where(
                feeds.c.active.is_(True),
                feeds.c.gone.is_(False),
                feeds.c.next_poll_at <= now,
            )
            .order_by(feeds.c.next_poll_at)
            .limit(limit)
        )
        ex = list(exclude)
        if ex:
            q = q.where(feeds.c.id.not_in(ex))
        with db.read_tx(self.engine) as conn:
            return [FeedRow.from_row(r) for r in conn.execute(q)]

    def record_unchanged(self, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """The outcome of many unchanged polls (a 304 or the same body) in one transaction."""
        with self.tx() as tx:
            tx.update_feeds(rows, [(1, 1, 0, 0)] * len(rows))
