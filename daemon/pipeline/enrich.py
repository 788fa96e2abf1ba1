"""Full text: fetch the article page of queued items, then group and match once more.

Items of feeds with ``fulltext: true`` are queued at ingest (``fulltext_status='pending'``).
This module drains that queue in the background, so polling never waits on article pages.
The queue lives in the items table: a claim pushes ``fulltext_after`` past a lease, so a
crash returns items to the queue by itself, and several processes on PostgreSQL share it
(``SKIP LOCKED``). A page that fails or yields too little text falls back to the summary and
records why; a rate limit (ours per host, or the site's 429) only postpones the item.

When the text arrives, in one transaction: the text is stored; an item that is still alone
in its story (and whose story raised no alert: alerted stories are never split) may join
another story on the strength of its full text; the item's bands gain those of the full
text; and topics are matched again, so a topic named only in the body raises its alert.
An alert raised before the text arrived is not raised again (one per topic and story).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

from daemon.grouping import stories as grouping
from daemon.logs import log_event
from daemon.pipeline.fulltext import ArticleFetcher, FulltextResult, host_is_private
from daemon.pipeline.ingest import BandCandidates, IngestStats, Rules, raise_alerts
from daemon.storage import events as event_store
from daemon.storage.items import PendingText
from daemon.storage.sql import utcnow
from daemon.storage.store import Store
from daemon.text import clean_line

log = logging.getLogger("pantau.fulltext")

CLAIM_LEASE = 300.0
MAX_ATTEMPTS = 3  # crashes or claims lost; a page's own failure ends the item at once


@dataclass
class EnrichStats:
    fetched: int = 0
    failed: int = 0
    deferred: int = 0
    regrouped: int = 0
    alerts: int = 0


class Enricher:
    def __init__(
        self,
        store: Store,
        articles: ArticleFetcher,
        rules: Callable[[], Rules],
        feed_urls: Callable[[], dict[int, str]],
        *,
        workers: int = 4,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.articles = articles
        self.rules = rules
        self.feed_urls = feed_urls
        self.workers = workers
        self.clock = clock
        self._private: dict[str, bool] = {}
        self._lock = threading.Lock()

    def _feed_is_private(self, feed_id: int) -> bool:
        url = self.feed_urls().get(feed_id)
        if url is None:
            return False
        host = urlsplit(url).hostname or ""
        if host not in self._private:
            self._private[host] = host_is_private(url)
        return self._private[host]

    def run(self, *, stop: threading.Event | None = None, max_rounds: int = 1000) -> EnrichStats:
        """Process every queued item that is due now."""
        stats = EnrichStats()
        if not self._lock.acquire(blocking=False):
            return stats
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="fulltext") as pool:
                for _ in range(max_rounds):
                    if stop is not None and stop.is_set():
                        break
                    batch = self.store.claim_fulltext(
                        self.clock(), CLAIM_LEASE, limit=self.workers * 4
                    )
                    if not batch:
                        break
                    for part in pool.map(lambda p: self._one(p, stop), batch):
                        for k, v in part.__dict__.items():
                            setattr(stats, k, getattr(stats, k) + v)
        finally:
            self._lock.release()
        return stats

    def _one(self, p: PendingText, stop: threading.Event | None) -> EnrichStats:
        st = EnrichStats()
        if stop is not None and stop.is_set():
            self.store.defer_fulltext(p.id, self.clock(), uncount=True)
            return st
        if not p.url:
            self.apply(p.id, FulltextResult(None, "no article link"), st)
            return st
        try:
            res = self.articles.fetch_text(p.url, feed_is_private=self._feed_is_private(p.feed_id))
        except Exception as exc:  # a bug in extraction must not stall the queue
            log_event(log, "error", "fulltext.crash", exc_info=True, item=p.id)
            res = FulltextResult(None, f"internal error: {type(exc).__name__}")
            if p.attempts < MAX_ATTEMPTS:
                self.store.defer_fulltext(p.id, self.clock() + timedelta(minutes=5))
                return st
        if res.retry_after is not None and res.text is None:
            st.deferred += 1
            self.store.defer_fulltext(
                p.id, self.clock() + timedelta(seconds=res.retry_after), uncount=True
            )
            return st
        self.apply(p.id, res, st)
        return st

    def apply(self, item_id: int, res: FulltextResult, st: EnrichStats | None = None) -> None:
        """Store the outcome; on success group and match the item once more."""
        st = st or EnrichStats()
        now = self.clock()
        rules = self.rules()
        with self.store.tx() as tx:
            row = tx.item_row(item_id)
            status = clean_line(res.status, 200) or ("ok" if res.ok else "failed")
            tx.update_item(
                item_id,
                {
                    "fulltext": res.text if res.ok else None,
                    "fulltext_status": status,
                    "fulltext_at": now,
                    "fulltext_after": None,
                },
            )
            if not res.ok or not res.text:
                st.failed += 1
                log_event(log, "info", "fulltext.fallback", item=item_id, reason=status)
                return
            st.fetched += 1
            doc = grouping.Doc(
                title=row.title, summary=row.summary, content=res.text, url=row.url,
                published_at=row.published_at,
            )  # fmt: skip
            fp = grouping.fingerprint(doc)
            tx.update_item(item_id, {"features": grouping.encode_features(fp)})
            story_id = row.story_id
            tx.lock_story_keys(fp.bands)
            if (
                story_id is not None
                and tx.story_size(story_id) == 1
                and not tx.alerted_topics(story_id)
            ):
                target = grouping.choose_story(
                    doc, fp, BandCandidates(tx, exclude_item=item_id), rules.window
                )
                if target is not None and target != story_id:
                    old_event = event_store.story_events(tx, [story_id]).get(story_id)
                    tx.move_item(item_id, story_id, target)
                    if old_event is not None:  # the story was its event's only one, often
                        event_store.drop_if_empty(tx, [old_event])
                    story_id = target
                    st.regrouped += 1
            if story_id is not None:
                tx.insert_bands(item_id, row.published_at, fp.bands)
                stats = IngestStats()
                it = SimpleNamespace(
                    title=row.title, summary=row.summary, content=row.content, url=row.url,
                    published_at=row.published_at, outlet="",
                )  # fmt: skip
                raise_alerts(
                    tx, rules, item_id=item_id, story_id=story_id, it=it,  # type: ignore[arg-type]
                    outlet=row.published_by, fulltext=res.text, now=now, stats=stats,
                )  # fmt: skip
                st.alerts += len(stats.alerts)
            log_event(
                log, "info", "fulltext.ok", item=item_id, chars=len(res.text), pages=res.pages,
                ms=round(res.elapsed * 1000), story=story_id,
            )  # fmt: skip
