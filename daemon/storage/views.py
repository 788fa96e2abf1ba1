"""Read models: stories with their copies, events with their stories and outlets, alerts
with their sources and delivery state.
Rows only; their JSON and text forms are in ``daemon.views``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from daemon.outlets import distinct_outlets
from daemon.storage import db
from daemon.storage.schema import alerts, deliveries, events, feeds, item_outlet, items, stories
from daemon.storage.sql import chunks


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
    deliveries: list[DeliveryView] = field(default_factory=list)
    event_id: int | None = None


@dataclass
class DeliveryView:
    notifier: str
    status: str  # pending | sent | failed
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    next_attempt_at: datetime | None  # only while pending


@dataclass
class StoryItemView:
    feed: str
    title: str
    url: str | None
    guid: str | None
    published_at: datetime
    outlet: str  # who published it: the feed's name, or the publisher an aggregator names


@dataclass
class StoryView:
    id: int
    title: str
    first_seen_at: datetime
    items: list[StoryItemView] = field(default_factory=list)
    published_at: datetime | None = None  # its first copy's publication
    event_id: int | None = None


@dataclass
class EventView:
    id: int
    title: str
    first_seen_at: datetime
    published_at: datetime
    stories: list[int] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)  # in the order they published


class ViewsStore:
    """Reading for the CLI and the dispatcher (mixed into ``Store``)."""

    engine: Any

    def stories_since(self, since: datetime, limit: int = 10_000) -> list[StoryView]:
        with db.read_tx(self.engine) as conn:
            srows = list(
                conn.execute(
                    sa.select(stories)
                    .where(stories.c.first_seen_at >= since)
                    # newest news first: a first cycle sees every story at once, and the
                    # time it was seen would order last year's story beside today's
                    .order_by(stories.c.published_at.desc(), stories.c.id.desc())
                    .limit(limit)
                )
            )
            by_story: dict[int, list[StoryItemView]] = {r.id: [] for r in srows}
            for chunk in chunks(list(by_story), 500):
                q = (
                    sa.select(
                        items.c.story_id,
                        items.c.title,
                        items.c.url,
                        items.c.guid,
                        items.c.published_at,
                        items.c.first_seen_at,
                        feeds.c.name.label("feed"),
                        item_outlet().label("outlet"),
                    )
                    .join(feeds, feeds.c.id == items.c.feed_id)
                    .where(items.c.story_id.in_(chunk))
                    .order_by(items.c.first_seen_at, items.c.id)
                )
                for r in conn.execute(q):
                    by_story[r.story_id].append(
                        StoryItemView(r.feed, r.title, r.url, r.guid, r.published_at, r.outlet)
                    )
        return [
            StoryView(r.id, r.title, r.first_seen_at, by_story[r.id], r.published_at, r.event_id)
            for r in srows
        ]

    def undated_feeds(self) -> dict[int, str]:
        """Feeds whose newest item carries a date pantau did not use (unreadable or in the
        future): feed id -> that date as written. The reader decides which it was."""
        newest = sa.select(sa.func.max(items.c.id)).group_by(items.c.feed_id)
        q = sa.select(items.c.feed_id, items.c.published_raw).where(
            items.c.id.in_(newest),
            items.c.published_raw.is_not(None),
            items.c.has_date.is_(False),
        )
        with db.read_tx(self.engine) as conn:
            return {r.feed_id: r.published_raw for r in conn.execute(q)}

    def events_since(self, since: datetime, limit: int = 10_000) -> list[EventView]:
        """Events first seen since ``since``, newest first, each with its stories and the
        outlets that covered it (events left without stories are not shown)."""
        with db.read_tx(self.engine) as conn:
            rows = list(
                conn.execute(
                    sa.select(
                        events.c.id, events.c.title, events.c.first_seen_at, events.c.published_at
                    )
                    .where(events.c.first_seen_at >= since)
                    # newest news first, as ``stories_since`` orders stories
                    .order_by(events.c.published_at.desc(), events.c.id.desc())
                    .limit(limit)
                )
            )
            out = {r.id: EventView(r.id, r.title, r.first_seen_at, r.published_at) for r in rows}
            outlets: dict[int, dict[str, None]] = {e: {} for e in out}
            for chunk in chunks(list(out), 500):
                for r in conn.execute(
                    sa.select(stories.c.id, stories.c.event_id)
                    .where(stories.c.event_id.in_(chunk))
                    .order_by(stories.c.first_seen_at, stories.c.id)
                ):
                    out[r.event_id].stories.append(r.id)
                for r in conn.execute(
                    sa.select(stories.c.event_id, item_outlet().label("name"))
                    .join(items, items.c.story_id == stories.c.id)
                    .join(feeds, feeds.c.id == items.c.feed_id)
                    .where(stories.c.event_id.in_(chunk))
                    .order_by(items.c.published_at, items.c.id)
                ):
                    outlets[r.event_id][r.name] = None
        for e, names in outlets.items():
            out[e].outlets = distinct_outlets(names)  # "Detik" and Google's "detikNews" once
        return [out[r.id] for r in rows if out[r.id].stories]

    def story_sources(
        self, conn: Connection, story_ids: Sequence[int]
    ) -> dict[int, list[SourceView]]:
        out: dict[int, list[SourceView]] = {s: [] for s in story_ids}
        for chunk in chunks(list(story_ids), 500):
            q = (
                sa.select(items.c.story_id, items.c.title, items.c.url, item_outlet().label("name"))
                .join(feeds, feeds.c.id == items.c.feed_id)
                .where(items.c.story_id.in_(chunk))
                .order_by(items.c.first_seen_at, items.c.id)
            )
            for r in conn.execute(q):
                out[r.story_id].append(SourceView(r.name, r.url, r.title))
        return out

    def event_sources(
        self, conn: Connection, event_ids: Sequence[int]
    ) -> dict[int, list[SourceView]]:
        """Every item of every story of each event, in the order pantau saw them."""
        out: dict[int, list[SourceView]] = {e: [] for e in event_ids}
        for chunk in chunks(list(event_ids), 500):
            q = (
                sa.select(
                    stories.c.event_id, items.c.title, items.c.url, item_outlet().label("name")
                )
                .join(items, items.c.story_id == stories.c.id)
                .join(feeds, feeds.c.id == items.c.feed_id)
                .where(stories.c.event_id.in_(chunk))
                .order_by(items.c.first_seen_at, items.c.id)
            )
            for r in conn.execute(q):
                out[r.event_id].append(SourceView(r.name, r.url, r.title))
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
            # an alert per event lists every item of the event, one per story its story's
            sources = self.story_sources(
                conn, list({r.story_id for r in rows if r.event_key is None})
            )
            by_event = self.event_sources(
                conn, list({r.event_key for r in rows if r.event_key is not None})
            )
            dels: dict[int, list[DeliveryView]] = {r.id: [] for r in rows}
            for chunk in chunks(list(dels), 500):
                for d in conn.execute(
                    sa.select(deliveries)
                    .where(deliveries.c.alert_id.in_(chunk))
                    .order_by(deliveries.c.id)
                ):
                    dels[d.alert_id].append(
                        DeliveryView(
                            d.notifier,
                            d.status,
                            d.attempts,
                            d.last_error,
                            d.sent_at,
                            d.next_attempt_at if d.status == "pending" else None,
                        )  # fmt: skip
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
                sources=(
                    by_event.get(r.event_key, [])
                    if r.event_key is not None
                    else sources.get(r.story_id, [])
                ),
                deliveries=dels[r.id],
                event_id=r.event_id,
            )
            for r in rows
        ]

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
