"""Webhook sender against a loopback receiver that verifies signatures as README.md says."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.config import ConfigError, parse_config
from daemon.delivery import AlertMessage, build_notifier
from daemon.delivery.dispatch import Dispatcher, RetryPolicy
from daemon.delivery.webhook import WebhookNotifier
from daemon.demo.loopback import LoopbackServer, send
from tests.test_dispatch import Clock, setup_alerts, ukraine_feed
from tests.webhookstub import SECRET, TOLERANCE, WebhookReceiver, verify

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def hook(server: LoopbackServer) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(server) as r:
        yield r


def record_alert(**record: Any) -> AlertMessage:
    from datetime import datetime, timezone

    return AlertMessage(
        alert_id=7, topic="Ukraina", title="t", url=None, outlet="o",
        published_at=datetime(2025, 1, 1, tzinfo=timezone.utc), matched=(), snippet="",
        sources=(), delivery_id=record.pop("_delivery", 41), record=record or {"id": 7},
    )  # fmt: skip


def run_cli(
    cfg: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [sys.executable, "-m", "daemon", "--config", str(cfg), *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_each_alert_is_posted_as_its_alerts_json_record_signed_with_its_delivery_id(
    tmp_path: Path, server: LoopbackServer, hook: WebhookReceiver
) -> None:
    notifiers = f"  w: {{type: webhook, url: '{hook.url}', secret: '{SECRET}'}}\n"
    loaded, store, rt = setup_alerts(tmp_path, server, 3, notifiers, "w")
    stats = Dispatcher(store, rt.notifiers, RetryPolicy(30, 3600, 86400)).run()
    assert stats.sent == 3 and hook.refused == [] and len(hook.unique) == 3
    store.close()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"database: {loaded.config.database}\n")
    out = run_cli(cfg, "alerts", "--json")
    assert out.returncode == 0, out.stderr
    cli = {a["id"]: a for a in json.loads(out.stdout)}
    with sqlite3.connect(tmp_path / "p.db") as db:
        delivery_of = dict(db.execute("SELECT alert_id, id FROM deliveries"))
    for got in hook.unique:
        posted = got.json
        expected = cli[posted["id"]]
        assert set(posted) == set(expected)
        # every field as `alerts --json` prints it; the delivery state is as of the send
        assert {k: v for k, v in posted.items() if k != "deliveries"} == {
            k: v for k, v in expected.items() if k != "deliveries"
        }
        assert [(d["notifier"], d["status"]) for d in posted["deliveries"]] == [("w", "pending")]
        assert got.headers["Idempotency-Key"] == str(delivery_of[posted["id"]])
        assert got.headers["X-Pantau-Event"] == "alert"
        assert got.headers["Content-Type"].startswith("application/json")


def test_signature_covers_body_and_timestamp_so_tampering_and_replays_are_refused(
    hook: WebhookReceiver,
) -> None:
    n = WebhookNotifier("w", hook.url, secret=SECRET, timeout=2.0)
    assert n.send([record_alert(id=7, title="Presiden <b>melantik</b> menteri")]).ok
    (got,) = hook.accepted
    headers = {k: v for k, v in got.headers.items() if k.lower() not in ("content-length", "host")}

    def post(body: bytes, **h: str) -> requests.Response:
        return requests.post(hook.url, data=body, headers={**headers, **h}, timeout=5)

    assert post(got.body.replace(b"melantik", b"memecat")).status_code == 401
    ts = int(headers["X-Pantau-Timestamp"])
    assert post(got.body, **{"X-Pantau-Timestamp": str(ts + 1)}).status_code == 401
    assert hook.refused == ["bad signature", "bad signature"]
    # the same request, ten minutes later: authentic, but stale
    assert verify(SECRET, got.headers, got.body, ts + TOLERANCE + 1) == "stale timestamp"
    assert verify(SECRET, got.headers, got.body, ts + 1) is None
    assert verify("another-secret-of-some-length", got.headers, got.body, ts) == "bad signature"


def test_a_repeated_delivery_carries_the_same_idempotency_key(hook: WebhookReceiver) -> None:
    n = WebhookNotifier("w", hook.url, secret=SECRET, timeout=2.0)
    for _ in range(2):  # what a crash between send and mark causes
        assert n.send([record_alert(id=9, _delivery=1234)]).ok
    assert [r.duplicate for r in hook.accepted] == [False, True]
    assert {r.headers["Idempotency-Key"] for r in hook.accepted} == {"1234"}


def test_a_wrong_secret_is_a_permanent_failure(hook: WebhookReceiver) -> None:
    r = WebhookNotifier("w", hook.url, secret="not-the-right-secret-at-all", timeout=2.0).send(
        [record_alert(id=1)]
    )
    assert not r.ok and r.permanent and r.detail == "401 bad signature"
    r = WebhookNotifier("w", hook.url, timeout=2.0).send([record_alert(id=1)])
    assert r.permanent and r.detail == "401 unsigned"


@pytest.mark.parametrize(
    ("status", "ok", "permanent"),
    [(200, True, False), (201, True, False), (204, True, False), (400, False, True),
     (404, False, True), (410, False, True), (422, False, True), (408, False, False),
     (429, False, False), (500, False, False), (503, False, False), (301, False, True),
     (307, False, True)],
)  # fmt: skip
def test_answers_map_to_sent_retry_or_give_up(
    hook: WebhookReceiver, status: int, ok: bool, permanent: bool
) -> None:
    hook.reply(status, "jawaban", {"Location": "http://127.0.0.1:9/elsewhere"})
    r = WebhookNotifier("w", hook.url, secret=SECRET, timeout=2.0).send([record_alert(id=1)])
    assert (r.ok, r.permanent) == (ok, permanent)
    assert len(hook.server.hits) >= 1 and not any(h.path == "/elsewhere" for h in hook.server.hits)


def test_outbox_retries_after_retry_after_and_delivers_once(
    tmp_path: Path, server: LoopbackServer, hook: WebhookReceiver
) -> None:
    hook.reply(503, "sibuk")
    hook.reply(429, "pelan", {"Retry-After": "600"})
    notifiers = f"  w: {{type: webhook, url: '{hook.url}', secret: '{SECRET}'}}\n"
    loaded, store, rt = setup_alerts(tmp_path, server, 2, notifiers, "w")
    clock = Clock()
    from daemon.ratelimit import RateLimiter

    rt.notifiers["w"]._limiter = RateLimiter(0.0, clock=lambda: clock.now.timestamp(),
                                             sleep=clock.advance)  # fmt: skip
    d = Dispatcher(store, rt.notifiers, RetryPolicy(30, 3600, 86400), clock=clock)
    d.run()
    errors = sorted(x.last_error for a in store.alerts_since(clock.now - timedelta(1))
                    for x in a.deliveries)  # fmt: skip
    assert errors == ["429 pelan", "503 sibuk"] and hook.accepted == []
    clock.advance(300)
    d.run()
    assert hook.accepted == []  # the receiver asked for 600 s
    clock.advance(301)
    d.run()
    assert len(hook.unique) == 2 and len(hook.accepted) == 2
    clock.advance(3600)
    d.run()
    assert len(hook.accepted) == 2
    store.close()


def test_secret_url_and_header_values_appear_in_no_output_or_last_error(
    tmp_path: Path, server: LoopbackServer
) -> None:
    token = "Bearer-tok-9f8e7d6c5b4a3928"
    echo_path = "/hooks/T00SECRETPATH/xyzzy"

    def echo(req) -> None:  # type: ignore[no-untyped-def]
        leak = f"bad: {req.headers.get('Authorization')} {req.path} {SECRET}"
        send(req, 500, leak.encode(), {"Content-Type": "text/plain"})

    url = server.route(echo_path, echo)
    feed = server.static("/wh-leak.xml", ukraine_feed(1))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds: [{{url: '{feed}'}}]\n"
        f"topics: [{{name: Ukraina, query: Ukraina, notify: [w]}}]\nnotifiers:\n"
        f"  w: {{type: webhook, url: '${{HOOK}}', secret: '${{HOOK_SECRET}}', "
        f"headers: {{Authorization: '${{HOOK_AUTH}}'}}}}\n"
    )
    env = {"HOOK": url, "HOOK_SECRET": SECRET, "HOOK_AUTH": token}
    r = run_cli(cfg, "--log-level", "debug", "run", "--once", env=env)
    assert r.returncode == 0, r.stderr
    alerts = run_cli(cfg, "alerts", "--json", env=env)
    ((dl,),) = [a["deliveries"] for a in json.loads(alerts.stdout)]
    assert dl["status"] == "pending" and dl["last_error"].startswith("500 bad: ***")
    test = run_cli(cfg, "notify-test", "w", env=env)
    assert test.returncode == 1 and test.stderr.startswith("pantau: w: failed: 500 bad: ***")
    for out in (r, alerts, test):
        for secret in (token, SECRET, "T00SECRETPATH"):
            assert secret not in out.stdout + out.stderr


def test_notify_test_prints_the_answer_and_sends_a_signed_test_event(
    tmp_path: Path, hook: WebhookReceiver, capfd: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'x.db'}\n"
        "feeds: [{url: 'https://kabar.example.id/rss'}]\nnotifiers:\n"
        f"  w: {{type: webhook, url: '{hook.url}', secret: '{SECRET}', "
        "headers: {X-Desk: redaksi-jakarta}}\n"
    )
    r = run_cli(cfg, "notify-test", "w")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'w: sent: 200 {"received":true}'
    (got,) = hook.accepted
    assert got.headers["X-Pantau-Event"] == "test" and got.headers["X-Desk"] == "redaksi-jakarta"
    assert got.json["event"] == "test" and got.json["text"].startswith("pantau: pesan uji")
    from daemon.cli import main

    assert main(["--config", str(cfg), "check"]) == 0
    out = capfd.readouterr().out
    assert "POST to 127.0.0.1, signed" in out and hook.path not in out


def test_config_errors_name_the_key_path() -> None:
    text = (
        "notifiers:\n"
        "  a: {type: webhook, url: 'ftp://x.example/'}\n"
        "  b: {type: webhook, url: 'https://x.example/', secret: short}\n"
        "  c: {type: webhook, url: 'https://x.example/', headers: {Idempotency-Key: x}}\n"
        "  d: {type: webhook, url: 'https://x.example/', headers: {'Bad Name': x}}\n"
        "  e: {type: webhook, url: 'https://x.example/', headers: {X-A: \"1\\r\\nX-B: 2\"}}\n"
        "  f: {type: webhook, url: 'https://x.example/', method: PUT}\n"
    )
    with pytest.raises(ConfigError) as e:
        parse_config(text, env={})
    errs = "\n".join(e.value.errors)
    for line in ("notifiers.a.url:", "notifiers.b.secret:", "notifiers.c.headers: 'Idempotency-Key'",
                 "notifiers.d.headers:", "notifiers.e.headers: 'X-A'", "notifiers.f.method: unknown"):  # fmt: skip
        assert line in errs
    loaded = parse_config(
        "notifiers: {w: {type: webhook, url: 'https://h.example/p', secret: '${S}'}}", env={"S": SECRET}
    )  # fmt: skip
    n = build_notifier("w", loaded.config.notifiers["w"])
    assert isinstance(n, WebhookNotifier) and SECRET in loaded.secrets
    assert SECRET not in repr(loaded.config) and SECRET not in repr(n)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(record=st.dictionaries(st.text(), json_values, max_size=8),
       secret=st.text(min_size=16, max_size=64), now=st.integers(0, 2**40))  # fmt: skip
def test_property_every_body_is_its_record_and_verifies(
    record: dict[str, Any], secret: str, now: int
) -> None:
    from daemon.delivery.webhook import encode

    n = WebhookNotifier("w", "https://h.example/p", secret=secret, clock=lambda: now)
    body = encode(record)
    headers = n.request_headers(body, "alert", "5")
    assert json.loads(body) == record
    assert verify(secret, headers, body, float(now)) is None
    assert all("\r" not in v and "\n" not in v for v in headers.values())


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(record=st.dictionaries(st.text(), json_values, max_size=8),
       secret=st.text(min_size=16, max_size=64), now=st.integers(0, 2**40))  # fmt: skip
def test_property_every_body_verifies_long_budget(
    record: dict[str, Any], secret: str, now: int
) -> None:
    test_property_every_body_is_its_record_and_verifies.hypothesis.inner_test(record, secret, now)  # type: ignore[attr-defined]


def test_a_notifier_added_by_sighup_has_its_secrets_masked_from_the_start(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """Regression: a reload registered no secrets, so a webhook added by SIGHUP showed its
    URL path in urllib3's debug lines (the only place that prints it)."""
    import signal
    import time

    hook = WebhookReceiver(server, secret=None)
    quiet = server.static("/sighup-quiet.xml", ukraine_feed(0))
    news = server.static("/sighup-news.xml", ukraine_feed(1))
    cfg = tmp_path / "c.yaml"
    base = f"database: sqlite:///{tmp_path / 'p.db'}\ndelivery: {{tick: 1s}}\n"
    cfg.write_text(base + f"feeds: [{{url: '{quiet}'}}]\n")
    env = {**os.environ, "HOOK": hook.url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--config", str(cfg), "--log-level", "debug", "run"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not server.count("/sighup-quiet.xml") and time.monotonic() < deadline:
            time.sleep(0.05)
        cfg.write_text(
            base + f"feeds: [{{url: '{quiet}'}}, {{url: '{news}'}}]\n"
            "topics: [{name: Ukraina, query: Ukraina, notify: [w]}]\n"
            "notifiers: {w: {type: webhook, url: '${HOOK}'}}\n"
        )
        proc.send_signal(signal.SIGHUP)
        while not hook.accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(hook.accepted) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert "event=reload.ok" in err and "POST *** HTTP/1.1" in err
    assert hook.path not in err


def check_webhook(a: AlertMessage) -> None:
    """tests/test_fuzz.py's formatter registry: a webhook request for one hostile alert is
    its record as JSON, signed, and no feed text reaches a header."""
    from daemon.delivery.webhook import encode

    record = {"id": a.alert_id, "topic": a.topic, "title": a.title, "url": a.url,
              "outlet": a.outlet, "matched": list(a.matched), "snippet": a.snippet,
              "sources": [s.__dict__ for s in a.sources]}  # fmt: skip
    n = WebhookNotifier("w", "https://h.example/p", secret=SECRET, clock=lambda: 1_700_000_000)
    body = encode(record)
    headers = n.request_headers(body, "alert", "7")
    assert json.loads(body.decode("utf-8")) == record
    assert verify(SECRET, headers, body, 1_700_000_000) is None
    for value in headers.values():
        assert not any(c in value for c in "\r\n\0") and value.isascii()
