"""One rate limiter: a token bucket per key, shared by the threads of the process.

Used for Slack webhooks (one message a second per webhook, a sender may wait a few seconds
for its turn) and for article pages (a per-minute allowance per host, never waited for: the
full-text queue reschedules the item). A caller ``reserve``s the key's next token, possibly
one that only comes due later (up to ``max_wait``): concurrent callers so queue up in order
instead of all waking at once. ``defer`` is the server's "wait" (429, Retry-After).

``WindowLimiter`` (below) is the other shape, with the same calls: a count over a sliding
window plus a minimum interval, for Telegram's per-chat and per-group limits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """``rate`` tokens a second per key, at most ``burst`` banked (idle time beyond that is
    not). ``rate`` <= 0: no spacing, only ``defer``s hold a key. ``max_keys``: idle keys are
    forgotten past that many."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_keys: int = 4096,
    ) -> None:
        self.rate = rate
        self.burst = float(max(1.0, burst))
        self._clock = clock
        self._sleep = sleep
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._held: dict[str, float] = {}  # key -> held until (rate <= 0 only)
        self._lock = threading.Lock()

    @classmethod
    def per_minute(cls, n: int, **kwargs: object) -> RateLimiter:
        """``n`` a minute, all of them at once if they have been saved up."""
        return cls(n / 60.0, burst=max(1, n), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def every(cls, interval: float, **kwargs: object) -> RateLimiter:
        """One every ``interval`` seconds, none saved up."""
        return cls(1.0 / interval if interval > 0 else 0.0, **kwargs)  # type: ignore[arg-type]

    def __len__(self) -> int:
        """Keys with a bucket (idle ones are forgotten, see ``_prune``)."""
        with self._lock:
            return len(self._buckets) + len(self._held)

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + max(0.0, now - at) * self.rate)

    def reserve(self, key: str, max_wait: float = 0.0) -> tuple[bool, float]:
        """(granted, wait): granted means the caller owns the key's next token, due after
        ``wait`` seconds; refused means that wait would exceed ``max_wait``, and nothing
        was taken."""
        with self._lock:
            now = self._clock()
            if self.rate <= 0:
                wait = max(0.0, self._held.get(key, now) - now)
                if not wait:
                    self._held.pop(key, None)
                return wait <= max_wait, wait
            tokens = self._tokens(key, now)
            wait = max(0.0, (1.0 - tokens) / self.rate)
            if wait > max_wait:
                self._buckets[key] = (tokens, now)
                return False, wait
            self._buckets[key] = (tokens - 1.0, now)
            self._prune(now)
            return True, wait

    def acquire(self, key: str, max_wait: float) -> float | None:
        """Block until the key's next token is due; None then, or, when that would take
        longer than ``max_wait``, the seconds to come back after (nothing taken)."""
        granted, wait = self.reserve(key, max_wait)
        if not granted:
            return wait
        if wait > 0:
            self._sleep(wait)
        return None

    def defer(self, key: str, seconds: float) -> None:
        """The other side said "wait" (429 / Retry-After): no token for ``seconds``."""
        if seconds <= 0:
            return
        with self._lock:
            now = self._clock()
            if self.rate <= 0:
                self._held[key] = max(self._held.get(key, now), now + seconds)
                return
            tokens = min(self._tokens(key, now), 1.0 - seconds * self.rate)
            self._buckets[key] = (tokens, now)

    def _prune(self, now: float) -> None:
        """A full bucket is the same as no bucket: forget idle keys so memory stays bounded."""
        if len(self._buckets) <= self._max_keys:
            return
        for key in [k for k in self._buckets if self._tokens(k, now) >= self.burst]:
            del self._buckets[key]


class WindowLimiter:
    """At most one send per ``interval`` per key and, with ``window=(n, seconds)``, at most
    ``n`` in any ``seconds``: a sliding window, decided atomically with the interval.

    For Telegram, whose group limit is a count over any minute (20), on top of one message
    a second per chat. A token bucket cannot promise a count over a window without giving
    up its burst (a full bucket of 20 at a third of a token a second allows 40 in a
    minute), so the grants themselves are kept, ``n`` per key at most.
    """

    def __init__(
        self,
        interval: float,
        *,
        window: tuple[int, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._until: dict[str, float] = {}  # key -> next free slot (interval or defer)
        self._recent: dict[str, deque[float]] = {}  # key -> its last n granted slots
        self._lock = threading.Lock()

    def reserve(self, key: str, max_wait: float = 0.0) -> tuple[bool, float]:
        """As ``RateLimiter.reserve``: (granted, wait); nothing is taken when refused."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._until.get(key, now))
            recent = None
            if self.window is not None:
                recent = self._recent.setdefault(key, deque(maxlen=self.window[0]))
                if len(recent) == self.window[0]:
                    slot = max(slot, recent[0] + self.window[1])
            wait = slot - now
            if wait > max_wait:
                return False, wait
            self._until[key] = slot + self.interval
            if recent is not None:
                recent.append(slot)
            return True, wait

    # the same wait as the token bucket's: reserve under the lock, sleep outside it
    acquire = RateLimiter.acquire

    def defer(self, key: str, seconds: float) -> None:
        """The other side said "wait" (429): no slot for ``seconds``."""
        if seconds <= 0:
            return
        with self._lock:
            until = self._clock() + seconds
            self._until[key] = max(self._until.get(key, until), until)
