"""Base of the protocol stand-ins (Slack, Telegram, webhook receivers) on the loopback server."""

from __future__ import annotations

import threading
from collections import deque

from typing_extensions import Self

from daemon.demo.loopback import LoopbackServer


class ServiceStub:
    """Its own server by default, or a running ``LoopbackServer`` shared with others
    (starting and stopping a server costs about half a second), and a queue of canned
    answers."""

    def __init__(self, server: LoopbackServer | None = None) -> None:
        self._owned = server is None
        self.server = server or LoopbackServer()
        self._replies: deque[tuple[int, bytes, dict[str, str]]] = deque()
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        if self._owned:
            self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owned:
            self.server.__exit__(*exc)

    def reply(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        """Queue the next ``times`` answers; when the queue runs dry the stub answers as
        the real service does when all is well."""
        with self._lock:
            for _ in range(times):
                self._replies.append((status, body, headers or {}))

    def next_reply(self) -> tuple[int, bytes, dict[str, str]] | None:
        """The next canned answer, if any (call with ``_lock`` held)."""
        return self._replies.popleft() if self._replies else None
