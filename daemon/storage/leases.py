"""Leases on feeds: several processes on one PostgreSQL database split the polling without
a coordinator; a process that dies leaves its leases to expire (docs/design.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from daemon.storage.feeds import FeedRow
from daemon.storage.schema import deliveries, feeds
from daemon.storage.sql import claim


class LeasesStore:
    """Claims and their release (mixed into ``Store``)."""

    def claim_feeds(
        self, now: datetime, owner: str, lease: float, *, limit: int, exclude: Iterable[int] = ()
    ) -> list[FeedRow]:
        """Claim due feeds for polling: a lease in the row, so that several processes on one
        PostgreSQL database split the work without a coordinator (``FOR UPDATE SKIP LOCKED``
        lets each claim a disjoint set at once). A process that dies leaves its leases to
        expire; its feeds are then claimed by the others. The lease is dropped when the poll
        records its outcome (``release_feed``)."""
        if limit <= 0:
            return []
        q = (
            sa.select(feeds.c.id)
            .where(
                feeds.c.active.is_(True),
                feeds.c.gone.is_(False),
                feeds.c.next_poll_at <= now,
                sa.or_(feeds.c.lease_until.is_(None), feeds.c.lease_until < now),
            )
            .order_by(feeds.c.next_poll_at, feeds.c.id)
            .limit(limit)
        )
        ex = list(exclude)
        if ex:
            q = q.where(feeds.c.id.not_in(ex))
        with self.tx() as tx:
            ids = claim(tx, q, feeds, lease_owner=owner, lease_until=now + timedelta(seconds=lease))
            if not ids:
                return []
            rows = tx.conn.execute(
                sa.select(feeds).where(feeds.c.id.in_(ids)).order_by(feeds.c.next_poll_at)
            )
            return [FeedRow.from_row(r) for r in rows]

    def release_all_claims(self) -> tuple[int, int]:
        """Drop every feed lease and delivery claim. Only for a process that knows it is the
        only one (SQLite, under the lock file): after a crash its old claims would otherwise
        hold feeds and deliveries until the leases expire."""
        with self.tx() as tx:
            f = tx.conn.execute(
                sa.update(feeds)
                .where(feeds.c.lease_owner.is_not(None))
                .values(lease_owner=None, lease_until=None)
            ).rowcount
            d = tx.conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.claimed_by.is_not(None))
                .values(claimed_by=None, claimed_until=None)
            ).rowcount
        return f or 0, d or 0

    def release_feed(self, feed_id: int, owner: str) -> None:
        """Drop a lease that a poll did not get to clear itself (a crash inside the poll)."""
        with self.tx() as tx:
            tx.conn.execute(
                sa.update(feeds)
                .where(feeds.c.id == feed_id, feeds.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )
