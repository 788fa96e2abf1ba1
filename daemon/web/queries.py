"""The dashboard's read-only queries: every page's data in a few indexed, paged SELECTs.

Kept apart from ``daemon.storage`` (which owns writing) so that the web shell reads through
one narrow module: it never opens a write transaction, and each page costs a bounded number
of rows (a page of stories, alerts or search hits, never "everything since"). The events
layer (stories grouped into events) is optional here: ``Reader.has_events`` says whether the
database has an ``events`` table and a ``stories.event_id`` column, and the event queries
are used only then.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from daemon.outlets import distinct_outlets
from daemon.storage import db
from daemon.storage.feeds import FeedRow
from daemon.storage.schema import (
    UTCDateTime,
    alerts,
    deliveries,
    feeds,
    item_outlet,
    items,
    stories,
)
from daemon.topics.match import FIELDS, Highlight, Matcher, prepare

PAGE = 50  # rows per page of stories, alerts
SEARCH_PAGE = 30  # hits per page of search results
SEARCH_BATCH = 500  # items read per query while searching
SEARCH_BUDGET = 0.12  # seconds of scanning per search page; then "search older items"
SPARK_DAYS = 14  # days in a feed's items-per-day sparkline


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# -- records ----------------------------------------------------------------------------------


@dataclass
class ItemView:
    id: int
    feed: str
    title: str
    url: str | None
    published_at: datetime
    first_seen_at: datetime
    story_id: int | None = None
    delay: timedelta | None = None  # after the first publication of its story/event


@dataclass
class StoryView:
    id: int
    title: str
    first_seen_at: datetime
    item_count: int
    event_id: int | None = None
    items: list[ItemView] = field(default_factory=list)  # by publication time
    topics: list[str] = field(default_factory=list)  # topics that alerted on it

    @property
    def outlets(self) -> list[str]:
        """Outlets in the order they published: the first broke it (each once, however
        feeds and aggregators name it: ``daemon.outlets``)."""
        return distinct_outlets(i.feed for i in self.items)


@dataclass
class EventView:
    id: int
    title: str
    first_seen_at: datetime
    stories: list[StoryView] = field(default_factory=list)

    @property
    def items(self) -> list[ItemView]:
        return timeline([i for s in self.stories for i in s.items])

    @property
    def outlets(self) -> list[str]:
        return distinct_outlets(i.feed for i in self.items)


@dataclass
class DeliveryView:
    notifier: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    next_attempt_at: datetime | None


@dataclass
class AlertRow:
    id: int
    topic: str
    story_id: int
    event_id: int | None
    title: str
    url: str | None
    outlet: str
    published_at: datetime
    created_at: datetime
    matched: list[str]
    snippet: str
    deliveries: list[DeliveryView] = field(default_factory=list)


@dataclass
class SearchHit:
    item: ItemView
    title: list[tuple[str, bool]]  # (text, highlighted) segments
    excerpt: list[tuple[str, bool]]
    field_names: list[str]  # fields with a match: title, summary, text
    texts: tuple[str, str, str] = ("", "", "")  # title, summary, body as stored


@dataclass
class SearchPage:
    hits: list[SearchHit]
    scanned: int
    older: int | None  # item id to continue from ("search older items"), None at the end
    reached: datetime | None  # first-seen time of the oldest item scanned


def timeline(its: Iterable[ItemView]) -> list[ItemView]:
    """Items by publication time, each with its delay after the first (who broke it)."""
    out = sorted(its, key=lambda i: (i.published_at, i.first_seen_at, i.id))
    if out:
        first = out[0].published_at
        for i in out:
            i.delay = i.published_at - first
    return out


# -- the reader -------------------------------------------------------------------------------


class Reader:
    """Read-only access for the web pages. Thread-safe: each call takes a pooled connection
    in its own read transaction (a consistent snapshot per page)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._day_cache: dict[datetime, dict[int, int]] = {}  # feed_days: past days
        self._events: sa.Table | None = None
        self._events_checked = 0.0

    @classmethod
    def open(cls, url: str, *, threads: int = 4) -> Reader:
        return cls(db.create_engine(url, pool_size=threads))

    def close(self) -> None:
        self.engine.dispose()

    def conn(self) -> Any:
        return db.read_tx(self.engine)

    # -- events (optional) -----------------------------------------------------------------
    @property
    def events_table(self) -> sa.Table | None:
        """The ``events`` table once a migration adds it and it holds events (checked once
        a minute, so a running dashboard notices an upgrade and the first events)."""
        if self._events is None and time.monotonic() - self._events_checked > 60:
            self._events_checked = time.monotonic()
            insp = sa.inspect(self.engine)
            if insp.has_table("events") and any(
                c["name"] == "event_id" for c in insp.get_columns("stories")
            ):
                table = sa.Table("events", sa.MetaData(), autoload_with=self.engine)
                with self.conn() as conn:  # the table alone (migration 0010) is no events yet
                    if conn.execute(sa.select(table.c.id).limit(1)).first() is not None:
                        self._events = table
        return self._events

    @property
    def has_events(self) -> bool:
        return self.events_table is not None

    def _story_event(self) -> Any:
        return sa.column("event_id") if self.has_events else sa.null()

    # -- stories ---------------------------------------------------------------------------
    def stories(
        self, *, page: int = 0, multi: bool = False, per_page: int = PAGE
    ) -> list[StoryView]:
        """Newest first (by when pantau first saw them); ``multi``: carried by 2+ items."""
        q = sa.select(
            stories.c.id, stories.c.title, stories.c.first_seen_at, stories.c.item_count,
            self._story_event().label("event_id"),
        ).select_from(stories)  # fmt: skip
        if multi:
            q = q.where(stories.c.item_count > 1)
        # ties (one poll's stories) newest published first
        q = q.order_by(
            stories.c.first_seen_at.desc(), stories.c.published_at.desc(), stories.c.id.desc()
        )
        q = q.limit(per_page + 1).offset(page * per_page)
        with self.conn() as conn:
            out = [
                StoryView(r.id, r.title, r.first_seen_at, r.item_count, r.event_id)
                for r in conn.execute(q)
            ]
            self._fill(conn, out)
        return out

    def story(self, story_id: int) -> StoryView | None:
        q = sa.select(
            stories.c.id, stories.c.title, stories.c.first_seen_at, stories.c.item_count,
            self._story_event().label("event_id"),
        ).where(stories.c.id == story_id)  # fmt: skip
        with self.conn() as conn:
            r = conn.execute(q).first()
            if r is None:
                return None
            s = StoryView(r.id, r.title, r.first_seen_at, r.item_count, r.event_id)
            self._fill(conn, [s])
        return s

    def _fill(self, conn: Connection, out: Sequence[StoryView]) -> None:
        """Items and alerted topics of a page of stories (two indexed IN queries)."""
        by_id = {s.id: s for s in out}
        if not by_id:
            return
        its: dict[int, list[ItemView]] = {s: [] for s in by_id}
        for it in self._items(conn, items.c.story_id.in_(list(by_id))):
            its[it.story_id].append(it)  # type: ignore[index]
        for sid, lst in its.items():
            by_id[sid].items = timeline(lst)
        q = (
            sa.select(alerts.c.story_id, alerts.c.topic)
            .where(alerts.c.story_id.in_(list(by_id)))
            .order_by(alerts.c.id)
        )
        for r in conn.execute(q):
            by_id[r.story_id].topics.append(r.topic)

    def _items(self, conn: Connection, where: Any) -> list[ItemView]:
        q = (
            sa.select(
                items.c.id, item_outlet(), items.c.title, items.c.url, items.c.published_at,
                items.c.first_seen_at, items.c.story_id,
            )
            .join(feeds, feeds.c.id == items.c.feed_id)
            .where(where)
        )  # fmt: skip
        return [ItemView(*r) for r in conn.execute(q)]

    # -- events ----------------------------------------------------------------------------
    def events(self, *, page: int = 0, per_page: int = PAGE) -> list[EventView]:
        ev = self.events_table
        if ev is None:
            return []
        q = (
            sa.select(ev.c.id, ev.c.title, ev.c.first_seen_at)
            # ties (one poll's events) newest published first, as ``stories`` orders them
            .order_by(ev.c.first_seen_at.desc(), ev.c.published_at.desc(), ev.c.id.desc())
            .limit(per_page + 1)
            .offset(page * per_page)
        )
        with self.conn() as conn:
            out = [EventView(r.id, r.title, _aware(r.first_seen_at)) for r in conn.execute(q)]
            self._fill_events(conn, out)
        return out

    def event(self, event_id: int) -> EventView | None:
        ev = self.events_table
        if ev is None:
            return None
        with self.conn() as conn:
            r = conn.execute(
                sa.select(ev.c.id, ev.c.title, ev.c.first_seen_at).where(ev.c.id == event_id)
            ).first()
            if r is None:
                return None
            e = EventView(r.id, r.title, _aware(r.first_seen_at))
            self._fill_events(conn, [e])
        return e

    def _fill_events(self, conn: Connection, out: Sequence[EventView]) -> None:
        by_id = {e.id: e for e in out}
        if not by_id:
            return
        ev_col = sa.column("event_id")
        q = (
            sa.select(
                stories.c.id, stories.c.title, stories.c.first_seen_at, stories.c.item_count,
                ev_col,
            )
            .select_from(stories)
            .where(ev_col.in_(list(by_id)))
            .order_by(stories.c.first_seen_at, stories.c.id)
        )  # fmt: skip
        sts = [
            StoryView(r.id, r.title, r.first_seen_at, r.item_count, r.event_id)
            for r in conn.execute(q)
        ]
        self._fill(conn, sts)
        for s in sts:
            by_id[s.event_id].stories.append(s)  # type: ignore[index]

    # -- alerts ----------------------------------------------------------------------------
    def alert_topics(self) -> list[str]:
        with self.conn() as conn:
            return list(conn.execute(sa.select(alerts.c.topic).distinct()).scalars())

    def alerts(
        self,
        *,
        topic: str | None = None,
        since: datetime | None = None,
        story_id: int | None = None,
        page: int = 0,
        per_page: int = PAGE,
    ) -> list[AlertRow]:
        q = sa.select(
            alerts.c.id, alerts.c.topic, alerts.c.story_id, sa.null().label("event_id"),
            alerts.c.title, alerts.c.url, alerts.c.outlet, alerts.c.published_at,
            alerts.c.created_at, alerts.c.matched, alerts.c.snippet,
        )  # fmt: skip
        if topic:
            q = q.where(alerts.c.topic == topic)
        if since is not None:
            q = q.where(alerts.c.created_at >= since)
        if story_id is not None:
            q = q.where(alerts.c.story_id == story_id)
        q = q.order_by(alerts.c.created_at.desc(), alerts.c.id.desc())
        q = q.limit(per_page + 1).offset(page * per_page)
        with self.conn() as conn:
            out = [
                AlertRow(
                    r.id, r.topic, r.story_id, r.event_id, r.title, r.url, r.outlet,
                    r.published_at, r.created_at, _terms(r.matched), r.snippet,
                )
                for r in conn.execute(q)
            ]  # fmt: skip
            by_id = {a.id: a for a in out}
            if by_id and self.has_events:
                sq = sa.select(stories.c.id, sa.column("event_id")).select_from(stories)
                sq = sq.where(stories.c.id.in_({a.story_id for a in out}))
                event_of = dict(conn.execute(sq).all())
                for a in out:
                    a.event_id = event_of.get(a.story_id)
            if by_id:
                dq = (
                    sa.select(deliveries)
                    .where(deliveries.c.alert_id.in_(list(by_id)))
                    .order_by(deliveries.c.id)
                )
                for d in conn.execute(dq):
                    by_id[d.alert_id].deliveries.append(
                        DeliveryView(
                            d.notifier, d.status, d.attempts, d.last_error, d.sent_at,
                            d.next_attempt_at if d.status == "pending" else None,
                        )
                    )  # fmt: skip
        return out

    # -- topics ----------------------------------------------------------------------------
    def alert_counts(self, start: datetime, bucket: int) -> dict[str, dict[int, int]]:
        """Alerts per topic per bucket of ``bucket`` seconds from ``start``."""
        b = self._bucket(alerts.c.created_at, start, bucket)
        q = (
            sa.select(alerts.c.topic, b.label("b"), sa.func.count())
            .where(alerts.c.created_at >= start)
            .group_by(alerts.c.topic, b)
        )
        out: dict[str, dict[int, int]] = {}
        with self.conn() as conn:
            for topic, k, n in conn.execute(q):
                out.setdefault(topic, {})[int(k)] = n
        return out

    def _bucket(self, col: Any, start: datetime, seconds: int) -> Any:
        """Integer bucket of a timestamp column: (epoch(col) - epoch(start)) // seconds."""
        if self.dialect == "sqlite":
            epoch = sa.cast(sa.func.strftime("%s", col), sa.Integer)
        else:
            epoch = sa.cast(sa.extract("epoch", col), sa.BigInteger)
        return sa.cast((epoch - int(start.timestamp())) / seconds, sa.Integer)

    def scan_items(
        self, after_id: int, since: datetime, limit: int
    ) -> list[tuple[int, datetime, str, str, str]]:
        """(id, published, title, summary, text) of items after ``after_id``, oldest first:
        the topic charts' incremental matching (daemon.web.charts.MatchCounts)."""
        q = (
            sa.select(
                items.c.id, items.c.published_at, items.c.title, items.c.summary,
                sa.func.coalesce(items.c.fulltext, items.c.content),
            )
            .where(items.c.id > after_id, items.c.first_seen_at >= since)
            .order_by(items.c.id)
            .limit(limit)
        )  # fmt: skip
        with self.conn() as conn:
            return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]

    # -- feeds -----------------------------------------------------------------------------
    def feeds(self) -> list[FeedRow]:
        with self.conn() as conn:
            q = sa.select(feeds).where(feeds.c.active).order_by(feeds.c.name, feeds.c.id)
            return [FeedRow.from_row(r) for r in conn.execute(q)]

    def feed_days(self, start: datetime, days: int = SPARK_DAYS) -> dict[int, list[int]]:
        """Items first seen per feed per day from ``start`` (a local midnight): one range
        count per day over ``ix_items_seen_feed`` (the index alone answers it; computing a
        bucket per row instead costs twice as much on SQLite). Past days are kept once
        counted (they change only when retention prunes); today is counted on each call."""
        edges = [start + timedelta(days=d) for d in range(days + 1)]
        out: dict[int, list[int]] = {}
        with self.conn() as conn:
            for d in range(days):
                counts = self._day_cache.get(edges[d]) if d < days - 1 else None
                if counts is None:
                    q = (
                        sa.select(items.c.feed_id, sa.func.count())
                        .where(
                            items.c.first_seen_at >= edges[d], items.c.first_seen_at < edges[d + 1]
                        )
                        .group_by(items.c.feed_id)
                    )
                    counts = dict(conn.execute(q).all())
                    if d < days - 1:
                        self._day_cache[edges[d]] = counts
                for fid, n in counts.items():
                    out.setdefault(fid, [0] * days)[d] = n
        for old in [k for k in self._day_cache if k < edges[0]]:
            self._day_cache.pop(old, None)
        return out

    # -- search ----------------------------------------------------------------------------
    def search(
        self,
        matcher: Matcher,
        *,
        before: int | None = None,
        want: int = SEARCH_PAGE,
        budget: float | None = SEARCH_BUDGET,
        since: datetime | None = None,
    ) -> SearchPage:
        """Newest items (by id) that ``matcher`` matches, from ``before`` down; stops at
        ``want`` hits, after ``budget`` seconds (None: no limit, for ``pantau search``) or
        at the first item first seen before ``since``, and says where to continue."""
        deadline = time.monotonic() + budget if budget is not None else float("inf")
        hits: list[SearchHit] = []
        scanned = 0
        cursor = before
        reached: datetime | None = None
        with self.conn() as conn:
            while True:
                q = (
                    sa.select(
                        items.c.id, item_outlet(), items.c.title, items.c.url,
                        items.c.published_at, items.c.first_seen_at, items.c.story_id,
                        items.c.summary, sa.func.coalesce(items.c.fulltext, items.c.content),
                    )
                    .join(feeds, feeds.c.id == items.c.feed_id)
                    .order_by(items.c.id.desc())
                    .limit(SEARCH_BATCH)
                )  # fmt: skip
                if cursor is not None:
                    q = q.where(items.c.id < cursor)
                rows = conn.execute(q).all()
                if not rows:
                    return SearchPage(hits, scanned, None, reached)
                for r in rows:
                    if since is not None and _aware(r.first_seen_at) < since:
                        return SearchPage(hits, scanned, None, reached)
                    scanned += 1
                    cursor = r.id
                    reached = r.first_seen_at
                    title, summary, text = r[2], r[7] or "", r[8] or ""
                    spans = matcher.highlights(title, summary, text)
                    if spans:
                        item = ItemView(*r[:7])
                        hits.append(_hit(item, (title, summary, text), spans))
                        if len(hits) >= want:
                            return SearchPage(hits, scanned, cursor, reached)
                    if scanned % 64 == 0 and time.monotonic() >= deadline:
                        return SearchPage(hits, scanned, cursor, reached)
                if len(rows) < SEARCH_BATCH:
                    return SearchPage(hits, scanned, None, reached)


