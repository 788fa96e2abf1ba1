"""The outbox dispatcher: sends due deliveries, retries with backoff, marks the outcome.

Order of operations is what makes delivery durable: a row is *claimed* (a lease written in
its own transaction) before the message is sent, and marked sent or rescheduled *after* the
notifier answers. A crash between send and mark leaves the claim to expire, and the row is
sent again: at most that one in-flight message repeats, and none is lost. Two dispatchers
(threads or processes) never hold a claim on the same row at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError

from daemon import views
from daemon.delivery.base import AlertMessage, Notifier, SendResult, Source
from daemon.logs import log_event, redact
from daemon.retry import backoff
from daemon.runtime import counting
from daemon.storage.outbox import DeliveryRow
from daemon.storage.sql import utcnow
from daemon.storage.store import Store
from daemon.storage.views import AlertView
from daemon.text import clean_line

log = logging.getLogger("pantau.deliver")

# Rows are claimed a few at a time so that a crash strands few of them, and the claim
# outlives any one send (timeouts are 10–30 s; an email step may take 3× its timeout).
CLAIM_LEASE = 120.0
CLAIM_BATCH = 10
FINISH_RETRY = 60.0  # seconds to keep trying to mark a sent row (well inside CLAIM_LEASE)
DIGEST_MAX = 500  # alerts in one digest email; more wait for the next


@dataclass(frozen=True)
class RetryPolicy:
    initial: float = 30.0
    maximum: float = 3600.0
    give_up_after: float = 86400.0


def retry_delay(attempts: int, policy: RetryPolicy, retry_after: float | None = None) -> float:
    """Delay before attempt ``attempts + 1``: doubling from ``initial``, capped at ``maximum``;
    a server's Retry-After wins when it asks for longer."""
    delay = backoff(attempts, policy.initial, policy.maximum)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.give_up_after))
    return delay


