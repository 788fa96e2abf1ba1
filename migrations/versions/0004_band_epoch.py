"""story_bands: publication time as integer epoch seconds

The band index takes the most inserts of the whole schema (17 rows per item). With the time
as SQLite's 26-character text, an index entry is twice the size, and inserting a first
cycle's band rows cost 1.7x as much SQLite time (bench/README.md, issue 9).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_story_bands_band", table_name="story_bands")
    with op.batch_alter_table("story_bands") as batch:
        batch.add_column(sa.Column("published", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE story_bands SET published = "
            "CAST(FLOOR(EXTRACT(EPOCH FROM published_at)) AS BIGINT)"
        )
    else:
        op.execute(
            "UPDATE story_bands SET published = CAST(strftime('%s', published_at) AS INTEGER)"
        )
    with op.batch_alter_table("story_bands") as batch:
        batch.alter_column("published", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_column("published_at")
    op.create_index("ix_story_bands_band", "story_bands", ["band", "published"])


def downgrade() -> None:
    op.drop_index("ix_story_bands_band", table_name="story_bands")
    with op.batch_alter_table("story_bands") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE story_bands SET published_at = to_timestamp(published)")
    else:
        op.execute(
            "UPDATE story_bands SET published_at = "
            "strftime('%Y-%m-%d %H:%M:%S.000000', published, 'unixepoch')"
        )
    with op.batch_alter_table("story_bands") as batch:
        batch.alter_column("published_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_column("published")
    op.create_index("ix_story_bands_band", "story_bands", ["band", "published_at"])
