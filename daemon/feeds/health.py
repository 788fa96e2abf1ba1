"""Feed health: is a feed failing, or quieter than its own history predicts? Pure decisions.

A feed that errors is plainly bad. A feed that answers 200 but has published nothing new for
far longer than usual is the subtler failure (a broken CMS export, a moved feed that now
serves a frozen copy): its expected gap between new items is estimated from its own history,
and it is flagged quiet when the silence exceeds several such gaps. Thresholds are generous
on purpose: a flag should mean "look at this", not noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

QUIET_FACTOR = 8  # silence of this many usual gaps is suspicious
MIN_QUIET = timedelta(hours=12)  # never flag a feed quiet sooner than this
FAILING_AFTER = 3  # consecutive errors before a feed counts as failing


@dataclass(frozen=True)
class FeedHistory:
    added_at: datetime
    last_ok_at: datetime | None
    last_new_at: datetime | None
    last_error: str | None
    error_count: int
    item_count: int
    gone: bool


@dataclass(frozen=True)
class Health:
    state: str  # ok | new | failing | quiet | gone
    reason: str = ""

    @property
    def bad(self) -> bool:
        return self.state in ("failing", "quiet", "gone")


def expected_gap(h: FeedHistory) -> timedelta | None:
    """Average time between new items since the feed was added, when there is history."""
    if h.last_new_at is None or h.item_count < 2:
        return None
    span = h.last_new_at - h.added_at
    if span <= timedelta(0):
        return None
    return span / max(1, h.item_count - 1)


def assess(h: FeedHistory, now: datetime) -> Health:
    if h.gone:
        return Health("gone", "HTTP 410 Gone: polling stopped")
    if h.error_count >= FAILING_AFTER and h.last_error:
        return Health("failing", f"{h.error_count} errors in a row: {h.last_error}")
    if h.last_ok_at is None:
        return (
            Health("new", h.last_error or "not polled yet")
            if h.last_error is None
            else Health("new", h.last_error)
        )
    gap = expected_gap(h)
    if gap is not None and h.last_new_at is not None:
        limit = max(MIN_QUIET, gap * QUIET_FACTOR)
        silent = now - h.last_new_at
        if silent > limit:
            hours = silent.total_seconds() / 3600
            return Health("quiet", f"nothing new for {hours:.0f} h (usually every {_fmt(gap)})")
    return Health("ok")


def _fmt(td: timedelta) -> str:
    s = td.total_seconds()
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.0f} min"


def transition(old_state: str | None, new: Health) -> str | None:
    """'bad' when a feed turns bad, 'recovered' when it comes back; None otherwise.
    'new' is neither, so a fresh feed does not announce itself."""
    was_bad = old_state in ("failing", "quiet", "gone")
    if new.bad and not was_bad:
        return "bad"
    if was_bad and new.state == "ok":
        return "recovered"
    return None


class FeedState(Protocol):
    """The stored columns a feed's shown health is read from (``storage.feeds.FeedRow``)."""

    gone: bool
    health: str | None
    health_reason: str | None
    last_error: str | None
    last_ok_at: datetime | None


@dataclass(frozen=True)
class Shown:
    state: str  # ok | new | error | failing | quiet | gone
    problem: str  # what to look at, or ""


def shown(f: FeedState) -> Shown:
    """The health the CLI (table and ``--json``) shows for a feed: the state stored when it
    last changed (``assess``), read off the last poll while none is stored. A feed whose
    last poll failed shows "error" until it has failed often enough to count as "failing"
    (the daemon stores no "ok" -> "error" turn: one failed poll is not news)."""
    if f.gone:
        state = "gone"
    elif f.health and f.health != "new":
        state = f.health
    elif f.last_error:
        state = "error"
    else:
        state = "ok" if f.last_ok_at is not None else "new"
    if state == "ok" and f.last_error:
        state = "error"
    problem = f.last_error or (f.health_reason if state != "ok" else "") or ""
    return Shown(state, problem)


def announcement(feed_name: str, h: Health, turn: str) -> str:
    """The one-line message for a turn (``transition``), in the newsroom's language."""
    if turn == "bad":
        return f"Feed {feed_name} bermasalah ({h.state}): {h.reason}"
    return f"Feed {feed_name} pulih: polling berhasil lagi"
