"""Adaptive polling and backoff are pure functions: tested without any I/O."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from daemon.feeds import schedule
from daemon.feeds.schedule import Limits, adapt_interval, error_delay, unchanged_interval

L = Limits(base=600, min_interval=120, max_interval=3600)


def test_turnover_shortens_down_to_min_interval() -> None:
    cur = 600.0
    for _ in range(10):
        cur = adapt_interval(cur, L, total=20, known=2, new=18, first_poll=False)
    assert cur == 120


def test_quiet_feed_lengthens_up_to_max_interval() -> None:
    cur = 600.0
    for _ in range(30):
        cur = unchanged_interval(cur, L)
    assert cur == 3600
    assert adapt_interval(600, L, total=20, known=20, new=0, first_poll=False) > 600


def test_first_poll_does_not_count_as_turnover() -> None:
    assert adapt_interval(None, L, total=20, known=0, new=20, first_poll=True) == 600


def test_shorter_configured_interval_is_kept() -> None:
    fast = Limits(base=30, min_interval=120, max_interval=3600)
    assert adapt_interval(30, fast, total=20, known=1, new=19, first_poll=False) == 30


def test_error_backoff_exponential_capped_at_24h() -> None:
    delays = [error_delay(n, L) for n in range(1, 20)]
    assert delays[:4] == [600, 1200, 2400, 4800]
    assert max(delays) == 86400 and delays[-1] == 86400


def test_retry_after_is_honoured() -> None:
    assert error_delay(1, L, retry_after=7200) == 7200
    assert error_delay(1, L, retry_after=5) == 5
    assert error_delay(3, L, retry_after=5) == 2400  # backoff wins when longer
    assert error_delay(1, L, retry_after=10**9) == 86400


def test_jitter_spreads_within_ten_percent() -> None:
    rng = random.Random(1)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    secs = {(schedule.next_poll_at(now, 600, rng) - now).total_seconds() for _ in range(200)}
    assert min(secs) >= 540 and max(secs) <= 660 and len(secs) > 100
