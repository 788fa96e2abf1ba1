"""One HTTP POST for the notifiers that speak HTTP (Slack, Telegram, webhooks).

What they share is what makes a POST safe to make from a daemon: a timeout, no redirects
followed (a 3xx from a webhook is a misconfiguration, and following it would send the
payload somewhere the operator did not name), a bounded read of the answer (a receiver
cannot make us buffer megabytes), and errors reported by kind only: ``requests`` puts the
URL in its messages, and for Slack and Telegram the URL holds the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import requests

from daemon.delivery.base import SendResult, redact

MAX_ANSWER = 4096  # bytes of the answer body kept: enough for any JSON error object


class Limiter(Protocol):  # daemon/ratelimit.py: RateLimiter, WindowLimiter
    def acquire(self, key: str, max_wait: float) -> float | None: ...

    def defer(self, key: str, seconds: float) -> None: ...


Classifier = Callable[[int, str, "str | None"], SendResult]


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    max_answer: int = MAX_ANSWER,
) -> Answer | SendResult:
    """POST ``body``; the answer, or a retryable SendResult naming only the error's kind."""
    try:
        resp = requests.post(
            url,
            data=body,
            headers=dict(headers),
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
    except requests.Timeout as e:
        return SendResult(False, f"timeout ({type(e).__name__})")
    except requests.RequestException as e:
        return SendResult(False, f"connection error ({type(e).__name__})")
    try:
        raw = resp.raw.read(max_answer, decode_content=True) or b""
    except Exception:  # a broken body still leaves a usable status
        raw = b""
    finally:
        resp.close()
    # resp.headers is case-insensitive, as HTTP header names are
    return Answer(resp.status_code, raw.decode("utf-8", "replace"), resp.headers)


def send(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    classify: Classifier,
    limiter: Limiter,
    key: str,
    max_wait: float,
    secrets: Sequence[str | None],
    max_answer: int = MAX_ANSWER,
) -> SendResult:
    """One message the way every HTTP notifier sends it: wait for the key's slot (or hand a
    long wait back to the outbox), POST, read the answer with the sender's ``classify``,
    hold the key for the server's Retry-After, and keep ``secrets`` out of the detail."""
    wait = limiter.acquire(key, max_wait)
    if wait is not None:
        return SendResult(False, "rate limited (local)", retry_after=wait)
    answer = post(url, body, headers, timeout=timeout, max_answer=max_answer)
    if isinstance(answer, Answer):
        result = classify(answer.status, answer.body, answer.headers.get("Retry-After"))
    else:
        result = answer
    if result.retry_after:
        limiter.defer(key, result.retry_after)
    return replace(result, detail=redact(result.detail, secrets))
