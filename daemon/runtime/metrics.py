"""Prometheus metrics: a tiny text-format (0.0.4) registry and a loopback HTTP endpoint.

Why not ``prometheus_client``: pantau needs counters, gauges and one histogram, rendered on
demand after a ``collect`` hook refreshes the database-derived gauges. That is ~300 lines
here, against a dependency with process-global default registry, multiprocess mode and
platform collectors we would have to switch off. Names mirror prometheus_client's API
(``.labels(...).inc()``) so swapping later is mechanical.

Derived series (PromQL): 304 ratio is
``rate(pantau_polls_total{result="not_modified"}[1h]) / rate(pantau_polls_total{result!="error"}[1h])``;
it is also exported directly as ``pantau_not_modified_ratio`` for dashboards without PromQL.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import AF_INET, AF_INET6
from typing import Any

from daemon import __version__

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
LabelKey = tuple[str, ...]


def format_float(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def escape_label_value(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n")


def _labels_text(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    inner = ",".join(f'{n}="{escape_label_value(v)}"' for n, v in zip(names, values))
    return "{" + inner + "}"


class Registry:
    """Holds metrics in registration order and renders them all."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._lock = threading.Lock()

    def register(self, metric: Metric) -> None:
        with self._lock:
            if metric.name in self._metrics:
                raise ValueError(f"metric {metric.name} registered twice")
            self._metrics[metric.name] = metric

    def get(self, name: str) -> Metric:
        return self._metrics[name]

    def render(self) -> str:
        with self._lock:
            metrics = list(self._metrics.values())
        return "".join(m.render() for m in metrics)


REGISTRY = Registry()


class Metric:
    kind = "untyped"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        registry: Registry | None = REGISTRY,
    ) -> None:
        if not _NAME_RE.match(name):
            raise ValueError(f"bad metric name {name!r}")
        for label in labelnames:
            if not _LABEL_RE.match(label) or label.startswith("__") or label == "le":
                raise ValueError(f"bad label name {label!r}")
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()
        self._values: dict[LabelKey, Any] = {}
        if not self.labelnames:
            self._values[()] = self._zero()
        if registry is not None:
            registry.register(self)

    def _zero(self) -> Any:
        return 0.0

    def _key(self, args: Sequence[Any], kwargs: dict[str, Any]) -> LabelKey:
        if args and kwargs:
            raise ValueError("pass label values by position or by name, not both")
        if kwargs:
            if set(kwargs) != set(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {set(kwargs)}")
            args = tuple(kwargs[n] for n in self.labelnames)
        if len(args) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}")
        return tuple(str(a) for a in args)

    def clear(self) -> None:
        """Drop every labelled series (e.g. a feed removed by a reload)."""
        with self._lock:
            self._values = {} if self.labelnames else {(): self._zero()}

    def header(self) -> str:
        return f"# HELP {self.name} {escape_help(self.help)}\n# TYPE {self.name} {self.kind}\n"

    def samples(self) -> Iterable[tuple[str, LabelKey, Sequence[str], float]]:
        with self._lock:
            items = list(self._values.items())
        for key, value in items:
            yield self.name, self.labelnames, key, value

    def render(self) -> str:
        lines = [self.header()]
        for name, names, values, value in self.samples():
            lines.append(f"{name}{_labels_text(names, values)} {format_float(value)}\n")
        return "".join(lines)


class _Child:
    """A metric bound to one set of label values."""

    def __init__(self, metric: Any, key: LabelKey) -> None:
        self._metric = metric
        self._key = key

    def inc(self, amount: float = 1.0) -> None:
        self._metric._inc(self._key, amount)

    def dec(self, amount: float = 1.0) -> None:
        self._metric._inc(self._key, -amount)

    def set(self, value: float) -> None:
        self._metric._set(self._key, value)

    def observe(self, value: float) -> None:
        self._metric._observe(self._key, value)


class Counter(Metric):
    kind = "counter"

    def labels(self, *args: Any, **kwargs: Any) -> _Child:
        return _Child(self, self._key(args, kwargs))

    def inc(self, amount: float = 1.0) -> None:
        self._inc(self._key((), {}), amount)

    def _inc(self, key: LabelKey, amount: float) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, *args: Any, **kwargs: Any) -> float:
        return float(self._values.get(self._key(args, kwargs), 0.0))


class Gauge(Metric):
    kind = "gauge"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._function: Callable[[], float] | None = None

    def labels(self, *args: Any, **kwargs: Any) -> _Child:
        return _Child(self, self._key(args, kwargs))

    def set(self, value: float) -> None:
        self._set(self._key((), {}), value)

    def inc(self, amount: float = 1.0) -> None:
        self._inc(self._key((), {}), amount)

    def dec(self, amount: float = 1.0) -> None:
        self._inc(self._key((), {}), -amount)

    def set_function(self, fn: Callable[[], float]) -> None:
        """Compute the (unlabelled) value at render time."""
        self._function = fn

    def replace(self, values: dict[LabelKey, float] | dict[str, float]) -> None:
        """Set every series at once and drop those not given, as a refresh from the database
        does (a status with no deliveries left must read 0 or vanish, not keep its old
        value). Keys are label-value tuples, or plain strings for one label."""
        new = {
            (k,) if isinstance(k, str) else tuple(map(str, k)): float(v) for k, v in values.items()
        }
        for key in new:
            if len(key) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}")
        with self._lock:
            self._values = new

    def _set(self, key: LabelKey, value: float) -> None:
        with self._lock:
            self._values[key] = float(value)

    def _inc(self, key: LabelKey, amount: float) -> None:
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, *args: Any, **kwargs: Any) -> float | None:
        v = self._values.get(self._key(args, kwargs))
        return None if v is None else float(v)

    def samples(self) -> Iterable[tuple[str, LabelKey, Sequence[str], float]]:
        if self._function is not None:
            try:
                value = float(self._function())
            except Exception as exc:  # noqa: BLE001 - a broken derivation must not fail a scrape
                log.warning("metric %s: value function failed: %s", self.name, exc)
                value = math.nan
            yield self.name, (), (), value
            return
        yield from super().samples()


DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)


class Histogram(Metric):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        registry: Registry | None = REGISTRY,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        bounds = sorted(float(b) for b in buckets if not math.isinf(b))
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError("histogram buckets must be distinct finite numbers")
        self.buckets = (*bounds, math.inf)
        super().__init__(name, help, labelnames, registry)

    def _zero(self) -> list[float]:
        # Per-bucket (non-cumulative) counts, then sum.
        return [0.0] * len(self.buckets) + [0.0]

    def labels(self, *args: Any, **kwargs: Any) -> _Child:
        return _Child(self, self._key(args, kwargs))

    def observe(self, value: float) -> None:
        self._observe(self._key((), {}), value)

    def _observe(self, key: LabelKey, value: float) -> None:
        value = float(value)
        if math.isnan(value):
            return
        index = next(i for i, b in enumerate(self.buckets) if value <= b)
        with self._lock:
            state = self._values.get(key)
            if state is None:
                state = self._values[key] = self._zero()
            state[index] += 1
            state[-1] += value

    def render(self) -> str:
        lines = [self.header()]
        with self._lock:
            items = [(k, list(v)) for k, v in self._values.items()]
        for key, state in items:
            running = 0.0
            for bound, count in zip(self.buckets, state):
                running += count
                names = (*self.labelnames, "le")
                values = (*key, format_float(bound))
                lines.append(
                    f"{self.name}_bucket{_labels_text(names, values)} {format_float(running)}\n"
                )
            labels = _labels_text(self.labelnames, key)
            lines.append(f"{self.name}_sum{labels} {format_float(state[-1])}\n")
            lines.append(f"{self.name}_count{labels} {format_float(running)}\n")
        return "".join(lines)


# --- pantau's metrics ---------------------------------------------------------------------------
# Written by the poller, story grouper, matcher and dispatcher as things happen; the
# database-derived gauges (DELIVERIES, OLDEST_PENDING_DELIVERY_SECONDS, LAST_SUCCESS) are
# refreshed by the ``collect`` hook right before each scrape.

POLL_RESULTS = ("ok", "not_modified", "unchanged", "error")

BUILD_INFO = Gauge("pantau_build_info", "pantau version (value is always 1)", ["version"])
POLLS = Counter(
    "pantau_polls_total",
    "Feed polls by result: ok (parsed), not_modified (HTTP 304), unchanged (same body hash), error",
    ["result"],
)
NOT_MODIFIED_RATIO = Gauge(
    "pantau_not_modified_ratio",
    "Share of completed polls answered 304 Not Modified since start (NaN before any)",
)
FETCH_SECONDS = Histogram("pantau_fetch_seconds", "Feed fetch latency, body included, in seconds")
ITEMS_NEW = Counter("pantau_items_new_total", "New feed items stored, by feed", ["feed"])
STORIES_NEW = Counter("pantau_stories_new_total", "New stories (first copy of an event)")
ALERTS = Counter("pantau_alerts_total", "Alerts raised, by topic", ["topic"])
DELIVERY_ATTEMPTS = Counter(
    "pantau_delivery_attempts_total",
    "Delivery attempts by notifier and result (sent, retry, failed)",
    ["notifier", "result"],
)
DELIVERY_STATUSES = ("pending", "sent", "failed")
# Refresh with DELIVERIES.replace({status: count for every status in DELIVERY_STATUSES}).
DELIVERIES = Gauge("pantau_deliveries", "Deliveries in the database, by status", ["status"])
OLDEST_PENDING_DELIVERY_SECONDS = Gauge(
    "pantau_oldest_pending_delivery_age_seconds",
    "Age of the oldest pending delivery in seconds (0 when none is pending)",
)
LAST_SUCCESS = Gauge(
    "pantau_feed_last_success_timestamp_seconds",
    "Unix time of the last successful poll, by feed",
    ["feed"],
)
COLLECT_ERRORS = Counter(
    "pantau_metrics_collect_errors_total",
    "Scrapes whose database refresh failed (database-derived gauges are stale)",
)


def not_modified_ratio(polls: Counter = POLLS) -> float:
    """304s among polls that got an answer (errors excluded): how well conditional GET works."""
    answered = sum(polls.value(result=r) for r in ("ok", "not_modified", "unchanged"))
    return polls.value(result="not_modified") / answered if answered else math.nan


NOT_MODIFIED_RATIO.set_function(not_modified_ratio)
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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that stalls mid-request does not hold a thread for long
    server_version = "pantau-metrics"
    sys_version = ""

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
    daemon_threads = True
    registry: Registry
    collect: Callable[[], None] | None
    scrape_lock: threading.Lock

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
    ) -> None:
        self.host, port = parse_listen(listen)
        family = AF_INET6 if ":" in self.host else AF_INET
        server_cls = type("_BoundServer", (_Server,), {"address_family": family})
        self._server: _Server = server_cls((self.host, port), _Handler)
        self._server.registry = registry
        self._server.collect = collect
        self._server.scrape_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if not _is_loopback(self.host):
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
