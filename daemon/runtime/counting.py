"""What pantau counts for its metrics endpoint (``daemon.runtime.metrics``), and whether a
process counts at all.

The daemon counts (``enable``, at its start): its endpoint serves the counts when
``metrics.listen`` is set, and a reload may not start one later. ``run --once`` serves no
endpoint, so it counts nothing and never imports prometheus_client: ~18 ms of a ~0.95 s cycle
of 304s at 1,000 feeds, paid by a cron user at every run (tests/test_run_once_startup.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daemon.feeds.poll import PollOutcome

_on = False


def enable() -> None:
    """Count from now on, in this process."""
    global _on
    _on = True


def poll(out: PollOutcome) -> None:
    """One poll's outcome: its result, fetch time, new items, stories and alerts."""
    if not _on:
        return
    from daemon.runtime import metrics

    result = out.result if out.result in metrics.POLL_RESULTS else "error"
    metrics.POLLS.labels(result=result).inc()
    if out.fetch_seconds:
        metrics.FETCH_SECONDS.observe(out.fetch_seconds)
    s = out.stats
    if s.new:
        metrics.ITEMS_NEW.labels(feed=metrics.label(out.name)).inc(s.new)
    if s.new_stories:
        metrics.STORIES_NEW.inc(s.new_stories)
    for topic, n in s.alerts_by_topic.items():
        metrics.ALERTS.labels(topic=metrics.label(topic)).inc(n)


def delivery(notifier: str, result: str) -> None:
    """One delivery attempt's result: sent, retry or failed."""
    if not _on:
        return
    from daemon.runtime import metrics

    metrics.DELIVERY_ATTEMPTS.labels(notifier=metrics.label(notifier), result=result).inc()
