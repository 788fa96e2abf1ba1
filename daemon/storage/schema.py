"""The database schema, as SQLAlchemy Core tables.

Core rather than ORM: the hot path inserts a feed's items in one batch and reads back a few
columns, and the ORM's unit of work costs more than the SQL. Alembic migrations under
``migrations/versions`` create exactly these tables;
``tests/test_store.py::test_migrations_from_empty_match_the_schema`` checks that the two agree.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = sa.MetaData()

feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("added_at", UTCDateTime, nullable=False),
    # HTTP cache state
    sa.Column("etag", sa.String(500)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("body_hash", sa.String(64)),
    # schedule
    sa.Column("interval", sa.Float),  # current adaptive interval, seconds
    sa.Column("next_poll_at", UTCDateTime, index=True),
    sa.Column("lease_owner", sa.String(100)),
    sa.Column("lease_until", UTCDateTime),
    # outcome of the last poll
    sa.Column("last_polled_at", UTCDateTime),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("last_ok_at", UTCDateTime),
    sa.Column("last_new_at", UTCDateTime),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("gone", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("title", sa.String(500)),
    sa.Column("health", sa.String(20)),  # ok | new | failing | quiet | gone (daemon.feeds.health)
    sa.Column("health_reason", sa.String(1000)),
    sa.Column("health_since", UTCDateTime),
    # statistics
    sa.Column("item_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("polls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("polls_not_modified", sa.Integer, nullable=False, server_default="0"),
    sa.Column("polls_failed", sa.Integer, nullable=False, server_default="0"),
)

# Stories that report one happening (daemon.grouping.events); a story alone is its own event.
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(1000), nullable=False),  # its first story's
    sa.Column("first_seen_at", UTCDateTime, nullable=False, index=True),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("story_count", sa.Integer, nullable=False, server_default="1"),
    # events.Profile.encode(): the aggregate its next stories are compared with; NULL for
    # events made from stories stored before migration 0010 (never joined)
    sa.Column("profile", sa.Text),
    sa.Column("keys", sa.LargeBinary),  # its rows in event_keys, packed "<q" like items.bands
)

stories = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(1000), nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False, index=True),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("item_count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("event_id", sa.Integer, index=True),  # events.id (no foreign key: see 0010)
)

# The candidate index of events: each story's rarest terms (events.index_keys) with its
# event, looked up by key within events.window, like story_bands.
event_keys = sa.Table(
    "event_keys",
    metadata,
    sa.Column("key", sa.BigInteger, nullable=False),
    sa.Column("published", sa.BigInteger, nullable=False),  # epoch seconds, UTC
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("key", "published", "event_id", name="pk_event_keys"),
    sqlite_with_rowid=False,
)

# Document frequencies of event terms: how many stories used each (events.Rarity).
term_df = sa.Table(
    "term_df",
    metadata,
    sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("n", sa.Integer, nullable=False),
    # the day (UTC, days since the epoch) it was last counted: retention prunes by it
    sa.Column("seen", sa.Integer, nullable=False, server_default=sa.text("0")),
    sqlite_with_rowid=False,
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    sa.Column("identity", sa.String(2100), nullable=False),
    sa.Column("guid", sa.String(2048)),
    sa.Column("url", sa.String(2048)),  # no index: URL identity is a band key (story_bands)
    sa.Column("title", sa.String(1000), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("content", sa.Text, nullable=False, server_default=""),
    sa.Column("title_html", sa.Text, nullable=False, server_default=""),
    sa.Column("summary_html", sa.Text, nullable=False, server_default=""),
    sa.Column("author", sa.String(300), nullable=False, server_default=""),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("published_raw", sa.String(100)),
    sa.Column("has_date", sa.Boolean, nullable=False),
    # the publisher an aggregator's entry names (RSS <source>); "": the feed's own entry
    sa.Column("outlet", sa.String(200), nullable=False, server_default=""),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime),
    sa.Column("content_hash", sa.String(32), nullable=False),
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id"), index=True),
    sa.Column("fulltext", sa.Text),
    sa.Column("features", sa.Text),  # stories.encode_features; NULL: compute from the text
    # the item's rows in story_bands: their band keys, packed "<q" (see Tx.pack_bands)
    sa.Column("bands", sa.LargeBinary),
    # full-text queue: status "pending" (set at ingest for fulltext feeds), then "ok …" or the
    # reason it fell back to the summary; fulltext_after is the earliest next attempt (and
    # doubles as the claim: a claimed row's is pushed past the claim's lease).
    sa.Column("fulltext_status", sa.String(200)),
    sa.Column("fulltext_at", UTCDateTime),
    sa.Column("fulltext_after", UTCDateTime),
    sa.Column("fulltext_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("feed_id", "identity", name="uq_items_feed_identity"),
    sa.Index("ix_items_fulltext_pending", "fulltext_status", "fulltext_after"),
    sa.Index("ix_items_feed_recent", "feed_id", "id"),
    # by first sight, with the feed: the dashboard's items per feed per day (0009)
    sa.Index("ix_items_seen_feed", "first_seen_at", "feed_id"),
)

# LSH band keys of each item's fingerprint, so a near-duplicate lookup is an indexed query
# that works the same on SQLite and PostgreSQL and across processes. The key is the lookup
# (band, then time), and on SQLite the table has no rowid: a row is written once, not three
# times (migration 0007). Rows are found by item through ``items.bands``.
story_bands = sa.Table(
    "story_bands",
    metadata,
    sa.Column("band", sa.BigInteger, nullable=False),
    sa.Column("published", sa.BigInteger, nullable=False),  # epoch seconds, UTC (compact key)
    sa.Column("item_id", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("band", "published", "item_id", name="pk_story_bands"),
    sqlite_with_rowid=False,
)

# Identities of pruned items, so retention never makes an old item new again.
tombstones = sa.Table(
    "tombstones",
    metadata,
    sa.Column(
        "feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("identity", sa.String(2100), primary_key=True),
    sa.Column("pruned_at", UTCDateTime, nullable=False),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id"), nullable=False),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="SET NULL")),
    sa.Column("title", sa.String(1000), nullable=False),
    sa.Column("url", sa.String(2048)),
    sa.Column("outlet", sa.String(200), nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("matched", sa.Text, nullable=False),  # JSON array of terms
    sa.Column("snippet", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    sa.Column("event_id", sa.Integer),  # the story's event (events.id)
    # the event when alerts are per event (alerts.per), NULL per story: one alert per
    # (event, topic), enforced here so that concurrent writers cannot raise two
    sa.Column("event_key", sa.Integer),
    sa.UniqueConstraint("topic", "story_id", name="uq_alerts_topic_story"),
    sa.Index("uq_alerts_event_topic", "event_key", "topic", unique=True),
    sa.Index("ix_alerts_story", "story_id", "topic"),  # a story's alerted topics (0006)
)

# The outbox: written in the alert's transaction, drained by the dispatcher.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("notifier", sa.String(100), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # pending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", UTCDateTime),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.UniqueConstraint("alert_id", "notifier", name="uq_deliveries_alert_notifier"),
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
)


def item_outlet() -> sa.ColumnElement[str]:
    """Who published an item, for people to read: the publisher an aggregator's entry
    names (``items.outlet``), else the name of the feed that carried it. A query using it
    joins ``feeds`` on ``items.feed_id``."""
    return sa.func.coalesce(sa.func.nullif(items.c.outlet, ""), feeds.c.name)
