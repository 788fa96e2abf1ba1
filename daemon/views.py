"""Presentation of what the store reads: the JSON shapes of feeds, stories and alerts (the
CLI's ``--json``; a notifier or a dashboard that shows the same things reuses them) and the
CLI's text lines. One home, so that every surface shows one shape. Which health a feed shows
is decided in ``daemon.feeds.health``, not here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from daemon.feeds import health
from daemon.outlets import distinct_outlets, others_than

if TYPE_CHECKING:
    from daemon.storage.feeds import FeedRow
    from daemon.storage.views import AlertView, EventView, StoryView
    from daemon.topics.match import Matcher
    from daemon.web.queries import ItemView, SearchHit


def iso(dt: datetime | None) -> str | None:
    """UTC, ISO 8601, with a ``Z``: how every timestamp leaves pantau."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 alert``, ``2 alerts``, ``1 story``, ``3 stories``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def short_duration(seconds: float) -> str:
    """A duration as the config writes it, in at most two units: ``45s``, ``10m``,
    ``1m34s``, ``2h30m``, ``3d`` (``--json`` keeps the exact seconds)."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    parts = []
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= n:
            parts.append(f"{s // n}{unit}")
            s %= n
        elif parts:
            break  # 1h0m5s reads as 1h
        if len(parts) == 2 or s == 0:
            break
    return "".join(parts)


def feed_json(f: FeedRow, *, dates_unreadable: bool = False) -> dict[str, Any]:
    return {
        "name": f.name,
        "url": f.url,
        "last_polled_at": iso(f.last_polled_at),
        "last_status": f.last_status,
        "last_error": f.last_error,
        "item_count": f.item_count,
        "next_poll_at": iso(f.next_poll_at),
        "last_ok_at": iso(f.last_ok_at),
        "last_new_at": iso(f.last_new_at),
        "error_count": f.error_count,
        "gone": f.gone,
        "health": health.shown(f).state,
        "health_reason": f.health_reason or None,
        "interval": f.interval,
        "polls": f.polls,
        "polls_not_modified": f.polls_not_modified,
        "polls_failed": f.polls_failed,
        "dates_unreadable": dates_unreadable,
    }


def story_json(s: StoryView) -> dict[str, Any]:
    return {
        "id": s.id,
        "event_id": s.event_id,
        "title": s.title,
        "first_seen_at": iso(s.first_seen_at),
        "published_at": iso(s.published_at),
        "items": [
            {
                "feed": i.feed,
                "outlet": i.outlet,  # the publisher an aggregator names, else the feed's name
                "title": i.title,
                "url": i.url,
                "guid": i.guid,
                "published_at": iso(i.published_at),
            }
            for i in s.items
        ],
    }


def alert_json(a: AlertView) -> dict[str, Any]:
    return {
        "id": a.id,
        "topic": a.topic,
        "story_id": a.story_id,
        "event_id": a.event_id,
        "title": a.title,
        "url": a.url,
        "outlet": a.outlet,
        "published_at": iso(a.published_at),
        "matched": a.matched,
        "snippet": a.snippet,
        "sources": [{"outlet": s.outlet, "url": s.url, "title": s.title} for s in a.sources],
        "created_at": iso(a.created_at),
        "deliveries": [
            {
                "notifier": d.notifier,
                "status": d.status,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "sent_at": iso(d.sent_at),
                "next_attempt_at": iso(d.next_attempt_at),
            }
            for d in a.deliveries
        ],
    }


def event_json(e: EventView) -> dict[str, Any]:
    return {
        "id": e.id,
        "title": e.title,
        "first_seen_at": iso(e.first_seen_at),
        "published_at": iso(e.published_at),
        "stories": e.stories,
        "outlets": e.outlets,
    }


def event_line(e: EventView) -> str:
    n = len(e.stories)
    return f"#{e.id} {e.title}  [{', '.join(e.outlets)}]  ({n} {'story' if n == 1 else 'stories'})"


def _short(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt else "-"


FEEDS_HEADER = (
    f"{'feed':<24} {'health':<8} {'items':>6} {'every':>6} {'last poll':<20} "
    f"{'next poll':<20} problem"
)
NOT_POLLING = (
    "nothing is polling: no `pantau run` is using this database "
    "(start it, or poll once with `pantau run --once`)"
)
DATES_UNREADABLE = "dates unreadable: items are dated when first seen"


def feed_line(
    f: FeedRow,
    *,
    polling: bool | None = True,
    now: datetime | None = None,
    dates_unreadable: bool = False,
) -> str:
    """``polling``: whether a daemon is polling this database (None: cannot tell). Without
    one, a saved "next poll" time is no promise, so none is shown."""
    h = health.shown(f)
    if f.gone:
        nxt = "-"
    elif polling is False:
        nxt = "not polling"
    elif f.next_poll_at is not None and now is not None and f.next_poll_at <= now:
        nxt = "due now"
    else:
        nxt = _short(f.next_poll_at)
    every = short_duration(f.interval) if f.interval else "-"
    problem = h.problem
    if dates_unreadable:
        problem = f"{problem}; {DATES_UNREADABLE}" if problem else DATES_UNREADABLE
    return (
        f"{f.name[:24]:<24} {h.state:<8} {f.item_count:>6} {every:>6} "
        f"{_short(f.last_polled_at):<20} {nxt:<20} {problem}"
    ).rstrip()


def story_lines(s: StoryView) -> list[str]:
    outlets = distinct_outlets(sorted({i.outlet for i in s.items}))
    lines = [f"#{s.id} {_short(s.published_at)}  {s.title}  [{', '.join(outlets)}]"]
    if len(s.items) > 1:
        lines += [f"    {i.outlet}: {i.title}" for i in s.items]
    return lines


def alert_line(a: AlertView) -> str:
    dl = ", ".join(f"{d.notifier}:{d.status}" for d in a.deliveries) or "stored only"
    others = others_than(a.outlet, (s.outlet for s in a.sources if s.url != a.url))
    also = f" (juga: {', '.join(others)})" if others else ""
    return (
        f"#{a.id} {_short(a.created_at)} [{a.topic}] {a.title} — {a.outlet}{also}  "
        f"matched={','.join(a.matched)}  {dl}"
    )


def search_hit_json(hit: SearchHit, matcher: Matcher) -> dict[str, Any]:
    """One item found by ``pantau search``: the item, its story and the terms that matched."""
    i = hit.item
    found = matcher.match(*hit.texts)
    return {
        "id": i.id,
        "feed": i.feed,
        "title": i.title,
        "url": i.url,
        "published_at": iso(i.published_at),
        "first_seen_at": iso(i.first_seen_at),
        "story_id": i.story_id,
        "matched": list(found[0].terms) if found else [],
        "fields": hit.field_names,
    }


def search_hit_line(i: ItemView, matched: list[str]) -> str:
    return (
        f"{_short(i.published_at)}  {i.feed}: {i.title}  matched={','.join(matched)}  {i.url or ''}"
    )
