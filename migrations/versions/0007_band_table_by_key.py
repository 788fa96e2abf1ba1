"""story_bands keyed by (band, published, item_id), without a rowid; items keep their keys

The band index takes 17 rows per item, the most inserts of the whole schema. Each row was
written three times: into the table (by rowid), into the (band, published) index, and into
the item_id index that served retention's deletes and ON DELETE CASCADE. As a table whose
primary key is the lookup key (SQLite: WITHOUT ROWID) a row is written once, and a lookup
reads item ids straight from the key instead of following rowids into the table. The
item_id index goes; an item's own keys are kept with the item (``items.bands``, packed
signed 64-bit little-endian), which is all retention and full-text regrouping need to find
its rows. ``story_id`` goes too: nothing read it.

At 1,000 feeds' first cycle: bench/README.md, issue 9 (fourth round).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BATCH = 5000


def _pack(keys: list[int]) -> bytes:
    return struct.pack(f"<{len(keys)}q", *keys)


def _by_item(conn: sa.Connection, lo: int, hi: int) -> Iterator[tuple[int, list[int]]]:
    """Items in [lo, hi) with their distinct keys (through the old table's item index)."""
    rows = conn.execute(
        sa.text(
            "SELECT item_id, band FROM story_bands WHERE item_id >= :lo AND item_id < :hi "
            "ORDER BY item_id, band"
        ),
        {"lo": lo, "hi": hi},
    ).fetchall()
    item, keys = None, []
    for item_id, band in rows:
        if item_id != item and item is not None:
            yield item, keys
            keys = []
        item = item_id
        if not keys or keys[-1] != band:
            keys.append(band)
    if item is not None:
        yield item, keys


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("items", sa.Column("bands", sa.LargeBinary(), nullable=True))
    op.create_table(
        "story_bands_new",
        sa.Column("band", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("band", "published", "item_id", name="pk_story_bands"),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO story_bands_new (band, published, item_id) "
        "SELECT DISTINCT band, published, item_id FROM story_bands"
    )
    top = conn.execute(sa.text("SELECT max(id) FROM items")).scalar() or 0
    update = sa.text("UPDATE items SET bands = :b WHERE id = :i")
    for lo in range(0, top + 1, _BATCH):
        packed = [{"i": i, "b": _pack(keys)} for i, keys in _by_item(conn, lo, lo + _BATCH)]
        if packed:
            conn.execute(update, packed)
    op.drop_table("story_bands")
    op.rename_table("story_bands_new", "story_bands")


def downgrade() -> None:
    conn = op.get_bind()
    # first: on SQLite this rebuilds items, and dropping the old items table would cascade
    # into a story_bands table that references it
    with op.batch_alter_table("items") as batch:
        batch.drop_column("bands")
    op.create_table(
        "story_bands_old",
        sa.Column("band", sa.BigInteger(), nullable=False),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
    )
    conn.execute(
        sa.text(
            "INSERT INTO story_bands_old (band, item_id, story_id, published) "
            "SELECT b.band, b.item_id, i.story_id, b.published "
            "FROM story_bands b JOIN items i ON i.id = b.item_id WHERE i.story_id IS NOT NULL"
        )
    )
    op.drop_table("story_bands")
    op.rename_table("story_bands_old", "story_bands")
    op.create_index("ix_story_bands_band", "story_bands", ["band", "published"])
    op.create_index("ix_story_bands_item", "story_bands", ["item_id"])
