"""The daemon: a thin shell that runs the pipeline on a schedule.

APScheduler runs three jobs in this process: ``feeds`` (every second: hand the feeds that
are due to a pool of poll threads), ``deliver`` (drain the outbox) and ``maintenance``
(retention). The schedule itself lives in the database (``feeds.next_poll_at``), so a restart
resumes it and several processes could share it; APScheduler only provides the ticks. Jobs
use ``coalesce`` and no misfire grace limit, so a late tick runs (once) rather than being
skipped. A feed is polled by at most one thread at a time (the in-flight set), and the fetch
deadline guarantees every poll ends, so hung servers cannot starve the pool.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daemon.pipeline.enrich import Enricher
    from daemon.pipeline.fulltext import ArticleFetcher

from sqlalchemy.exc import OperationalError

from daemon.config import Config, ConfigError, LoadedConfig, load_config
from daemon.delivery import build_notifier
from daemon.delivery.base import AlertMessage, Notifier
from daemon.delivery.dispatch import Dispatcher, DispatchStats, RetryPolicy
from daemon.feeds import health as feedhealth
from daemon.feeds import schedule
from daemon.feeds.fetch import Fetcher, FetchPolicy
from daemon.feeds.poll import FeedPolicy, PollOutcome, poll_feed, record_failure
from daemon.logs import add_secret, log_event
from daemon.pipeline.rules import Rules
from daemon.runtime import counting, heap
from daemon.runtime.parsepool import ParsePool
from daemon.runtime.signals import on_signal
from daemon.storage import db
from daemon.storage.db import sqlite_path
from daemon.storage.feeds import FeedRow, FeedSpec
from daemon.storage.sql import utcnow
from daemon.storage.store import Store
from daemon.storage.writer import SingleWriter
from daemon.topics.match import Matcher, TopicSpec

log = logging.getLogger("pantau")


class AlreadyRunning(RuntimeError):
    pass


@dataclass
class Runtime:
    """Everything derived from one config; rebuilt and swapped whole on reload."""

    loaded: LoadedConfig
    policies: dict[str, FeedPolicy]
    rules: Rules
    notifiers: dict[str, Notifier]
    fetcher: Fetcher
    dispatcher: Dispatcher
    articles: ArticleFetcher | None  # None when no feed wants full text
    feed_ids: dict[str, int] = field(default_factory=dict)  # filled by sync_feeds

    @property
    def cfg(self) -> Config:
        return self.loaded.config

    @property
    def fulltext(self) -> bool:
        return any(p.fulltext for p in self.policies.values())

    def feed_urls(self) -> dict[int, str]:
        return {i: u for u, i in self.feed_ids.items()}


def build_rules(cfg: Config) -> Rules:
    return Rules(
        matcher=Matcher.compile([TopicSpec(t.name, t.query) for t in cfg.topics]),
        routes={t.name: tuple(t.notify) for t in cfg.topics},
        window=timedelta(seconds=cfg.stories.window),
        max_age=timedelta(seconds=cfg.alerts.max_age),
        events_window=timedelta(seconds=cfg.events.window),
        per=cfg.alerts.per,
    )


def build_runtime(loaded: LoadedConfig, store: Store, stop: threading.Event) -> Runtime:
    cfg = loaded.config
    p = cfg.polling
    fetcher = Fetcher(
        FetchPolicy(
            timeout=p.timeout,
            max_bytes=p.max_bytes,
            user_agent=p.user_agent,
            concurrency=p.concurrency,
            per_host=p.per_host,
        ),
        stop=stop,
    )
    notifiers = {
        name: build_notifier(name, n, user_agent=p.user_agent) for name, n in cfg.notifiers.items()
    }
    names = cfg.feed_names()
    policies = {
        f.url: FeedPolicy(
            url=f.url,
            name=names[f.url],
            interval=cfg.feed_interval(f),
            timezone=f.timezone,
            fulltext=cfg.feed_fulltext(f),
        )
        for f in cfg.feeds
    }
    d = cfg.delivery
    dispatcher = Dispatcher(
        store, notifiers, RetryPolicy(d.retry_initial, d.retry_max, d.give_up_after)
    )
    articles = None
    if any(p.fulltext for p in policies.values()):  # the module is imported only when needed
        from daemon.pipeline.fulltext import ArticleFetcher, FulltextPolicy

        ft = cfg.fulltext
        articles = ArticleFetcher(
            fetcher,
            FulltextPolicy(
                per_host_per_minute=ft.per_host_per_minute,
                max_pages=ft.max_pages,
                max_chars=ft.max_chars,
            ),
        )
    return Runtime(loaded, policies, build_rules(cfg), notifiers, fetcher, dispatcher, articles)


def sync_feeds(store: Store, rt: Runtime) -> dict[str, int]:
    now = utcnow()
    specs = [FeedSpec(u, p.name, p.interval) for u, p in rt.policies.items()]
    first = {u: schedule.initial_poll_at(now, p.interval) for u, p in rt.policies.items()}
    rt.feed_ids = store.sync_feeds(specs, now, first)
    return rt.feed_ids


def poll_one(
    store: Store,
    rt: Runtime,
    feed: FeedRow,
    parser: ParsePool | None = None,
    unchanged_sink: Callable[[int, dict[str, Any]], None] | None = None,
) -> PollOutcome:
    """Poll a feed; any unexpected failure is recorded on the feed, never raised."""
    policy = rt.policies.get(feed.url) or FeedPolicy(feed.url, feed.name, rt.cfg.polling.interval)
    p = rt.cfg.polling
    try:
        out = poll_feed(
            store,
            rt.fetcher,
            feed,
            policy,
            rt.rules,
            min_interval=p.min_interval,
            max_interval=p.max_interval,
            max_backoff=p.max_backoff,
            parser=parser.parse if parser is not None else None,
            unchanged_sink=unchanged_sink,
        )
    except Exception as exc:
        log_event(log, "error", "poll.crash", exc_info=True, feed=feed.name)
        error = f"internal error: {type(exc).__name__}: {exc}"[:900]
        out = PollOutcome(feed.id, feed.name, "error", error=error)
        _record_crash(store, rt, feed, policy, out)
    _log_outcome(out)
    if out.dates_unreadable:
        _warn_dates_once(feed.url, out.name)
    counting.poll(out)
    try:
        update_health(store, rt, feed, out)
    except Exception:
        log_event(log, "error", "health.error", exc_info=True, feed=feed.name)
    return out


def history_after(f: FeedRow, out: PollOutcome, now: datetime) -> feedhealth.FeedHistory:
    """The feed's history as the poll just left it (what poll_feed wrote), without a read."""
    ok = out.ok
    return feedhealth.FeedHistory(
        added_at=f.added_at or now,
        last_ok_at=now if ok else f.last_ok_at,
        last_new_at=now if out.stats.new else f.last_new_at,
        last_error=None if ok else out.error,
        error_count=0 if ok else f.error_count + 1,
        item_count=f.item_count + out.stats.new,
        gone=f.gone or out.result == "gone",
    )


