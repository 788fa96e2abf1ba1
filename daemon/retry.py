"""When to try again: a server's ``Retry-After`` and exponential backoff, for the feed
fetcher (``feeds.schedule``) and the notifiers (``delivery.dispatch``, ``delivery.slack``).

How each combines the two is its own policy and stays there: a feed's first error honours a
shorter Retry-After (the server knows best when it is back), a delivery never retries sooner
than its backoff.
"""

from __future__ import annotations

import time
from datetime import timezone
from email.utils import parsedate_to_datetime

MAX_EXPONENT = 60  # 2**60 times any initial delay is past every cap


def parse_retry_after(value: str | None, *, cap: float, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds (ASCII digits only, as
    RFC 9110 says) or an HTTP-date, at least 0 (a date in the past: now) and at most ``cap``
    (a hostile or confused server cannot park a feed or a webhook for good). None when
    absent or unreadable. ``now``: epoch seconds, for the HTTP-date form."""
    if not value:
        return None
    v = value.strip()
    if v.isascii() and v.isdigit():
        seconds = float(int(v[:12]))
    else:
        try:
            when = parsedate_to_datetime(v)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:  # "-0000" means UTC with unknown origin
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), cap)


def backoff(attempt: int, initial: float, maximum: float) -> float:
    """The delay after the ``attempt``-th consecutive failure (1-based): ``initial``,
    doubling each time, capped at ``maximum``."""
    n = min(max(1, attempt), MAX_EXPONENT)
    return min(maximum, initial * (2 ** (n - 1)))
