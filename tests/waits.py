"""Waiting on a condition with a deadline (never a sleep for timing): one helper for the
tests that watch a daemon in a subprocess."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(pred: Callable[[], T], timeout: float = 30, what: str = "condition") -> T:
    """The predicate's first truthy value (some tests use what it found)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
