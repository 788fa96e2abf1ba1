"""A loopback webhook receiver that does what README.md ("Webhooks") tells receivers to do.

It verifies ``X-Pantau-Signature`` (HMAC-SHA256 over ``<timestamp>.<body>``, compared in
constant time), refuses a timestamp more than five minutes from its own clock (a replay),
and drops a repeat of an ``Idempotency-Key`` it has already accepted. The verification is
written here from the documented scheme, not imported from daemon/delivery/webhook.py.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from daemon.demo.loopback import LoopbackServer, send
from tests.servicestub import ServiceStub

SECRET = "whsec-Rahasia-Sekali-0123456789abcdef"
TOLERANCE = 300.0
_serial = itertools.count(1)


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> str | None:
    """None when the request is authentic and fresh, else why not."""
    ts = headers.get("X-Pantau-Timestamp")
    sig = headers.get("X-Pantau-Signature")
    if not ts or not sig:
        return "unsigned"
    if not ts.isdigit():
        return "bad timestamp"
    if abs(now - int(ts)) > TOLERANCE:
        return "stale timestamp"
    expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, "sha256=" + expected):
        return "bad signature"
    return None


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    json: Any
    duplicate: bool


class WebhookReceiver(ServiceStub):
    def __init__(
        self,
        server: LoopbackServer | None = None,
        *,
        secret: str | None = SECRET,
        clock: Callable[[], float] = time.time,
        delay: float = 0.0,
    ) -> None:
        super().__init__(server)
        self.delay = delay  # seconds each answer takes (a slow receiver, for crash tests)
        self.path = f"/hooks/pantau/{next(_serial)}"
        self.secret = secret
        self.clock = clock
        self.accepted: list[Received] = []  # authentic, fresh, including repeats
        self.refused: list[str] = []
        self._keys: set[str] = set()
        self.server.route(self.path, self._handle)

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def reply(  # type: ignore[override]
        self, status: int, body: str = "", headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        super().reply(status, body.encode(), headers, times)

    @property
    def unique(self) -> list[Received]:
        return [r for r in self.accepted if not r.duplicate]

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        if self.delay:
            time.sleep(self.delay)
        body = getattr(req, "request_body", b"")
        headers = dict(req.headers)
        if self.secret is not None:
            why = verify(self.secret, headers, body, self.clock())
            if why:
                with self._lock:
                    self.refused.append(why)
                return send(req, 401, why.encode(), {"Content-Type": "text/plain"})
        with self._lock:
            queued = self.next_reply()
            if queued is not None:
                status, answer, extra = queued
                return send(req, status, answer, {"Content-Type": "text/plain", **extra})
            key = headers.get("Idempotency-Key", "")
            duplicate = key in self._keys
            self._keys.add(key)
            self.accepted.append(Received(headers, body, json.loads(body), duplicate))
        send(req, 200, b'{"received":true}', {"Content-Type": "application/json"})
