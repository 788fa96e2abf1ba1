"""sd_notify over a real AF_UNIX datagram socket opened by the test, as systemd would."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from daemon.runtime.sdnotify import (
    SdNotifier,
    Watchdog,
    socket_address,
    watchdog_interval_from,
)

DEADLINE = 5.0


class Listener:
    """The systemd side: a bound datagram socket that collects messages."""

    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env_value = env_value

    def recv(self, timeout: float = DEADLINE) -> list[str]:
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        return data.decode("utf-8").split("\n")

    def drain(self) -> list[list[str]]:
        """Everything queued right now, without waiting."""
        out = []
        self.sock.setblocking(False)
        try:
            while True:
                out.append(self.sock.recv(65536).decode("utf-8").split("\n"))
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        return out


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    try:
        yield Listener(sock, str(path))
    finally:
        sock.close()


@pytest.fixture
def abstract_listener() -> Iterator[Listener]:
    name = f"pantau-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    try:
        yield Listener(sock, "@" + name)
    finally:
        sock.close()


def wait_for(cond: Callable[[], bool], timeout: float = DEADLINE) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached before the deadline")
        time.sleep(0.001)


# --- pure decisions ---------------------------------------------------------------------------


def test_socket_address_forms() -> None:
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("@abstract/name") == "\0abstract/name"
    assert socket_address("") is None
    assert socket_address(None) is None
    assert socket_address("relative/path") is None
    assert socket_address("vsock:2:1234") is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "60000000"}, 30.0),
        ({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "4242"}, 0.5),
        ({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "4243"}, None),
        ({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "garbage"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "sixty"}, None),
    ],
)
def test_watchdog_interval_from(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval_from(env, 4242) == expected


def test_watchdog_interval_honours_our_pid() -> None:
    mine = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert SdNotifier(env=mine).watchdog_interval() == 1.0
    other = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert SdNotifier(env=other).watchdog_interval() is None


# --- messages on a real socket ----------------------------------------------------------------


def test_ready_with_status(listener: Listener) -> None:
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    assert n.enabled
    assert n.ready("12 feeds ok")
    assert listener.recv() == ["READY=1", "STATUS=12 feeds ok"]


def test_each_message_kind(listener: Listener) -> None:
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    assert n.stopping()
    assert listener.recv() == ["STOPPING=1"]
    assert n.watchdog()
    assert listener.recv() == ["WATCHDOG=1"]
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert n.reloading()
    lines = listener.recv()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert lines[0] == "RELOADING=1"
    key, _, value = lines[1].partition("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after


def test_abstract_namespace_socket(abstract_listener: Listener) -> None:
    n = SdNotifier(env={"NOTIFY_SOCKET": abstract_listener.env_value})
    assert n.status("abstract ok")
    assert abstract_listener.recv() == ["STATUS=abstract ok"]


def test_status_is_utf8_not_latin1(listener: Listener) -> None:
    text = "Україна — “berita” 🇮🇩 Jalan Sudirman café"
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    assert n.status(text)
    assert listener.recv() == ["STATUS=" + text]


def test_status_cannot_inject_assignments(listener: Listener) -> None:
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    assert n.status("feed Antara\nREADY=1\r\nMAINPID=1\x00WATCHDOG=trigger")
    lines = listener.recv()
    assert len(lines) == 1
    assert lines[0].startswith("STATUS=feed Antara")
    assert "\x00" not in lines[0]


def test_raw_notify_lines_are_flattened(listener: Listener) -> None:
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    assert n.notify("STATUS=a\nSTOPPING=1", "READY=1")
    assert listener.recv() == ["STATUS=a STOPPING=1", "READY=1"]


def test_huge_status_is_capped(listener: Listener) -> None:
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    assert n.status("x" * 1_000_000)
    (line,) = listener.recv()
    assert line.startswith("STATUS=xxx")
    assert len(line) < 1000


# --- failures never raise ---------------------------------------------------------------------


def test_no_socket_is_a_silent_noop(caplog: pytest.LogCaptureFixture) -> None:
    n = SdNotifier(env={})
    assert not n.enabled
    with caplog.at_level(logging.DEBUG, logger="daemon.runtime.sdnotify"):
        assert n.ready() is False
        assert n.watchdog() is False
    assert caplog.records == []


def test_dead_socket_warns_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    n = SdNotifier(env={"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert n.enabled
    with caplog.at_level(logging.WARNING, logger="daemon.runtime.sdnotify"):
        assert n.ready() is False
        assert n.status("x") is False
        assert n.watchdog() is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "sd_notify failed" in warnings[0].getMessage()


def test_socket_closed_after_start_fails_softly(tmp_path: Path) -> None:
    path = tmp_path / "n.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    n = SdNotifier(env={"NOTIFY_SOCKET": str(path)})
    assert n.ready()
    sock.close()
    path.unlink()
    assert n.watchdog() is False


def test_unsupported_address_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    n = SdNotifier(env={"NOTIFY_SOCKET": "vsock:2:999"})
    with caplog.at_level(logging.WARNING, logger="daemon.runtime.sdnotify"):
        assert n.ready() is False
        assert n.ready() is False
    assert len(caplog.records) == 1


def test_reads_process_environment(listener: Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", listener.env_value)
    assert SdNotifier().ready()
    assert listener.recv() == ["READY=1"]


# --- the health-gated watchdog ----------------------------------------------------------------


def test_watchdog_pings_only_while_healthy(listener: Listener) -> None:
    healthy = threading.Event()
    healthy.set()
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    dog = Watchdog(n, healthy.is_set, interval=0.01)
    assert dog.start()
    try:
        for _ in range(3):
            assert listener.recv() == ["WATCHDOG=1"]

        # The loop hangs: once the thread has certainly seen it, pings stop.
        healthy.clear()
        seen = dog.checks
        wait_for(lambda: dog.checks >= seen + 2)  # a check in flight may still ping
        listener.drain()
        pings, seen = dog.pings, dog.checks
        wait_for(lambda: dog.checks >= seen + 5)
        assert listener.drain() == []
        assert dog.pings == pings

        # Healthy again: pings resume.
        healthy.set()
        assert listener.recv() == ["WATCHDOG=1"]
    finally:
        dog.stop()


def test_watchdog_treats_exception_as_unhealthy(
    listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    calls = {"n": 0}

    def health() -> bool:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise RuntimeError("database is locked")
        return True

    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    dog = Watchdog(n, health, interval=0.01)
    with caplog.at_level(logging.INFO, logger="daemon.runtime.sdnotify"):
        assert [dog.tick() for _ in range(3)] == [False, False, False]
        assert listener.drain() == []
        assert dog.tick() is True
        assert listener.recv() == ["WATCHDOG=1"]
    messages = [r.getMessage() for r in caplog.records]
    # One warning at the transition, one info when it recovers; not one per tick.
    assert sum("withheld" in m for m in messages) == 1
    assert any("database is locked" in m for m in messages)
    assert sum("resumed" in m for m in messages) == 1


def test_watchdog_tracks_a_real_working_loop(listener: Listener) -> None:
    """The lead's health function: the loop ticked recently. A stuck loop stops the pings."""
    last_tick = [time.monotonic()]
    stuck = threading.Event()
    stop = threading.Event()

    def working_loop() -> None:
        while not stop.is_set():
            if not stuck.is_set():
                last_tick[0] = time.monotonic()
            stop.wait(0.005)

    worker = threading.Thread(target=working_loop, daemon=True)
    worker.start()
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    dog = Watchdog(n, lambda: time.monotonic() - last_tick[0] < 0.2, interval=0.01)
    dog.start()
    try:
        assert listener.recv() == ["WATCHDOG=1"]
        stuck.set()
        # Keep reading meanwhile: a full datagram queue would block the sender.
        wait_for(lambda: not listener.drain() and dog.last_healthy is False)
        listener.drain()
        seen = dog.checks
        wait_for(lambda: dog.checks >= seen + 3)
        assert listener.drain() == []
        stuck.clear()
        assert listener.recv() == ["WATCHDOG=1"]
    finally:
        stop.set()
        dog.stop()
        worker.join(DEADLINE)


def test_full_queue_does_not_wedge_the_sender(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody reads (queue full): notify() gives up after its timeout and returns False."""
    monkeypatch.setattr("daemon.runtime.sdnotify.SEND_TIMEOUT", 0.05)
    n = SdNotifier(env={"NOTIFY_SOCKET": listener.env_value})
    results = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < DEADLINE:
        ok = n.watchdog()
        results.append(ok)
        if not ok:
            break
    assert results[-1] is False
    assert len(results) > 1


def test_watchdog_does_not_start_when_disabled() -> None:
    dog = Watchdog(SdNotifier(env={}), lambda: True)
    assert dog.interval is None
    assert dog.start() is False


def test_watchdog_interval_from_env(listener: Listener) -> None:
    env = {"NOTIFY_SOCKET": listener.env_value, "WATCHDOG_USEC": "40000"}
    dog = Watchdog(SdNotifier(env=env), lambda: True)
    assert dog.interval == 0.02
    assert dog.start()
    try:
        assert listener.recv() == ["WATCHDOG=1"]
        assert listener.recv() == ["WATCHDOG=1"]
    finally:
        dog.stop()
