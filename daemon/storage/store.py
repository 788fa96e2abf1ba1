"""Storage behind one typed interface (the idea of lemon24/reader's storage layer).

``Store`` owns the engine and offers short transactions for the CLI and the scheduler;
``Tx`` wraps the one connection of a write transaction so that the ingest of a poll (items,
stories, alerts and their outbox rows) commits or rolls back as a unit. Everything here is
SQL; what to do with the rows is decided in ``ingest``, ``schedule`` and ``dispatch``.
Every statement runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import struct
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from daemon.grouping.bandfilter import BandFilter, Policy
from daemon.storage import db
from daemon.storage.schema import (
    UTCDateTime,
    alerts,
    deliveries,
    feeds,
    items,
    stories,
)

STORY_LOCK_CLASS = 0x7061  # advisory lock namespace for story assignment ("pa")
STORY_LOCK_BUCKETS = 64
SYNC_LOCK = 0x70616E7461750002  # advisory lock key for syncing the feeds table with the config


PER_BAND = 50  # newest rows read per band key in a candidate lookup
BANDS_PER_ITEM = 17  # LSH bands plus the URL key: an estimate of the band table's size


@lru_cache(maxsize=1024)
def _sqlite_stamp(dt: datetime) -> str:
    """A UTC datetime as SQLAlchemy's SQLite DATETIME stores it (so comparisons line up).
    Cached: a poll stamps its ``now`` on every item, and a story's times are its first
    item's. (Equal aware datetimes are one instant, so one text, whatever their zone.)"""
    if dt.tzinfo is not timezone.utc:
        dt = dt.astimezone(timezone.utc)
    return dt.replace(tzinfo=None).isoformat(" ", "microseconds")  # strftime costs 4x as much


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


_INSERT_BAND = "INSERT INTO story_bands (band, published, item_id) VALUES (?, ?, ?)"


def _epoch(dt: datetime) -> int:
    """Whole seconds since the epoch: the band index's time (see migration 0004)."""
    return int(dt.timestamp())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


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


@dataclass
class ExistingItem:
    id: int
    identity: str
    content_hash: str
    story_id: int | None


@dataclass
class NewItem:
    feed_id: int
    identity: str
    guid: str | None
    url: str | None
    title: str
    summary: str
    content: str
    title_html: str
    summary_html: str
    author: str
    published_at: datetime
    published_raw: str | None
    has_date: bool
    first_seen_at: datetime
    content_hash: str
    fulltext_status: str | None = None  # "pending" queues the item for full text
    fulltext_after: datetime | None = None
    story_id: int | None = None  # set by ingest.assign_stories before the INSERT
    features: str | None = None  # stories.encode_features of the item
    bands: tuple[int, ...] = field(default=(), repr=False)  # LSH keys, not a column


@dataclass
class PendingText:
    """An item whose article page is to be fetched."""

    id: int
    feed_id: int
    url: str | None
    attempts: int


@dataclass
class AlertRecord:
    topic: str
    story_id: int
    item_id: int
    title: str
    url: str | None
    outlet: str
    published_at: datetime
    matched: Sequence[str]
    snippet: str
    notifiers: Sequence[str]


@dataclass
class DeliveryRow:
    id: int
    alert_id: int
    notifier: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime


@dataclass
class SourceView:
    outlet: str
    url: str | None
    title: str


@dataclass
class AlertView:
    id: int
    topic: str
    story_id: int
    title: str
    url: str | None
    outlet: str
    published_at: datetime
    matched: list[str]
    snippet: str
    created_at: datetime
    sources: list[SourceView] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "story_id": self.story_id,
            "title": self.title,
            "url": self.url,
            "outlet": self.outlet,
            "published_at": iso(self.published_at),
            "matched": self.matched,
            "snippet": self.snippet,
            "sources": [s.__dict__ for s in self.sources],
            "created_at": iso(self.created_at),
            "deliveries": self.deliveries,
        }


_ITEM_COLUMNS = (
    "feed_id", "identity", "guid", "url", "title", "summary", "content", "title_html",
    "summary_html", "author", "published_at", "published_raw", "has_date", "first_seen_at",
    "content_hash", "fulltext_status", "fulltext_after", "story_id", "features", "bands",
)  # fmt: skip
_ALERT_COLUMNS = (
    "topic", "story_id", "item_id", "title", "url", "outlet", "published_at", "matched",
    "snippet", "created_at",
)  # fmt: skip
RECENT_HASHES = 1000  # a feed's newest items whose content hashes go to the parse worker
ROWS_PER_INSERT = 400  # multi-row VALUES: 400 × 18 parameters, well under both drivers' caps


def _values_sql(n_cols: int, n_rows: int) -> str:
    row = "(" + ", ".join("?" * n_cols) + ")"
    return ", ".join([row] * n_rows)


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


ITEM_CACHE_SIZE = 16_384  # items; ~1 KB each as ingest keeps them (see ItemCache)