def update_health(store: Store, rt: Runtime, f: FeedRow, out: PollOutcome) -> feedhealth.Health:
    """Re-assess a feed after a poll; announce a turn for the worse or a recovery once."""
    now = utcnow()
    h = feedhealth.assess(history_after(f, out, now), now)
    if h.state == f.health and h.reason == f.health_reason:
        return h
    if h.state == "ok" and f.health in (None, "new"):
        return h  # a first good poll: no news, and no write (NULL reads as "ok", see cli)
    feed_id = f.id
    turn = feedhealth.transition(f.health, h)
    with store.tx() as tx:
        values = {"health": h.state, "health_reason": h.reason[:1000]}
        if h.state != f.health:
            values["health_since"] = now
        tx.update_feed(feed_id, **values)
    if turn:
        log_event(
            log,
            "warning" if turn == "bad" else "info",
            f"feed.{turn}",
            feed=f.name,
            state=h.state,
            reason=h.reason,
        )
        announce_health(rt, f, h, turn)
    return h


def announce_health(rt: Runtime, f: FeedRow, h: feedhealth.Health, turn: str) -> None:
    """One message through each `health.notify` notifier; best effort, logged."""
    title = feedhealth.announcement(f.name, h, turn)
    msg = AlertMessage(
        alert_id=0,
        topic="kesehatan feed",
        title=title,
        url=f.url,
        outlet=f.name,
        published_at=utcnow(),
        matched=(),
        snippet=h.reason,
        sources=(),
    )
    for name in rt.cfg.health.notify:
        n = rt.notifiers.get(name)
        if n is None:
            continue
        try:
            res = n.send([msg])
            log_event(
                log,
                "info",
                "health.notified",
                notifier=name,
                feed=f.name,
                ok=res.ok,
                detail=res.detail,
            )
        except Exception:
            log_event(log, "error", "health.notify_failed", exc_info=True, notifier=name)


