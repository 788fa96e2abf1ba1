"""Where the parse workers come from: a forkserver, started as early as a run allows.

Workers start from a clean interpreter (the forkserver), not a fork of the multi-threaded
daemon: forking with threads holding locks can deadlock. The server imports the parser
once (``daemon.runtime.parsepool`` and what it needs: feedparser, the grouping and matching code),
and every worker is forked from it with those already imported.

``start_early`` starts the server at the top of ``pantau run``, before the main process
imports SQLAlchemy and pydantic and reads the config, so the server's imports run beside
the main process's instead of after them: in a first cycle the workers were ready ~0.2 s
sooner (bench/README.md, issue 9). This module stays light to import for that reason.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext

# the parse pool, and the pipeline its workers run (which the pool imports only where it
# parses: a cycle of 304s imports none of it, tests/test_run_once_startup.py)
PRELOAD = ["daemon.runtime.parsepool", "daemon.pipeline.prepare"]


def context() -> ForkServerContext:
    """The forkserver context, with the parser preloaded when that is safe. (multiprocessing
    is imported here: a cycle of 304s starts no process.)"""
    import multiprocessing
    from multiprocessing.context import ForkServerContext

    ctx = multiprocessing.get_context("forkserver")
    assert isinstance(ctx, ForkServerContext)
    if _safe_path():
        # The server imports only what workers need, not the daemon's __main__ (the
        # default: SQLAlchemy, pydantic and the rest would cost start-up time and memory
        # in every worker).
        ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_early() -> None:
    """Start the server now, in the background (it imports the parser in its own process).
    Its imports take ~0.2 s of the other core; a cycle that parses nothing pays no wall
    time for them."""
    context()
    ensure_running()


def ensure_running() -> None:
    """Start the forkserver (and the resource tracker) unless they run."""
    from multiprocessing import forkserver, resource_tracker

    with stop_signals_blocked():
        # CPython's tracker start (3.11) ends by *unblocking* SIGINT and SIGTERM, which
        # undid this block for the forkserver spawned after it: a Ctrl-C during start-up
        # then killed the server in its imports with a traceback. Start the tracker first,
        # then block again.
        resource_tracker.ensure_running()
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        forkserver.ensure_running()


# The signals that stop the daemon. Its helper processes leave them to it.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Start helper processes with SIGINT and SIGTERM blocked, as multiprocessing's resource
    tracker does for itself.

    Ctrl-C in a terminal sends SIGINT to the whole foreground process group, and
    ``systemctl stop`` sends SIGTERM to every process of the unit. The forkserver and the
    parse workers forked from it inherit this mask (across exec, and it is never undone
    there), so neither signal reaches them: no ``KeyboardInterrupt`` traceback from a
    worker, no forkserver dying half-way through its imports. The daemon stops them itself
    (``ParsePool.close``), and they also exit when the daemon is gone (see
    ``parsepool._exit_with``). A signal that arrives in this thread meanwhile stays pending
    and is delivered on leaving the block."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _safe_path() -> bool:
    """Keep the current directory out of the forkserver's import path; False where that
    cannot be done (Python 3.10), and then nothing of ours is preloaded there.

    multiprocessing starts the forkserver as ``python -c …``, so its ``sys.path`` begins
    with the current directory, and it ignores the ``sys_path`` it is handed (CPython
    3.11). Run from a directory that holds some other ``daemon/`` package (an older
    checkout, an unrelated project: the name is common), the server would preload that
    one, and every worker forked from it would parse with foreign code or fail on every
    feed. ``PYTHONSAFEPATH`` (3.11+) keeps the directory out; it is inherited only by the
    Python processes pantau starts, which are these. Workers forked without a preload
    import the parser themselves after multiprocessing has set their ``sys.path`` to the
    daemon's own."""
    if sys.version_info < (3, 11):
        return False
    os.environ["PYTHONSAFEPATH"] = "1"
    return True
