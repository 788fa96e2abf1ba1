"""feed health state, so a feed turning bad or recovering is announced once

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("health", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("health_reason", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("health_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("health_since")
        batch.drop_column("health_reason")
        batch.drop_column("health")
