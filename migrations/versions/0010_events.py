"""events: stories that report one happening; alerts per (topic, event)

Adds the events table (with each event's aggregate profile and its candidate-index keys),
stories.event_id, the candidate index event_keys, the term frequencies term_df, and on
alerts the story's event (event_id) plus event_key, the event when alerts are per event,
unique with the topic so that no two writers raise an event's alert twice.

Every existing story becomes its own event, under the story's own id, and its alerts point
at it. Their events get no profile (it would have to be recomputed from stored text), so
stories arriving after the upgrade never join them: they start events of their own. Old
alerts keep event_key NULL: they were raised per story.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from daemon.storage.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(1000), nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("published_at", UTCDateTime, nullable=False),
        sa.Column("story_count", sa.Integer, nullable=False, server_default="1"),
        sa.Column("profile", sa.Text),
        sa.Column("keys", sa.LargeBinary),
    )
    op.create_index("ix_events_first_seen_at", "events", ["first_seen_at"])
    op.create_table(
        "event_keys",
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("published", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", "published", "event_id", name="pk_event_keys"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "term_df",
        sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("n", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "INSERT INTO events (id, title, first_seen_at, published_at, story_count) "
            "SELECT id, title, first_seen_at, published_at, 1 FROM stories"
        )
    )
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('events', 'id'), "
                "coalesce((SELECT max(id) FROM events), 0) + 1, false)"
            )
        )
    # a unique index rather than a constraint: SQLite can add it without copying the table,
    # and ON CONFLICT uses it on both databases
    # no foreign keys to events: SQLite could then drop neither column nor table without
    # copying the tables that reference stories and alerts (events only go when nothing
    # points at them, see daemon.storage.events.drop_if_empty)
    op.add_column("stories", sa.Column("event_id", sa.Integer))
    op.create_index("ix_stories_event_id", "stories", ["event_id"])
    conn.execute(sa.text("UPDATE stories SET event_id = id"))
    op.add_column("alerts", sa.Column("event_id", sa.Integer))
    op.add_column("alerts", sa.Column("event_key", sa.Integer))
    op.create_index("uq_alerts_event_topic", "alerts", ["event_key", "topic"], unique=True)
    conn.execute(sa.text("UPDATE alerts SET event_id = story_id"))


def downgrade() -> None:
    op.drop_index("uq_alerts_event_topic", table_name="alerts")
    op.drop_index("ix_stories_event_id", table_name="stories")
    for table, column in (("alerts", "event_key"), ("alerts", "event_id"), ("stories", "event_id")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite 3.35+, PostgreSQL
    op.drop_table("term_df")
    op.drop_table("event_keys")
    op.drop_index("ix_events_first_seen_at", table_name="events")
    op.drop_table("events")
