"""Server-drawn SVG charts: geometry here (pure), markup in templates/_charts.html.

No chart library and no script: the browser draws plain ``<rect>`` and ``<line>`` elements
with a ``<title>`` tooltip each, so the charts work offline, without JavaScript and under a
Content-Security-Policy that forbids inline script. Also the per-topic counts of matching
items (``MatchCounts``), which the database does not store: the topic's matcher runs once
over each item and the counts are kept per hour.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from daemon.topics.match import Matcher

log = logging.getLogger("pantau.web")
WIB = ZoneInfo("Asia/Jakarta")
HOUR = 3600
DAY = 86400


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str  # tooltip: "6 Des 14:00 WIB: 12"
    value: int


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, label) under the axis
    total: int = 0


def bar_chart(
    values: Sequence[int],
    labels: Sequence[str],
    *,
    width: int = 600,
    height: int = 70,
    ticks: Sequence[tuple[int, str]] = (),
) -> Chart:
    """One bar per value, scaled to the largest; a zero is a hairline so the time axis
    stays readable. ``ticks``: (index, text) marks under the axis."""
    n = max(1, len(values))
    peak = max(values, default=0)
    step = width / n
    gap = 1.0 if step >= 4 else 0.0
    bars = []
    for i, v in enumerate(values):
        h = (height - 2) * v / peak if peak else 0.0
        h = max(h, 1.0) if v else 0.5
        bars.append(Bar(round(i * step, 2), round(height - h, 2), round(step - gap, 2),
                        round(h, 2), f"{labels[i]}: {v}", v))  # fmt: skip
    return Chart(
        width, height, bars, peak, [(round(i * step, 1), t) for i, t in ticks], sum(values)
    )


def svg(c: Chart, cls: str = "", *, tooltips: bool = True) -> Markup:
    """The chart as an ``<svg>`` element: one ``<rect>`` per bar with its tooltip, or (for
    sparklines, ``tooltips=False``) two ``<path>`` elements and one tooltip for the whole.
    Built here rather than in a template macro: a page of 200 sparklines or a dozen
    168-bar charts rendered through Jinja2 costs more than the page budget. Every text
    is escaped (they are our own dates and numbers, but nothing here is trusted)."""
    extra = 12 if c.ticks else 0
    aria = escape(f"{c.total} in total, at most {c.peak} per bar")
    out = [f'<svg class="chart {escape(cls)}" viewBox="0 0 {c.width} {c.height + extra}" '
           f'role="img" aria-label="{aria}">']  # fmt: skip
    if tooltips:
        for b in c.bars:
            z = "" if b.value else ' class="z"'
            out.append(f'<rect x="{b.x}" y="{b.y}" width="{b.w}" height="{b.h}"{z}>'
                       f"<title>{escape(b.label)}</title></rect>")  # fmt: skip
    else:
        full = "".join(f"M{b.x} {b.y}h{b.w}v{b.h}h{-b.w}z" for b in c.bars if b.value)
        zero = "".join(f"M{b.x} {b.y}h{b.w}v{b.h}h{-b.w}z" for b in c.bars if not b.value)
        label = escape("; ".join(b.label for b in c.bars))
        out.append(f"<title>{label}</title>")
        if full:
            out.append(f'<path d="{full}"/>')
        if zero:
            out.append(f'<path class="z" d="{zero}"/>')
    out.append(f'<line x1="0" y1="{c.height}" x2="{c.width}" y2="{c.height}" class="axis"/>')
    for x, label in c.ticks:
        out.append(f'<line x1="{x}" y1="{c.height}" x2="{x}" y2="{c.height + 3}" class="axis"/>'
                   f'<text x="{x + 2}" y="{c.height + 11}">{escape(label)}</text>')  # fmt: skip
    out.append("</svg>")
    return Markup("".join(out))


def wib(dt: datetime) -> datetime:
    return dt.astimezone(WIB)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def day_label(dt: datetime) -> str:
    d = wib(dt)
    return f"{d.day} {MONTHS[d.month - 1]}"


def hour_start(now: datetime, hours: int) -> datetime:
    """The start of the WIB hour ``hours - 1`` hours before the current one."""
    top = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return top - timedelta(hours=hours - 1)


def day_start(now: datetime, days: int) -> datetime:
    """WIB midnight ``days - 1`` days before today's (Jakarta has no DST)."""
    local = wib(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (local - timedelta(days=days - 1)).astimezone(timezone.utc)


@dataclass(frozen=True)
class Range:
    key: str  # "7d" | "30d"
    buckets: int
    seconds: int  # bucket width

    def start(self, now: datetime) -> datetime:
        if self.seconds == HOUR:
            return hour_start(now, self.buckets)
        return day_start(now, self.buckets)

    def labels(self, start: datetime) -> list[str]:
        out = []
        for i in range(self.buckets):
            t = start + timedelta(seconds=i * self.seconds)
            if self.seconds == HOUR:
                out.append(f"{day_label(t)} {wib(t):%H}:00 WIB")
            else:
                out.append(day_label(t))
        return out

    def ticks(self, start: datetime) -> list[tuple[int, str]]:
        """A mark at each WIB midnight (hourly) or each Monday-ish fifth day (daily)."""
        out = []
        for i in range(self.buckets):
            t = wib(start + timedelta(seconds=i * self.seconds))
            if self.seconds == HOUR and t.hour == 0:
                out.append((i, day_label(t)))
            elif self.seconds == DAY and i % 5 == 0:
                out.append((i, day_label(t)))
        return out


RANGES = {"7d": Range("7d", 7 * 24, HOUR), "30d": Range("30d", 30, DAY)}


def series(counts: dict[int, int], n: int) -> list[int]:
    return [counts.get(i, 0) for i in range(n)]


def timeline_rows(
    delays: Sequence[float], *, width: int = 600, row: int = 18
) -> tuple[list[float], int]:
    """x positions for items published ``delays`` seconds after the first (a square-root
    scale: the first hour stays readable beside a follower a day later), and the height."""
    last = max(delays, default=0.0)
    span = last**0.5 if last > 0 else 1.0
    xs = [round(4 + (width - 8) * (d**0.5) / span, 1) if last > 0 else 4.0 for d in delays]
    return xs, row * max(1, len(delays))


# -- matching items per topic, per hour ---------------------------------------------------------


ScanFn = Callable[[int, datetime, int], list[tuple[int, datetime, str, str, str]]]


class MatchCounts:
    """Items matching each topic per hour of publication over the last 30 days (items first
    seen in that time), kept up to date by matching only items added since the last look
    (the store records alerts, not which topics each item matched). The first count of 30
    days runs in a background thread that uses at most half of one core (it sleeps as long
    as each batch took), so in ``pantau run`` it never crowds out polling; after that a
    page matches only the items that arrived since the last page. A new matcher (a config
    reload) starts the count over. Thread-safe."""

    KEEP = timedelta(days=31)
    BATCH = 1000
    PER_PAGE = 5000  # new items a page matches before it shows what it has

    def __init__(self, scan: ScanFn) -> None:
        self._scan = scan
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._last_id = 0
        self._hours: dict[str, dict[int, int]] = {}  # topic -> epoch hour -> items
        self._ready = False
        self._thread: threading.Thread | None = None
        self.stopped = threading.Event()

    def start(self, get_matcher: Callable[[], Matcher]) -> None:
        """Count in the background until caught up (no-op while a count runs)."""
        if self._thread is not None and self._thread.is_alive():
            return

        def run() -> None:
            try:
                while not self.stopped.is_set():
                    t = time.monotonic()
                    if self.refresh(get_matcher(), datetime.now(timezone.utc), limit=self.BATCH):
                        return
                    self.stopped.wait(time.monotonic() - t)  # half a core at most
            except Exception as exc:  # noqa: BLE001 - a later page starts it again
                log.warning("web: topic counts failed: %s: %s", type(exc).__name__, exc)

        self._thread = threading.Thread(target=run, name="web-topic-counts", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End the background count (it stops between batches) and wait for it."""
        self.stopped.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def catch_up(self, matcher: Matcher, now: datetime) -> bool:
        """For a page: match what arrived since the last look when the counts are current
        (a few items), else leave the work to the background count. True when complete."""
        if self._ready and matcher is self._matcher:
            return self.refresh(matcher, now, limit=self.PER_PAGE)
        self.start(lambda: matcher)
        return False

    def refresh(self, matcher: Matcher, now: datetime, *, limit: int | None = None) -> bool:
        """Match new items (at most about ``limit``); True when caught up."""
        with self._lock:
            if matcher is not self._matcher:
                self._matcher, self._last_id, self._hours = matcher, 0, {}
                self._ready = False
            since = now - self.KEEP
            done = 0
            while limit is None or done < limit:
                rows = self._scan(self._last_id, since, self.BATCH)
                for item_id, published, title, summary, text in rows:
                    hour = int(published.timestamp()) // HOUR
                    for m in matcher.match(title, summary or "", text or ""):
                        per = self._hours.setdefault(m.topic, {})
                        per[hour] = per.get(hour, 0) + 1
                    self._last_id = item_id
                done += len(rows)
                if len(rows) < self.BATCH:
                    self._ready = True
                    break
            cut = int(since.timestamp()) // HOUR
            for per in self._hours.values():
                for h in [h for h in per if h < cut]:
                    del per[h]
            return self._ready

    def buckets(self, topic: str, start: datetime, seconds: int) -> dict[int, int]:
        """Counts per bucket of ``seconds`` from ``start`` (an hour boundary)."""
        base = int(start.timestamp()) // HOUR
        per_bucket = seconds // HOUR
        out: dict[int, int] = {}
        with self._lock:
            for h, n in self._hours.get(topic, {}).items():
                if h >= base:
                    k = (h - base) // per_bucket
                    out[k] = out.get(k, 0) + n
        return out
