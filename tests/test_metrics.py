"""Metrics: scraped over real HTTP and read back with an independent exposition parser."""

from __future__ import annotations

import http.client
import math
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families

from daemon import __version__
from daemon.runtime import metrics
from daemon.runtime.metrics import MetricsServer, Registry, parse_listen

# Bypass any http_proxy in the environment: the scrape must hit our loopback server.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

Sample = tuple[str, frozenset[tuple[str, str]], float]


def parse_exposition(text: str) -> tuple[dict[str, str], dict[str, str], list[Sample]]:
    """HELP and TYPE per family (as prometheus_client's parser names them: a counter
    without its ``_total``), and samples."""
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    samples: list[Sample] = []
    assert text.endswith("\n")
    for family in text_string_to_metric_families(text):
        helps[family.name] = family.documentation
        types[family.name] = family.type
        samples += [(x.name, frozenset(x.labels.items()), x.value) for x in family.samples]
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
    assert types == {"t_polls": "counter", "t_up": "gauge", "t_fetch_seconds": "histogram"}
    assert helps["t_polls"] == "Polls by result"
    assert value_of(samples, "t_polls_total", result="ok") == 3
    assert value_of(samples, "t_polls_total", result="error") == 1
    assert value_of(samples, "t_up") == 1
    # Buckets are cumulative; 0.1 falls in le="0.1" (upper bounds are inclusive).
    cumulative = {
        le: value_of(samples, "t_fetch_seconds_bucket", le=le)
        for le in ("0.1", "1.0", "10.0", "+Inf")
    }
    assert cumulative == {"0.1": 2, "1.0": 3, "10.0": 4, "+Inf": 5}
    assert value_of(samples, "t_fetch_seconds_count") == 5
    assert value_of(samples, "t_fetch_seconds_sum") == pytest.approx(103.65)


def test_hostile_label_values_are_escaped() -> None:
    reg = Registry()
    g = Gauge("t_last_success", "Last success", ["feed"], registry=reg)
    nasty = 'Antara "Terkini"\\n\nt_fake{feed="x"} 1\r\udcff'
    g.labels(feed=metrics.label(nasty)).set(1700000000)
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
    assert helps["t_x"] == "line one\nline two \\ end"


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
        metrics.replace(deliveries, data)

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
    before = metrics.value(metrics.COLLECT_ERRORS)

    def collect() -> None:
        raise RuntimeError("database is locked")

    with MetricsServer("127.0.0.1:0", reg, collect=collect) as server:
        status, _, body = scrape(server)
    assert status == 200
    assert value_of(parse_exposition(body)[2], "t_up") == 1
    assert metrics.value(metrics.COLLECT_ERRORS) == before + 1


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


# --- pantau's own metric set ----------------------------------------------------------------


def test_pantau_metrics_render_and_ratio() -> None:
    """The module-level set: every family present, typed, and the 304 ratio derived."""
    for result, n in (("ok", 1), ("not_modified", 3)):
        metrics.POLLS.labels(result=result).inc(n)
    helps, types, samples = parse_exposition(metrics.REGISTRY.render())
    expected = {
        "pantau_build_info": "gauge",
        "pantau_polls": "counter",
        "pantau_not_modified_ratio": "gauge",
        "pantau_fetch_seconds": "histogram",
        "pantau_items_new": "counter",
        "pantau_stories_new": "counter",
        "pantau_alerts": "counter",
        "pantau_delivery_attempts": "counter",
        "pantau_deliveries": "gauge",
        "pantau_oldest_pending_delivery_age_seconds": "gauge",
        "pantau_feed_last_success_timestamp_seconds": "gauge",
        "pantau_metrics_collect_errors": "counter",
    }
    assert types == expected
    assert all(helps[name] for name in expected)
    assert value_of(samples, "pantau_build_info", version=__version__) == 1
    for result in metrics.POLL_RESULTS:
        value_of(samples, "pantau_polls_total", result=result)  # present from the start
    ok = metrics.value(metrics.POLLS, result="ok")
    nm = metrics.value(metrics.POLLS, result="not_modified")
    unchanged = metrics.value(metrics.POLLS, result="unchanged")
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


def test_slow_clients_cannot_hold_more_than_a_few_threads() -> None:
    """40 clients that connect and say nothing: at most ``max_connections`` get a thread, the
    rest are closed at once; the silent ones are cut after the idle timeout, and a scrape
    works again."""
    reg = Registry()
    Gauge("t_up", "Up", registry=reg).set(1)
    threads_before = threading.active_count()
    with MetricsServer("127.0.0.1:0", reg, max_connections=4, idle_timeout=2.0) as server:
        clients = [socket.create_connection(("127.0.0.1", server.port), 5) for _ in range(40)]
        try:
            most = 0
            deadline = time.monotonic() + 10
            while server.refused < 36 and time.monotonic() < deadline:
                most = max(most, server.connections, threading.active_count() - threads_before - 1)
                time.sleep(0.01)  # waiting for the server to have taken all 40
            assert server.refused == 36 and most <= 4  # (the - 1: the accept loop's thread)
            deadline = time.monotonic() + 10
            while server.connections and time.monotonic() < deadline:
                time.sleep(0.01)  # the idle timeout ends the silent ones
            assert server.connections == 0
            status, _, body = scrape(server)
            assert status == 200 and value_of(parse_exposition(body)[2], "t_up") == 1
        finally:
            for c in clients:
                c.close()


def test_the_daemon_counts_what_it_polls_on_its_endpoint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`pantau run` with `metrics.listen`: a scrape shows the polls, the new items and the
    alerts of the cycle it ran (the daemon counts; `run --once`, which serves no endpoint,
    does not, see daemon/runtime/counting.py)."""
    import signal
    import subprocess
    import sys

    from daemon.demo.loopback import LoopbackServer
    from tests import webdata
    from tests.feedgen import entries, rss
    from tests.smtpstub import free_port
    from tests.test_pipeline import ROOT
    from tests.waits import wait_until

    port = free_port()
    with LoopbackServer() as outlets:
        feeds = [outlets.static(f"/f{k}.xml", rss(f"Kabar{k}", entries(k, 3))) for k in range(2)]
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\n"
            f"metrics: {{listen: '127.0.0.1:{port}'}}\n"
            "topics:\n  - {name: Lembaga, query: 'KPK OR DPR OR di', notify: []}\n"
            "feeds:\n"
            + "".join(f"  - {{url: '{u}', name: Kabar{k}}}\n" for k, u in enumerate(feeds))
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "daemon", "--config", str(cfg), "run"], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        with webdata.running(proc):
            samples: list[Sample] = []

            def polled() -> bool:
                nonlocal samples
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                        _, _, samples = parse_exposition(r.read().decode())
                except OSError:
                    return False
                return value_of(samples, "pantau_polls_total", result="ok") >= 2

            wait_until(polled, what="both feeds' polls counted on the endpoint")
            assert sum(v for n, _, v in samples if n == "pantau_items_new_total") == 6
            assert sum(v for n, _, v in samples if n == "pantau_alerts_total") >= 1
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
