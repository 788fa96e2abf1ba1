"""Storage behind one typed interface (the idea of lemon24/reader's storage layer).

``Store`` owns the engine and offers short transactions for the CLI and the scheduler;
``Tx`` wraps the one connection of a write transaction so that the ingest of a poll (items,
stories, alerts and their outbox rows) commits or rolls back as a unit. Everything here is
SQL; what to do with the rows is decided in ``ingest``, ``schedule`` and ``dispatch``.
Every statement runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from daemon import db
from daemon.schema import (
    UTCDateTime,
    alerts,
    deliveries,
    feeds,
    items,
    stories,
    story_bands,
    tombstones,
)

STORY_LOCK_CLASS = 0x7061  # advisory lock namespace for story assignment ("pa")
STORY_LOCK_BUCKETS = 64
SYNC_LOCK = 0x70616E7461750002  # advisory lock key for syncing the feeds table with the config


PER_BAND = 50  # newest rows read per band key in a candidate lookup


def _sqlite_stamp(dt: datetime) -> str:
    """A UTC datetime as SQLAlchemy's SQLite DATETIME stores it (so comparisons line up)."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


UNION_CHUNK = 400  # SQLite allows at most 500 SELECTs in one compound statement


@functools.lru_cache(maxsize=32)
def _band_rows_sql(n_text: int, n_url: int, *, named: bool) -> str:
    """(band, item_id, published_at) of ``n_text`` text bands (:b0…, within :since–:until)
    then ``n_url`` URL keys (within :usince–:uuntil), the newest :per_band rows of each: one
    index range scan with a LIMIT per key (SQLite and PostgreSQL both accept LIMIT inside a
    FROM subquery of a UNION ALL member). In the driver's own parameter style: ``:name`` for
    sqlite3, ``%(name)s`` for psycopg."""
    part = (
        "SELECT band, item_id, published_at FROM (SELECT band, item_id, published_at "
        "FROM story_bands WHERE band = :b{i} AND published_at >= :{lo} AND published_at <= :{hi} "
        "ORDER BY published_at DESC LIMIT :per_band) AS s{i}"
    )
    sql = " UNION ALL ".join(
        part.format(
            i=i, lo="usince" if i >= n_text else "since", hi="uuntil" if i >= n_text else "until"
        )
        for i in range(n_text + n_url)
    )
    return sql if named else re.sub(r":(\w+)", r"%(\1)s", sql)


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


def insert_ignore(
    conn: Connection, table: sa.Table, values: dict[str, Any], index: list[str]
) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING; the new row's id, or None when it already existed."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=index)
    if "id" in table.c:
        stmt = stmt.returning(table.c.id)
        row = conn.execute(stmt).first()
        return row[0] if row else None
    conn.execute(stmt)
    return None


