"""Prometheus metrics: pantau's metric set on ``prometheus_client``, and a loopback HTTP
endpoint that refreshes the database-derived gauges before each scrape.

The exposition is prometheus_client's (text format 0.0.4) on a registry of pantau's own:
no process or platform collectors, no ``_created`` series. The endpoint is ours rather than
``prometheus_client.start_http_server`` because a scrape first runs a ``collect`` hook (one
at a time, so a refresh is never half-seen), and because an endpoint reachable by others
must bound what slow clients can hold: at most ``max_connections`` at once, each cut after
``idle_timeout`` seconds of silence; connections beyond the cap are closed at once.

Derived series (PromQL): 304 ratio is
``rate(pantau_polls_total{result="not_modified"}[1h]) / rate(pantau_polls_total{result!="error"}[1h])``;
it is also exported directly as ``pantau_not_modified_ratio`` for dashboards without PromQL.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import AF_INET, AF_INET6
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from daemon import __version__

log = logging.getLogger(__name__)

disable_created_metrics()  # a ``_created`` series per counter: noise for pantau's dashboards

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_CONNECTIONS = 8  # scrapes in flight at once; more are closed unanswered
IDLE_TIMEOUT = 10.0  # seconds a connection may stay silent mid-request


class Registry(CollectorRegistry):
    """A registry without the process-wide default collectors."""

    def __init__(self) -> None:
        super().__init__(auto_describe=True)

    def render(self) -> str:
        return generate_latest(self).decode("utf-8")


REGISTRY = Registry()


def label(value: str) -> str:
    """A label value that any name can become: text that cannot be encoded as UTF-8 (a lone
    surrogate from a config file) would otherwise fail every scrape."""
    return value.encode("utf-8", "replace").decode("utf-8")


def value(metric: Counter | Gauge, **labels: str) -> float:
    """The current value of a counter's or gauge's series (0 for one never touched)."""
    for family in metric.collect():
        for s in family.samples:
            if s.name in (family.name, family.name + "_total") and s.labels == labels:
                return float(s.value)
    return 0.0


def replace(gauge: Gauge, values: Mapping[str, float] | Mapping[tuple[str, ...], float]) -> None:
    """Set every series at once and drop those not given, as a refresh from the database
    does (a status with no deliveries left must read 0 or vanish, not keep its old value).
    Keys are label-value tuples, or plain strings for one label. Called from ``collect``,
    under the scrape lock."""
    gauge.clear()
    for k, v in values.items():
        gauge.labels(*((k,) if isinstance(k, str) else k)).set(float(v))


# --- pantau's metrics ---------------------------------------------------------------------------
# Written by the poller, story grouper, matcher and dispatcher as things happen; the
# database-derived gauges (DELIVERIES, OLDEST_PENDING_DELIVERY_SECONDS, LAST_SUCCESS) are
# refreshed by the ``collect`` hook right before each scrape.

POLL_RESULTS = ("ok", "not_modified", "unchanged", "error")
DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)

BUILD_INFO = Gauge(
    "pantau_build_info", "pantau version (value is always 1)", ["version"], registry=REGISTRY
)
POLLS = Counter(
    "pantau_polls_total",
    "Feed polls by result: ok (parsed), not_modified (HTTP 304), unchanged (same body hash), error",
    ["result"],
    registry=REGISTRY,
)
NOT_MODIFIED_RATIO = Gauge(
    "pantau_not_modified_ratio",
    "Share of completed polls answered 304 Not Modified since start (NaN before any)",
    registry=REGISTRY,
)
FETCH_SECONDS = Histogram(
    "pantau_fetch_seconds",
    "Feed fetch latency, body included, in seconds",
    registry=REGISTRY,
    buckets=DEFAULT_BUCKETS,
)
ITEMS_NEW = Counter(
    "pantau_items_new_total", "New feed items stored, by feed", ["feed"], registry=REGISTRY
)
STORIES_NEW = Counter(
    "pantau_stories_new_total", "New stories (first copy of an event)", registry=REGISTRY
)
ALERTS = Counter("pantau_alerts_total", "Alerts raised, by topic", ["topic"], registry=REGISTRY)
DELIVERY_ATTEMPTS = Counter(
    "pantau_delivery_attempts_total",
    "Delivery attempts by notifier and result (sent, retry, failed)",
    ["notifier", "result"],
    registry=REGISTRY,
)
DELIVERY_STATUSES = ("pending", "sent", "failed")
# Refresh with replace(DELIVERIES, {status: count for every status in DELIVERY_STATUSES}).
DELIVERIES = Gauge(
    "pantau_deliveries", "Deliveries in the database, by status", ["status"], registry=REGISTRY
)
OLDEST_PENDING_DELIVERY_SECONDS = Gauge(
    "pantau_oldest_pending_delivery_age_seconds",
    "Age of the oldest pending delivery in seconds (0 when none is pending)",
    registry=REGISTRY,
)
LAST_SUCCESS = Gauge(
    "pantau_feed_last_success_timestamp_seconds",
    "Unix time of the last successful poll, by feed",
    ["feed"],
    registry=REGISTRY,
)
COLLECT_ERRORS = Counter(
    "pantau_metrics_collect_errors_total",
    "Scrapes whose database refresh failed (database-derived gauges are stale)",
    registry=REGISTRY,
)


def not_modified_ratio(polls: Counter = POLLS) -> float:
    """304s among polls that got an answer (errors excluded): how well conditional GET works."""
    answered = sum(value(polls, result=r) for r in ("ok", "not_modified", "unchanged"))
    return value(polls, result="not_modified") / answered if answered else math.nan


def _ratio_or_nan() -> float:
    try:
        return not_modified_ratio()
    except Exception as exc:  # noqa: BLE001 - a broken derivation must not fail a scrape
        log.warning("metric pantau_not_modified_ratio failed: %s", exc)
        return math.nan


NOT_MODIFIED_RATIO.set_function(_ratio_or_nan)
BUILD_INFO.labels(version=__version__).set(1)
for _result in POLL_RESULTS:
    POLLS.labels(result=_result).inc(0)  # every result visible (as 0) from the first scrape


# --- the HTTP endpoint ------------------------------------------------------------------------


def parse_listen(listen: str) -> tuple[str, int]:
    """``127.0.0.1:9464``, ``[::1]:9464``, ``localhost:9464`` → (host, port)."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected host:port such as 127.0.0.1:9464, not {listen!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ValueError(f"missing host in {listen!r} (use 127.0.0.1 or 0.0.0.0)")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP (127.0.0.0/8, ``::1``, brackets allowed); a name is
    never resolved. The metrics endpoint warns off loopback; the dashboard demands auth."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "pantau-metrics"
    sys_version = ""

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # a silent client does not hold a thread long
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(with_body=False)

    def _respond(self, with_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path != "/metrics":
            body = b"not found; metrics are at /metrics\n"
            self._send(404, "text/plain; charset=utf-8", body, with_body)
            return
        body = self.server.scrape().encode("utf-8", errors="replace")
        self._send(200, CONTENT_TYPE, body, with_body)

    def _send(self, status: int, ctype: str, body: bytes, with_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - overridden name
        log.debug("metrics http: " + format, *args)


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` of them."""

    daemon_threads = True
    request_queue_size = 64  # a burst is accepted (and refused past the cap) at once
    registry: Registry
    collect: Callable[[], None] | None
    scrape_lock: threading.Lock
    idle_timeout: float
    max_connections: int
    active: int
    refused: int
    count_lock: threading.Lock

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.count_lock:
            full = self.active >= self.max_connections
            if full:
                self.refused += 1
            else:
                self.active += 1
        if full:  # closed unanswered: a thread per slow client is what the cap prevents
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def _release(self) -> None:
        with self.count_lock:
            self.active -= 1

    def scrape(self) -> str:
        """collect() then render, one scrape at a time so a refresh is never half-seen."""
        with self.scrape_lock:
            if self.collect is not None:
                try:
                    self.collect()
                except Exception as exc:  # noqa: BLE001 - serve what we have rather than nothing
                    COLLECT_ERRORS.inc()
                    log.warning("metrics collect failed: %s: %s", type(exc).__name__, exc)
            return self.registry.render()


class MetricsServer:
    """Serves ``/metrics`` from a background thread. ``collect`` runs before each scrape."""

    def __init__(
        self,
        listen: str,
        registry: Registry = REGISTRY,
        collect: Callable[[], None] | None = None,
        *,
        max_connections: int = MAX_CONNECTIONS,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.host, port = parse_listen(listen)
        family = AF_INET6 if ":" in self.host else AF_INET
        server_cls = type("_BoundServer", (_Server,), {"address_family": family})
        self._server: _Server = server_cls((self.host, port), _Handler)
        self._server.registry = registry
        self._server.collect = collect
        self._server.scrape_lock = threading.Lock()
        self._server.idle_timeout = idle_timeout
        self._server.max_connections = max_connections
        self._server.active = self._server.refused = 0
        self._server.count_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if not is_loopback(self.host):
            log.warning(
                "metrics listen on %s: feed and topic names are visible to anyone who can reach it",
                listen,
            )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    @property
    def connections(self) -> int:
        """Connections being served now (each holds a thread)."""
        with self._server.count_lock:
            return self._server.active

    @property
    def refused(self) -> int:
        """Connections closed unanswered since start because ``max_connections`` were open."""
        with self._server.count_lock:
            return self._server.refused

    def start(self) -> MetricsServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},  # how long stop() may wait for the loop to notice
            name="metrics-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def observe_time(histogram: Histogram, since: float) -> None:
    """Record the seconds elapsed since a ``time.monotonic()`` reading."""
    histogram.observe(time.monotonic() - since)
