"""The outbox end to end: feeds → alerts → deliveries → Slack stand-in and a real SMTP server.

A controllable clock drives retries and digests, so no test sleeps to make timing work.
"""

from __future__ import annotations

import email
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest

from daemon.config import parse_config
from daemon.delivery.dispatch import Dispatcher, RetryPolicy, retry_delay
from daemon.demo.loopback import LoopbackServer
from daemon.runtime.service import Runtime, run_once
from daemon.storage.store import Store
from tests.feedgen import Entry, rss
from tests.slackstub import SlackStub
from tests.smtpstub import SMTPStub, free_port

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def ukraine_feed(n: int, *, prefix: str = "") -> bytes:
    now = datetime.now(timezone.utc)
    places = ["Kharkiv", "Odesa", "Lviv", "Dnipro", "Kherson", "Sumy", "Poltava", "Mykolaiv"]
    items = []
    for i in range(n):
        p = places[i % len(places)]
        rng = random.Random(i)
        words = " ".join(rng.choice(["warga", "listrik", "drone", "sekolah", "jembatan", "relawan",
                                     "gandum", "pelabuhan", "rumah sakit", "kereta"]) for _ in range(25))  # fmt: skip
        items.append(
            Entry(
                guid=f"https://outlet.example/ukr/{i}",
                title=f"{prefix}Serangan di {p}, Ukraina laporkan kerusakan nomor {i}",
                summary=f"Pemerintah Ukraina menyebut {p} terdampak. {words}.",
                link=f"https://outlet.example/ukr/{i}",
                published=now - timedelta(minutes=i + 1),
            )
        )
    return rss("Outlet", items)


def setup_alerts(
    tmp_path: Path, server: LoopbackServer, n: int, notifiers: str, notify: str, prefix: str = ""
):  # type: ignore[no-untyped-def]
    url = server.static("/ukr.xml", ukraine_feed(n, prefix=prefix))
    text = (
        f"database: sqlite:///{tmp_path / 'p.db'}\n"
        f"feeds: [{{url: '{url}', name: Outlet}}]\n"
        f"topics: [{{name: Ukraina, query: Ukraina, notify: [{notify}]}}]\n"
        f"notifiers:\n{notifiers}"
    )
    loaded = parse_config(text, env={})
    # ingest only: deliveries stay pending for the test's own dispatcher
    store = Store.open(loaded.config.database)
    store.upgrade()
    import threading

    from daemon.runtime.service import build_runtime, poll_all, sync_feeds

    rt = build_runtime(loaded, store, threading.Event())
    sync_feeds(store, rt)
    (out,) = poll_all(store, rt)
    assert len(out.stats.alerts) == n
    return loaded, store, rt


def on_clock(rt: Runtime, clock: Clock) -> dict:  # type: ignore[type-arg]
    """The runtime's notifiers, with Slack's one-message-per-second limiter on the test's
    clock (each rebuilt from its config entry)."""
    from daemon.delivery.slack import SlackNotifier
    from daemon.ratelimit import RateLimiter

    out = dict(rt.notifiers)
    for name, n in rt.notifiers.items():
        if isinstance(n, SlackNotifier):
            limiter = RateLimiter.every(
                1.0, clock=lambda: clock.now.timestamp(), sleep=clock.advance
            )
            url = str(rt.cfg.notifiers[name].webhook_url)
            out[name] = SlackNotifier(name, url, limiter=limiter)
    return out