class ItemCache:
    """What ingest derived from stored items, kept across transactions by the database's
    only writer (SQLite under ``service.lock_database``), keyed by item id.

    Story grouping meets the same earlier items as candidates poll after poll: in a
    1,000-feed first cycle, 118,500 candidate reads were of 17,541 distinct items, and each
    read was a row lookup plus a Doc and a Candidate built in the main process. Ingest keeps
    the candidates it built here (``ingest._Candidates``), at most ``capacity`` of them, the
    oldest dropped first.

    Exact, not approximate: a write that changes what a candidate holds of an item (its
    story, link, date or features: ``Tx.update_item``, ``Tx.move_item``) or removes the item
    (``Tx.delete_bands``, which retention calls before it deletes items) forgets the item,
    and a rolled-back transaction or group empties the cache (it may have read rows that no
    longer exist, and SQLite may give a rolled-back insert's id to the next item). Only the
    only writer has one: another process's writes would not reach it."""

    def __init__(self, capacity: int = ITEM_CACHE_SIZE) -> None:
        self.capacity = capacity
        self._data: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self._data)

    def get(self, item_id: int) -> Any:
        return self._data.get(item_id)

    def put(self, item_id: int, value: Any) -> None:
        data = self._data
        if len(data) >= self.capacity and item_id not in data:
            del data[next(iter(data))]  # the entry put first
        data[item_id] = value

    def forget(self, item_ids: Iterable[int]) -> None:
        for i in item_ids:
            self._data.pop(i, None)

    def clear(self) -> None:
        self._data.clear()


