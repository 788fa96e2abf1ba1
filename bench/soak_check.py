"""The soak's verdict: pantau's database and the notifier stand-ins against the ground truth.

Pure functions over plain records (no I/O except :func:`read_db`), so every number in the
table can be traced to a rule written here:

- expected: one alert per (topic, story) for every story whose lead carries the topic keyword;
- lost: an expected (topic, story) with no message at a notifier the topic is routed to;
- duplicate: a second message for the same pantau alert at the same notifier (same topic and
  article URL), allowed at most once per crash (docs/design.md, "Invariants": outbox);
- grouping anomalies (reported apart from delivery): a ground-truth story split over several
  pantau stories (a second alert), or one pantau story holding several ground-truth stories;
- leaks: an item stored under a feed that never carried it, or text from a hostile body
  (entity expansion, control characters, oversize fields) in the database.
"""

from __future__ import annotations

import json
import math
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from soak_notifiers import Message
from soak_outlets import Story, feed_of_guid, story_of_url

TEXT_CAP = 100_000  # no stored text field should come near this after the caps of feeds/parse.py


@dataclass(frozen=True)
class DbItem:
    id: int
    feed_url: str
    guid: str | None
    url: str | None
    story_id: int | None
    title: str
    summary: str


@dataclass(frozen=True)
class DbAlert:
    id: int
    topic: str
    story_id: int
    item_id: int | None
    url: str | None
    created_at: str


@dataclass(frozen=True)
class DbDelivery:
    alert_id: int
    notifier: str
    status: str
    attempts: int
    last_error: str | None


@dataclass
class DbSnapshot:
    items: list[DbItem]
    alerts: list[DbAlert]
    deliveries: list[DbDelivery]
    feeds: list[dict[str, Any]]
    integrity: str


def read_db(path: str) -> DbSnapshot:
    """Everything the verdict needs, read after pantau has stopped."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        con.row_factory = sqlite3.Row
        integrity = "; ".join(r[0] for r in con.execute("PRAGMA integrity_check"))
        items = [
            DbItem(r["id"], r["furl"], r["guid"], r["url"], r["story_id"], r["title"], r["summary"])
            for r in con.execute(
                "SELECT i.id, f.url AS furl, i.guid, i.url, i.story_id, i.title, i.summary "
                "FROM items i JOIN feeds f ON f.id = i.feed_id"
            )
        ]
        alerts = [
            DbAlert(r["id"], r["topic"], r["story_id"], r["item_id"], r["url"], r["created_at"])
            for r in con.execute("SELECT id, topic, story_id, item_id, url, created_at FROM alerts")
        ]
        deliveries = [
            DbDelivery(r["alert_id"], r["notifier"], r["status"], r["attempts"], r["last_error"])
            for r in con.execute(
                "SELECT alert_id, notifier, status, attempts, last_error FROM deliveries"
            )
        ]
        feeds = [
            dict(r) for r in con.execute("SELECT url, gone, error_count, last_error FROM feeds")
        ]
    finally:
        con.close()
    return DbSnapshot(items, alerts, deliveries, feeds, integrity)


@dataclass
class Verdict:
    expected: int = 0  # (topic, story) pairs that must alert
    expected_deliveries: int = 0  # ... times the notifiers each is routed to
    alerts: int = 0
    missing_alerts: list[tuple[str, int]] = field(default_factory=list)
    lost: list[tuple[str, int, str]] = field(default_factory=list)  # topic, story, notifier
    duplicates: int = 0
    duplicate_detail: list[dict[str, Any]] = field(default_factory=list)
    split_alerts: int = 0  # extra alerts from one ground-truth story split in two
    split_stories: int = 0
    merged_stories: int = 0
    false_alerts: int = 0
    misrouted: int = 0
    unparsed_messages: int = 0
    leaks: list[str] = field(default_factory=list)
    junk: list[str] = field(default_factory=list)
    delivery_status: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    latency_pairs: list[tuple[float, int]] = field(default_factory=list)  # (latency, story)
    quiet_latencies: list[float] = field(default_factory=list)
    integrity: str = ""


def expected_pairs(stories: Iterable[Story]) -> set[tuple[str, int]]:
    return {(t, s.id) for s in stories if s.first_appeared is not None for t in s.topics}


def check_items(
    items: Sequence[DbItem], feed_index: Mapping[str, int], carried: Mapping[int, set[str]]
) -> tuple[list[str], list[str]]:
    """(leaks, junk). A leak: an item stored under a feed that never carried it but another
    outlet did, or text showing an expanded entity, an oversize field or control characters.
    Junk: an item that is no outlet's article (a hostile body's own entry, defused)."""
    leaks, junk = [], []
    for it in items:
        idx = feed_index.get(it.feed_url)
        key = it.guid or it.url or ""
        owner = feed_of_guid(key)
        if idx is None:
            leaks.append(f"item {it.id}: stored under unknown feed {it.feed_url}")
        elif key not in carried.get(idx, set()):
            if owner is None:
                junk.append(
                    f"item {it.id} under feed {idx}: guid {key[:60]!r} title {it.title[:60]!r}"
                )
            else:
                leaks.append(
                    f"item {it.id}: feed {idx} never carried {key[:80]!r} (feed {owner}'s)"
                )
        for name, text in (("title", it.title), ("summary", it.summary)):
            if "lollol" in text or len(text) > TEXT_CAP:
                leaks.append(f"item {it.id}: {name} holds hostile text ({len(text)} chars)")
            if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
                leaks.append(f"item {it.id}: {name} holds control characters")
    return leaks, junk


def missing_copies(
    stories: Iterable[Story],
    items: Sequence[DbItem],
    feed_index: Mapping[str, int],
    kind_of_feed: Mapping[int, str],
) -> Counter[str]:
    """Published copies never stored under their feed, counted by the feed's kind."""
    stored = {(feed_index.get(it.feed_url), it.guid or it.url) for it in items}
    out: Counter[str] = Counter()
    for s in stories:
        for c in s.copies:
            if c.appeared_at is not None and (c.feed, c.guid) not in stored:
                out[kind_of_feed.get(c.feed, "clean")] += 1
    return out


