"""Webhook sender: one JSON POST per alert to any HTTP endpoint.

The body is the alert exactly as one element of ``pantau alerts --json`` prints it (the
dispatcher hands over that record; it is not rebuilt here), so a receiver needs one parser
for both. Headers, documented for receivers in README.md ("Webhooks"):

- ``Idempotency-Key: <delivery id>``: the outbox may repeat the one delivery in flight at a
  crash (docs in daemon/delivery/dispatch.py); the repeat carries the same key.
- ``X-Pantau-Event: alert`` (or ``test`` for ``pantau notify-test``).
- With a ``secret``: ``X-Pantau-Timestamp: <unix seconds>`` and
  ``X-Pantau-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``. The
  timestamp is inside the MAC, so a receiver that refuses old timestamps refuses replays.
  Each attempt is signed afresh, so a retry hours later still carries a current timestamp.

2xx is sent; 3xx, and 4xx other than 408/429, are permanent; the rest is retried by the
outbox, after ``Retry-After`` when the receiver sends one.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import uuid4

from daemon import USER_AGENT
from daemon.delivery import http
from daemon.delivery.base import AlertMessage, SendResult, option, probe_text, safe_url
from daemon.delivery.slack import MAX_LOCAL_WAIT, limiter_key
from daemon.delivery.slack import classify as classify_http
from daemon.ratelimit import RateLimiter

SIGNATURE_HEADER = "X-Pantau-Signature"
TIMESTAMP_HEADER = "X-Pantau-Timestamp"
EVENT_HEADER = "X-Pantau-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Header names an operator's ``headers:`` may not set: ours, and those that frame the
# request (a wrong Content-Length or Host would corrupt it).
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        SIGNATURE_HEADER, TIMESTAMP_HEADER, EVENT_HEADER, IDEMPOTENCY_HEADER, "Content-Type",
        "Content-Length", "Host", "Transfer-Encoding", "Connection", "Content-Encoding",
    )
)  # fmt: skip
_TOKEN_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")  # an HTTP header name

# No pacing of its own (interval 0): the limiter only holds a receiver's 429 Retry-After
# for every later row, instead of each row earning its own 429.
LIMITER = RateLimiter(0.0)


def check_headers(headers: Mapping[str, str]) -> list[str]:
    """Problems with configured extra headers, one line each, never quoting a value."""
    problems = []
    for name, value in headers.items():
        if not _TOKEN_RE.match(name):
            problems.append(f"{name!r} is not a valid header name")
        elif name.lower() in RESERVED_HEADERS or name.lower().startswith("x-pantau-"):
            problems.append(f"{name!r} is set by pantau and cannot be overridden")
        elif not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            problems.append(f"{name!r}: the value must be one line of text")
    return problems


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``<timestamp>.<body>``: what a receiver recomputes."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256")
    return "sha256=" + mac.hexdigest()


def encode(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookNotifier:
    """One HTTP endpoint."""

    digest: float | None = None

    def __init__(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        user_agent: str = USER_AGENT,
        clock: Callable[[], float] = time.time,
        limiter: RateLimiter | None = None,
    ) -> None:
        if safe_url(url) is None:
            raise ValueError(f"notifier {name!r}: url must be an http(s) URL")
        problems = check_headers(headers or {})
        if problems:
            raise ValueError(f"notifier {name!r}: headers: {problems[0]}")
        self.name = name
        self._url = url.strip()
        self._secret = secret or None
        self._headers = dict(headers or {})
        self._timeout = float(timeout)
        self._user_agent = user_agent
        self._clock = clock
        self._limiter = limiter or LIMITER
        self._key = limiter_key(self._url)

    @classmethod
    def from_config(
        cls, name: str, cfg: Mapping[str, Any] | object, *, user_agent: str = USER_AGENT
    ) -> WebhookNotifier:
        return cls(
            name,
            str(option(cfg, "url") or ""),
            secret=option(cfg, "secret"),
            headers=option(cfg, "headers") or {},
            timeout=float(option(cfg, "timeout", 10.0) or 10.0),
            user_agent=user_agent,
        )

    def __repr__(self) -> str:  # never the URL, the secret or the headers
        return f"WebhookNotifier(name={self.name!r})"

    def send(self, alerts: Sequence[AlertMessage]) -> SendResult:
        if len(alerts) != 1:
            raise ValueError("a webhook posts one alert per request")
        alert = alerts[0]
        if alert.record is None:  # only the dispatcher sends alerts, and it always sets it
            return SendResult(False, "internal error: the alert has no record to post")
        key = str(alert.delivery_id) if alert.delivery_id is not None else f"a{alert.alert_id}"
        return self._post(encode(alert.record), "alert", key)

    def send_test(self) -> SendResult:
        body = encode({"event": "test", "text": probe_text()})
        return self._post(body, "test", f"test-{uuid4().hex}")

    def request_headers(self, body: bytes, event: str, key: str) -> dict[str, str]:
        """Every header of one request: the operator's, then ours (which win)."""
        headers = {
            **self._headers,
            "User-Agent": self._user_agent,
            "Content-Type": "application/json; charset=utf-8",
            IDEMPOTENCY_HEADER: key,
            EVENT_HEADER: event,
        }
        if self._secret:
            ts = str(int(self._clock()))
            headers[TIMESTAMP_HEADER] = ts
            headers[SIGNATURE_HEADER] = sign(self._secret, ts, body)
        return headers

    def _post(self, body: bytes, event: str, key: str) -> SendResult:
        return http.send(
            self._url,
            body,
            self.request_headers(body, event, key),
            timeout=self._timeout,
            classify=classify_http,
            limiter=self._limiter,
            key=self._key,
            max_wait=MAX_LOCAL_WAIT,
            secrets=[self._url, self._secret, *(v for v in self._headers.values() if len(v) >= 8)],
        )