class Tx:
    """The statements of one ingest transaction, on one connection.

    The statements of the ingest path (run per poll, over up to hundreds of rows) go
    straight to the DB-API driver with SQL written once, in ``?`` style (rewritten to
    ``%s`` for psycopg): building, compiling and caching a SQLAlchemy statement and
    processing each bound value in Python cost several times the SQLite work itself
    (bench/README.md, issue 9). Timestamps are then passed as SQLAlchemy's SQLite DATETIME
    stores them (``_sqlite_stamp``) or as aware datetimes to PostgreSQL. Everything else
    uses SQLAlchemy Core."""

    def __init__(
        self,
        conn: Connection,
        band_filter: Callable[[Tx], BandFilter | None] | None = None,
        pending: PendingBands | None = None,
        cache: ItemCache | None = None,
    ) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._cursor: Any = None
        # the store's filter of band keys, for a write transaction of the only writer
        self._band_filter = band_filter
        # a group member's band rows, inserted when the group commits (see PendingBands)
        self.pending = pending
        # the only writer's cache of what ingest derived from items (write transactions)
        self.cache = cache

    # -- the driver, directly ----------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def _cur(self) -> Any:
        if self._cursor is None:
            self._cursor = self.conn.connection.cursor()
        return self._cursor

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def _ts(self, dt: datetime | None) -> Any:
        if dt is None:
            return None
        if dt.tzinfo is None:
            raise ValueError("naive datetime stored")
        return _sqlite_stamp(dt) if self.sqlite else dt

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cur = self._cur()
        cur.execute(self._sql(sql), tuple(params))
        return cur.fetchall()

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cur().executemany(self._sql(sql), rows)

    # -- items -----------------------------------------------------------------------------
    def existing_items(self, feed_id: int, identities: Sequence[str]) -> dict[str, ExistingItem]:
        out: dict[str, ExistingItem] = {}
        for chunk in _chunks(list(identities), 500):
            rows = self._fetch(
                "SELECT id, identity, content_hash, story_id FROM items "
                f"WHERE feed_id = ? AND identity IN ({', '.join('?' * len(chunk))})",
                [feed_id, *chunk],
            )
            for r in rows:
                out[r[1]] = ExistingItem(*r)
        return out

    def tombstoned(self, feed_id: int, identities: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for chunk in _chunks(list(identities), 500):
            rows = self._fetch(
                "SELECT identity FROM tombstones "
                f"WHERE feed_id = ? AND identity IN ({', '.join('?' * len(chunk))})",
                [feed_id, *chunk],
            )
            out.update(r[0] for r in rows)
        return out

    def recent_hashes(self, feed_id: int, limit: int = RECENT_HASHES) -> frozenset[str]:
        """Content hashes of the feed's newest items: what a parse worker may skip."""
        rows = self._fetch(
            "SELECT content_hash FROM items WHERE feed_id = ? ORDER BY id DESC LIMIT ?",
            [feed_id, limit],
        )
        return frozenset(r[0] for r in rows)

    def insert_items(self, new: Sequence[NewItem]) -> list[int]:
        """Multi-row INSERTs; ids come back with their identity (unique within the feed), as
        neither SQLite nor PostgreSQL promises RETURNING rows in VALUES order."""
        if not new:
            return []
        ts = self._ts
        ids: dict[tuple[int, str], int] = {}
        for chunk in _chunks(list(new), ROWS_PER_INSERT):
            params: list[Any] = []
            for n in chunk:
                params += (
                    n.feed_id, n.identity, n.guid, n.url, n.title, n.summary, n.content,
                    n.title_html, n.summary_html, n.author, ts(n.published_at),
                    n.published_raw, n.has_date, ts(n.first_seen_at), n.content_hash,
                    n.fulltext_status, ts(n.fulltext_after), n.story_id, n.features,
                    pack_bands(n.bands) if n.bands else None,
                )  # fmt: skip
            rows = self._fetch(
                f"INSERT INTO items ({', '.join(_ITEM_COLUMNS)}) VALUES "
                f"{_values_sql(len(_ITEM_COLUMNS), len(chunk))} RETURNING id, feed_id, identity",
                params,
            )
            for item_id, feed_id, identity in rows:
                ids[(feed_id, identity)] = item_id
        return [ids[(n.feed_id, n.identity)] for n in new]

    def update_item(self, item_id: int, values: dict[str, Any]) -> None:
        if self.cache is not None:
            self.cache.forget([item_id])
        self.conn.execute(sa.update(items).where(items.c.id == item_id).values(**values))

    def item_row(self, item_id: int) -> Any:
        return self.conn.execute(
            sa.select(items, feeds.c.name.label("outlet"))
            .join(feeds, feeds.c.id == items.c.feed_id)
            .where(items.c.id == item_id)
        ).one()

    def story_size(self, story_id: int) -> int:
        return self.conn.execute(
            sa.select(sa.func.count()).select_from(items).where(items.c.story_id == story_id)
        ).scalar_one()

    def move_item(self, item_id: int, old_story: int, new_story: int) -> None:
        """Move a lone item into another story and drop its old, now empty, story."""
        if self.cache is not None:
            self.cache.forget([item_id])
        self.conn.execute(sa.update(items).where(items.c.id == item_id).values(story_id=new_story))
        self.join_story(new_story)
        self.conn.execute(sa.delete(stories).where(stories.c.id == old_story))

    def item_bands(self, item_id: int) -> set[int]:
        blob = self.conn.execute(
            sa.select(items.c.bands).where(items.c.id == item_id)
        ).scalar_one_or_none()
        return set(unpack_bands(blob))

    # -- stories ---------------------------------------------------------------------------
    def new_stories(self, rows: Sequence[tuple[str, datetime, datetime, int]]) -> list[int]:
        """Open stories: (title, first_seen_at, published_at, item_count) each. On SQLite the
        write transaction holds the only write lock of the only process (service.lock_database),
        so the ids are the next ones, as SQLite would choose them, and one executemany writes
        them all (46,000 stories in a 1,000-feed first cycle: ~4 % of the main process's
        non-idle samples before, ~2 % after). Elsewhere one statement per story: stories have
        no natural key to match RETURNING rows of a multi-row INSERT to their VALUES."""
        cur = self._cur()
        if self.sqlite and rows:
            cur.execute("SELECT coalesce(max(id), 0) FROM stories")
            base = cur.fetchone()[0]
            ts = self._ts
            cur.executemany(
                "INSERT INTO stories (id, title, first_seen_at, published_at, item_count) "
                "VALUES (?, ?, ?, ?, ?)",
                [(base + k, t, ts(f), ts(p), n) for k, (t, f, p, n) in enumerate(rows, 1)],
            )
            return list(range(base + 1, base + 1 + len(rows)))
        sql = self._sql(
            "INSERT INTO stories (title, first_seen_at, published_at, item_count) "
            "VALUES (?, ?, ?, ?) RETURNING id"
        )
        out = []
        for t, f, p, n in rows:
            cur.execute(sql, (t, self._ts(f), self._ts(p), n))
            out.append(cur.fetchone()[0])
        return out

    def join_story(self, story_id: int, n: int = 1) -> None:
        self._cur().execute(
            self._sql("UPDATE stories SET item_count = item_count + ? WHERE id = ?"),
            (n, story_id),
        )

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
        values = {(b, e, i) for i, p, bands in rows for e in (_epoch(p),) for b in bands}
        flt = self._band_filter(self) if self._band_filter is not None else None
        if flt is not None:
            flt.add(map(itemgetter(0), values))  # before the rows: it may only over-claim
        if self.pending is not None:
            self.pending.add(values)
            return
        self._many(_INSERT_BAND, sorted(values))

    def delete_bands(self, item_ids: Sequence[int]) -> int:
        """Remove the band rows of these items (before the items go): found through each
        item's ``bands``, by (band, item_id), a prefix of the key plus a short scan. The
        items are about to go (retention), so the item cache forgets them."""
        if self.cache is not None:
            self.cache.forget(item_ids)
        keys: list[tuple[int, int]] = []
        for chunk in _chunks(list(item_ids), 500):
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
        flt = self._band_filter(self) if self._band_filter is not None else None
        for keys, lo, hi in ((text_keys, since, until), (link_keys, since - span, until + span)):
            a, b = _epoch(lo), _epoch(hi) + 1
            found: list[tuple[int, int, int]] = []
            # keys certainly absent from the table are not looked up
            for chunk in _chunks(
                flt.may_contain(keys) if flt is not None else keys, KEYS_PER_QUERY
            ):
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

    def candidate_items(self, ids: Sequence[int], *, text: bool = True) -> list[CandidateRow]:
        """``text=False``: the texts are left empty (read them only for an item whose
        stored features cannot be used)."""
        cols = "title, summary, content, fulltext" if text else "'', '', '', NULL"
        out: list[CandidateRow] = []
        for chunk in _chunks(list(ids), 500):
            rows = self._fetch(
                f"SELECT id, story_id, {cols}, url, published_at, features "
                f"FROM items WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.extend(CandidateRow(*r[:7], _from_db(r[7]), r[8]) for r in rows)
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
        if self.conn.dialect.name != "postgresql":
            return
        buckets = sorted({k % STORY_LOCK_BUCKETS for k in keys})
        if buckets:
            self.conn.execute(
                sa.text(
                    "SELECT pg_advisory_xact_lock(:cls, b) FROM "
                    "(SELECT unnest(CAST(:buckets AS int[])) AS b ORDER BY 1) AS s"
                ),
                {"cls": STORY_LOCK_CLASS, "buckets": buckets},
            )

    # -- alerts and the outbox -------------------------------------------------------------
    def alerted_topics(self, story_id: int) -> set[str]:
        return {
            r[0] for r in self._fetch("SELECT topic FROM alerts WHERE story_id = ?", [story_id])
        }

    def _alert_params(self, a: AlertRecord, now: datetime) -> tuple[Any, ...]:
        return (
            a.topic, a.story_id, a.item_id, a.title, a.url, a.outlet, self._ts(a.published_at),
            json.dumps(list(a.matched), ensure_ascii=False), a.snippet, self._ts(now),
        )  # fmt: skip

    def insert_alert(self, a: AlertRecord, now: datetime) -> int | None:
        """The alert and one pending delivery per notifier, or None if (topic, story) exists."""
        rows = self._fetch(
            f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES "
            f"{_values_sql(len(_ALERT_COLUMNS), 1)} "
            "ON CONFLICT (topic, story_id) DO NOTHING RETURNING id",
            self._alert_params(a, now),
        )
        if not rows:
            return None
        alert_id: int = rows[0][0]
        self._outbox([(alert_id, a)], now)
        return alert_id

    def insert_new_alerts(self, records: Sequence[AlertRecord], now: datetime) -> list[int]:
        """Alerts of stories opened in this transaction, with their outbox rows. (No other
        transaction can see those stories, so no conflict is possible; alerts of older
        stories go through ``insert_alert``.) RETURNING rows are matched back by
        (topic, story), which is unique."""
        if not records:
            return []
        ids: dict[tuple[str, int], int] = {}
        for chunk in _chunks(list(records), ROWS_PER_INSERT):
            params: list[Any] = []
            for a in chunk:
                params += self._alert_params(a, now)
            rows = self._fetch(
                f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES "
                f"{_values_sql(len(_ALERT_COLUMNS), len(chunk))} RETURNING id, topic, story_id",
                params,
            )
            for alert_id, topic, story_id in rows:
                ids[(topic, story_id)] = alert_id
        out = [ids[(a.topic, a.story_id)] for a in records]
        self._outbox(list(zip(out, records, strict=True)), now)
        return out

    def _outbox(self, pairs: Sequence[tuple[int, AlertRecord]], now: datetime) -> None:
        """One pending delivery row per (alert, notifier of its topic)."""
        stamp = self._ts(now)
        self._many(
            "INSERT INTO deliveries (alert_id, notifier, status, attempts, next_attempt_at, "
            "created_at) VALUES (?, ?, 'pending', 0, ?, ?)",
            [
                (alert_id, n, stamp, stamp)
                for alert_id, a in pairs
                for n in dict.fromkeys(a.notifiers)
            ],
        )

    # -- feed state ------------------------------------------------------------------------
    def update_feed(self, feed_id: int, **values: Any) -> None:
        self.update_feeds([(feed_id, values)])

    def update_feeds(self, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Set columns of many feeds: one executemany per distinct set of columns."""
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for feed_id, values in rows:
            for k in values:
                if k not in _FEED_COLUMNS:
                    raise ValueError(f"feeds has no column {k!r}")
            cols = tuple(values)
            groups.setdefault(cols, []).append(
                (*(self._ts(v) if isinstance(v, datetime) else v for v in values.values()), feed_id)
            )
        for cols, params in groups.items():
            if cols:
                sets = ", ".join(f'"{c}" = ?' for c in cols)
                self._many(f"UPDATE feeds SET {sets} WHERE id = ?", params)

    def add_feed_stats(
        self,
        feed_id: int,
        *,
        polls: int = 0,
        not_modified: int = 0,
        failed: int = 0,
        items_added: int = 0,
    ) -> None:
        self.add_feeds_stats([(feed_id, polls, not_modified, failed, items_added)])

    def add_feeds_stats(self, rows: Sequence[tuple[int, int, int, int, int]]) -> None:
        """(feed_id, polls, not_modified, failed, items_added) each."""
        self._many(
            "UPDATE feeds SET polls = polls + ?, polls_not_modified = polls_not_modified + ?, "
            "polls_failed = polls_failed + ?, item_count = item_count + ? WHERE id = ?",
            [(p, nm, f, n, feed_id) for feed_id, p, nm, f, n in rows],
        )


_FEED_COLUMNS = frozenset(feeds.c.keys())


def _from_db(v: Any) -> datetime | None:
    """A timestamp as the driver returns it: SQLite's stored text, PostgreSQL's datetime."""
    if v is None or isinstance(v, datetime):
        return v.astimezone(timezone.utc) if v is not None else None
    return datetime.fromisoformat(v).replace(tzinfo=timezone.utc)


@dataclass
class CandidateRow:
    id: int
    story_id: int | None
    title: str
    summary: str
    content: str
    fulltext: str | None
    url: str | None
    published_at: datetime
    features: str | None = None


def _claim(tx: Tx, q: sa.Select[Any], table: sa.Table, **values: Any) -> list[int]:
    """Ids that ``q`` selects, marked with ``values`` in the same transaction. On PostgreSQL
    the rows are locked with SKIP LOCKED, so concurrent claimers never take the same row."""
    if tx.conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    ids = [r[0] for r in tx.conn.execute(q)]
    if ids:
        tx.conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(**values))
    return ids


def _chunks(seq: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


GROUP_MAX = 64  # ingest transactions per SQLite commit at most (group commit)
GROUP_AGE = 2.0  # seconds an open group may stay uncommitted while writers queue
# A group's inserts land at random places in the band index; with SQLite's default 2 MiB
# page cache most of them re-read their page from the OS. Only while a group is open.
# 16 MiB, not 32: in a 1,000-feed first cycle the main process peaked 11 MB lower (160 ->
# 149 MB) for no measurable time (8 interleaved pairs, median -0.5 s of ~15 s, within the
# noise); above 32 MiB nothing changed either (bench/README.md, issue 9).
GROUP_CACHE_KIB = 16 * 1024


def _pragma(conn: Connection, setting: str) -> None:
    """A PRAGMA outside any transaction (SQLAlchemy's execute would begin one)."""
    cur = conn.connection.cursor()
    try:
        cur.execute(f"PRAGMA {setting}")
    finally:
        cur.close()


@dataclass
class _Group:
    """A SQLite write transaction shared by queued ingest writers (see ``Store.tx``)."""

    conn: Connection
    trans: Any
    opened: float
    members: int = 0
    bands: PendingBands = field(default_factory=PendingBands)


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


class Store:
    def __init__(self, engine: Engine, *, exclusive: Policy | None = None) -> None:
        """``exclusive``: this process is the database's only writer (SQLite under
        ``service.lock_database``); write transactions then skip band lookups that the
        store's ``BandFilter`` rules out, built as the policy says."""
        self.engine = engine
        self._filter_policy = exclusive if engine.dialect.name == "sqlite" else None
        self._filter: BandFilter | None = None
        self._filter_declined = False
        # SQLite has one writer at a time. Threads that wait for its lock inside SQLite's busy
        # handler sleep in growing steps (up to 100 ms) and miss the moment it frees; a
        # Python lock hands it over at once. (PostgreSQL writers run concurrently.)
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._waiting = 0  # threads queued for _write_lock
        self._waiting_lock = threading.Lock()
        self._group: _Group | None = None
        # the only writer keeps what ingest derived from items across transactions
        self.item_cache = ItemCache() if self._filter_policy is not None else None

    @classmethod
    def open(cls, url: str, *, exclusive: Policy | None = None) -> Store:
        return cls(db.create_engine(url), exclusive=exclusive)

    def _band_filter(self, tx: Tx) -> BandFilter | None:
        """The filter, built on first use from the table as ``tx`` sees it (its own
        uncommitted rows included); rebuilt larger once it has taken more keys than it was
        sized for. Called only from write transactions, which the write lock serialises."""
        policy = self._filter_policy
        if policy is None or self._filter_declined:
            return None
        flt = self._filter
        if flt is not None and not flt.full:
            return flt
        cur = tx._cur()
        cur.execute("SELECT coalesce(max(id), 0) FROM items")
        estimate = cur.fetchone()[0] * BANDS_PER_ITEM
        if estimate > policy.max_keys:
            self._filter, self._filter_declined = None, True
            return None
        flt = BandFilter(max(estimate, flt.added if flt is not None else 0))
        cur.execute("SELECT band FROM story_bands")
        while rows := cur.fetchmany(20_000):
            flt.add(r[0] for r in rows)
        if tx.pending is not None:  # the group's rows that are not in the table yet
            flt.add(tx.pending.keys())
        self._filter = flt
        return flt

    def close(self) -> None:
        if self._write_lock is not None:
            with self._write_lock:
                self._end_group(commit=True)
        self.engine.dispose()

    def upgrade(self) -> None:
        db.upgrade(self.engine)

    def is_current(self) -> bool:
        return db.current_revision(self.engine) == db.HEAD

    @contextmanager
    def tx(self, *, group: bool = False) -> Iterator[Tx]:
        """A write transaction.

        ``group=True`` (a poll's ingest, on SQLite): while other writers are queued, the
        transaction is a savepoint inside one shared SQLite transaction, committed when
        nobody is waiting, after ``GROUP_MAX`` members or ``GROUP_AGE`` seconds. In a first
        cycle, when every poll brings new items, that turns one commit per feed into one
        per ~64, and each commit rewrites every index page its inserts touched (a poll's
        ~850 band rows land all over the band index): 850,000 band rows cost 10.2 s of
        SQLite CPU committed per poll, 4.4 s per 16 polls, 3.3 s per 64. A crash before the
        commit loses the group's polls whole (items, stories, alerts and the feeds' poll
        state alike), so the next start polls those feeds again: nothing is lost, nothing
        was delivered. Other writers (delivery marks, health, retention) never join a
        group: they commit it first, so a "sent" mark is durable when its block ends."""
        if self._write_lock is None:
            yield from self._plain_tx()
            return
        with self._waiting_lock:
            self._waiting += 1
        self._write_lock.acquire()
        with self._waiting_lock:
            self._waiting -= 1
        try:
            if not group:
                self._end_group(commit=True)
                yield from self._plain_tx()
                return
            yield from self._group_member()
        finally:
            self._write_lock.release()

    def _plain_tx(self) -> Iterator[Tx]:
        """A write transaction of its own (committed when the block ends)."""
        try:
            with db.write_tx(self.engine) as conn:
                tx = Tx(conn, self._band_filter, cache=self.item_cache)
                yield tx
                tx.close()
        except BaseException:
            self._rolled_back()
            raise

    def _rolled_back(self) -> None:
        """A write transaction or group did not commit: what was read inside it may be gone."""
        if self.item_cache is not None:
            self.item_cache.clear()

    def _group_member(self) -> Iterator[Tx]:
        """One member of the group (called with the write lock held)."""
        g = self._group
        if g is None:
            conn = self.engine.connect().execution_options(pantau_write=True)
            try:
                _pragma(conn, f"cache_size=-{GROUP_CACHE_KIB}")
                trans = conn.begin()
            except BaseException:
                conn.close()
                raise
            g = self._group = _Group(conn, trans, time.monotonic())
        try:
            savepoint = _Savepoint(g.conn)
        except BaseException:
            self._end_group(commit=False)
            raise
        tx = Tx(g.conn, self._band_filter, g.bands, self.item_cache)
        mark = g.bands.mark()
        try:
            yield tx
            tx.close()
            savepoint.commit()
        except BaseException:
            tx.close()
            g.bands.rollback_to(mark)
            self._rolled_back()
            try:
                savepoint.rollback()
            except BaseException:
                self._end_group(commit=False)  # the connection is unusable: drop the group
                raise
            self._finish_member(g)
            raise
        self._finish_member(g)

    def _finish_member(self, g: _Group) -> None:
        g.members += 1
        with self._waiting_lock:
            queued = self._waiting
        if not queued or g.members >= GROUP_MAX or time.monotonic() - g.opened > GROUP_AGE:
            self._end_group(commit=True)

    def _end_group(self, *, commit: bool) -> None:
        """Commit (or roll back) and close the open group, if any (write lock held)."""
        g, self._group = self._group, None
        if g is None:
            return
        try:
            if commit:
                if g.bands:
                    cur = g.conn.connection.cursor()
                    try:
                        cur.executemany(_INSERT_BAND, g.bands.take())
                    finally:
                        cur.close()
                g.trans.commit()
            else:
                self._rolled_back()
                g.trans.rollback()
        except BaseException:
            self._rolled_back()
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

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction (no write lock): for planning before ``tx``."""
        with db.read_tx(self.engine) as conn:
            tx = Tx(conn)
            yield tx
            tx.close()

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
                for chunk in _chunks(urls, 500):
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
        q = sa.select(feeds).order_by(feeds.c.id)
        if active_only:
            q = q.where(feeds.c.active.is_(True))
        with db.read_tx(self.engine) as conn:
            return [FeedRow.from_row(r) for r in conn.execute(q)]

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

    def claim_feeds(
        self, now: datetime, owner: str, lease: float, *, limit: int, exclude: Iterable[int] = ()
    ) -> list[FeedRow]:
        """Claim due feeds for polling: a lease in the row, so that several processes on one
        PostgreSQL database split the work without a coordinator (``FOR UPDATE SKIP LOCKED``
        lets each claim a disjoint set at once). A process that dies leaves its leases to
        expire; its feeds are then claimed by the others. The lease is dropped when the poll
        records its outcome (``release_feed``)."""
        if limit <= 0:
            return []
        q = (
            sa.select(feeds.c.id)
            .where(
                feeds.c.active.is_(True),
                feeds.c.gone.is_(False),
                feeds.c.next_poll_at <= now,
                sa.or_(feeds.c.lease_until.is_(None), feeds.c.lease_until < now),
            )
            .order_by(feeds.c.next_poll_at, feeds.c.id)
            .limit(limit)
        )
        ex = list(exclude)
        if ex:
            q = q.where(feeds.c.id.not_in(ex))
        with self.tx() as tx:
            ids = _claim(
                tx, q, feeds, lease_owner=owner, lease_until=now + timedelta(seconds=lease)
            )
            if not ids:
                return []
            rows = tx.conn.execute(
                sa.select(feeds).where(feeds.c.id.in_(ids)).order_by(feeds.c.next_poll_at)
            )
            return [FeedRow.from_row(r) for r in rows]

    # -- the full-text queue -------------------------------------------------------------
    def claim_fulltext(self, now: datetime, lease: float, *, limit: int) -> list[PendingText]:
        """Claim pending items due for their article page; a claim pushes ``fulltext_after``
        past the lease, so a crashed fetcher's items come back by themselves."""
        q = (
            sa.select(items.c.id, items.c.feed_id, items.c.url, items.c.fulltext_attempts)
            .where(items.c.fulltext_status == "pending", items.c.fulltext_after <= now)
            .order_by(items.c.fulltext_after, items.c.id)
            .limit(limit)
        )
        with self.tx() as tx:
            if tx.conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = list(tx.conn.execute(q))
            if rows:
                tx.conn.execute(
                    sa.update(items)
                    .where(items.c.id.in_([r.id for r in rows]))
                    .values(
                        fulltext_after=now + timedelta(seconds=lease),
                        fulltext_attempts=items.c.fulltext_attempts + 1,
                    )
                )
        return [PendingText(r.id, r.feed_id, r.url, r.fulltext_attempts + 1) for r in rows]

    def defer_fulltext(self, item_id: int, until: datetime, *, uncount: bool = False) -> None:
        """Put an item back in the queue (a rate limit said wait)."""
        values: dict[str, Any] = {"fulltext_after": until}
        if uncount:
            values["fulltext_attempts"] = items.c.fulltext_attempts - 1
        with self.tx() as tx:
            tx.conn.execute(sa.update(items).where(items.c.id == item_id).values(**values))

    def next_fulltext_at(self) -> datetime | None:
        with db.read_tx(self.engine) as conn:
            return conn.execute(
                sa.select(sa.func.min(items.c.fulltext_after, type_=UTCDateTime())).where(
                    items.c.fulltext_status == "pending"
                )
            ).scalar()

    def record_unchanged(self, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """The outcome of many unchanged polls (a 304 or the same body) in one transaction."""
        with self.tx() as tx:
            tx.update_feeds(rows)
            tx.add_feeds_stats([(feed_id, 1, 1, 0, 0) for feed_id, _ in rows])

    def release_all_claims(self) -> tuple[int, int]:
        """Drop every feed lease and delivery claim. Only for a process that knows it is the
        only one (SQLite, under the lock file): after a crash its old claims would otherwise
        hold feeds and deliveries until the leases expire."""
        with self.tx() as tx:
            f = tx.conn.execute(
                sa.update(feeds)
                .where(feeds.c.lease_owner.is_not(None))
                .values(lease_owner=None, lease_until=None)
            ).rowcount
            d = tx.conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.claimed_by.is_not(None))
                .values(claimed_by=None, claimed_until=None)
            ).rowcount
        return f or 0, d or 0

    def release_feed(self, feed_id: int, owner: str) -> None:
        """Drop a lease that a poll did not get to clear itself (a crash inside the poll)."""
        with self.tx() as tx:
            tx.conn.execute(
                sa.update(feeds)
                .where(feeds.c.id == feed_id, feeds.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    # -- reading -----------------------------------------------------------------------------
    def stories_since(self, since: datetime, limit: int = 10_000) -> list[dict[str, Any]]:
        with db.read_tx(self.engine) as conn:
            srows = list(
                conn.execute(
                    sa.select(stories)
                    .where(stories.c.first_seen_at >= since)
                    .order_by(stories.c.first_seen_at.desc(), stories.c.id.desc())
                    .limit(limit)
                )
            )
            by_story: dict[int, list[dict[str, Any]]] = {r.id: [] for r in srows}
            for chunk in _chunks(list(by_story), 500):
                q = (
                    sa.select(
                        items.c.story_id,
                        items.c.title,
                        items.c.url,
                        items.c.guid,
                        items.c.published_at,
                        items.c.first_seen_at,
                        feeds.c.name.label("feed"),
                    )
                    .join(feeds, feeds.c.id == items.c.feed_id)
                    .where(items.c.story_id.in_(chunk))
                    .order_by(items.c.first_seen_at, items.c.id)
                )
                for r in conn.execute(q):
                    by_story[r.story_id].append(
                        {
                            "feed": r.feed,
                            "title": r.title,
                            "url": r.url,
                            "guid": r.guid,
                            "published_at": iso(r.published_at),
                        }
                    )
        return [
            {
                "id": r.id,
                "title": r.title,
                "first_seen_at": iso(r.first_seen_at),
                "items": by_story[r.id],
            }
            for r in srows
        ]

    def story_sources(
        self, conn: Connection, story_ids: Sequence[int]
    ) -> dict[int, list[SourceView]]:
        out: dict[int, list[SourceView]] = {s: [] for s in story_ids}
        for chunk in _chunks(list(story_ids), 500):
            q = (
                sa.select(items.c.story_id, items.c.title, items.c.url, feeds.c.name)
                .join(feeds, feeds.c.id == items.c.feed_id)
                .where(items.c.story_id.in_(chunk))
                .order_by(items.c.first_seen_at, items.c.id)
            )
            for r in conn.execute(q):
                out[r.story_id].append(SourceView(r.name, r.url, r.title))
        return out

    def alerts_since(
        self, since: datetime, topic: str | None = None, ids: Sequence[int] | None = None
    ) -> list[AlertView]:
        q = sa.select(alerts).order_by(alerts.c.created_at.desc(), alerts.c.id.desc())
        if ids is not None:
            q = q.where(alerts.c.id.in_(list(ids)))
        else:
            q = q.where(alerts.c.created_at >= since)
        if topic is not None:
            q = q.where(alerts.c.topic == topic)
        with db.read_tx(self.engine) as conn:
            rows = list(conn.execute(q))
            sources = self.story_sources(conn, list({r.story_id for r in rows}))
            dels: dict[int, list[dict[str, Any]]] = {r.id: [] for r in rows}
            for chunk in _chunks(list(dels), 500):
                for d in conn.execute(
                    sa.select(deliveries)
                    .where(deliveries.c.alert_id.in_(chunk))
                    .order_by(deliveries.c.id)
                ):
                    dels[d.alert_id].append(
                        {
                            "notifier": d.notifier,
                            "status": d.status,
                            "attempts": d.attempts,
                            "last_error": d.last_error,
                            "sent_at": iso(d.sent_at),
                            "next_attempt_at": iso(d.next_attempt_at)
                            if d.status == "pending"
                            else None,
                        }
                    )
        return [
            AlertView(
                id=r.id,
                topic=r.topic,
                story_id=r.story_id,
                title=r.title,
                url=r.url,
                outlet=r.outlet,
                published_at=r.published_at,
                matched=json.loads(r.matched),
                snippet=r.snippet,
                created_at=r.created_at,
                sources=sources.get(r.story_id, []),
                deliveries=dels[r.id],
            )
            for r in rows
        ]

    # -- the outbox ----------------------------------------------------------------------------
    def claim_deliveries(
        self, now: datetime, owner: str, lease: float, *, notifiers: Sequence[str], limit: int = 100
    ) -> list[DeliveryRow]:
        """Claim due pending rows: a claimed row is not handed to another dispatcher until the
        claim expires (a crashed dispatcher's rows are retried after ``lease`` seconds)."""
        if not notifiers:
            return []
        until = now + timedelta(seconds=lease)
        with self.tx() as tx:
            q = (
                sa.select(deliveries.c.id)
                .where(
                    deliveries.c.status == "pending",
                    deliveries.c.next_attempt_at <= now,
                    deliveries.c.notifier.in_(list(notifiers)),
                    sa.or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
                )
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
                .limit(limit)
            )
            ids = _claim(tx, q, deliveries, claimed_by=owner, claimed_until=until)
            if not ids:
                return []
            rows = tx.conn.execute(
                sa.select(deliveries).where(deliveries.c.id.in_(ids)).order_by(deliveries.c.id)
            )
            return [
                DeliveryRow(
                    r.id,
                    r.alert_id,
                    r.notifier,
                    r.status,
                    r.attempts,
                    r.created_at,
                    r.next_attempt_at,
                )
                for r in rows
            ]

    def finish_delivery(
        self,
        delivery_id: int,
        owner: str,
        *,
        status: str,
        attempts: int,
        now: datetime,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "last_error": error,
            "claimed_by": None,
            "claimed_until": None,
        }
        if status == "sent":
            values["sent_at"] = now
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.tx() as tx:
            tx.conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.claimed_by == owner)
                .values(**values)
            )

    def delivery_counts(self) -> dict[str, int]:
        with db.read_tx(self.engine) as conn:
            rows = conn.execute(
                sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
            )
            return {r[0]: r[1] for r in rows}

    def oldest_pending_delivery(self, notifier: str | None = None) -> datetime | None:
        q = sa.select(sa.func.min(deliveries.c.created_at, type_=UTCDateTime())).where(
            deliveries.c.status == "pending"
        )
        if notifier is not None:
            q = q.where(deliveries.c.notifier == notifier)
        with db.read_tx(self.engine) as conn:
            return conn.execute(q).scalar()

    def counts(self) -> dict[str, int]:
        with db.read_tx(self.engine) as conn:
            return {
                name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for name, t in (
                    ("feeds", feeds),
                    ("items", items),
                    ("stories", stories),
                    ("alerts", alerts),
                )
            }