EXCERPT = 240  # characters of body text shown around the first match


def _hit(item: ItemView, texts: tuple[str, str, str], spans: list[Highlight]) -> SearchHit:
    by_field: dict[int, list[tuple[int, int]]] = {}
    for f, a, b in spans:
        by_field.setdefault(f, []).append((a, b))
    title = segments(prepare(texts[0]), by_field.get(0, []))
    body_field = 1 if 1 in by_field or 2 not in by_field else 2
    body = prepare(texts[body_field])
    marks = by_field.get(body_field, [])
    lo = max(0, (marks[0][0] if marks else 0) - EXCERPT // 3)
    if lo:
        sp = body.find(" ", lo)
        lo = sp + 1 if 0 <= sp < lo + 30 else lo
    hi = min(len(body), lo + EXCERPT)
    sp = body.rfind(" ", lo, hi) if hi < len(body) else -1
    hi = sp if sp > lo + EXCERPT // 2 else hi
    inside = [(max(a, lo) - lo, min(b, hi) - lo) for a, b in marks if a < hi and b > lo]
    excerpt = segments(body[lo:hi], inside)
    if lo:
        excerpt.insert(0, ("…", False))
    if hi < len(body):
        excerpt.append(("…", False))
    return SearchHit(item, title, excerpt, [FIELDS[f] for f in sorted(by_field)], texts)


def segments(text: str, marks: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, highlighted) runs; overlapping marks are merged."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for a, b in sorted(marks):
        a = max(a, pos)
        if b <= a:
            continue
        if a > pos:
            out.append((text[pos:a], False))
        out.append((text[a:b], True))
        pos = b
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def _terms(raw: str) -> list[str]:
    try:
        v = json.loads(raw)
    except ValueError:
        return []
    return [str(t) for t in v] if isinstance(v, list) else []


def _aware(v: Any) -> datetime:
    """A reflected (events) column has no UTCDateTime type: read it the same way."""
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return UTCDateTime().process_result_value(v, None)  # type: ignore[arg-type,return-value]
