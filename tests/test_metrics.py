"""Metrics: scraped over real HTTP and read back with an independent exposition parser."""

from __future__ import annotations

import http.client
import math
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from daemon import __version__
from daemon.runtime import metrics
from daemon.runtime.metrics import Counter, Gauge, Histogram, MetricsServer, Registry, parse_listen

# Bypass any http_proxy in the environment: the scrape must hit our loopback server.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')

Sample = tuple[str, frozenset[tuple[str, str]], float]


def _unescape(v: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def parse_exposition(text: str) -> tuple[dict[str, str], dict[str, str], list[Sample]]:
    """HELP and TYPE per family, and samples; asserts every line is well formed."""
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    samples: list[Sample] = []
    assert text.endswith("\n")
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, doc = line[7:].partition(" ")
            helps[name] = _unescape(doc)
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}
            types[name] = kind
        else:
            m = _SAMPLE_RE.match(line)
            assert m, f"malformed sample line: {line!r}"
            labels: list[tuple[str, str]] = []
            if m.group(3):
                pos = 0
                for lm in _LABEL_RE.finditer(m.group(3)):
                    assert lm.start() == pos, f"junk in labels: {line!r}"
                    labels.append((lm.group(1), _unescape(lm.group(2))))
                    pos = lm.end()
                assert pos == len(m.group(3)), f"junk in labels: {line!r}"
            value = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(m.group(4))
            samples.append(
                (m.group(1), frozenset(labels), float(m.group(4)) if value is None else value)
            )
    return helps, types, samples


def value_of(samples: list[Sample], name: str, **labels: str) -> float:
    want = frozenset(labels.items())
    found = [v for n, lab, v in samples if n == name and lab == want]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


