"""Parse feeds in worker processes.

feedparser is pure Python and dominates the CPU cost of a poll cycle (about 80–90 % of
fetch + parse). In threads it holds the GIL, so a cycle uses one core however many fetches
are in flight. Worker processes let parsing use every core while the main process fetches,
stores, groups and matches. They also isolate the daemon from the parser: a document that
crashes it (MemoryError, a C-level fault) or makes it spin breaks only a worker, which is
replaced, and the feed gets a readable error.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import BrokenExecutor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from daemon.runtime import workers

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from daemon.pipeline.prepare import PreparedFeed
    from daemon.topics.match import Matcher

log = logging.getLogger("pantau.parse")

# Small documents are parsed in the calling thread: shipping them to a worker costs more
# (pickling both ways) than parsing them.
INLINE_BELOW = 16 * 1024


T = TypeVar("T")

# Workers run this much nicer than the daemon (see ``yield_cpu``).
WORKER_NICE = 10

# In a worker: the topics' matcher, compiled once per worker by the pool's initializer.
_MATCHER: Any = None
_MAX_AGE = timedelta(hours=48)


def _init_worker(
    topics: tuple[tuple[str, str], ...], max_age: float, owner: int | None = None
) -> None:
    global _MATCHER, _MAX_AGE
    import signal

    # Stopping is the daemon's business (see workers.stop_signals_blocked); this also holds
    # for workers of a forkserver that some other code started.
    signal.pthread_sigmask(signal.SIG_BLOCK, workers.STOP_SIGNALS)
    if owner is not None:
        _exit_with(owner)
    yield_cpu()
    from daemon.topics.match import Matcher, TopicSpec

    _MATCHER = Matcher.compile([TopicSpec(n, q) for n, q in topics]) if topics else None
    _MAX_AGE = timedelta(seconds=max_age)
    import feedparser  # noqa: F401 - imported now so that its objects are frozen below

    from daemon.runtime import gctune

    gctune.tune()


def yield_cpu() -> None:
    """Let the daemon's threads take a core from a worker the moment they wake.

    In a first cycle the main process, not parsing, is the serial path: its write lock is
    held ~92 % of the cycle, and its holder spends about a third of that waiting for the
    GIL as it passes between the daemon's threads (fetch, result transfer, ingest). With
    both cores busy parsing, each hand-over could wait for the scheduler to take a core
    from a worker. At nice 10 (about a tenth of the daemon's CPU weight) a waking daemon
    thread gets one at once; on a 1,000-feed first cycle the wall time fell 12 %
    (bench/README.md, issue 9). Nice matters only under contention: on an otherwise idle
    machine the workers still use all the CPU the daemon leaves, and on a machine busy with
    other work parsing slows before fetching, storing and delivering do."""
    try:
        os.nice(WORKER_NICE)
    except OSError:  # not permitted here (some sandboxes): parse at the daemon's priority
        pass


def _exit_with(owner: int) -> None:
    """End this worker when the process that owns the pool ends, however it ends.

    A worker is a child of the forkserver, not of the daemon, and holds the write ends of
    its own task pipe (multiprocessing hands a queue's both ends to each worker): when the
    daemon was killed (``kill -9``, the OOM killer), its workers waited on that pipe for
    good, and kept the forkserver alive with them (it exits when the last process holding
    its "alive" pipe does; every worker holds one). Each ``kill -9`` of ``pantau run``
    outside systemd (which kills the whole unit) left four processes behind for good:
    forkserver, resource tracker and two workers, 43 MB of PSS. A thread here waits on a
    pidfd of the owner (Linux 5.3+), or polls it once a second elsewhere, and exits the
    worker when the owner is gone; the forkserver and the tracker then see their pipes
    close and exit too."""

    def watch() -> None:
        try:
            fd = os.pidfd_open(owner)
        except (AttributeError, OSError):  # not Linux >= 5.3
            while _alive(owner):
                time.sleep(1.0)
        else:
            select.select([fd], [], [])  # readable once the owner has exited
        os._exit(0)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but someone else's
        pass
    return True


class ParseDeadline(BaseException):
    """Raised in a worker by SIGPROF when one document's parse has used its deadline's CPU
    time. A BaseException, so that feedparser's ``except Exception`` (which falls back from
    its strict to its loose parser) cannot swallow it."""


def _alarm(signum: int, frame: Any) -> None:
    raise ParseDeadline


def parse_prepared(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    timezone: str,
    now: datetime,
    known: frozenset[str] = frozenset(),
    deadline: float | None = None,
) -> PreparedFeed:
    """What a worker runs: parse, then prepare each item (``daemon.pipeline.prepare``) with
    the worker's own compiled topics. ``deadline``: seconds of CPU this document may take
    (the process's CPU clock, ``ITIMER_PROF``), so a document of any shape costs at most
    that much CPU. CPU, not the wall clock: a worker runs at nice 10 (``yield_cpu``), and on
    a machine busy with other work a document that needs a tenth of the deadline may wait
    longer than all of it for a core; cut by the wall clock, its feed failed at every busy
    poll. A worker that stops using CPU altogether (a hang in C) is the pool's ``timeout``'s
    to end, which is wall time."""
    from daemon.pipeline.prepare import parse_and_prepare

    armed = deadline is not None and deadline > 0 and hasattr(signal, "setitimer")
    if armed and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGPROF, _alarm)
        signal.setitimer(signal.ITIMER_PROF, deadline)
    else:
        armed = False
    try:
        return parse_and_prepare(
            body, url=url, headers=headers, timezone=timezone, now=now, matcher=_MATCHER,
            max_age=_MAX_AGE, known=known,
        )  # fmt: skip
    except ParseDeadline:
        return _failed(f"parse took longer than {deadline:g} s (the feed's timeout)")
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_PROF, 0)


class ParsePool:
    def __init__(
        self,
        workers: int | None = None,
        *,
        timeout: float = 60.0,
        topics: Sequence[tuple[str, str]] = (),
        max_age: float = 48 * 3600.0,
        deadline: float | None = None,
    ) -> None:
        self.workers = workers if workers is not None else max(1, min(4, os.cpu_count() or 1))
        self.timeout = timeout  # the backstop: waiting, queueing and a hang in C included
        self.deadline = deadline  # CPU seconds of one document's parse (``parse_prepared``)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._warmed = False
        self._closed = False
        self._stopping = False  # the daemon is stopping: a failed worker start is expected
        self._spec = (tuple(topics), max_age)

    def configure(self, topics: Sequence[tuple[str, str]], max_age: float) -> None:
        """New topics (a reload): workers compiled the old ones, so they are replaced."""
        spec = (tuple(topics), max_age)
        if spec == self._spec:
            return
        with self._lock:
            self._spec = spec
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise _Closed
            if self._pool is None:
                # (imported here, with multiprocessing: a cycle of 304s starts no process)
                from concurrent.futures import ProcessPoolExecutor

                ctx = workers.context()  # see daemon.runtime.workers
                workers.ensure_running()
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(*self._spec, os.getpid()),
                )
            return self._pool

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run a picklable ``fn(*args)`` in a parse worker (starting the pool if need be):
        what the workers are, their priority, their environment, seen from inside."""
        return self._executor().submit(fn, *args)

    def warm(self) -> None:
        """Start the workers now, in the background (the forkserver, then each worker), so the
        first document of a cycle does not wait for them."""
        if self.workers <= 0 or self._warmed:
            return
        self._warmed = True
        pool = self._executor()
        for _ in range(self.workers):
            pool.submit(ping)

    def _reset(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not pool:
                return
            self._pool = None
        for p in list(getattr(pool, "_processes", {}).values()):
            try:
                p.kill()
            except Exception:  # noqa: BLE001 - already gone
                pass
        pool.shutdown(wait=False, cancel_futures=True)

    def parse(
        self,
        body: bytes,
        *,
        url: str,
        headers: Mapping[str, str] | None,
        timezone: str,
        now: datetime,
        matcher: Matcher | None,
        max_age: timedelta,
        known: frozenset[str] = frozenset(),
    ) -> PreparedFeed:
        """``parse_and_prepare``'s contract; in a worker for documents worth shipping there
        (the workers use their own compiled copy of ``matcher``, see ``configure``)."""
        from daemon.pipeline.prepare import parse_and_prepare  # (not for a cycle of 304s)

        if self.workers <= 0 or len(body) < INLINE_BELOW:
            return parse_and_prepare(
                body, url=url, headers=headers, timezone=timezone, now=now, matcher=matcher,
                max_age=max_age, known=known,
            )  # fmt: skip
        for attempt in (1, 2):
            try:
                pool = self._executor()
            except _Closed:
                return _failed(STOPPING)
            try:
                fut: Future[PreparedFeed] = pool.submit(
                    parse_prepared,
                    body,
                    url=url,
                    headers=dict(headers or {}),
                    timezone=timezone,
                    now=now,
                    known=known,
                    deadline=self.deadline,
                )
                return fut.result(timeout=self.timeout)
            except FutureTimeout:
                log.warning(
                    "parse timed out after %.0fs; restarting the parser workers", self.timeout
                )
                self._reset(pool)
                return _failed(f"parser gave up after {self.timeout:.0f} s")
            except (BrokenExecutor, RuntimeError, EOFError, OSError):  # (BrokenProcessPool)
                # Another document may have broken the pool under us: try once more in a
                # fresh one; breaking that too means this document is the culprit. EOFError
                # or OSError: a worker could not be started (the forkserver is gone, as when
                # `systemctl stop` signals the whole process group).
                self._reset(pool)
                # the daemon stopped its workers under this parse
                if self._closed or self._stopping:
                    return _failed(STOPPING)
                if attempt == 2:
                    return _failed("the parser crashed on this document")
        raise AssertionError("unreachable")

    def stopping(self) -> None:
        """The daemon is stopping: a parse whose workers fail from now on was cancelled,
        not crashed (a signal to the process group may have ended the forkserver)."""
        self._stopping = True

    def close(self, wait: float = 2.0) -> None:
        """Stop the workers. ``wait`` > 0: see them gone (up to that many seconds, then
        kill them) before returning.

        Without that wait, ``run --once`` could hang at exit for good: ``shutdown`` only
        asks the pool's manager thread to send each idle worker its stop sentinel, and when
        the interpreter's exit handlers ran first, multiprocessing's finalizer had already
        stopped the queue's feeder thread, so the sentinels never reached the workers, and
        the next handler joined those workers forever (14 hangs in 20 runs of warm, close,
        exit; tests/test_parsepool.py). The daemon, which leaves through ``os._exit`` within
        its stop budget, passes 0."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._closed = True
        if pool is None:
            return
        procs = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        if wait <= 0:
            return
        deadline = time.monotonic() + wait
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in procs:
            if p.is_alive():  # busy past the deadline: a parse worker holds nothing to save
                p.kill()
                p.join(1.0)


STOPPING = "cancelled: pantau is stopping"


class _Closed(Exception):
    """The pool was closed: no new workers."""


def ping() -> None:
    """A no-op task: submitting it makes the pool start a worker."""


def _failed(reason: str) -> PreparedFeed:
    from daemon.feeds.parse import ParsedFeed
    from daemon.pipeline.prepare import PreparedFeed

    return PreparedFeed(ParsedFeed(title="", link=None, items=[], warning=None, error=reason), [])
