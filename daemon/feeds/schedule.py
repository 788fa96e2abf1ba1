"""When to poll a feed next: pure decisions, no I/O (tested as plain functions).

Adaptive polling: a feed whose document turned over since the last poll (few of its items
were already known) may have pushed stories out of its window before we saw them, so its
interval halves, down to ``min_interval``. A feed that had nothing new lengthens its interval
by a quarter, up to ``max_interval``. A configured interval shorter than ``min_interval`` is
the operator's choice and is kept as the floor. Errors back off exponentially from the
feed's interval up to ``max_backoff`` (24 h), and ``Retry-After`` is honoured; both delay only
the feed concerned, and a failing feed is never silently dropped from the schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from daemon.retry import backoff

TURNOVER_KNOWN_FRACTION = 0.5  # fewer known items than this fraction: the feed turned over
SPEED_UP = 0.5
SLOW_DOWN = 1.25
JITTER = 0.1


@dataclass(frozen=True)
class Limits:
    base: float  # the configured interval for this feed
    min_interval: float
    max_interval: float
    max_backoff: float = 86400.0

    @property
    def floor(self) -> float:
        return min(self.base, self.min_interval)

    @property
    def ceiling(self) -> float:
        return max(self.base, self.max_interval)


def adapt_interval(
    current: float | None, limits: Limits, *, total: int, known: int, new: int, first_poll: bool
) -> float:
    """The feed's next interval after a successful poll that parsed ``total`` items."""
    cur = current or limits.base
    if first_poll or total == 0:
        nxt = cur
    elif known < total * TURNOVER_KNOWN_FRACTION:
        nxt = cur * SPEED_UP
    elif new == 0:
        nxt = cur * SLOW_DOWN
    else:
        # some new, no turnover: drift back towards the configured interval
        nxt = (cur + limits.base) / 2
    return max(limits.floor, min(limits.ceiling, nxt))


def unchanged_interval(current: float | None, limits: Limits) -> float:
    """A 304 or an identical body: nothing new, so the feed is quiet."""
    cur = current or limits.base
    return max(limits.floor, min(limits.ceiling, cur * SLOW_DOWN))


def error_delay(error_count: int, limits: Limits, retry_after: float | None = None) -> float:
    """Delay after the ``error_count``-th consecutive error (1-based)."""
    n = max(1, error_count)
    delay = backoff(n, limits.base, limits.max_backoff)
    if retry_after is not None:
        delay = max(delay if n > 1 else 0.0, min(retry_after, limits.max_backoff))
    return delay


def with_jitter(seconds: float, rng: random.Random | None = None) -> float:
    """Spread polls so that feeds added together do not stay in lock-step."""
    r = (rng or random).uniform(-JITTER, JITTER)
    return max(1.0, seconds * (1 + r))


def next_poll_at(now: datetime, seconds: float, rng: random.Random | None = None) -> datetime:
    return now + timedelta(seconds=with_jitter(seconds, rng))


def initial_poll_at(now: datetime, interval: float, rng: random.Random | None = None) -> datetime:
    """A new feed is polled soon, spread over a few seconds rather than all at once."""
    return now + timedelta(seconds=(rng or random).uniform(0, min(5.0, interval * JITTER)))
