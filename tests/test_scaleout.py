"""Several pantau processes on one PostgreSQL database: races on stories, alerts, claims."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from daemon.feeds.parse import ParsedItem
from daemon.pipeline.ingest import Rules, ingest_items
from daemon.storage.feeds import FeedSpec
from daemon.storage.store import Store
from daemon.topics.match import Matcher, TopicSpec

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
        published_at=now - timedelta(minutes=outlet), published_raw=None, has_date=True, outlet="",
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
    assert len(stories) == 15 and all(len(s.items) == 4 for s in stories)
    alerts = pg_store.alerts_since(now - timedelta(hours=1))
    assert len(alerts) == 30
    assert sum(len(a.deliveries) for a in alerts) == 30


def test_a_transaction_takes_its_advisory_locks_in_one_ascending_order(pg_store: Store) -> None:
    """Two writers that take buckets in opposite orders deadlock (CI met it: one test ran two
    ingests in one transaction, the second's story locks falling below the first's event
    locks). A lock below the highest held is refused at once, before any wait; asking again
    for a held one, or for higher ones, is not."""
    from daemon.storage.events import EVENT_LOCK_BUCKETS, EVENT_LOCK_CLASS, lock_event_keys
    from daemon.storage.sql import LockOrderError

    with pg_store.tx() as tx:
        tx.lock_story_keys([5, 9])
        tx.lock_story_keys([9, 12])  # 9 is held, 12 is above: fine
        lock_event_keys(tx, [3])  # the event class sorts after the story class
        lock_event_keys(tx, [3])
        with pytest.raises(LockOrderError):
            tx.lock_story_keys([7])  # a story lock after an event lock
        with pytest.raises(LockOrderError):
            lock_event_keys(tx, [EVENT_LOCK_BUCKETS + 1])  # bucket 1 after bucket 3
        held = {
            (int(c), int(o))
            for c, o in tx.conn.exec_driver_sql(
                "SELECT classid, objid FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        }
    from daemon.storage.bands import STORY_LOCK_CLASS

    assert held == {(STORY_LOCK_CLASS, 5), (STORY_LOCK_CLASS, 9), (STORY_LOCK_CLASS, 12),
                    (EVENT_LOCK_CLASS, 3)}  # fmt: skip


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


@pytest.mark.slow
def test_three_processes_share_300_feeds(pg_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Three `pantau run` processes, 300 loopback feeds, two minutes with stories arriving
    (some carried by three outlets, some matching a topic); one process is killed halfway.
    Every feed keeps being polled about once per interval, no alert or delivery is
    duplicated, and the killed process's feeds are taken over within the lease."""
    import random
    import signal
    import statistics
    import subprocess
    import sys
    import time
    from pathlib import Path

    from daemon.demo.loopback import LoopbackServer
    from tests.feedgen import Entry, rss
    from tests.slackstub import SlackStub

    root = Path(__file__).resolve().parent.parent
    n_feeds, duration, interval = 300, 120.0, 15
    rng = random.Random(3)
    with LoopbackServer() as srv:
        slack = SlackStub(srv)
        feeds: dict[int, list[Entry]] = {k: [] for k in range(n_feeds)}
        lock = threading.Lock()

        def publish(k: int) -> None:
            with lock:
                srv.static(f"/f{k}.xml", rss(f"O{k}", list(reversed(feeds[k][-20:]))))

        for k in range(n_feeds):
            publish(k)
        stories_published: list[int] = []

        def new_story(n: int) -> None:
            ukraina = n % 3 == 0
            body = " ".join(rng.choice(WORDS) for _ in range(45))
            summary = ("Ukraina: " if ukraina else "Nasional: ") + body + "."
            outlets = rng.sample(range(n_feeds), 3 if n % 2 == 0 else 1)
            now = datetime.now(timezone.utc)
            for o in outlets:
                url = f"https://o{o}.example/s/{n}"
                feeds[o].append(Entry(url, f"Berita {n} versi {o}", summary, url, now))
                publish(o)
            if ukraina:
                stories_published.append(n)

        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            f"database: '{pg_url}'\n"
            f"polling: {{interval: {interval}s, min_interval: 10s, max_interval: 30s, timeout: 5s, concurrency: 8, per_host: 64}}\n"
            f"delivery: {{tick: 1s}}\n"
            # one alert per story: the stories here are 45 random words of a 35-word
            # vocabulary, which the event layer may rightly group; this test is about the
            # processes' races (events across processes: tests/test_events.py)
            "alerts: {per: story}\n"
            "feeds:\n" + "".join(f"  - {{url: '{srv.url(f'/f{k}.xml')}', name: O{k}}}\n" for k in range(n_feeds))
            + f"topics: [{{name: Ukraina, query: Ukraina, notify: [s]}}]\n"
            f"notifiers: {{s: {{type: slack, webhook_url: '{slack.url}'}}}}\n"
        )  # fmt: skip
        logs = [open(tmp_path / f"p{i}.log", "w") for i in range(3)]  # noqa: SIM115
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "daemon", "--config", str(cfg), "run"],
                cwd=root,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )  # fmt: skip
            for log in logs
        ]
        t0 = time.monotonic()
        killed_at = None
        n = 0
        try:
            while time.monotonic() - t0 < duration:
                new_story(n)
                n += 1
                if killed_at is None and time.monotonic() - t0 > duration / 2:
                    procs[0].send_signal(signal.SIGKILL)
                    procs[0].wait()
                    killed_at = time.monotonic()
                time.sleep(1.0)  # the outlets' publishing rate: one story a second
            # drain: no new stories; wait until every Ukraina story reached Slack
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = {p["text"] for p in slack.payloads}
                if len(got) >= len(stories_published):
                    break
                time.sleep(0.5)
        finally:
            for p in procs[1:]:
                p.send_signal(signal.SIGTERM)
            for p in procs[1:]:
                assert p.wait(timeout=15) == 0
            for f in logs:
                f.close()
        # polls per feed and the gaps between them
        by_feed: dict[str, list[float]] = {}
        for h in srv.hits:
            if h.path.startswith("/f"):
                by_feed.setdefault(h.path, []).append(h.at)
        assert len(by_feed) == n_feeds
        gaps = sorted(b - a for ts in by_feed.values() for a, b in zip(ts, ts[1:]))
        worst = max(
            max(b - a for a, b in zip(ts, ts[1:])) for ts in by_feed.values() if len(ts) > 1
        )
        per_feed = [len(ts) for ts in by_feed.values()]
        print(
            f"\npolls per feed: min {min(per_feed)} median {statistics.median(per_feed)} max {max(per_feed)}; "
            f"gap p50 {gaps[len(gaps) // 2]:.1f}s p95 {gaps[int(len(gaps) * 0.95)]:.1f}s max {worst:.1f}s"
        )
        assert min(per_feed) >= duration / 30 - 1  # every feed polled about once per interval
        # no feed waited longer than max_interval + the dead process's lease + slack
        assert worst < 30 * 1.1 + 30 + 15
        texts = [p["text"] for p in slack.payloads]
        store = Store.open(pg_url)
        try:
            alerts = store.alerts_since(datetime.now(timezone.utc) - timedelta(hours=1))
        finally:
            store.close()
        alerted_stories = [a.story_id for a in alerts]
        assert len(alerted_stories) == len(set(alerted_stories))
        assert len(alerts) == len(stories_published), (len(alerts), len(stories_published))
        dupes = len(texts) - len(set(texts))
        print(
            f"stories {n}, Ukraina stories {len(stories_published)}, alerts {len(alerts)}, slack messages {len(texts)}, duplicates {dupes}"
        )
        assert dupes <= 1  # at most the delivery in flight when the process was killed
        assert len(set(texts)) == len(stories_published)