def test_retry_delay_doubles_caps_and_honours_retry_after() -> None:
    p = RetryPolicy(initial=30, maximum=3600, give_up_after=86400)
    assert [retry_delay(a, p) for a in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert retry_delay(1, p, retry_after=900) == 900
    assert retry_delay(5, p, retry_after=10) == 480


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with LoopbackServer() as srv:
        yield srv


def test_slack_outage_then_each_alert_delivered_exactly_once(
    tmp_path: Path, server: LoopbackServer
) -> None:
    slack = SlackStub(server)
    slack.reply(500, "internal_error", times=10)
    loaded, store, rt = setup_alerts(
        tmp_path, server, 4, f"  s: {{type: slack, webhook_url: '{slack.url}'}}\n", "s"
    )
    clock = Clock()
    d = Dispatcher(store, on_clock(rt, clock), RetryPolicy(30, 3600, 86400), clock=clock)
    for _ in range(10):
        d.run()
        clock.advance(3600)
    assert len(slack.hits) == 10 + 4
    sent = [p for p, h in zip(slack.payloads, slack.hits) if True][-4:]
    alerts = store.alerts_since(clock.now - timedelta(days=1))
    assert all(a.deliveries[0].status == "sent" for a in alerts)
    assert sorted(a.deliveries[0].attempts for a in alerts)[-1] >= 3
    # every alert's title reached Slack exactly once after the outage
    titles = Counter(json.dumps(p) for p in sent)
    assert len(titles) == 4
    store.close()


def test_retry_after_is_honoured_and_permanent_error_fails_at_once(
    tmp_path: Path, server: LoopbackServer
) -> None:
    ok = SlackStub(server)
    ok.reply(429, "rate_limited", {"Retry-After": "600"})
    gone = SlackStub(server)
    gone.reply(404, "no_service", times=5)
    notifiers = f"  ok: {{type: slack, webhook_url: '{ok.url}'}}\n  gone: {{type: slack, webhook_url: '{gone.url}'}}\n"
    loaded, store, rt = setup_alerts(tmp_path, server, 1, notifiers, "ok, gone")
    clock = Clock()
    # the webhook's own limiter also honours Retry-After: it runs on the test's clock too
    d = Dispatcher(store, on_clock(rt, clock), RetryPolicy(30, 3600, 86400), clock=clock)
    d.run()
    (a,) = store.alerts_since(clock.now - timedelta(days=1))
    dl = {x.notifier: x for x in a.deliveries}
    assert dl["gone"].status == "failed" and "404" in dl["gone"].last_error
    assert dl["ok"].status == "pending"
    nxt = dl["ok"].next_attempt_at
    assert nxt - clock.now >= timedelta(seconds=599)
    clock.advance(300)
    d.run()
    assert len(ok.hits) == 1  # not retried before Retry-After
    clock.advance(301)
    d.run()
    (a,) = store.alerts_since(clock.now - timedelta(days=1))
    assert {x.notifier: x.status for x in a.deliveries} == {"ok": "sent", "gone": "failed"}
    assert len(gone.hits) == 1
    store.close()


def test_gives_up_after_the_configured_time_with_reason(
    tmp_path: Path, server: LoopbackServer
) -> None:
    slack = SlackStub(server)
    slack.reply(503, "service_unavailable", times=100)
    loaded, store, rt = setup_alerts(
        tmp_path, server, 1, f"  s: {{type: slack, webhook_url: '{slack.url}'}}\n", "s"
    )
    clock = Clock()
    d = Dispatcher(store, on_clock(rt, clock), RetryPolicy(30, 600, 3600), clock=clock)
    for _ in range(30):
        d.run()
        clock.advance(600)
    (a,) = store.alerts_since(clock.now - timedelta(days=2))
    (dl,) = a.deliveries
    assert dl.status == "failed" and dl.last_error.startswith("gave up after")
    assert 4 <= dl.attempts <= 10
    r = subprocess.run(
        [sys.executable, "-m", "daemon", "--config", str(write(tmp_path, loaded)), "alerts", "--since", "30d", "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (j,) = json.loads(r.stdout)
    assert (
        j["deliveries"][0]["status"] == "failed" and "gave up" in j["deliveries"][0]["last_error"]
    )
    store.close()


def write(tmp_path: Path, loaded) -> Path:  # type: ignore[no-untyped-def]
    p = tmp_path / "c.yaml"
    p.write_text(f"database: {loaded.config.database}\n")
    return p


def test_smtp_outage_delays_only_email(tmp_path: Path, server: LoopbackServer) -> None:
    slack = SlackStub(server)
    port = free_port()  # nothing listens yet: connection refused
    notifiers = (
        f"  s: {{type: slack, webhook_url: '{slack.url}'}}\n"
        f"  m: {{type: email, host: 127.0.0.1, port: {port}, security: none, from: pantau@example.org, to: [redaksi@example.org], timeout: 5s}}\n"
    )
    loaded, store, rt = setup_alerts(tmp_path, server, 3, notifiers, "s, m")
    clock = Clock()
    d = Dispatcher(store, on_clock(rt, clock), RetryPolicy(30, 3600, 86400), clock=clock)
    d.run()
    assert len(slack.hits) == 3
    statuses = Counter(
        x.status + ":" + x.notifier
        for a in store.alerts_since(clock.now - timedelta(1))
        for x in a.deliveries
    )
    assert statuses == {"sent:s": 3, "pending:m": 3}
    stub = SMTPStub()
    stub.port = port
    from aiosmtpd.controller import Controller

    stub.controller = Controller(stub.handler, hostname="127.0.0.1", port=port)
    with stub:
        clock.advance(31)
        d.run()
        assert len(stub.received) == 3
        assert all(r.rcpt_tos == ["redaksi@example.org"] for r in stub.received)
        clock.advance(3600)
        d.run()
        assert len(stub.received) == 3  # exactly once
    assert len(slack.hits) == 3
    store.close()


def test_digest_batches_into_one_email_and_survives_restart(
    tmp_path: Path, server: LoopbackServer
) -> None:
    with SMTPStub() as stub:
        notifiers = (
            f"  m: {{type: email, host: 127.0.0.1, port: {stub.port}, security: none, from: pantau@example.org, "
            f"to: [redaksi@example.org], digest: 1h}}\n"
        )
        loaded, store, rt = setup_alerts(tmp_path, server, 15, notifiers, "m")
        clock = Clock()
        Dispatcher(store, on_clock(rt, clock), RetryPolicy(30, 3600, 86400), clock=clock).run()
        clock.advance(1800)
        Dispatcher(store, on_clock(rt, clock), RetryPolicy(30, 3600, 86400), clock=clock).run()
        assert stub.received == []
        # "restart": a new dispatcher and store over the same database
        store.close()
        store2 = Store.open(loaded.config.database)
        clock.advance(1801)
        Dispatcher(store2, rt.notifiers, RetryPolicy(30, 3600, 86400), clock=clock).run()
        assert len(stub.received) == 1
        msg = email.message_from_bytes(stub.received[0].content, policy=policy.default)
        body = msg.get_body(("plain",)).get_content()
        assert body.count("Ukraina laporkan kerusakan") == 15  # more than one claim batch
        assert all(
            x.status == "sent"
            for a in store2.alerts_since(clock.now - timedelta(1))
            for x in a.deliveries
        )
        store2.close()


def test_injection_from_feed_reaches_slack_escaped(tmp_path: Path, server: LoopbackServer) -> None:
    slack = SlackStub(server)
    loaded, store, rt = setup_alerts(
        tmp_path, server, 1, f"  s: {{type: slack, webhook_url: '{slack.url}'}}\n", "s",
        prefix="<!channel> <@U123> <https://evil.example|klik> ",
    )  # fmt: skip
    Dispatcher(store, rt.notifiers, RetryPolicy(30, 3600, 86400)).run()
    (p,) = slack.payloads
    raw = json.dumps(p)
    assert "<!channel>" not in raw and "<@U123>" not in raw and "<https://evil.example" not in raw
    assert "&lt;@U123&gt;" in raw
    store.close()


def test_notify_test_prints_the_server_answer(tmp_path: Path, server: LoopbackServer) -> None:
    slack = SlackStub(server)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'x.db'}\nnotifiers:\n  s: {{type: slack, webhook_url: '${{HOOK}}'}}\n"
    )
    env = {**os.environ, "HOOK": slack.url}
    r = subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), "notify-test", "s"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout and len(slack.hits) == 1
    assert slack.path not in r.stdout + r.stderr  # the webhook URL is a secret
    slack.reply(404, "no_service")
    r = subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), "notify-test", "s"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)  # fmt: skip
    assert r.returncode == 1 and "404" in r.stderr
    r = subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), "notify-test", "nope"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)  # fmt: skip
    assert r.returncode == 2 and "no notifier named" in r.stderr


