"""Poll one feed: fetch → parse → ingest, then record the outcome and the next poll time.

The decisions (what the next interval is, how long an error backs off) live in
``schedule``; this module only sequences the I/O. ``poll_feed`` never raises for a feed's
own problems: every failure ends as an error recorded on that feed, so one bad feed cannot
stop the others or the daemon.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from daemon.feeds import schedule
from daemon.feeds.fetch import CacheState, Fetcher, FetchResult
from daemon.logs import redact
from daemon.pipeline.rules import IngestStats, Rules
from daemon.storage.feeds import FeedRow
from daemon.storage.sql import utcnow
from daemon.storage.store import Store, Tx
from daemon.text import clean_line

if TYPE_CHECKING:
    from daemon.pipeline.prepare import PreparedFeed

log = logging.getLogger("pantau.poll")

OK_RESULTS = frozenset({"ok", "not_modified", "unchanged"})

# parse_and_prepare's signature; ParsePool.parse in the daemon
Parser = Callable[..., "PreparedFeed"]


@dataclass(frozen=True)
class FeedPolicy:
    """Per-feed settings from the config."""

    url: str
    name: str
    interval: float
    timezone: str = "Asia/Jakarta"
    fulltext: bool = False


@dataclass
class PollOutcome:
    feed_id: int
    name: str
    result: str  # ok | not_modified | unchanged | error | gone
    status: int | None = None
    error: str | None = None
    warning: str | None = None
    # every dated item of the document had a date pantau cannot read (see parse.ParsedFeed)
    dates_unreadable: bool = False
    stats: IngestStats = field(default_factory=IngestStats)
    elapsed: float = 0.0
    fetch_seconds: float = 0.0
    next_poll_at: datetime | None = None
    new_item_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The feed answered with a feed (new items or not)."""
        return self.result in OK_RESULTS


def _limits(
    policy: FeedPolicy, min_interval: float, max_interval: float, max_backoff: float
) -> schedule.Limits:
    return schedule.Limits(policy.interval, min_interval, max_interval, max_backoff)


def poll_feed(
    store: Store,
    fetcher: Fetcher,
    feed: FeedRow,
    policy: FeedPolicy,
    rules: Rules,
    *,
    min_interval: float,
    max_interval: float,
    max_backoff: float = 86400.0,
    now: datetime | None = None,
    parser: Parser | None = None,
    unchanged_sink: Callable[[int, dict[str, Any]], None] | None = None,
) -> PollOutcome:
    """``unchanged_sink``: where the bookkeeping of an unchanged poll goes instead of its own
    transaction (``run --once`` writes a whole cycle's in one; see ``service.poll_all``).
    ``parser``: ``parse_and_prepare`` (in this thread) unless given.

    The pipeline (parse, prepare, ingest) is imported where a document must be read: a poll
    answered 304 has no use for it (tests/test_run_once_startup.py)."""
    started = time.monotonic()
    limits = _limits(policy, min_interval, max_interval, max_backoff)
    out = PollOutcome(feed.id, policy.name, "error")
    res: FetchResult = fetcher.fetch(feed.url, CacheState(feed.etag, feed.last_modified))
    out.fetch_seconds = res.elapsed
    out.status = res.status
    now = now or utcnow()

    if res.gone:
        out.result, out.error = "gone", "HTTP 410 Gone: the feed was removed; polling stopped"
        record_failure(store, feed, out, now, limits)
    elif res.error is not None:
        out.error = clean_line(res.error, 900)
        record_failure(store, feed, out, now, limits, res.retry_after)
    elif res.not_modified or (res.body_hash is not None and res.body_hash == feed.body_hash):
        out.result = "not_modified" if res.not_modified else "unchanged"
        interval = schedule.unchanged_interval(feed.interval, limits)
        out.next_poll_at = schedule.next_poll_at(now, interval)
        values, _ = bookkeeping(
            feed, out, now, interval=interval, etag=res.etag or feed.etag,
            last_modified=res.last_modified or feed.last_modified,
        )  # fmt: skip
        if unchanged_sink is not None:
            unchanged_sink(feed.id, values)  # written with the others of the cycle
        else:
            with store.tx(group=True) as tx:
                record_poll(tx, feed, out, now, values)
    else:
        from daemon.pipeline import ingest
        from daemon.pipeline.prepare import parse_and_prepare

        known: frozenset[str] = frozenset()
        if feed.last_ok_at is not None:  # a feed never read has no items to recognise
            with store.read() as rtx:
                known = rtx.recent_hashes(feed.id)
        prepared = (parser or parse_and_prepare)(
            res.body or b"",
            url=res.final_url,
            headers=res.headers,
            timezone=policy.timezone,
            now=now,
            matcher=rules.matcher,
            max_age=rules.max_age,
            known=known,
        )
        parsed = prepared.feed
        if parsed.error is not None:
            out.error = clean_line(parsed.error, 900)
            record_failure(store, feed, out, now, limits)
        else:
            out.warning = parsed.warning
            out.dates_unreadable = parsed.dated > 0 and parsed.dates_unreadable == parsed.dated
            with store.read() as rtx:
                existing, dead = ingest.read_state(
                    rtx, feed.id, parsed.items, read_before=feed.last_ok_at is not None
                )
            # the items were prepared (fingerprints, topic matches) before the write lock
            pl = ingest.plan(
                existing, dead, feed_id=feed.id, prepared=prepared.items, rules=rules, now=now,
                fulltext=policy.fulltext, backlog=feed.last_ok_at is None,
            )  # fmt: skip
            with store.tx(group=True) as tx:
                stats = ingest.apply(tx, pl, outlet=policy.name, rules=rules, now=now)
                interval = schedule.adapt_interval(
                    feed.interval,
                    limits,
                    total=stats.total,
                    known=stats.known,
                    new=stats.new,
                    first_poll=feed.last_ok_at is None,
                )
                out.next_poll_at = schedule.next_poll_at(now, interval)
                out.result, out.stats = "ok", stats
                values, _ = bookkeeping(
                    feed, out, now, interval=interval, etag=res.etag,
                    last_modified=res.last_modified, body_hash=res.body_hash,
                    title=(parsed.title or None) and parsed.title[:500],
                )  # fmt: skip
                record_poll(tx, feed, out, now, values)
    out.elapsed = time.monotonic() - started
    return out


