"""Signals that set a ``threading.Event``, with no lock taken in the handler.

``Event.set`` takes the event's lock, and Python runs a signal handler in the main thread
between two bytecodes. A handler that set the event itself waited forever for a lock its
own thread held whenever a signal came while the main thread was inside that lock: a
second Ctrl-C during the first one's ``Event.set``, the SIGINT that ``timeout`` passes on
next to the user's, a signal while the main loop entered ``Event.wait``. ``pantau run``
then ignored SIGINT and SIGTERM for good (tests/test_stop.py). Here the handler only
writes the signal's number to a pipe (``os.write``: no Python lock), and one thread reads
the pipe and sets the events.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["on_signal"]

_lock = threading.Lock()
_events: dict[int, threading.Event] = {}
_write_end: int | None = None


def on_signal(signum: int, event: threading.Event) -> None:
    """Set ``event`` when ``signum`` arrives (from then on; the main thread only, as
    ``signal.signal`` requires). A later call for the same signal replaces the event."""
    global _write_end
    with _lock:
        _events[signum] = event
        if _write_end is None:
            read_end, _write_end = os.pipe()
            os.set_blocking(_write_end, False)
            threading.Thread(
                target=_relay, args=(read_end,), name="pantau-signals", daemon=True
            ).start()
        fd = _write_end
    signal.signal(signum, lambda s, _frame: _write(fd, s))


def _write(fd: int, signum: int) -> None:
    try:
        os.write(fd, bytes([signum]))
    except OSError:  # the pipe is full: signals are on their way to the relay already
        pass


def _relay(read_end: int) -> None:
    while data := os.read(read_end, 64):
        for signum in data:
            event = _events.get(signum)
            if event is not None:
                event.set()