def scrape(server: MetricsServer, path: str = "/metrics") -> tuple[int, dict[str, str], str]:
    url = server.url.rsplit("/", 1)[0] + path
    try:
        with OPENER.open(url, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode("utf-8")


def test_scrape_counters_gauges_histogram_over_http() -> None:
    reg = Registry()
    polls = Counter("t_polls_total", "Polls by result", ["result"], registry=reg)
    up = Gauge("t_up", "Up", registry=reg)
    latency = Histogram("t_fetch_seconds", "Latency", registry=reg, buckets=(0.1, 1, 10))
    polls.labels(result="ok").inc()
    polls.labels(result="ok").inc(2)
    polls.labels("error").inc()
    up.set(1)
    for v in (0.05, 0.1, 0.5, 3, 100):
        latency.observe(v)

    with MetricsServer("127.0.0.1:0", reg) as server:
        status, headers, body = scrape(server)
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    helps, types, samples = parse_exposition(body)
    assert types == {"t_polls_total": "counter", "t_up": "gauge", "t_fetch_seconds": "histogram"}
    assert helps["t_polls_total"] == "Polls by result"
    assert value_of(samples, "t_polls_total", result="ok") == 3
    assert value_of(samples, "t_polls_total", result="error") == 1
    assert value_of(samples, "t_up") == 1
    # Buckets are cumulative; 0.1 falls in le="0.1" (upper bounds are inclusive).
    cumulative = {
        le: value_of(samples, "t_fetch_seconds_bucket", le=le) for le in ("0.1", "1", "10", "+Inf")
    }
    assert cumulative == {"0.1": 2, "1": 3, "10": 4, "+Inf": 5}
    assert value_of(samples, "t_fetch_seconds_count") == 5
    assert value_of(samples, "t_fetch_seconds_sum") == pytest.approx(103.65)


def test_hostile_label_values_are_escaped() -> None:
    reg = Registry()
    g = Gauge("t_last_success", "Last success", ["feed"], registry=reg)
    nasty = 'Antara "Terkini"\\n\nt_fake{feed="x"} 1\r\udcff'
    g.labels(feed=nasty).set(1700000000)
    with MetricsServer("127.0.0.1:0", reg) as server:
        _, _, body = scrape(server)
    _, _, samples = parse_exposition(body)  # a forged line would fail the parser or show up
    assert [n for n, _, _ in samples] == ["t_last_success"]
    ((_, labels, value),) = samples
    (feed,) = (v for k, v in labels if k == "feed")
    assert feed.startswith('Antara "Terkini"\\n\nt_fake{feed="x"} 1\r')
    assert value == 1700000000


def test_help_text_is_escaped() -> None:
    reg = Registry()
    Counter("t_x_total", "line one\nline two \\ end", registry=reg)
    helps, _, _ = parse_exposition(reg.render())
    assert helps["t_x_total"] == "line one\nline two \\ end"


def test_collect_runs_before_each_scrape() -> None:
    reg = Registry()
    deliveries = Gauge("t_deliveries", "By status", ["status"], registry=reg)
    calls: list[int] = []

    def collect() -> None:
        calls.append(1)
        n = len(calls)
        # Second refresh: "failed" disappeared from the database and must go.
        data = {"pending": n, "sent": 10 * n}
        if n == 1:
            data["failed"] = 7
        deliveries.replace(data)

    with MetricsServer("127.0.0.1:0", reg, collect=collect) as server:
        _, _, first = scrape(server)
        _, _, second = scrape(server)
    _, _, s1 = parse_exposition(first)
    _, _, s2 = parse_exposition(second)
    assert value_of(s1, "t_deliveries", status="pending") == 1
    assert value_of(s1, "t_deliveries", status="failed") == 7
    assert value_of(s2, "t_deliveries", status="sent") == 20
    assert not [x for x in s2 if ("status", "failed") in x[1]]
    assert len(calls) == 2


def test_failing_collect_still_serves_and_counts() -> None:
    reg = Registry()
    Gauge("t_up", "Up", registry=reg).set(1)
    before = metrics.COLLECT_ERRORS.value()

    def collect() -> None:
        raise RuntimeError("database is locked")

    with MetricsServer("127.0.0.1:0", reg, collect=collect) as server:
        status, _, body = scrape(server)
    assert status == 200
    assert value_of(parse_exposition(body)[2], "t_up") == 1
    assert metrics.COLLECT_ERRORS.value() == before + 1


def test_other_paths_404_and_head() -> None:
    reg = Registry()
    Gauge("t_up", "Up", registry=reg)
    with MetricsServer("127.0.0.1:0", reg) as server:
        assert scrape(server, "/")[0] == 404
        assert scrape(server, "/metrics/../etc/passwd")[0] == 404
        assert scrape(server, "/metrics?name[]=x")[0] == 200
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("HEAD", "/metrics")
        resp = conn.getresponse()
        assert resp.status == 200
        assert int(resp.headers["Content-Length"]) > 0
        assert resp.read() == b""
        conn.close()


def test_concurrent_scrapes_never_overlap_collect() -> None:
    """A refresh is never half-seen: the first collect() waits (briefly) for a second scrape's
    collect() to enter; with scrapes serialised it never does."""
    reg = Registry()
    Gauge("t_up", "Up", registry=reg)
    inside = threading.Semaphore(0)
    overlapped: list[bool] = []
    first = threading.Event()

    def collect() -> None:
        inside.release()
        if not first.is_set():
            first.set()
            # Two entries already in flight would mean two collects at once.
            overlapped.append(inside.acquire(timeout=0.3) and inside.acquire(timeout=0.3))

    with MetricsServer("127.0.0.1:0", reg, collect=collect) as server:
        threads = [threading.Thread(target=scrape, args=(server,)) for _ in range(2)]
        threads[0].start()
        assert first.wait(5)
        threads[1].start()
        for t in threads:
            t.join(10)
    assert overlapped == [False]


def test_ipv6_loopback_listen() -> None:
    reg = Registry()
    Gauge("t_up", "Up", registry=reg).set(1)
    try:
        server = MetricsServer("[::1]:0", reg)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        assert server.url.startswith("http://[::1]:")
        status, _, body = scrape(server)
    assert status == 200
    assert value_of(parse_exposition(body)[2], "t_up") == 1


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("[::1]:9464", ("::1", 9464)),
        ("localhost:80", ("localhost", 80)),
    ],
)
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["9464", ":9464", "host:", "host:http", "host:70000", ""])
def test_parse_listen_rejects(listen: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(listen)


# --- API misuse is caught at the call site --------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda reg: Counter("bad-name", "x", registry=reg),
        lambda reg: Counter("t_total", "x", ["__reserved"], registry=reg),
        lambda reg: Histogram("t_h", "x", ["le"], registry=reg),
        lambda reg: Histogram("t_h", "x", registry=reg, buckets=(1, 1)),
    ],
)
def test_bad_definitions(make: Callable[[Registry], object]) -> None:
    with pytest.raises(ValueError):
        make(Registry())


