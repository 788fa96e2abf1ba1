"""Slack webhook sender against a real HTTP server on loopback."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from daemon.delivery import Source, build_notifier
from daemon.delivery.slack import (
    CONTEXT_ELEMENTS_MAX,
    SlackNotifier,
    parse_retry_after,
)
from daemon.demo.loopback import LoopbackServer, send
from daemon.ratelimit import RateLimiter
from tests.alerts import STORY, alert
from tests.slackstub import SECRET, SlackStub, webhook_path


@pytest.fixture
def stub(server: LoopbackServer) -> Iterator[SlackStub]:
    with SlackStub(server) as s:
        yield s


def notifier(stub: SlackStub, **kw: Any) -> SlackNotifier:
    """Own limiter with no spacing, so tests that are not about the rate limit stay fast."""
    kw.setdefault("limiter", RateLimiter(0.0))
    kw.setdefault("timeout", 2.0)
    return SlackNotifier("newsroom", stub.url, **kw)


def mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    out = [payload["text"]]
    for b in payload["blocks"]:
        if "text" in b:
            out.append(b["text"]["text"])
        out.extend(e["text"] for e in b.get("elements", []))
    return out


def angle_segments(payload: dict[str, Any]) -> list[str]:
    return [seg for t in mrkdwn_texts(payload) for seg in re.findall(r"<([^>]*)>", t)]


def test_message_has_link_time_topic_terms_and_other_outlets(stub: SlackStub) -> None:
    result = notifier(stub).send([alert()])
    assert result.ok and not result.permanent
    assert result.detail == "200 ok"
    [payload] = stub.payloads
    hit = stub.hits[0]
    assert hit.method == "POST" and hit.headers["User-Agent"].startswith("pantau/")
    assert hit.headers["Content-Type"] == "application/json"
    section = payload["blocks"][0]["text"]
    assert section["type"] == "mrkdwn"
    link = STORY.replace("&", "&amp;")
    assert f"<{link}|Menlu RI bahas bantuan kemanusiaan untuk Ukraina>" in section["text"]
    # 13:20 UTC on Thursday 16 December 2021 is 20:20 WIB.
    everything = "\n".join(mrkdwn_texts(payload))
    assert "Kamis, 16 Des 2021 20:20 WIB" in everything
    assert "Antara" in section["text"]
    assert "Ukraina" in everything and "Kyiv" in everything
    assert "Juga dimuat: Republika, Okezone" in everything
    assert "Jakarta (ANTARA)" in section["text"]
    assert payload["blocks"][1]["type"] == "context"
    assert "Menlu RI" in payload["text"]


@pytest.mark.parametrize(
    "title",
    [
        "<!channel> Darurat di Kyiv",
        "<!here|here> dan <!everyone> baca",
        "Pesan untuk <@U123ABC> dan <#C0123|umum>",
        "Berita <https://evil.example|klik di sini> penting",
        "Judul> <https://evil.example|x",
        "Tutup tautan|palsu> <!subteam^S123>",
    ],
)
def test_feed_text_cannot_ping_or_forge_links(stub: SlackStub, title: str) -> None:
    a = alert(
        title=title,
        outlet=title,
        snippet=title,
        topic="Ukraina",
        matched=(title,),
        sources=(Source("Antara", STORY, title), Source(title, None, title)),
    )
    assert notifier(stub).send([a]).ok
    [payload] = stub.payloads
    link = STORY.replace("&", "&amp;")
    for seg in angle_segments(payload):
        assert seg.startswith(link + "|"), seg
    # The only markup is our own single link, in the section.
    assert len(angle_segments(payload)) == 1
    for t in mrkdwn_texts(payload):
        assert "<!" not in t and "<@" not in t and "<#" not in t and "<https://evil" not in t


def test_ampersands_are_escaped_once_so_the_literal_text_survives(stub: SlackStub) -> None:
    a = alert(title="Harga BBM &amp; emas naik & turun", snippet="A &lt;b&gt; C")
    assert notifier(stub).send([a]).ok
    [payload] = stub.payloads
    section = payload["blocks"][0]["text"]["text"]
    # Slack decodes one level, so the reader sees exactly the feed's "&amp;" and "&".
    assert "Harga BBM &amp;amp; emas naik &amp; turun" in section
    assert "A &amp;lt;b&amp;gt; C" in section


def test_plain_mass_mentions_are_defused(stub: SlackStub) -> None:
    assert notifier(stub).send([alert(title="Halo @channel dan @here")]).ok
    [payload] = stub.payloads
    for t in mrkdwn_texts(payload):
        assert "@channel" not in t and "@here" not in t


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>x</script>",
        "ftp://files.example/a",
        "//evil.example/no-scheme",
        "https://",
        "https://ok.example/\nfoo",
        None,
    ],
)
def test_only_http_urls_become_links(stub: SlackStub, url: str | None) -> None:
    assert notifier(stub).send([alert(url=url)]).ok
    [payload] = stub.payloads
    assert angle_segments(payload) == []
    assert "Menlu RI bahas" in payload["blocks"][0]["text"]["text"]
    assert "javascript" not in json.dumps(payload).lower()


def test_pipe_and_angle_in_url_cannot_break_link_syntax(stub: SlackStub) -> None:
    url = "https://news.example/a|b>c<d e?x=1&y=2"
    assert notifier(stub).send([alert(url=url, title="Judul aman")]).ok
    [payload] = stub.payloads
    [seg] = angle_segments(payload)
    target, _, label = seg.partition("|")
    assert label == "Judul aman"
    assert target == "https://news.example/a%7Cb%3Ec%3Cd%20e?x=1&amp;y=2"


def test_long_texts_are_cut_to_slack_limits(stub: SlackStub) -> None:
    many = tuple(Source(f"Outlet{i} &", f"https://o{i}.example/", "t") for i in range(300))
    a = alert(
        title="Judul & <panjang> " * 2000,
        snippet="&<>" * 50_000,
        outlet="Outlet & co " * 100,
        matched=tuple(f"istilah{i}&" for i in range(500)),
        sources=many,
    )
    assert notifier(stub).send([a]).ok
    [payload] = stub.payloads
    assert len(payload["text"]) <= 40_000
    assert 1 <= len(payload["blocks"]) <= 50
    section = payload["blocks"][0]["text"]["text"]
    assert len(section) <= 3000
    elements = payload["blocks"][1]["elements"]
    assert 1 <= len(elements) <= CONTEXT_ELEMENTS_MAX
    assert all(len(e["text"]) <= 3000 for e in elements)
    # Cutting never leaves half an entity behind.
    for t in mrkdwn_texts(payload):
        assert not re.search(r"&(?!amp;|lt;|gt;)", t), t[-40:]


def test_long_url_is_dropped_rather_than_overflowing_the_section(stub: SlackStub) -> None:
    url = "https://news.example/" + "a&" * 1000
    assert notifier(stub).send([alert(url=url)]).ok
    [payload] = stub.payloads
    assert len(payload["blocks"][0]["text"]["text"]) <= 3000


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (500, "rollup_error", False),
        (503, "service unavailable", False),
        (404, "no_service", True),
        (404, "channel_not_found", True),
        (410, "channel_is_archived", True),
        (403, "invalid_token", True),
        (403, "action_prohibited", True),
        (400, "invalid_payload", True),
    ],
)
def test_error_answers_map_to_retry_or_give_up(
    stub: SlackStub, status: int, body: str, permanent: bool
) -> None:
    stub.reply(status, body)
    result = notifier(stub).send([alert()])
    assert not result.ok
    assert result.permanent is permanent
    assert result.detail == f"{status} {body}"
    assert SECRET not in result.detail


def test_429_gives_retry_after_and_holds_later_sends_locally(stub: SlackStub) -> None:
    stub.reply(429, "rate_limited", {"Retry-After": "30"})
    n = notifier(stub)
    first = n.send([alert()])
    second = n.send([alert(alert_id=2)])
    hits = len(stub.hits)
    assert not first.ok and not first.permanent and first.retry_after == 30
    # The next message is not sent into a known rate limit.
    assert not second.ok and not second.permanent
    assert second.retry_after is not None and 25 < second.retry_after <= 30
    assert hits == 1


def test_error_body_echoing_the_webhook_url_is_redacted(stub: SlackStub) -> None:
    stub.reply(400, f"invalid_payload for {stub.url} path {stub.path}")
    result = notifier(stub).send([alert()])
    assert result.permanent
    assert SECRET not in result.detail and "services/T0" not in result.detail


def test_redirect_is_not_followed_and_is_permanent(server: LoopbackServer) -> None:
    target = server.route("/elsewhere", lambda r: send(r, 200, b"ok"))
    url = server.route(webhook_path(), lambda r: send(r, 302, b"", {"Location": target}))
    result = SlackNotifier("n", url, limiter=RateLimiter(0), timeout=2).send([alert()])
    assert server.count("/elsewhere") == 0
    assert not result.ok and result.permanent


def test_connection_refused_is_retryable_and_hides_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}{webhook_path()}"
    result = SlackNotifier("n", url, limiter=RateLimiter(0), timeout=2).send([alert()])
    assert not result.ok and not result.permanent
    assert SECRET not in result.detail and str(port) not in result.detail


def test_hanging_server_times_out_and_is_retryable(server: LoopbackServer) -> None:
    release = threading.Event()

    def hang(req: Any) -> None:
        release.wait(10)
        send(req, 200, b"ok")

    url = server.route(webhook_path(), hang)
    start = time.monotonic()
    result = SlackNotifier("n", url, limiter=RateLimiter(0), timeout=0.3).send([alert()])
    elapsed = time.monotonic() - start
    release.set()
    assert not result.ok and not result.permanent
    assert "timeout" in result.detail.lower()
    assert elapsed < 2.0
    assert SECRET not in result.detail


def test_two_messages_to_one_webhook_are_at_least_a_second_apart(stub: SlackStub) -> None:
    """The process-wide limiter (not the test) spaces the requests; the stub timestamps."""
    n = SlackNotifier("newsroom", stub.url, timeout=2)  # default, shared limiter
    assert n.send([alert(alert_id=1)]).ok
    # A second notifier object for the same webhook shares the limit.
    again = SlackNotifier("newsroom-2", stub.url, timeout=2)
    assert again.send([alert(alert_id=2)]).ok
    t = stub.arrival_times()
    assert len(t) == 2
    assert t[1] - t[0] >= 0.9


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)


def test_limiter_queues_senders_per_key() -> None:
    clock = FakeClock()
    lim = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    assert lim.reserve("a", 5) == (True, 0.0)
    assert lim.reserve("a", 5) == (True, 1.0)
    assert lim.reserve("a", 5) == (True, 2.0)
    assert lim.reserve("b", 5) == (True, 0.0)  # another webhook is independent
    clock.now += 10
    assert lim.reserve("a", 5) == (True, 0.0)  # idle time is not banked
    assert lim.reserve("a", 0.5) == (False, 1.0)  # too long a wait: nothing reserved
    assert lim.reserve("a", 5) == (True, 1.0)
    lim.defer("b", 30)
    assert lim.acquire("b", 5) == 30.0
    assert clock.slept == []


def test_limiter_gives_concurrent_threads_distinct_slots() -> None:
    clock = FakeClock()
    lim = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def go() -> None:
        granted, wait = lim.reserve("k", 100)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=go) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(waits) == [float(i) for i in range(20)]


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after("12", now) == 12
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert parse_retry_after("-5", now) is None  # not delta-seconds (the same rule as feeds)
    assert parse_retry_after("1.5", now) is None
    assert parse_retry_after("99999999", now) == 3600
    assert parse_retry_after("nan", now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_build_from_config_and_send_test(stub: SlackStub) -> None:
    cfg = SimpleNamespace(type="slack", webhook_url=stub.url, timeout=2.0)
    n = build_notifier("newsroom", cfg)
    assert n.name == "newsroom" and n.digest is None
    assert SECRET not in repr(n)
    result = n.send_test()
    [payload] = stub.payloads
    assert result.ok and result.detail == "200 ok"
    assert payload["text"].startswith("pantau: pesan uji dari ")
    assert socket.gethostname()[:20] in payload["text"]


def test_bad_webhook_url_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError):
        build_notifier("x", {"type": "slack", "webhook_url": "javascript:alert(1)"})
    with pytest.raises(ValueError):
        build_notifier("x", {"type": "pager"})


def test_send_takes_exactly_one_alert() -> None:
    n = SlackNotifier("n", "https://hooks.slack.invalid/services/x", limiter=RateLimiter(0))
    with pytest.raises(ValueError):
        n.send([alert(), alert(alert_id=2)])


def test_hostile_error_body_is_cleaned_and_capped(stub: SlackStub) -> None:
    stub.reply(500, "gagal\x1b[31m\r\nX-Palsu: 1 " + "y" * 100_000)
    result = notifier(stub).send([alert()])
    assert not result.ok and not result.permanent
    assert len(result.detail) <= 210
    assert "\x1b" not in result.detail and "\n" not in result.detail


def test_feeds_and_slack_read_retry_after_alike() -> None:
    """One reading of Retry-After (daemon.retry): only the caps differ."""
    from email.utils import formatdate

    from daemon.feeds import fetch

    now = 1_800_000_000.0
    for v in (
        "120",
        " 7 ",
        "-5",
        "1.5",
        "nan",
        "soon",
        "",
        None,
        formatdate(now + 90, usegmt=True),
    ):
        assert parse_retry_after(v, now) == fetch.parse_retry_after(v, now), v


def _utf16_units(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


@pytest.mark.parametrize("char", ["\U0001f601", "&", "a", "\u00e9"])
def test_texts_fit_slacks_limits_in_utf16_units(stub: SlackStub, char: str) -> None:
    """Slack counts UTF-16 code units: 3,000 code points of emoji are 6,000 units, and the
    section went out at ~3,800-4,400 units (issue 24)."""
    long = alert(
        title=char * 2000, snippet=char * 6000, outlet=char * 300, url=STORY + "&x=" + "a" * 1400,
        matched=tuple(char * 200 for _ in range(20)),
        sources=tuple(Source(char * 120 + str(i), None, "t") for i in range(30)),
    )  # fmt: skip
    assert notifier(stub).send([long]).ok
    [payload] = stub.payloads
    section = payload["blocks"][0]["text"]["text"]
    assert _utf16_units(section) <= 3000
    for element in payload["blocks"][1]["elements"]:
        assert _utf16_units(element["text"]) <= 3000
    assert _utf16_units(payload["text"]) <= 40_000


def test_other_outlets_cannot_mention_the_channel(stub: SlackStub) -> None:
    """Found by the long fuzz run (tests/test_fuzz.py, seed 24): "Juga dimuat" listed the
    other outlets escaped for <>& but with a plain-text @here left intact."""
    a = alert(sources=(Source("@here", None, "t"), Source("Tempo @channel", None, "t")))
    assert notifier(stub).send([a]).ok
    context = " ".join(e["text"] for e in stub.payloads[0]["blocks"][1]["elements"])
    assert "Juga dimuat" in context
    assert not re.search(r"(?<!\u2060)@(?:here|channel)\b", context.replace("@\u2060", "")), context