def test_processes_starting_together_sync_feeds_once(pg_store: Store) -> None:
    """Regression (found by the three-process test): two processes starting at once both
    inserted the config's feeds and one died on the unique constraint."""
    from daemon.storage.feeds import FeedSpec

    now = datetime.now(timezone.utc)
    specs = [FeedSpec(f"https://s{k}.example/rss", f"S{k}", 600) for k in range(200)]
    other = Store(pg_store.engine)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait(timeout=10)
            other.sync_feeds(specs, now, {})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(pg_store.feed_rows()) == 200


def test_migrations_run_once_when_processes_start_together(pg_url: str) -> None:
    """Four processes' worth of engines upgrade an empty schema at the same moment: the
    advisory lock makes one of them migrate and the others find the schema current."""
    from daemon.storage import db

    engines = [db.create_engine(pg_url) for _ in range(4)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def start(e) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            db.upgrade(e)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    # daemon threads and a join deadline: without the lock, concurrent DDL can deadlock,
    # and the test must then fail rather than hang
    threads = [threading.Thread(target=start, args=(e,), daemon=True) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not any(t.is_alive() for t in threads), "migrations did not finish in 60 s"
        assert errors == []
        assert db.current_revision(engines[0]) == db.HEAD
    finally:
        for e in engines:
            e.dispose()