def test_run_once_delivers_what_is_due(tmp_path: Path, server: LoopbackServer) -> None:
    slack = SlackStub(server)
    url = server.static("/u.xml", ukraine_feed(3))
    loaded = parse_config(
        f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds: [{{url: '{url}'}}]\n"
        f"topics: [{{name: Ukraina, query: Ukraina, notify: [s]}}]\n"
        f"notifiers: {{s: {{type: slack, webhook_url: '{slack.url}'}}}}\n",
        env={},
    )
    outcomes, stats = run_once(loaded)
    assert stats.sent == 3 and len(slack.hits) == 3
    outcomes, stats = run_once(loaded)
    assert stats.sent == 0 and len(slack.hits) == 3


def test_restart_after_crash_takes_back_stranded_claims(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """Regression (found by the kill -9 loop): a process killed while delivering left its
    claimed rows leased for minutes. On SQLite the next process is the only one, so it
    releases them at start and delivers at once."""
    slack = SlackStub(server)
    loaded, store, rt = setup_alerts(
        tmp_path, server, 3, f"  s: {{type: slack, webhook_url: '{slack.url}'}}\n", "s"
    )
    now = datetime.now(timezone.utc)
    claimed = store.claim_deliveries(now, "dead-host:4242", 3600, notifiers=["s"], limit=10)
    assert len(claimed) == 3
    store.close()
    outcomes, stats = run_once(loaded)
    assert stats.sent == 3 and len(slack.hits) == 3


@pytest.mark.slow
def test_kill_9_during_delivery_loses_nothing(tmp_path: Path) -> None:
    """20 rounds: `pantau run` is killed with SIGKILL at a random moment while it delivers
    through a slow Slack stand-in, then restarted. Every alert must arrive; duplicates are
    bounded by the number of kills (the one delivery in flight)."""
    from daemon.demo.loopback import send

    with LoopbackServer() as srv:

        def slow_ok(req) -> None:  # type: ignore[no-untyped-def]
            time.sleep(0.15)
            send(req, 200, b"ok", {"Content-Type": "text/html"})

        hook = srv.route("/services/T1/B1/slow", slow_ok)
        url = srv.static("/u.xml", ukraine_feed(40))
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds: [{{url: '{url}'}}]\n"
            f"delivery: {{tick: 1s, retry_initial: 1s}}\n"
            f"topics: [{{name: Ukraina, query: Ukraina, notify: [s]}}]\n"
            f"notifiers: {{s: {{type: slack, webhook_url: '{hook}'}}}}\n"
        )
        rng = random.Random(7)
        kills = 0
        for _ in range(20):
            p = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(cfg), "run"], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(rng.uniform(1.0, 2.5))  # a random moment, not a timing crutch
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
        p = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(cfg), "run"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
            while time.monotonic() < deadline:
                if store.delivery_counts().get("sent", 0) == 40:
                    break
                time.sleep(0.2)
            store.close()
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=15)
        titles = Counter(
            json.loads(h.body)["text"] for h in srv.hits if h.path == "/services/T1/B1/slow"
        )
        assert len(titles) == 40, f"lost: {40 - len(titles)}"
        dupes = sum(c - 1 for c in titles.values())
        print(f"\nkill -9 x{kills}: 40 alerts, 0 lost, {dupes} duplicates")
        assert dupes <= kills


