"""term_df.seen: the day each event term was last counted, so retention can prune it

term_df held a row for every distinct term ever counted (every name, every price), with
nothing to tell the stale ones: it grew without end. Each row now records the day (UTC,
days since the epoch) of its last count, and retention deletes the rows last counted
before its cutoff, as it deletes the stories they were counted from. Existing rows count
as seen on the day of the upgrade, so none is pruned before a full retention period.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "term_df", sa.Column("seen", sa.Integer, nullable=False, server_default=sa.text("0"))
    )
    op.get_bind().execute(
        sa.text("UPDATE term_df SET seen = :day"), {"day": int(time.time() // 86400)}
    )


def downgrade() -> None:
    op.execute("ALTER TABLE term_df DROP COLUMN seen")  # SQLite 3.35+, PostgreSQL
