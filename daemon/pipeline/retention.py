"""Retention: prune old items and stories in small batches, leaving tombstones.

Batches of a few hundred rows, each in its own short transaction, so polling (which needs
the write lock on SQLite) waits milliseconds, not the length of the whole prune. Items of a
story that raised an alert are kept (they are the alert's sources) and alerts are never
pruned. Each pruned item leaves a tombstone of its (feed, identity), so a feed that still
carries it does not make it new again. SQLite reuses the pages freed by deletes, so with
retention on the file stops growing once the prune rate matches the ingest rate; the WAL is
checkpointed after a prune so it does not grow either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from daemon.storage import events as event_store
from daemon.storage.schema import alerts, items, stories, tombstones
from daemon.storage.store import Store

BATCH = 500
TOMBSTONE_KEEP = timedelta(days=365)


@dataclass
class PruneStats:
    items: int = 0
    stories: int = 0
    tombstones_expired: int = 0
    terms: int = 0  # event term counts last counted before the cutoff (term_df)


def prune(
    store: Store,
    now: datetime,
    keep: timedelta,
    *,
    batch: int = BATCH,
    max_batches: int = 1000,
    terms: bool = True,
) -> PruneStats:
    """``terms``: also prune the event term counts (a scan of ``term_df``, which changes
    only when the cutoff's day does: the daemon asks once a day)."""
    stats = PruneStats()
    cutoff = now - keep
    alerted = sa.select(alerts.c.story_id)
    for _ in range(max_batches):
        with store.tx() as tx:
            rows = list(
                tx.conn.execute(
                    sa.select(items.c.id, items.c.feed_id, items.c.identity, items.c.story_id)
                    .where(
                        items.c.first_seen_at < cutoff,
                        sa.or_(items.c.story_id.is_(None), items.c.story_id.not_in(alerted)),
                    )
                    .limit(batch)
                )
            )
            if not rows:
                break
            ids = [r.id for r in rows]
            existing = {
                (r.feed_id, r.identity)
                for r in tx.conn.execute(
                    sa.select(tombstones.c.feed_id, tombstones.c.identity).where(
                        sa.tuple_(tombstones.c.feed_id, tombstones.c.identity).in_(
                            [(r.feed_id, r.identity) for r in rows]
                        )
                    )
                )
            }
            fresh = [
                {"feed_id": r.feed_id, "identity": r.identity, "pruned_at": now}
                for r in rows
                if (r.feed_id, r.identity) not in existing
            ]
            if fresh:
                tx.conn.execute(sa.insert(tombstones), fresh)

            tx.delete_bands(ids)
            tx.conn.execute(sa.delete(items).where(items.c.id.in_(ids)))
            story_ids = {r.story_id for r in rows if r.story_id is not None}
            if story_ids:
                still = {
                    r[0]
                    for r in tx.conn.execute(
                        sa.select(items.c.story_id)
                        .where(items.c.story_id.in_(story_ids))
                        .distinct()
                    )
                }
                empty = list(story_ids - still)
                if empty:
                    orphans = event_store.story_events(tx, empty).values()
                    tx.conn.execute(sa.delete(stories).where(stories.c.id.in_(empty)))
                    stats.stories += len(empty)
                    # events left without stories go too, with their index rows
                    event_store.drop_if_empty(tx, [e for e in orphans if e is not None])
                for sid in story_ids & still:
                    n = tx.conn.execute(
                        sa.select(sa.func.count()).select_from(items).where(items.c.story_id == sid)
                    ).scalar_one()
                    tx.conn.execute(
                        sa.update(stories).where(stories.c.id == sid).values(item_count=n)
                    )
            stats.items += len(ids)
    with store.tx() as tx:
        res = tx.conn.execute(
            sa.delete(tombstones).where(tombstones.c.pruned_at < now - TOMBSTONE_KEEP)
        )
        stats.tombstones_expired = res.rowcount or 0
    # event terms not counted since the cutoff: only pruned stories used them (their counts
    # would otherwise stay forever, one row per name and price ever seen)
    before, after = event_store.today(cutoff.timestamp()), None
    while terms:
        with store.tx() as tx:
            gone, after = event_store.prune_terms(tx, before, after)
        stats.terms += gone
        if after is None:
            break
    if store.engine.dialect.name == "sqlite" and stats.items:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return stats
