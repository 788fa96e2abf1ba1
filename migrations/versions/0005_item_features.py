"""items.features: each item's story-grouping features, stored with it; an index on a
feed's newest items; no index on items.url

An earlier item met as a candidate by a new one was re-read and its text cleaned and
shingled again, in the process that holds the write lock: at 1,000 feeds that was a fifth
of the first cycle's main-process time (bench/README.md, issue 9). NULL (items stored
before this revision) means "compute them from the text", as before.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("features", sa.Text(), nullable=True))
    # a feed's newest items, newest first (Tx.recent_hashes), without sorting the feed's rows
    op.create_index("ix_items_feed_recent", "items", ["feed_id", "id"])
    # nothing looks items up by URL (a link's identity is a band key in story_bands), and an
    # index of ~80-byte random strings costs a B-tree insert per item
    op.drop_index("ix_items_url", table_name="items")


def downgrade() -> None:
    op.create_index("ix_items_url", "items", ["url"])
    op.drop_index("ix_items_feed_recent", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("features")