def _record_crash(
    store: Store, rt: Runtime, feed: FeedRow, policy: FeedPolicy, out: PollOutcome
) -> None:
    p = rt.cfg.polling
    limits = schedule.Limits(policy.interval, p.min_interval, p.max_interval, p.max_backoff)
    try:
        record_failure(store, feed, out, utcnow(), limits, group=False)
    except Exception:
        log_event(log, "error", "poll.record_failed", exc_info=True, feed=feed.name)


_dates_warned: set[str] = set()
_dates_lock = threading.Lock()


def _warn_dates_once(url: str, name: str) -> None:
    """A feed none of whose dates can be read (a CMS writing placeholders, an unknown
    format) has every item filed under the time pantau first saw it, so week-old news looks
    new and may alert. Say so once per feed and process, not on every poll; `pantau feeds`
    shows it for as long as it lasts."""
    with _dates_lock:
        if url in _dates_warned:
            return
        _dates_warned.add(url)
    log_event(
        log, "warning", "feed.dates_unreadable", feed=name,
        effect="items are dated when first seen", see="pantau feeds",
    )  # fmt: skip


def _log_outcome(out: PollOutcome) -> None:
    s = out.stats
    ms = round(out.elapsed * 1000)
    if out.result == "ok":
        fields = dict(items=s.total, new=s.new, updated=s.updated, stories=s.new_stories)
        log_event(
            log, "info", "poll.ok", feed=out.name, status=out.status, **fields,
            alerts=len(s.alerts), ms=ms, **({"warning": out.warning} if out.warning else {}),
        )  # fmt: skip
    elif out.result in ("not_modified", "unchanged"):
        # debug: at 1,000 feeds an unchanged cycle would otherwise print 1,000 lines
        log_event(log, "debug", f"poll.{out.result}", feed=out.name, status=out.status, ms=ms)
    else:
        nxt = out.next_poll_at.isoformat(timespec="seconds") if out.next_poll_at else None
        log_event(
            log, "warning", f"poll.{out.result}", feed=out.name, status=out.status,
            error=out.error, next_poll=nxt,
        )  # fmt: skip


def poll_all(store: Store, rt: Runtime, *, parser: ParsePool | None = None) -> list[PollOutcome]:
    """Poll every active feed once, ``polling.concurrency`` at a time (``run --once``)."""
    feeds = [f for f in store.feed_rows() if not f.gone]
    feeds = [f for f in feeds if f.url in rt.policies]
    if parser is not None and any(f.last_polled_at is None for f in feeds):
        parser.warm()  # feeds never polled: documents to parse are coming
    unchanged: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def sink(feed_id: int, values: dict[str, Any]) -> None:
        with lock:
            unchanged.append((feed_id, values))

    try:
        with ThreadPoolExecutor(
            max_workers=rt.cfg.polling.concurrency, thread_name_prefix="poll"
        ) as pool:
            return list(pool.map(lambda f: poll_one(store, rt, f, parser, sink), feeds))
    finally:
        # one transaction for the bookkeeping of every unchanged feed of the cycle
        if unchanged:
            store.record_unchanged(unchanged)
        store.flush()  # the last polls' group may linger (``SingleWriter.linger``)


def make_parser(cfg: Config) -> ParsePool:
    return ParsePool(
        timeout=parse_timeout(cfg),
        deadline=cfg.polling.timeout,  # a document of any shape costs at most this much CPU
        topics=[(t.name, t.query) for t in cfg.topics],
        max_age=cfg.alerts.max_age,
    )


def parse_timeout(cfg: Config) -> float:
    """How long one document may take to parse before its worker is replaced."""
    return max(30.0, cfg.polling.timeout * 3)


