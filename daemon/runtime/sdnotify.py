"""systemd notification protocol (sd_notify) and a health-gated watchdog.

A few lines of stdlib socket code rather than the ``sdnotify`` package: that package encodes
as Latin-1 (an Indonesian feed name in STATUS= can hold any character) and swallows every
error silently. Here messages are UTF-8, each line is sanitised so a feed title inside
STATUS= can never smuggle in a second assignment (``\\nREADY=1``), and a failure is logged
once, then reported only through the return value: notification must never stop the daemon.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from daemon.text import clean_line

log = logging.getLogger(__name__)

# Enough for any STATUS= line we send; systemd reads datagrams up to its own limit anyway.
MAX_STATUS_CHARS = 400
SEND_TIMEOUT = 2.0


def socket_address(raw: str | None) -> str | None:
    """NOTIFY_SOCKET → an AF_UNIX address; ``@name`` is the abstract namespace. None when the
    value is unusable (empty, relative, or a transport we don't speak such as vsock:)."""
    if not raw:
        return None
    if raw.startswith("@"):
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    return None


def format_message(lines: Iterable[str]) -> bytes:
    """Join assignments into one datagram. A line carrying CR/LF or controls is flattened to
    one line, so a value can never become an assignment of its own."""
    return "\n".join(clean_line(line, max_len=4096) for line in lines).encode("utf-8")


def watchdog_interval_from(env: Mapping[str, str], pid: int) -> float | None:
    """How often to ping (seconds): half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises.
    None when the watchdog is off, malformed, or addressed to another process."""
    usec = env.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) <= 0:
        return None
    wpid = env.get("WATCHDOG_PID")
    if wpid and (not wpid.isdigit() or int(wpid) != pid):
        return None
    return int(usec) / 2 / 1_000_000


class SdNotifier:
    """Sends sd_notify messages to ``NOTIFY_SOCKET``; a no-op (returning False) without one."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._raw = self._env.get("NOTIFY_SOCKET")
        self._address = socket_address(self._raw)
        self._warned = False
        self._warn_lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, *lines: str) -> bool:
        """Send ``KEY=value`` lines as one datagram. True when sent; never raises."""
        if self._address is None:
            if self._raw:
                self._warn_once(f"unsupported NOTIFY_SOCKET address {self._raw!r}")
            return False
        try:
            payload = format_message(lines)
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # A datagram send blocks while the receiver's queue is full; a manager that
                # stopped reading must not wedge the caller (the watchdog thread) for good.
                sock.settimeout(SEND_TIMEOUT)
                sock.connect(self._address)
                sock.sendall(payload)
            return True
        except Exception as exc:  # noqa: BLE001 - notification must never break the daemon
            self._warn_once(f"{type(exc).__name__}: {exc}")
            return False

    def _warn_once(self, reason: str) -> None:
        with self._warn_lock:
            if self._warned:
                return
            self._warned = True
        log.warning("sd_notify failed (further failures not logged): %s", reason)

    def ready(self, status: str | None = None) -> bool:
        """After migrations and scheduling; also after a reload finishes."""
        lines = ["READY=1"]
        if status is not None:
            lines.append("STATUS=" + clean_line(status, MAX_STATUS_CHARS))
        return self.notify(*lines)

    def status(self, text: str) -> bool:
        return self.notify("STATUS=" + clean_line(text, MAX_STATUS_CHARS))

    def reloading(self) -> bool:
        """systemd >= 253 (Type=notify-reload) wants MONOTONIC_USEC= with RELOADING=1 to tell
        this reload from an older one; older versions ignore it."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def watchdog_interval(self) -> float | None:
        return watchdog_interval_from(self._env, os.getpid())


class Watchdog:
    """Pings WATCHDOG=1 every ``interval`` seconds, but only while ``healthy()`` says so.

    The pinging thread itself never hangs with the work, so a ping must be earned: the
    caller's ``healthy`` checks that the working loop ticked recently and the database
    answers. When it returns False (or raises) the pings stop and systemd kills and restarts
    the service after WatchdogSec.
    """

    def __init__(
        self,
        notifier: SdNotifier,
        healthy: Callable[[], bool],
        interval: float | None = None,
    ) -> None:
        self._notifier = notifier
        self._healthy = healthy
        self.interval = interval if interval is not None else notifier.watchdog_interval()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._was_healthy = True
        # Counters let callers (and tests) observe progress without sleeping.
        self.checks = 0
        self.pings = 0

    @property
    def last_healthy(self) -> bool:
        """The last health verdict (True before the first check)."""
        return self._was_healthy

    def tick(self) -> bool:
        """One health check, and a ping when healthy. Returns whether a ping was sent."""
        try:
            ok = bool(self._healthy())
            reason = "health check said no"
        except Exception as exc:  # noqa: BLE001 - a failing check means "not healthy"
            ok = False
            reason = f"health check raised {type(exc).__name__}: {exc}"
        sent = ok and self._notifier.watchdog()
        if ok != self._was_healthy:
            if ok:
                log.info("watchdog: healthy again, pings resumed")
            else:
                log.warning("watchdog: pings withheld: %s", reason)
            self._was_healthy = ok
        self.checks += 1
        self.pings += int(sent)
        return sent

    def start(self) -> bool:
        """Start pinging; False (and nothing started) when the watchdog is not enabled."""
        if not self.interval or self._thread is not None:
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sd-watchdog", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        while True:
            self.tick()
            if self._stop.wait(self.interval):
                return

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