def to_message(a: AlertView, delivery_id: int | None = None) -> AlertMessage:
    return AlertMessage(
        alert_id=a.id,
        topic=a.topic,
        title=a.title,
        url=a.url,
        outlet=a.outlet,
        published_at=a.published_at,
        matched=tuple(a.matched),
        snippet=a.snippet,
        sources=tuple(Source(s.outlet, s.url, s.title) for s in a.sources),
        delivery_id=delivery_id,
        record=views.alert_json(a),  # the webhook body: one home with `alerts --json`
    )


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class DispatchStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Dispatcher:
    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, Notifier],
        policy: RetryPolicy,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.notifiers = dict(notifiers)
        self.policy = policy
        self.clock = clock
        # One pass per notifier at a time, each on its own thread: a notifier that hangs
        # (an SMTP server that accepts and goes silent) holds up only its own rows.
        self._locks = {name: threading.Lock() for name in self.notifiers}
        self._stats_lock = threading.Lock()

    def run(self, *, stop: threading.Event | None = None, wait: bool = True) -> DispatchStats:
        """Send everything due now, every notifier in parallel. ``wait=False`` (the daemon's
        tick) returns at once and leaves the passes running; a notifier whose previous pass
        is still busy is skipped."""
        stats = DispatchStats()
        threads = []
        for name in self.notifiers:
            lock = self._locks[name]
            if not lock.acquire(blocking=False):
                continue
            t = threading.Thread(
                target=self._pass,
                args=(name, lock, stop, stats),
                name=f"deliver-{name}",
                daemon=True,
            )
            t.start()
            threads.append(t)
        if wait:
            for t in threads:
                t.join()
        return stats

    def _pass(
        self, name: str, lock: threading.Lock, stop: threading.Event | None, stats: DispatchStats
    ) -> None:
        try:
            self._run(name, stop, stats)
        except Exception:
            log_event(log, "error", "deliver.error", exc_info=True, notifier=name)
        finally:
            lock.release()

    def _run(self, name: str, stop: threading.Event | None, stats: DispatchStats) -> None:
        owner = owner_id()
        notifier = self.notifiers[name]
        seen: set[int] = set()  # a row retried "now" (Retry-After: 0) waits for the next pass
        while not (stop and stop.is_set()):
            t = self.clock()
            rows = self.store.claim_deliveries(
                t, owner, CLAIM_LEASE, notifiers=[name], limit=CLAIM_BATCH
            )
            again = [r for r in rows if r.id in seen]
            if again:
                self._release(again, owner, t)
            rows = [r for r in rows if r.id not in seen]
            if not rows:
                return
            seen.update(r.id for r in rows)
            views = {a.id: a for a in self.store.alerts_since(t, ids=[r.alert_id for r in rows])}
            if notifier.digest:
                self._digest(notifier, rows, views, owner, t, stats)
                continue
            for row in rows:
                if stop and stop.is_set():
                    self._release([row], owner, t)
                    continue
                self._send(notifier, [row], views, owner, stats)

    def _digest(
        self,
        notifier: Notifier,
        rows: list[DeliveryRow],
        views: Mapping[int, AlertView],
        owner: str,
        now: datetime,
        stats: DispatchStats,
    ) -> None:
        """A digest is due when the notifier's oldest pending row has waited one period; until
        then every row of that notifier is put back with that one due time, so they are
        claimed, and sent, together. The batch lives in the table, so it survives restarts."""
        oldest = self.store.oldest_pending_delivery(notifier.name) or min(
            r.created_at for r in rows
        )
        due = oldest + timedelta(seconds=notifier.digest or 0)
        if now < due:
            self._release(rows, owner, due)
            return
        # due: the whole batch goes in one email, not only the rows of this claim
        more = self.store.claim_deliveries(
            now, owner, CLAIM_LEASE, notifiers=[notifier.name], limit=DIGEST_MAX
        )
        if more:
            rows = rows + more
            extra = self.store.alerts_since(now, ids=[r.alert_id for r in more])
            views = {**views, **{a.id: a for a in extra}}
        self._send(notifier, rows, views, owner, stats)

    def _finish(self, delivery_id: int, owner: str, **kw: object) -> None:
        """Mark a row, retrying while the database is locked or full: a sent message whose
        row stays claimed would be sent again when the claim expires."""
        deadline = time.monotonic() + FINISH_RETRY
        delay = 0.5
        while True:
            try:
                self.store.finish_delivery(delivery_id, owner, **kw)  # type: ignore[arg-type]
                return
            except OperationalError:
                if time.monotonic() + delay > deadline:
                    raise
                log_event(log, "warning", "delivery.mark_retry", delivery=delivery_id, in_s=delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _release(self, rows: Sequence[DeliveryRow], owner: str, next_at: datetime) -> None:
        for r in rows:
            self._finish(
                r.id,
                owner,
                status="pending",
                attempts=r.attempts,
                now=next_at,
                next_attempt_at=next_at,
            )

    def _send(
        self,
        notifier: Notifier,
        rows: list[DeliveryRow],
        views: Mapping[int, AlertView],
        owner: str,
        stats: DispatchStats,
    ) -> None:
        msgs = [to_message(views[r.alert_id], r.id) for r in rows if r.alert_id in views]
        try:
            result = notifier.send(msgs)
        except Exception as exc:  # a notifier bug must not kill the dispatcher
            log_event(log, "error", "delivery.crash", exc_info=True, notifier=notifier.name)
            result = SendResult(False, f"internal error: {type(exc).__name__}")
        done = self.clock()
        # a digest sent in parts may have delivered some alerts before one part failed
        partial = SendResult(True, "sent before a later part failed")
        for r in rows:
            sent = not result.ok and r.alert_id in result.delivered
            self._mark(r, partial if sent else result, owner, done, stats)

    def _mark(
        self, r: DeliveryRow, result: SendResult, owner: str, now: datetime, stats: DispatchStats
    ) -> None:
        attempts = r.attempts + 1
        # every notifier's answer passes here: a server echoing a token stores no token
        detail = redact(clean_line(result.detail, 900)) or None
        if result.ok:
            counting.delivery(r.notifier, "sent")
            with self._stats_lock:
                stats.sent += 1
            self._finish(r.id, owner, status="sent", attempts=attempts, now=now, error=None)
            log_event(
                log,
                "info",
                "delivery.sent",
                notifier=r.notifier,
                alert=r.alert_id,
                attempts=attempts,
            )
            return
        age = (now - r.created_at).total_seconds()
        delay = retry_delay(attempts, self.policy, result.retry_after)
        if result.permanent or age + delay > self.policy.give_up_after:
            counting.delivery(r.notifier, "failed")
            with self._stats_lock:
                stats.failed += 1
            why = detail or "failed"
            if not result.permanent:
                why = f"gave up after {attempts} attempts: {why}"
            self._finish(r.id, owner, status="failed", attempts=attempts, now=now, error=why)
            log_event(
                log, "warning", "delivery.failed", notifier=r.notifier, alert=r.alert_id, reason=why
            )
            return
        counting.delivery(r.notifier, "retry")
        with self._stats_lock:
            stats.retried += 1
        self._finish(
            r.id,
            owner,
            status="pending",
            attempts=attempts,
            now=now,
            error=detail,
            next_attempt_at=now + timedelta(seconds=delay),
        )
        log_event(
            log, "info", "delivery.retry", notifier=r.notifier, alert=r.alert_id,
            attempts=attempts, retry_in=round(delay), reason=detail,
        )  # fmt: skip