def grouping(
    items: Sequence[DbItem], gt_of_guid: Mapping[str, int]
) -> tuple[int, int, dict[int, int]]:
    """(split ground-truth stories, merged pantau stories, pantau story -> main gt story)."""
    by_pantau: dict[int, Counter[int]] = defaultdict(Counter)
    by_gt: dict[int, set[int]] = defaultdict(set)
    for it in items:
        gt = gt_of_guid.get(it.guid or it.url or "")
        if gt is None or it.story_id is None:
            continue
        by_pantau[it.story_id][gt] += 1
        by_gt[gt].add(it.story_id)
    merged = sum(1 for c in by_pantau.values() if len(c) > 1)
    split = sum(1 for s in by_gt.values() if len(s) > 1)
    main = {sid: c.most_common(1)[0][0] for sid, c in by_pantau.items()}
    return split, merged, main


def percentile(xs: Sequence[float], p: float) -> float:
    if not xs:
        return math.nan
    s = sorted(xs)
    k = (len(s) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def overlaps(a: float, b: float, windows: Iterable[tuple[float, float, str]]) -> bool:
    return any(s < b and a < e for s, e, _ in windows)


def verdict(
    stories: Sequence[Story],
    routes: Mapping[str, Sequence[str]],
    slack_names: set[str],
    messages: Sequence[Message],
    db: DbSnapshot,
    feed_index: Mapping[str, int],
    carried: Mapping[int, set[str]],
    hostile_feeds: set[int],
    windows: Sequence[tuple[float, float, str]],
) -> Verdict:
    v = Verdict(integrity=db.integrity)
    gt = {s.id: s for s in stories}
    gt_of_guid = {c.guid: s.id for s in stories for c in s.copies}
    expected = expected_pairs(stories)
    v.expected = len(expected)
    v.expected_deliveries = sum(len(routes.get(t, ())) for t, _ in expected)
    v.leaks, v.junk = check_items(db.items, feed_index, carried)
    v.split_stories, v.merged_stories, main = grouping(db.items, gt_of_guid)

    # alerts against ground truth
    item_gt = {it.id: gt_of_guid.get(it.guid or it.url or "") for it in db.items}
    v.alerts = len(db.alerts)
    per_pair: Counter[tuple[str, int]] = Counter()
    for a in db.alerts:
        sid = item_gt.get(a.item_id) if a.item_id is not None else None
        sid = sid or main.get(a.story_id) or story_of_url(a.url or "")
        if sid is None or a.topic not in gt[sid].topics:
            v.false_alerts += 1
            continue
        per_pair[(a.topic, sid)] += 1
    v.split_alerts = sum(n - 1 for n in per_pair.values())
    v.missing_alerts = sorted(expected - set(per_pair))

    # messages against routes
    got: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    per_alert: Counter[tuple[str, str, str]] = Counter()
    for m in messages:
        sid = story_of_url(m.url or "")
        if m.topic is None or sid is None:
            v.unparsed_messages += 1
            continue
        if m.notifier not in routes.get(m.topic, ()):
            v.misrouted += 1
        got[(m.notifier, m.topic, sid)].append(m.at)
        per_alert[(m.notifier, m.topic, m.url or "")] += 1
    for (notifier, topic, url), n in per_alert.items():
        if n > 1:
            v.duplicates += n - 1
            times = sorted(
                m.at for m in messages if (m.notifier, m.topic, m.url) == (notifier, topic, url)
            )
            v.duplicate_detail.append(
                {"notifier": notifier, "topic": topic, "url": url, "times": times}
            )
    for topic, sid in sorted(expected):
        for n in routes.get(topic, ()):
            if not got.get((n, topic, sid)):
                v.lost.append((topic, sid, n))

    # latency: first Slack arrival after the first copy appeared on any outlet
    for topic, sid in expected:
        arrivals = [
            t for n in routes.get(topic, ()) if n in slack_names for t in got[(n, topic, sid)]
        ]
        start = gt[sid].first_appeared
        if not arrivals or start is None:
            continue
        lat = min(arrivals) - start
        v.latencies.append(lat)
        v.latency_pairs.append((lat, sid))
        first = min(gt[sid].copies, key=lambda c: c.appeared_at or math.inf)
        if first.feed not in hostile_feeds and not overlaps(start, min(arrivals), windows):
            v.quiet_latencies.append(lat)
    v.delivery_status = dict(Counter(d.status for d in db.deliveries))
    return v


# --------------------------------------------------------------------------------------------
# Memory


def rss_at_age(samples: Sequence[tuple[float, int, int]], age: float = 45.0) -> list[float]:
    """RSS (MiB) of each process life at the same age: growth across restarts shows here."""
    first: dict[int, float] = {}
    out: dict[int, float] = {}
    for t, pid, kb in samples:
        first.setdefault(pid, t)
        if pid not in out and t - first[pid] >= age:
            out[pid] = kb / 1024
    return list(out.values())


def rss_growth_per_hour(
    samples: Sequence[tuple[float, int, int]], warmup: float = 60.0
) -> dict[int, float]:
    """Least-squares slope of RSS (MiB/h) for each process life longer than two minutes."""
    lives: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for t, pid, kb in samples:
        lives[pid].append((t, kb))
    out = {}
    for pid, pts in lives.items():
        if len(pts) < 10 or pts[-1][0] - pts[0][0] < 120:
            continue
        pts = [p for p in pts if p[0] >= pts[0][0] + warmup]
        xs = [p[0] for p in pts]
        ys = [p[1] / 1024 for p in pts]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        den = sum((x - mx) ** 2 for x in xs)
        if den <= 0:
            continue
        out[pid] = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den * 3600
    return out


def to_json(v: Verdict) -> str:
    d = dict(v.__dict__)
    d["latencies"] = sorted(round(x, 2) for x in v.latencies)
    d["quiet_latencies"] = sorted(round(x, 2) for x in v.quiet_latencies)
    return json.dumps(d, indent=1, default=str)