class Tx:
    """The statements of one ingest transaction, on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- items -----------------------------------------------------------------------------
    def existing_items(self, feed_id: int, identities: Sequence[str]) -> dict[str, ExistingItem]:
        out: dict[str, ExistingItem] = {}
        for chunk in _chunks(list(identities), 500):
            rows = self.conn.execute(
                sa.select(
                    items.c.id, items.c.identity, items.c.content_hash, items.c.story_id
                ).where(items.c.feed_id == feed_id, items.c.identity.in_(chunk))
            )
            for r in rows:
                out[r.identity] = ExistingItem(r.id, r.identity, r.content_hash, r.story_id)
        return out

    def tombstoned(self, feed_id: int, identities: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for chunk in _chunks(list(identities), 500):
            rows = self.conn.execute(
                sa.select(tombstones.c.identity).where(
                    tombstones.c.feed_id == feed_id, tombstones.c.identity.in_(chunk)
                )
            )
            out.update(r[0] for r in rows)
        return out

    def insert_items(self, new: Sequence[NewItem]) -> list[int]:
        if not new:
            return []
        rows = self.conn.execute(
            sa.insert(items).returning(items.c.id, sort_by_parameter_order=True),
            [{k: v for k, v in n.__dict__.items() if k != "bands"} for n in new],
        )
        return [r[0] for r in rows]

    def update_item(self, item_id: int, values: dict[str, Any]) -> None:
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
        self.conn.execute(sa.update(items).where(items.c.id == item_id).values(story_id=new_story))
        self.conn.execute(
            sa.update(story_bands)
            .where(story_bands.c.item_id == item_id)
            .values(story_id=new_story)
        )
        self.join_story(new_story)
        self.conn.execute(sa.delete(stories).where(stories.c.id == old_story))

    def item_bands(self, item_id: int) -> set[int]:
        rows = self.conn.execute(
            sa.select(story_bands.c.band).where(story_bands.c.item_id == item_id)
        )
        return {r[0] for r in rows}

    # -- stories ---------------------------------------------------------------------------
    def new_stories(self, rows: Sequence[tuple[str, datetime, datetime, int]]) -> list[int]:
        """Open stories in bulk: (title, first_seen_at, published_at, item_count) each."""
        if not rows:
            return []
        res = self.conn.execute(
            sa.insert(stories).returning(stories.c.id, sort_by_parameter_order=True),
            [
                {"title": t, "first_seen_at": f, "published_at": p, "item_count": n}
                for t, f, p, n in rows
            ],
        )
        return [r[0] for r in res]

    def join_story(self, story_id: int, n: int = 1) -> None:
        self.conn.execute(
            sa.update(stories)
            .where(stories.c.id == story_id)
            .values(item_count=stories.c.item_count + n)
        )

    def insert_bands(
        self, item_id: int, story_id: int, published_at: datetime, bands: Iterable[int]
    ) -> None:
        rows = [
            {"band": b, "item_id": item_id, "story_id": story_id, "published_at": published_at}
            for b in bands
        ]
        if rows:
            self.conn.execute(sa.insert(story_bands), rows)

    def insert_bands_many(
        self, rows: Iterable[tuple[int, int | None, datetime, Iterable[int]]]
    ) -> None:
        """Band rows of many items in one statement: (item_id, story_id, published_at, bands).

        Straight to the driver's executemany: ~17 rows per item make SQLAlchemy's per-row
        parameter processing the larger part of the cost otherwise."""
        sqlite = self.conn.dialect.name == "sqlite"
        values = []
        for i, s, p, bands in rows:
            stamp: Any = _sqlite_stamp(p) if sqlite else p
            values.extend((b, i, s, stamp) for b in bands)
        if not values:
            return
        mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        self.conn.exec_driver_sql(
            "INSERT INTO story_bands (band, item_id, story_id, published_at) "
            f"VALUES ({mark}, {mark}, {mark}, {mark})",
            values,
        )

    def band_rows(
        self, bands: Iterable[int], since: datetime, until: datetime, url_keys: Iterable[int] = ()
    ) -> list[tuple[int, int, datetime]]:
        """(band, item_id, published_at) for every band key of a batch: text bands within
        [since, until], URL keys within ``URL_SPAN_DAYS`` of it, the newest ``PER_BAND`` rows
        of each key. A few statements per batch, each one index range scan per key."""
        from daemon.stories import URL_SPAN_DAYS

        span = timedelta(days=URL_SPAN_DAYS)
        keys = [(k, False) for k in dict.fromkeys(bands)] + [
            (k, True) for k in dict.fromkeys(url_keys)
        ]
        out: list[tuple[int, int, datetime]] = []
        for i in range(0, len(keys), UNION_CHUNK):
            chunk = keys[i : i + UNION_CHUNK]
            params: dict[str, Any] = {f"b{j}": k for j, (k, _) in enumerate(chunk)}
            params.update(
                since=since,
                until=until,
                usince=since - span,
                uuntil=until + span,
                per_band=PER_BAND,
            )
            # Straight to the driver: the rows are many and SQLAlchemy's per-row result
            # processing cost more than the query. SQLite hands back its stored text.
            sqlite = self.conn.dialect.name == "sqlite"
            if sqlite:
                for name in ("since", "until", "usince", "uuntil"):
                    params[name] = _sqlite_stamp(params[name])
            n_url = sum(1 for _, url in chunk if url)  # URL keys come last in ``keys``
            sql = _band_rows_sql(len(chunk) - n_url, n_url, named=sqlite)
            for band, item_id, published in self.conn.exec_driver_sql(sql, params).fetchall():
                if isinstance(published, str):
                    published = datetime.fromisoformat(published).replace(tzinfo=timezone.utc)
                out.append((band, item_id, published))
        return out

    def candidate_items(self, ids: Sequence[int]) -> list[Any]:
        q = sa.select(
            items.c.id,
            items.c.story_id,
            items.c.title,
            items.c.summary,
            items.c.content,
            items.c.fulltext,
            items.c.url,
            items.c.published_at,
        ).where(items.c.id.in_(list(ids)))
        return self.conn.execute(q).fetchall()

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
        rows = self.conn.execute(sa.select(alerts.c.topic).where(alerts.c.story_id == story_id))
        return {r[0] for r in rows}

    def insert_alert(self, a: AlertRecord, now: datetime) -> int | None:
        """The alert and one pending delivery per notifier, or None if (topic, story) exists."""
        alert_id = insert_ignore(self.conn, alerts, _alert_values(a, now), ["topic", "story_id"])
        if alert_id is None:
            return None
        self._outbox([(alert_id, a)], now)
        return alert_id

    def insert_new_alerts(self, records: Sequence[AlertRecord], now: datetime) -> list[int]:
        """Alerts of stories opened in this transaction, with their outbox rows, in two
        statements. (No other transaction can see those stories, so no conflict is possible;
        alerts of older stories go through ``insert_alert``.)"""
        if not records:
            return []
        res = self.conn.execute(
            sa.insert(alerts).returning(alerts.c.id, sort_by_parameter_order=True),
            [_alert_values(a, now) for a in records],
        )
        ids = [r[0] for r in res]
        self._outbox(list(zip(ids, records, strict=True)), now)
        return ids

    def _outbox(self, pairs: Sequence[tuple[int, AlertRecord]], now: datetime) -> None:
        """One pending delivery row per (alert, notifier of its topic)."""
        rows = [
            {
                "alert_id": alert_id,
                "notifier": n,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for alert_id, a in pairs
            for n in dict.fromkeys(a.notifiers)
        ]
        if rows:
            self.conn.execute(sa.insert(deliveries), rows)

    # -- feed state ------------------------------------------------------------------------
    def update_feed(self, feed_id: int, **values: Any) -> None:
        self.conn.execute(sa.update(feeds).where(feeds.c.id == feed_id).values(**values))

    def add_feed_stats(
        self,
        feed_id: int,
        *,
        polls: int = 0,
        not_modified: int = 0,
        failed: int = 0,
        items_added: int = 0,
    ) -> None:
        self.conn.execute(
            sa.update(feeds)
            .where(feeds.c.id == feed_id)
            .values(
                polls=feeds.c.polls + polls,
                polls_not_modified=feeds.c.polls_not_modified + not_modified,
                polls_failed=feeds.c.polls_failed + failed,
                item_count=feeds.c.item_count + items_added,
            )
        )


def _alert_values(a: AlertRecord, now: datetime) -> dict[str, Any]:
    return {
        "topic": a.topic,
        "story_id": a.story_id,
        "item_id": a.item_id,
        "title": a.title,
        "url": a.url,
        "outlet": a.outlet,
        "published_at": a.published_at,
        "matched": json.dumps(list(a.matched), ensure_ascii=False),
        "snippet": a.snippet,
        "created_at": now,
    }


def _chunks(seq: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time. Threads that wait for its lock inside SQLite's busy
        # handler sleep in growing steps (up to 100 ms) and miss the moment it frees; a
        # Python lock hands it over at once. (PostgreSQL writers run concurrently.)
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def open(cls, url: str) -> Store:
        return cls(db.create_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def upgrade(self) -> None:
        db.upgrade(self.engine)

    def is_current(self) -> bool:
        return db.current_revision(self.engine) == db.HEAD

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        if self._write_lock is None:
            with db.write_tx(self.engine) as conn:
                yield Tx(conn)
            return
        with self._write_lock, db.write_tx(self.engine) as conn:
            yield Tx(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction (no write lock): for planning before ``tx``."""
        with db.read_tx(self.engine) as conn:
            yield Tx(conn)

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
            for url, spec in wanted.items():
                row = existing.get(url)
                if row is None:
                    ids[url] = tx.conn.execute(
                        sa.insert(feeds)
                        .values(
                            url=url,
                            name=spec.name,
                            active=True,
                            added_at=now,
                            next_poll_at=first_poll.get(url, now),
                        )
                        .returning(feeds.c.id)
                    ).scalar_one()
                else:
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
        return ids

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
            if tx.conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            ids = [r[0] for r in tx.conn.execute(q)]
            if not ids:
                return []
            tx.conn.execute(
                sa.update(feeds)
                .where(feeds.c.id.in_(ids))
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease))
            )
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
            for feed_id, values in rows:
                tx.update_feed(feed_id, **values)
            ids = [feed_id for feed_id, _ in rows]
            for chunk in _chunks(ids, 500):
                tx.conn.execute(
                    sa.update(feeds)
                    .where(feeds.c.id.in_(chunk))
                    .values(
                        polls=feeds.c.polls + 1,
                        polls_not_modified=feeds.c.polls_not_modified + 1,
                    )
                )

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
            if tx.conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            ids = [r[0] for r in tx.conn.execute(q)]
            if not ids:
                return []
            tx.conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id.in_(ids))
                .values(claimed_by=owner, claimed_until=until)
            )
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
