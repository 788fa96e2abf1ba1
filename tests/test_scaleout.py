"""Several pantau processes on one PostgreSQL database: races on stories, alerts, claims."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from daemon.ingest import Rules, ingest_items
from daemon.match import Matcher, TopicSpec
from daemon.parse import ParsedItem
from daemon.store import FeedSpec, Store

WORDS = (
    "latihan patroli laut udara darat pasukan perbatasan menteri juru bicara kedutaan sanksi "
    "gandum pelabuhan drone rudal konvoi bantuan pengungsi listrik jembatan kereta parlemen "
    "presiden perdana pertemuan kesepakatan gencatan senjata tahanan pertukaran musim dingin"
).split()


def lead(round_no: int) -> str:
    """A different report each round; every outlet's copy of one round shares it."""
    import random

    rng = random.Random(round_no)
    body = " ".join(rng.choice(WORDS) for _ in range(45))
    return f"Ukraina, Rusia dan China: {body}."


def copy(outlet: int, round_no: int) -> ParsedItem:
    now = datetime.now(timezone.utc)
    url = f"https://outlet{outlet}.example/berita/{round_no}"
    return ParsedItem(
        identity=f"guid:{url}", guid=url, url=url,
        title=f"Judul versi outlet {outlet}: latihan militer ronde {round_no}",
        summary=lead(round_no),
        content="", title_html="", summary_html="", author="",
        published_at=now - timedelta(minutes=outlet), published_raw=None, has_date=True,
    )  # fmt: skip


@pytest.fixture
def pg_store(pg_url: str):  # type: ignore[no-untyped-def]
    s = Store.open(pg_url)
    s.upgrade()
    yield s
    s.close()


def test_simultaneous_copies_make_one_story_and_one_alert(pg_store: Store) -> None:
    """Four 'processes' (threads with their own connections and transactions) ingest four
    outlets' copies of one report at the same instant, 15 rounds: always one story and one
    alert per topic."""
    now = datetime.now(timezone.utc)
    urls = [f"https://outlet{k}.example/rss" for k in range(4)]
    ids = pg_store.sync_feeds([FeedSpec(u, f"O{k}", 600) for k, u in enumerate(urls)], now, {})
    rules = Rules(
        Matcher.compile([TopicSpec("Ukraina", "Ukraina"), TopicSpec("Rusia", "Rusia China")]),
        {"Ukraina": ("s",), "Rusia": ("s",)},
        timedelta(hours=72),
        timedelta(hours=48),
    )
    for rnd in range(15):
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def worker(
            k: int, rnd: int = rnd, barrier: threading.Barrier = barrier, errors: list = errors
        ) -> None:
            try:
                with pg_store.tx() as tx:
                    barrier.wait(timeout=10)
                    ingest_items(
                        tx, feed_id=ids[urls[k]], outlet=f"O{k}", parsed=[copy(k, rnd)],
                        rules=rules, now=datetime.now(timezone.utc),
                    )  # fmt: skip
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
    stories = pg_store.stories_since(now - timedelta(hours=1))
    assert len(stories) == 15 and all(len(s["items"]) == 4 for s in stories)
    alerts = pg_store.alerts_since(now - timedelta(hours=1))
    assert len(alerts) == 30
    assert sum(len(a.deliveries) for a in alerts) == 30


def test_feed_claims_are_disjoint_and_expire(pg_store: Store) -> None:
    now = datetime.now(timezone.utc)
    pg_store.sync_feeds(
        [FeedSpec(f"https://f{k}.example/rss", f"F{k}", 600) for k in range(60)], now, {}
    )
    got: list[list[int]] = []
    lock = threading.Lock()

    def claim(owner: str) -> None:
        rows = pg_store.claim_feeds(now + timedelta(seconds=1), owner, 120, limit=25)
        with lock:
            got.append([r.id for r in rows])

    threads = [threading.Thread(target=claim, args=(f"p{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for g in got for i in g]
    assert len(ids) == len(set(ids)) == 60
    assert pg_store.claim_feeds(now + timedelta(seconds=60), "p9", 120, limit=100) == []
    # the claiming process died: after the lease its feeds are taken over
    assert len(pg_store.claim_feeds(now + timedelta(seconds=122), "p9", 120, limit=100)) == 60
