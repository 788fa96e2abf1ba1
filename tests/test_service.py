"""`pantau run` as systemd runs it: sd_notify, signals, reload, metrics; plus retention and health."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from daemon.demo.loopback import LoopbackServer
from daemon.feeds import health
from daemon.pipeline.retention import prune
from daemon.storage.feeds import FeedSpec
from daemon.storage.store import Store
from tests.feedgen import entries, rss
from tests.test_store import NOW, item, rules
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parent.parent


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.path = path
        self.messages: list[str] = []

    def wait_for(self, line: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        for m in self.messages:
            if line in m.splitlines():
                return m
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536).decode()
            except TimeoutError:
                continue
            self.messages.append(data)
            if line in data.splitlines() or any(x.startswith(line) for x in data.splitlines()):
                return data
        raise AssertionError(f"no {line!r} within {timeout}s; got {self.messages}")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def outlets() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def test_run_speaks_sd_notify_reloads_and_stops(outlets: LoopbackServer, tmp_path: Path) -> None:
    a = outlets.static("/a.xml", rss("A", entries(1, 3)))
    b = outlets.static("/b.xml", rss("B", entries(2, 3)))
    port = free_port()
    cfg = tmp_path / "config.yaml"
    base = f"database: sqlite:///{tmp_path / 'p.db'}\nmetrics: {{listen: '127.0.0.1:{port}'}}\n"
    cfg.write_text(base + f"feeds:\n  - {{url: '{a}', name: A}}\n  - {{url: '{b}', name: B}}\n")
    ns = NotifySocket(tmp_path / "notify.sock")
    env = {**os.environ, "NOTIFY_SOCKET": str(ns.path), "WATCHDOG_USEC": "1000000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--config", str(cfg), "run"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ns.wait_for("READY=1")
        ns.wait_for("STATUS=", 10)
        ns.wait_for("WATCHDOG=1", 10)
        wait_until(lambda: outlets.count("/a.xml") and outlets.count("/b.xml"), what="first polls")
        # metrics over HTTP
        body = ""

        def scraped() -> bool:
            nonlocal body
            body = (
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
                .read()
                .decode()
            )
            return 'pantau_polls_total{result="ok"} 2' in body

        wait_until(scraped, what="two ok polls in metrics")
        assert "pantau_deliveries" in body and "pantau_feed_last_success_timestamp_seconds" in body

        # SIGHUP with a broken file: old config kept, daemon alive
        cfg.write_text("polling: {interval: never}\n")
        ns.messages.clear()
        proc.send_signal(signal.SIGHUP)
        ns.wait_for("RELOADING=1")
        ns.wait_for("READY=1")
        # SIGHUP removing feed B and adding a topic
        cfg.write_text(
            base
            + f"feeds:\n  - {{url: '{a}', name: A}}\ntopics:\n  - {{name: Banjir, query: banjir}}\n"
        )
        ns.messages.clear()
        proc.send_signal(signal.SIGHUP)
        ns.wait_for("RELOADING=1")
        ns.wait_for("READY=1")
        store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
        try:
            wait_until(lambda: [f.name for f in store.feed_rows()] == ["A"], what="feed B removed")
        finally:
            store.close()
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        ns.wait_for("STOPPING=1")
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    assert "event=reload.invalid" in err and "polling.interval" in err
    assert "event=reload.ok" in err and "topics=1" in err
    assert "Traceback" not in err


def test_run_waits_for_a_database_it_cannot_open_then_starts(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    """A database that cannot be opened (here: its path is a directory; in life a full disk,
    where SQLite in WAL mode cannot even create its -shm file, or PostgreSQL not up yet)
    makes `pantau run` retry with backoff and say why, not exit: once the path is usable it
    starts, READY=1, and polls. SIGTERM while it waits ends it with 0 at once."""
    a = outlets.static("/a.xml", rss("A", entries(1, 3)))
    db = tmp_path / "p.db"
    db.mkdir()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"database: sqlite:///{db}\nfeeds:\n  - {{url: '{a}', name: A}}\n")
    ns = NotifySocket(tmp_path / "notify.sock")
    env = {**os.environ, "NOTIFY_SOCKET": str(ns.path)}
    log = tmp_path / "stderr.log"

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "daemon", "--config", str(cfg), "run"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"), text=True,
        )  # fmt: skip

    proc = start()
    try:
        wait_until(lambda: log.read_text().count("event=daemon.start_failed") >= 2, 20, "retries")
        assert proc.poll() is None and not outlets.count("/a.xml")
        assert "unable to open database file" in log.read_text()
        db.rmdir()
        ns.wait_for("READY=1", 30)
        wait_until(lambda: outlets.count("/a.xml") > 0, what="the first poll")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        # stopped while waiting
        db.unlink()
        db.mkdir()
        proc = start()
        wait_until(lambda: "event=daemon.start_failed" in log.read_text(), 20, "a failed start")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0 and time.monotonic() - t0 < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()


def test_healthy_only_while_the_loop_ticks() -> None:
    from daemon.config import parse_config
    from daemon.runtime.service import Daemon

    d = Daemon(parse_config("{}", env={}))
    assert d.healthy()
    d.health.last_tick -= 120  # the feeds tick has not run for two minutes: a hung loop
    assert not d.healthy()


def test_prune_leaves_tombstones_and_keeps_alerted_stories(store: Store) -> None:
    url = "https://www.antaranews.com/rss/terkini.xml"
    fid = store.sync_feeds([FeedSpec(url, "Antara", 600)], NOW, {})[url]
    from daemon.pipeline.ingest import ingest_items

    old = NOW - timedelta(days=40)
    # items 1-3 first seen 40 days ago; item 1 matches a topic and so has an alert. One
    # ingest per transaction, as every writer does (lock_buckets refuses a second on
    # PostgreSQL: its locks would come out of order)
    plain = rules()
    for parsed, r, at in (
        ([item(1)], rules(("Gempa", "gempa")), old + timedelta(hours=1)),
        ([item(2, title="Harga cabai naik di pasar induk"), item(3, title="Jalan tol baru dibuka")], plain, old),
        ([item(4, title="Kereta cepat")], plain, NOW),
    ):  # fmt: skip
        with store.tx() as tx:
            ingest_items(tx, feed_id=fid, outlet="Antara", parsed=parsed, rules=r, now=at)

    def banded() -> set[int]:
        with store.engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.text("SELECT item_id FROM story_bands"))}

    def item_ids() -> set[int]:
        with store.engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.text("SELECT id FROM items"))}

    assert banded() == item_ids() and len(item_ids()) == 4  # every item has text band rows
    before = store.counts()
    st = prune(store, NOW, timedelta(days=30), batch=1)
    after = store.counts()
    assert st.items == 2 and after["items"] == before["items"] - 2
    assert after["alerts"] == before["alerts"] == 1
    # the pruned items' band rows went with them (no foreign key does it any more: 0007)
    assert banded() == item_ids() and len(item_ids()) == 2
    # a pruned item that the feed still carries is not new again
    with store.tx() as tx:
        s = ingest_items(
            tx,
            feed_id=fid,
            outlet="Antara",
            parsed=[item(2, title="Harga cabai naik di pasar induk")],
            rules=rules(),
            now=NOW,
        )
    assert s.new == 0 and s.known == 1


def test_health_assessment_and_transitions() -> None:
    now = datetime(2026, 11, 27, tzinfo=timezone.utc)
    base = health.FeedHistory(
        added_at=now - timedelta(days=10), last_ok_at=now, last_new_at=now - timedelta(hours=1),
        last_error=None, error_count=0, item_count=500, gone=False,
    )  # fmt: skip
    assert health.assess(base, now).state == "ok"
    # usually ~30 min between items; silent for 2 days → quiet
    quiet = health.FeedHistory(**{**base.__dict__, "last_new_at": now - timedelta(days=2)})
    assert health.assess(quiet, now).state == "quiet"
    # a feed that publishes weekly is not quiet after 2 days
    weekly = health.FeedHistory(
        **{**quiet.__dict__, "item_count": 3, "added_at": now - timedelta(days=30)}
    )
    assert health.assess(weekly, now).state == "ok"
    failing = health.FeedHistory(**{**base.__dict__, "error_count": 3, "last_error": "HTTP 500"})
    assert health.assess(failing, now).state == "failing"
    one_error = health.FeedHistory(**{**base.__dict__, "error_count": 1, "last_error": "HTTP 500"})
    assert health.assess(one_error, now).state == "ok"
    assert health.transition("ok", health.Health("failing")) == "bad"
    assert health.transition("failing", health.Health("failing")) is None
    assert health.transition("failing", health.Health("ok")) == "recovered"
    assert health.transition(None, health.Health("new")) is None
