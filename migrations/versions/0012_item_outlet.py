"""items.outlet: the publisher an aggregator's entry names

A Google News feed carries many publishers' headlines, each naming its publisher in RSS's
``<source>`` element. Shown under the feed's name ("Google Berita: KPK"), such an entry's
event would list the aggregator instead of the outlets that wrote the report, and its alert
would name no outlet at all. Existing rows are entries of the feeds' own: "".

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("outlet", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    op.execute("ALTER TABLE items DROP COLUMN outlet")  # SQLite 3.35+, PostgreSQL