def lock_database(url: str) -> Any | None:
    """SQLite is one process at a time: hold an exclusive lock file beside the database."""
    path, lock_path = sqlite_path(url), db.lock_path(url)
    if path is None or lock_path is None:
        return None
    fh = open(lock_path, "a+")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise AlreadyRunning(
            f"another pantau process is using {path} (SQLite allows one process; "
            "use PostgreSQL to run several)"
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def run_once(
    loaded: LoadedConfig, stop: threading.Event | None = None
) -> tuple[list[PollOutcome], DispatchStats]:
    """One cycle. ``stop`` (SIGINT, SIGTERM) cancels fetches in flight and skips the rest."""
    stop = stop or threading.Event()
    lock = lock_database(loaded.config.database)
    store = Store.open(
        loaded.config.database, single_writer=SingleWriter.one_shot() if lock else None
    )
    parser = make_parser(loaded.config)
    try:
        if not store.is_current():
            # A new (or older) database: its feeds have never been polled, so every one will
            # bring a document to parse. The workers start while the schema is built. (Not
            # on every run: a cycle of 304s would pay for workers it never uses.)
            parser.warm()
        store.upgrade()
        if lock is not None:
            store.release_all_claims()
        rt = build_runtime(loaded, store, stop)
        sync_feeds(store, rt)
        outcomes = poll_all(store, rt, parser=parser)
        parser.close()
        if rt.fulltext and not stop.is_set():
            drain_fulltext(store, rt)
        stats = rt.dispatcher.run(stop=stop)
        return outcomes, stats
    finally:
        parser.close()
        store.close()
        if lock:
            lock.close()


def make_enricher(store: Store, get_rt: Callable[[], Runtime]) -> Enricher:
    from daemon.pipeline.enrich import Enricher

    return Enricher(
        store,
        articles=_LiveArticles(get_rt),  # type: ignore[arg-type]
        rules=lambda: get_rt().rules,
        feed_urls=lambda: get_rt().feed_urls(),
    )


class _LiveArticles:
    """The current runtime's ArticleFetcher (it is replaced on reload)."""

    def __init__(self, get_rt: Callable[[], Runtime]) -> None:
        self.get_rt = get_rt

    def fetch_text(self, url: str, *, feed_is_private: bool = False):  # type: ignore[no-untyped-def]
        articles = self.get_rt().articles
        if articles is None:  # full text was switched off by a reload: leave it queued
            from daemon.pipeline.fulltext import FulltextResult

            return FulltextResult(None, "full text is off for this feed", retry_after=3600.0)
        return articles.fetch_text(url, feed_is_private=feed_is_private)


def drain_fulltext(store: Store, rt: Runtime, *, max_wait: float = 600.0) -> None:
    """``run --once``: fetch the full text of every queued item, waiting out rate limits
    (at most ``max_wait`` seconds in all)."""
    enricher = make_enricher(store, lambda: rt)
    deadline = time.monotonic() + max_wait
    while True:
        enricher.run()
        nxt = store.next_fulltext_at()
        if nxt is None:
            return
        delay = (nxt - utcnow()).total_seconds()
        if time.monotonic() + max(0.0, delay) > deadline:
            log_event(
                log, "warning", "fulltext.left_queued", reason="rate limit wait beyond the run"
            )
            return
        if delay > 0:
            time.sleep(min(delay, 5.0))


@dataclass
class Health:
    last_tick: float = field(default_factory=time.monotonic)
    last_db_ok: float = field(default_factory=time.monotonic)


class Daemon:
    """``pantau run``: until SIGTERM/SIGINT; SIGHUP reloads the config."""

    TICK = 1.0

    def __init__(
        self,
        loaded: LoadedConfig,
        *,
        notify: Any | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """``stop``: set by the signal handlers the CLI installs before anything else runs
        (a SIGINT or SIGTERM during start-up stops the daemon as soon as it can)."""
        self.loaded = loaded
        self.stop = stop or threading.Event()
        self.reload_requested = threading.Event()
        self.health = Health()
        self.notify = notify
        self._inflight: dict[int, Future[PollOutcome]] = {}
        self._lock = threading.Lock()
        self.store: Store | None = None
        self.rt: Runtime | None = None
        self.on_poll: Callable[[PollOutcome], None] | None = None
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.trim_every = heap.EVERY
        self.trims = 0  # heap.trim calls made (each returns what malloc holds free)
        # the retention cutoff's day when the event term counts were last pruned: they are
        # counted by day, so an hourly run scans the table only when that day has moved
        self.terms_pruned_day: int | None = None
        # a poll ends within the fetch deadline plus parse and ingest time
        self.lease = max(30.0, loaded.config.polling.timeout * 3)

    # -- lifecycle -----------------------------------------------------------------------
    def run(self) -> int:
        from apscheduler.schedulers.background import BackgroundScheduler

        counting.enable()  # the endpoint serves the counts (``run --once`` serves none)
        cfg = self.loaded.config
        lock = lock_database(cfg.database)
        self.store = store = Store.open(
            cfg.database, single_writer=SingleWriter.daemon() if lock else None
        )
        try:
            self._install_signals()  # SIGTERM while waiting for the database ends the wait
            if not self._start_storage(store, exclusive=lock is not None) or self.stop.is_set():
                log_event(log, "info", "daemon.stopping")
                return 0
            assert self.rt is not None
            self.parser = make_parser(cfg)
            self.parser.warm()
            self.pool = ThreadPoolExecutor(
                max_workers=cfg.polling.concurrency, thread_name_prefix="poll"
            )
            sched = BackgroundScheduler(
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                timezone="UTC",
            )
            sched.add_job(
                self._tick_feeds,
                "interval",
                seconds=self.TICK,
                id="feeds",
                next_run_time=datetime.now().astimezone(),
            )
            sched.add_job(self._tick_deliver, "interval", seconds=cfg.delivery.tick, id="deliver")
            self.enricher: Enricher | None = None  # made on first use (few configs need it)
            sched.add_job(self._tick_fulltext, "interval", seconds=2, id="fulltext")
            sched.add_job(
                self._maintenance, "interval", seconds=3600, id="maintenance",
                next_run_time=datetime.now().astimezone() + timedelta(seconds=30),
            )  # fmt: skip
            self.metrics_server = None
            if cfg.metrics is not None:
                from daemon.runtime.metrics import MetricsServer

                self.metrics_server = MetricsServer(
                    cfg.metrics.listen, collect=self.collect_metrics
                )
                self.metrics_server.start()
                log_event(log, "info", "metrics.listening", url=self.metrics_server.url)
            self.web_server = self._start_web(cfg)
            sched.start()
            n = len(self.rt.policies)
            log_event(
                log, "info", "daemon.ready", feeds=n, topics=len(cfg.topics),
                notifiers=len(cfg.notifiers), db=store.engine.url.render_as_string(hide_password=True),
                **self._next_poll_fields(),
            )  # fmt: skip
            watchdog = None
            if self.notify:
                self.notify.ready()
                self.notify.status(self.status_line())
                from daemon.runtime.sdnotify import Watchdog

                watchdog = Watchdog(self.notify, self.healthy)
                watchdog.start()  # a no-op unless systemd asked for a watchdog
            next_status = time.monotonic() + 30
            next_trim = time.monotonic() + self.trim_every
            while not self.stop.is_set():
                if self.notify and time.monotonic() >= next_status:
                    next_status = time.monotonic() + 30
                    self.notify.status(self.status_line())
                if time.monotonic() >= next_trim:  # RSS that tracks live memory: see heap
                    next_trim = time.monotonic() + self.trim_every
                    heap.trim()
                    self.trims += 1
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self.reload()
                self.stop.wait(0.5)
            log_event(log, "info", "daemon.stopping")
            self.parser.stopping()
            if self.notify:
                self.notify.stopping()
            if watchdog is not None:
                watchdog.stop()
            sched.shutdown(wait=False)
            if self.metrics_server is not None:
                self.metrics_server.stop()
            if self.web_server is not None:
                self.web_server.stop()
            self.pool.shutdown(wait=False, cancel_futures=True)
            pending = [f for f in self._inflight.values() if not f.done()]
            if pending:
                wait(pending, timeout=self.STOP_POLLS_WAIT)
            # Workers hold nothing to save; seeing them gone lets the exit handlers release
            # multiprocessing's semaphores (else its resource tracker warns of leaked ones).
            self.parser.close(wait=1.0)
            return 0
        finally:
            store.close()
            if lock:
                lock.close()

    def _start_web(self, cfg: Config) -> Any:
        """The dashboard, when configured, on its own threads and connections (a slow
        browser never holds a poll). A port it cannot bind is logged, not fatal: polling
        and delivery matter more than the page that shows them."""
        if cfg.web.listen is None:
            return None
        from daemon.web.server import WebServer

        try:
            server = WebServer(
                cfg.web.listen, cfg.database, lambda: self.loaded.config, auth=cfg.web.auth
            ).start()
        except OSError as exc:
            log_event(
                log, "error", "web.listen_failed", listen=cfg.web.listen,
                error=exc.strerror or str(exc), polling="continues",
            )  # fmt: skip
            return None
        log_event(log, "info", "web.listening", url=server.url)
        return server

    # SIGTERM must end pantau within 10 s (README.md, systemd's stop timeout): the dashboard
    # takes up to 2 s to stop, in-flight polls get this long, the workers 1 s, the exit
    # handlers 2 s (cli._leave).
    STOP_POLLS_WAIT = 5.0

    START_RETRY_MAX = 60.0  # seconds between attempts to open the database, at most

    def _start_storage(self, store: Store, *, exclusive: bool) -> bool:
        """Migrate, take back our old claims (SQLite: the only process) and sync the feeds,
        retried with backoff while the database cannot be written or reached: a full disk
        (SQLite in WAL mode cannot even open a database without room for its -shm file), an
        unreachable PostgreSQL. Exiting would only have systemd restart us into the same
        error; waiting starts the daemon the moment there is room. False: stopped first."""
        self.rt = build_runtime(self.loaded, store, self.stop)  # no database work
        delay = 1.0
        while True:
            try:
                store.upgrade()
                if exclusive:
                    feeds_, dels = store.release_all_claims()
                    if feeds_ or dels:
                        log_event(
                            log, "info", "daemon.recovered", feed_leases=feeds_,
                            delivery_claims=dels,
                        )  # fmt: skip
                sync_feeds(store, self.rt)
                return True
            except OperationalError as exc:
                log_event(
                    log, "error", "daemon.start_failed", retry_in=f"{delay:.0f}s",
                    error=str(exc.orig) or type(exc.orig).__name__,
                )  # fmt: skip
            if self.stop.wait(delay):
                return False
            delay = min(delay * 2, self.START_RETRY_MAX)

    def _next_poll_fields(self) -> dict[str, str]:
        """When the first poll is due: a restart resumes the saved schedule, which may wait
        minutes, and a daemon that says nothing meanwhile looks hung."""
        assert self.store is not None and self.rt is not None
        due = [
            f.next_poll_at
            for f in self.store.feed_rows()
            if not f.gone and f.url in self.rt.policies and f.next_poll_at is not None
        ]
        if not due:
            return {"next_poll": "none (every feed is gone)"} if self.rt.policies else {}
        wait = max(0.0, (min(due) - utcnow()).total_seconds())
        from daemon.views import iso, short_duration

        return {"next_poll": iso(min(due)) or "", "next_poll_in": short_duration(wait)}

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        on_signal(signal.SIGTERM, self.stop)
        on_signal(signal.SIGINT, self.stop)
        on_signal(signal.SIGHUP, self.reload_requested)

    def reload(self) -> bool:
        assert self.store is not None and self.rt is not None
        if self.notify:
            self.notify.reloading()
        try:
            loaded = load_config(self.loaded.path)
            add_secret(*loaded.secrets)  # a new token or webhook is masked from the start
            rt = build_runtime(loaded, self.store, self.stop)
        except ConfigError as exc:
            log_event(
                log, "error", "reload.invalid", path=exc.path, errors=exc.errors, kept="old config"
            )
            if self.notify:
                self.notify.ready()
            return False
        except Exception as exc:
            log_event(log, "error", "reload.failed", error=str(exc), kept="old config")
            if self.notify:
                self.notify.ready()
            return False
        self.loaded, self.rt = loaded, rt
        self.parser.configure(
            [(t.name, t.query) for t in loaded.config.topics], loaded.config.alerts.max_age
        )
        sync_feeds(self.store, rt)
        log_event(
            log, "info", "reload.ok", feeds=len(rt.policies), topics=len(loaded.config.topics),
            notifiers=len(rt.notifiers),
        )  # fmt: skip
        if self.notify:
            self.notify.ready()
            self.notify.status(self.status_line())
        return True

    # -- jobs ----------------------------------------------------------------------------
    def _tick_feeds(self) -> None:
        if self.stop.is_set():
            return
        assert self.store is not None and self.rt is not None
        rt, store = self.rt, self.store
        with self._lock:
            for fid in [k for k, f in self._inflight.items() if f.done()]:
                del self._inflight[fid]
            busy = list(self._inflight)
        free = rt.cfg.polling.concurrency * 2 - len(busy)
        if free > 0:
            try:
                due = store.claim_feeds(utcnow(), self.owner, self.lease, limit=free, exclude=busy)
                self.health.last_db_ok = time.monotonic()
            except Exception:
                log_event(log, "error", "tick.db_error", exc_info=True)
                return
            for feed in due:
                if feed.url not in rt.policies:
                    store.release_feed(feed.id, self.owner)
                    continue
                fut = self.pool.submit(self._poll, feed)
                with self._lock:
                    self._inflight[feed.id] = fut
        self.health.last_tick = time.monotonic()

    def _poll(self, feed: FeedRow) -> PollOutcome:
        assert self.store is not None and self.rt is not None
        try:
            out = poll_one(self.store, self.rt, feed, self.parser)  # records it, drops the lease
        except BaseException:
            self.store.release_feed(feed.id, self.owner)
            raise
        if out.stats.alerts and not self.stop.is_set():
            self._tick_deliver()
        if self.on_poll:
            self.on_poll(out)
        return out

    def _tick_fulltext(self) -> None:
        if self.stop.is_set() or self.rt is None or not self.rt.fulltext:
            return
        try:
            if self.enricher is None:
                assert self.store is not None
                self.enricher = make_enricher(self.store, lambda: self.rt)  # type: ignore[arg-type,return-value]
            st = self.enricher.run(stop=self.stop)
            if st.alerts:
                self._tick_deliver()
        except Exception:
            log_event(log, "error", "fulltext.error", exc_info=True)

    def _tick_deliver(self) -> None:
        if self.stop.is_set() or self.rt is None:
            return
        try:
            self.rt.dispatcher.run(stop=self.stop, wait=False)
        except Exception:
            log_event(log, "error", "deliver.error", exc_info=True)

    def _maintenance(self) -> None:
        if self.stop.is_set() or self.rt is None or self.store is None:
            return
        keep = self.rt.cfg.retention.items
        if not keep:
            return
        from daemon.pipeline.retention import prune
        from daemon.storage.events import today

        try:
            now = utcnow()
            day = today((now - timedelta(seconds=keep)).timestamp())
            terms = day != self.terms_pruned_day
            st = prune(self.store, now, timedelta(seconds=keep), terms=terms)
            if terms:
                self.terms_pruned_day = day
            log_event(
                log, "info", "retention.pruned", items=st.items, stories=st.stories,
                terms=st.terms,
            )  # fmt: skip
        except Exception:
            log_event(log, "error", "retention.error", exc_info=True)

    def collect_metrics(self) -> None:
        """Refresh the database-derived gauges right before a scrape."""
        if self.store is None:
            return
        from daemon.runtime import metrics

        counts = self.store.delivery_counts()
        metrics.replace(
            metrics.DELIVERIES, {s: float(counts.get(s, 0)) for s in metrics.DELIVERY_STATUSES}
        )
        oldest = self.store.oldest_pending_delivery()
        age = (utcnow() - oldest).total_seconds() if oldest else 0.0
        metrics.OLDEST_PENDING_DELIVERY_SECONDS.set(max(0.0, age))
        metrics.replace(
            metrics.LAST_SUCCESS,
            {
                metrics.label(f.name): f.last_ok_at.timestamp()
                for f in self.store.feed_rows()
                if f.last_ok_at
            },
        )

    # -- health --------------------------------------------------------------------------
    def healthy(self) -> bool:
        """For the watchdog: the feeds tick ran recently and the database answered."""
        now = time.monotonic()
        return now - self.health.last_tick < 30 and now - self.health.last_db_ok < 60

    def status_line(self) -> str:
        if self.store is None:
            return "starting"
        rows = self.store.feed_rows()
        bad = sum(1 for f in rows if f.last_error)
        pending = self.store.delivery_counts().get("pending", 0)
        return f"{len(rows) - bad} feeds ok, {bad} in error, {pending} deliveries pending"