def bookkeeping(
    feed: FeedRow, out: PollOutcome, now: datetime, **columns: Any
) -> tuple[dict[str, Any], tuple[int, int, int, int]]:
    """What a poll leaves on its feed's row, whatever its outcome: the columns to set (with
    ``columns``, the outcome's own: validators, interval, title) and the counters to add
    (polls, not modified, failed, items added). Every outcome also drops the poll's lease
    (see ``Store.claim_feeds``)."""
    ok = out.ok
    values: dict[str, Any] = {
        "last_polled_at": now,
        "last_status": out.status,
        "next_poll_at": out.next_poll_at,
        "lease_owner": None,
        "lease_until": None,
    }
    if ok:
        values.update(last_error=None, last_ok_at=now, error_count=0)
    else:
        values.update(
            # a ${...} value in the URL, or a token a server echoed, is never stored
            last_error=redact(out.error) if out.error else out.error,
            error_count=feed.error_count + 1,
            gone=out.result == "gone",
        )
    if out.stats.new:
        values["last_new_at"] = now
    values.update(columns)
    unchanged = out.result in ("not_modified", "unchanged")
    return values, (1, int(unchanged), int(not ok), out.stats.new)


def record_poll(
    tx: Tx, feed: FeedRow, out: PollOutcome, now: datetime, values: dict[str, Any] | None = None
) -> None:
    """Write a poll's bookkeeping (``values``: from ``bookkeeping``, when the caller needed
    them first)."""
    computed, stats = bookkeeping(feed, out, now)
    tx.update_feeds([(feed.id, values if values is not None else computed)], [stats])


def record_failure(
    store: Store,
    feed: FeedRow,
    out: PollOutcome,
    now: datetime,
    limits: schedule.Limits,
    retry_after: float | None = None,
    *,
    group: bool = True,
) -> None:
    """A failed poll (an error, a 410, a crash): the next attempt backs off
    (``schedule.error_delay``), except after a 410, which stops polling."""
    if out.result == "gone":
        out.next_poll_at = None
    else:
        delay = schedule.error_delay(feed.error_count + 1, limits, retry_after)
        out.next_poll_at = now + timedelta(seconds=delay)
    with store.tx(group=group) as tx:
        record_poll(tx, feed, out, now)
