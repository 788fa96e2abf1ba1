"""A loopback stand-in for a Slack incoming webhook, built on ``daemon.demo.loopback``.

It answers like Slack ("ok" with 200, or the error bodies Slack uses) and records every
payload with the time it arrived, so tests can check escaping and rate-limit spacing.
"""

from __future__ import annotations

import itertools
import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from daemon.demo.loopback import LoopbackServer, send
from tests.servicestub import ServiceStub

# Shaped like a real webhook path; the last segment is the secret part.
SECRET = "x9Secr3tT0kenDoNotLog"
_serial = itertools.count(1)


def webhook_path() -> str:
    """A fresh path per stub, so stubs sharing one server (and the process-wide rate
    limiter, keyed by URL) do not see each other's traffic."""
    return f"/services/T0PANTAU1/B0STUB{next(_serial):04d}/{SECRET}"


class SlackStub(ServiceStub):
    """Own server by default; pass a running ``LoopbackServer`` to share one."""

    def __init__(self, server: LoopbackServer | None = None) -> None:
        super().__init__(server)
        self.path = webhook_path()
        self.server.route(self.path, self._handle)

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def reply(  # type: ignore[override]
        self, status: int, body: str, headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        """Queue the next ``times`` answers; after the queue runs dry it answers 200 ok."""
        super().reply(status, body.encode(), headers, times)

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        with self._lock:
            status, body, headers = self.next_reply() or (200, b"ok", {})
        send(req, status, body, {"Content-Type": "text/html", **headers})

    @property
    def hits(self) -> list[Any]:
        return [h for h in self.server.hits if h.path == self.path]

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(h.body) for h in self.hits]

    def arrival_times(self) -> list[float]:
        return [h.at for h in self.hits]
