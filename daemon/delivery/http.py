"""One HTTP POST for the notifiers that speak HTTP (Slack, Telegram, webhooks).

What they share is what makes a POST safe to make from a daemon: a timeout, no redirects
followed (a 3xx from a webhook is a misconfiguration, and following it would send the
payload somewhere the operator did not name), a bounded read of the answer (a receiver
cannot make us buffer megabytes), and errors reported by kind only: ``requests`` puts the
URL in its messages, and for Slack and Telegram the URL holds the secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import requests

from daemon.delivery.base import SendResult

MAX_ANSWER = 4096  # bytes of the answer body kept: enough for any JSON error object


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