def test_a_hung_smtp_server_does_not_hold_up_slack(tmp_path: Path, server: LoopbackServer) -> None:
    """Regression (soak): one dispatch pass sent every notifier's rows in series, so an SMTP
    server that accepted and went silent held every Slack message behind it."""
    from tests.smtpstub import HangServer

    slack = SlackStub(server)
    with HangServer(max_seconds=20) as hang:
        notifiers = (
            f"  s: {{type: slack, webhook_url: '{slack.url}'}}\n"
            f"  m: {{type: email, host: 127.0.0.1, port: {hang.port}, security: none, "
            f"from: pantau@example.org, to: [redaksi@example.org], timeout: 10s}}\n"
        )
        loaded, store, rt = setup_alerts(tmp_path, server, 2, notifiers, "m, s")
        d = Dispatcher(store, rt.notifiers, RetryPolicy(30, 3600, 86400))
        t0 = time.monotonic()
        d.run(wait=False)
        deadline = time.monotonic() + 8
        while len(slack.hits) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(slack.hits) == 2 and time.monotonic() - t0 < 8  # the email timeout is 10 s
    store.close()


def test_a_sent_row_is_marked_even_if_the_database_is_briefly_locked(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (soak): a send followed by a locked database left the row claimed, and it
    was sent again when the claim expired: a duplicate without any crash."""
    import sqlite3
    import threading

    from daemon.storage import db

    slack = SlackStub(server)
    loaded, store, rt = setup_alerts(
        tmp_path, server, 1, f"  s: {{type: slack, webhook_url: '{slack.url}'}}\n", "s"
    )
    store.close()
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)  # give up on the lock quickly
    store = Store.open(loaded.config.database)
    path = str(tmp_path / "p.db")
    inner = rt.notifiers["s"]

    class LocksAfterSending:
        name, digest = "s", None

        def send(self, alerts):  # type: ignore[no-untyped-def]
            res = inner.send(alerts)
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN EXCLUSIVE")  # another writer holds the database for 1.5 s
            threading.Timer(1.5, lambda: (other.execute("COMMIT"), other.close())).start()
            return res

        def send_test(self):  # type: ignore[no-untyped-def]
            return inner.send_test()

    Dispatcher(store, {"s": LocksAfterSending()}, RetryPolicy(30, 3600, 86400)).run()  # type: ignore[dict-item]
    (a,) = store.alerts_since(datetime.now(timezone.utc) - timedelta(days=1))
    assert a.deliveries[0].status == "sent" and len(slack.hits) == 1
    store.close()


def test_sigterm_during_a_hung_smtp_conversation_exits_within_10s(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """Regression (soak): the interpreter's exit joined the thread stuck in SMTP (30 s)."""
    from tests.smtpstub import HangServer

    url = server.static("/u.xml", ukraine_feed(1))
    with HangServer(max_seconds=60) as hang:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds: [{{url: '{url}'}}]\n"
            f"topics: [{{name: Ukraina, query: Ukraina, notify: [m]}}]\n"
            f"notifiers: {{m: {{type: email, host: 127.0.0.1, port: {hang.port}, security: none, "
            f"from: pantau@example.org, to: [redaksi@example.org], timeout: 30s}}}}\n"
        )
        p = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(cfg), "run"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while hang.accepted == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert hang.accepted >= 1, "pantau never reached the SMTP server"
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=10) == 0
            assert time.monotonic() - t0 < 10
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
