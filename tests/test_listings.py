"""What `pantau stories`, `alerts`, `feeds` and `demo` show a person, and what `pantau run`
says when it starts, read through the CLI in subprocesses against loopback feeds."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from daemon.demo.loopback import LoopbackServer, send
from tests.feedgen import entries, rss
from tests.test_cli import pantau
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
STAMP = re.compile(r"^#(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d) UTC ")
NOT_POLLING = "nothing is polling"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds_of(token: str) -> float | None:
    """``1m34s`` -> 94.0; None for anything that is not such a duration."""
    parts = re.findall(r"(\d+)([smhd])", token)
    if not parts or "".join(n + u for n, u in parts) != token:
        return None
    return float(sum(int(n) * UNITS[u] for n, u in parts))


@pytest.fixture
def outlets() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def test_stories_show_their_dates_newest_news_first(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    """A first poll sees every story at once; ordered by the time it was seen, last year's
    story sat between today's. They are ordered by publication and show the date."""
    now = datetime.now(UTC)
    es = entries(1, 4, now=now)
    dates = [datetime(2024, 3, 1, 8, tzinfo=UTC), now - timedelta(hours=1),
             datetime(2025, 6, 1, 8, tzinfo=UTC), now - timedelta(hours=3)]  # fmt: skip
    for e, d in zip(es, dates, strict=True):
        e.published = d
    url = outlets.static("/a.xml", rss("A", es))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n  - {{url: '{url}'}}\n")
    assert pantau("--config", str(cfg), "run", "--once").rc == 0
    r = pantau("--config", str(cfg), "stories")
    assert r.rc == 0, r.err
    lines = [ln for ln in r.out.splitlines() if ln.startswith("#")]
    shown = [STAMP.match(ln) for ln in lines]
    assert all(shown), r.out
    got = [m[2] for m in shown if m]
    want = sorted((d.strftime("%Y-%m-%d %H:%M") for d in dates), reverse=True)
    assert got == want


def test_alerts_show_when_they_were_raised_newest_first(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    es = entries(2, 6)
    for i, e in enumerate(es):
        e.title = f"Banjir rob melanda pesisir kota {i}"
    body = {"doc": rss("B", es[3:])}
    outlets.route("/b.xml", lambda req: send(req, 200, body["doc"], {}))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'p.db'}\n"
        f"feeds:\n  - {{url: '{outlets.url('/b.xml')}', name: B}}\n"
        "topics:\n  - {name: Banjir, query: banjir}\n"
    )
    assert pantau("--config", str(cfg), "run", "--once").rc == 0
    body["doc"] = rss("B", es)  # three more reports, a cycle later
    assert pantau("--config", str(cfg), "run", "--once").rc == 0
    r = pantau("--config", str(cfg), "alerts")
    lines = [ln for ln in r.out.splitlines() if ln.startswith("#")]
    assert len(lines) == 6, r.out
    keys = []
    for ln in lines:
        m = STAMP.match(ln)
        assert m, ln
        keys.append((m[2], int(m[1])))
    assert keys == sorted(keys, reverse=True)
    assert keys[0][1] > keys[-1][1]


def test_demo_counts_in_plain_indonesian_english() -> None:
    r = pantau("demo")
    assert r.rc == 0, r.err
    assert not re.search(r"\b1 (alerts|items|new stories)\b", r.out), r.out
    assert re.search(r"\b1 alert\b", r.out)


def test_feeds_table_and_json_speak_durations_and_seconds(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    url = outlets.static("/a.xml", rss("A", entries(3, 3)))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n  - {{url: '{url}', name: A}}\n"
    )
    assert pantau("--config", str(cfg), "run", "--once").rc == 0
    [feed] = json.loads(pantau("--config", str(cfg), "feeds", "--json").out)
    assert isinstance(feed["interval"], int | float) and feed["interval"] > 0
    assert feed["dates_unreadable"] is False
    table = pantau("--config", str(cfg), "feeds").out.splitlines()
    header = next(ln for ln in table if ln.startswith("feed "))
    row = next(ln for ln in table if ln.startswith("A "))
    assert "every" in header.split()
    shown = [seconds_of(t) for t in row.split() if seconds_of(t) is not None]
    assert len(shown) == 1 and abs(shown[0] - feed["interval"]) <= 0.5, row
    assert not re.search(r"\d+\.\d+", row)  # no raw float seconds in the table
    # no daemon: saved "next poll" times are no promise
    assert table[0].startswith(NOT_POLLING)
    assert "not polling" in row


def _changing_undated_feed(srv: LoopbackServer) -> str:
    """A copy of a templated feed served raw: every date is a placeholder. Each request
    brings one more item, so every poll parses."""
    hits = {"n": 0}
    lock = threading.Lock()

    def handler(req: BaseHTTPRequestHandler) -> None:
        with lock:
            hits["n"] += 1
            n = hits["n"]
        doc = rss("Templat", entries(4, 2 + n)).decode()
        doc = re.sub(r"<pubDate>[^<]*</pubDate>", "<pubDate>{{rfc822:-10d}}</pubDate>", doc)
        send(req, 200, doc.encode(), {"Content-Type": "application/rss+xml"})

    return srv.route("/templat.xml", handler)


def test_restart_says_when_it_polls_and_unreadable_dates_warn_once(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    good = outlets.static("/a.xml", rss("A", entries(5, 3)))
    undated = _changing_undated_feed(outlets)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'p.db'}\n"
        f"feeds:\n  - {{url: '{good}', name: Baik}}\n"
        f"  - {{url: '{undated}', name: Templat, interval: 1s}}\n"
    )
    assert pantau("--config", str(cfg), "run", "--once").rc == 0
    log = tmp_path / "run.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--config", str(cfg), "run"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"), env=os.environ.copy(),
    )  # fmt: skip
    try:
        wait_until(lambda: "event=daemon.ready" in log.read_text(), what="ready")
        ready = next(ln for ln in log.read_text().splitlines() if "event=daemon.ready" in ln)
        assert "feeds=2" in ready
        assert re.search(r"next_poll=\d{4}-\d\d-\d\dT\S+Z next_poll_in=\d+[smhd]", ready), ready
        wait_until(lambda: outlets.count("/templat.xml") >= 4, what="three daemon polls")
        r = pantau("--config", str(cfg), "feeds")
        assert NOT_POLLING not in r.out  # the daemon is polling
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    warned = [ln for ln in log.read_text().splitlines() if "event=feed.dates_unreadable" in ln]
    assert len(warned) == 1 and "feed=Templat" in warned[0] and "level=warning" in warned[0]
    r = pantau("--config", str(cfg), "feeds")
    row = next(ln for ln in r.out.splitlines() if ln.startswith("Templat "))
    assert "dates unreadable" in row
    assert "dates unreadable" not in next(ln for ln in r.out.splitlines() if ln.startswith("Baik"))
    by_name = {
        f["name"]: f for f in json.loads(pantau("--config", str(cfg), "feeds", "--json").out)
    }
    assert by_name["Templat"]["dates_unreadable"] is True
    assert by_name["Baik"]["dates_unreadable"] is False