def test_misuse_raises() -> None:
    reg = Registry()
    c = Counter("t_total", "x", ["result"], registry=reg)
    with pytest.raises(ValueError):
        c.labels(result="ok").inc(-1)
    with pytest.raises(ValueError):
        c.labels(outcome="ok")
    with pytest.raises(ValueError):
        c.labels("ok", "extra")
    with pytest.raises(ValueError):
        Counter("t_total", "again", registry=reg)


def test_nan_observation_is_ignored() -> None:
    reg = Registry()
    h = Histogram("t_h", "x", registry=reg, buckets=(1,))
    h.observe(math.nan)
    h.observe(math.inf)
    _, _, s = parse_exposition(reg.render())
    assert value_of(s, "t_h_count") == 1
    assert value_of(s, "t_h_bucket", le="1") == 0


# --- pantau's own metric set ----------------------------------------------------------------


def test_pantau_metrics_render_and_ratio() -> None:
    """The module-level set: every family present, typed, and the 304 ratio derived."""
    for result, n in (("ok", 1), ("not_modified", 3)):
        metrics.POLLS.labels(result=result).inc(n)
    helps, types, samples = parse_exposition(metrics.REGISTRY.render())
    expected = {
        "pantau_build_info": "gauge",
        "pantau_polls_total": "counter",
        "pantau_not_modified_ratio": "gauge",
        "pantau_fetch_seconds": "histogram",
        "pantau_items_new_total": "counter",
        "pantau_stories_new_total": "counter",
        "pantau_alerts_total": "counter",
        "pantau_delivery_attempts_total": "counter",
        "pantau_deliveries": "gauge",
        "pantau_oldest_pending_delivery_age_seconds": "gauge",
        "pantau_feed_last_success_timestamp_seconds": "gauge",
        "pantau_metrics_collect_errors_total": "counter",
    }
    assert types == expected
    assert all(helps[name] for name in expected)
    assert value_of(samples, "pantau_build_info", version=__version__) == 1
    for result in metrics.POLL_RESULTS:
        value_of(samples, "pantau_polls_total", result=result)  # present from the start
    ok = metrics.POLLS.value(result="ok")
    nm = metrics.POLLS.value(result="not_modified")
    unchanged = metrics.POLLS.value(result="unchanged")
    assert value_of(samples, "pantau_not_modified_ratio") == pytest.approx(
        nm / (ok + nm + unchanged)
    )


def test_not_modified_ratio_excludes_errors_and_handles_zero() -> None:
    reg = Registry()
    polls = Counter("t_polls_total", "x", ["result"], registry=reg)
    assert math.isnan(metrics.not_modified_ratio(polls))
    polls.labels(result="error").inc(5)
    assert math.isnan(metrics.not_modified_ratio(polls))
    polls.labels(result="not_modified").inc(1)
    polls.labels(result="ok").inc(2)
    polls.labels(result="unchanged").inc(1)
    assert metrics.not_modified_ratio(polls) == 0.25
