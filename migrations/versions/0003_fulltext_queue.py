"""full-text queue state on items: when the text was fetched and who holds the claim

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("fulltext_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("fulltext_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("fulltext_attempts", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_index("ix_items_fulltext_pending", "items", ["fulltext_status", "fulltext_after"])


def downgrade() -> None:
    op.drop_index("ix_items_fulltext_pending", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("fulltext_attempts")
        batch.drop_column("fulltext_after")
        batch.drop_column("fulltext_at")
