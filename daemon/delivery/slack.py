"""Slack incoming-webhook sender.

Slack parses ``<...>`` in message text as links and mentions, so a feed title such as
``<!channel>`` would ping a whole channel and ``<https://evil|klik>`` would hide a link.
Every feed string is escaped (``&``, ``<``, ``>``) before it goes near mrkdwn, and links are
built only from the item's own http(s) URL with the characters that end link markup
percent-encoded. The webhook URL is a secret: it never appears in a result or a log line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from daemon import USER_AGENT, retry
from daemon.delivery import http
from daemon.delivery.base import (
    AlertMessage,
    SendResult,
    format_wib,
    option,
    other_outlets,
    probe_text,
    safe_line,
    safe_url,
)
from daemon.ratelimit import RateLimiter

# Slack's documented limits.
SECTION_TEXT_MAX = 3000
FALLBACK_TEXT_MAX = 40_000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
BLOCKS_MAX = 50

MAX_LINK = 1500  # longer links are dropped so the title and snippet still fit a section
MIN_INTERVAL = 1.0  # Slack allows about one message per second per webhook
MAX_LOCAL_WAIT = 5.0  # longer than this, hand the wait back to the dispatcher
MAX_RETRY_AFTER = 3600.0
_BODY_READ = 1024
# Statuses that mean the webhook or payload will never work as is (any other 4xx too,
# except 408 and 429).
_PERMANENT_STATUSES = {400, 401, 403, 404, 410, 413}
# Plain-text mass mentions, in case a workspace links names in webhook text.
_MASS_MENTION_RE = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Rate limiting


def limiter_key(url: str) -> str:
    """A digest, so the process does not keep the secret URL as a dict key."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


LIMITER = RateLimiter.every(MIN_INTERVAL)  # one bucket per webhook, for every notifier


# --------------------------------------------------------------------------------------------
# Formatting (pure)


def escape(s: str) -> str:
    """Slack's three control characters; ``&`` first so nothing is escaped twice."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def units(s: str) -> int:
    """Length as Slack counts it: UTF-16 code units (an emoji is two)."""
    return len(s) if s.isascii() else len(s.encode("utf-16-le", "surrogatepass")) // 2


def text(s: object, max_len: int = 3000) -> str:
    """Feed text made safe for mrkdwn and cut to ``max_len`` UTF-16 units *after* escaping,
    without splitting an entity."""
    raw = _MASS_MENTION_RE.sub("@\u2060", safe_line(s, max(max_len, 1)))
    out = escape(raw)
    if units(out) <= max_len:
        return out
    pieces: list[str] = []
    used = 0
    for ch in raw:
        e = escape(ch)
        if used + units(e) > max_len - 1:
            break
        pieces.append(e)
        used += units(e)
    return "".join(pieces).rstrip() + "…"


def link(url: str | None, label: str) -> str:
    """``<url|label>`` for an http(s) URL, else the label alone. ``label`` is escaped."""
    target = safe_url(url)
    if target is None or len(escape(target)) > MAX_LINK:
        return label
    return f"<{escape(target)}|{label}>"


def _cut(s: str, max_len: int) -> str:
    """``s`` within ``max_len`` UTF-16 units, cut at a character."""
    if units(s) <= max_len:
        return s
    out, used = [], 0
    for ch in s:
        used += units(ch)
        if used > max_len - 1:
            break
        out.append(ch)
    return "".join(out) + "…"


def build_payload(alert: AlertMessage) -> dict[str, Any]:
    """Block Kit message for one alert plus a plain ``text`` fallback for notifications."""
    title = text(alert.title, 500) or "(tanpa judul)"
    topic = text(alert.topic, 100)
    outlet = text(alert.outlet, 100)
    when = format_wib(alert.published_at)
    matched = ", ".join(text(m, 100) for m in alert.matched[:20] if safe_line(m))
    others = [text(o, 100) for o in other_outlets(alert)]  # escaped, no mass mention

    head = f"*{link(alert.url, title)}*\n{outlet} · {when}"
    budget = SECTION_TEXT_MAX - units(head) - 1
    snippet = text(alert.snippet, budget) if budget > 20 else ""
    section = head + (f"\n{snippet}" if snippet else "")

    context = [f"Topik: *{topic}*"]
    if matched:
        context.append(f"Cocok: {matched}")
    if others:
        context.append(f"Juga dimuat: {', '.join(others)}")
    elements = [
        {"type": "mrkdwn", "text": _cut(c, SECTION_TEXT_MAX)}
        for c in context[:CONTEXT_ELEMENTS_MAX]
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": section}},
        {"type": "context", "elements": elements},
    ][:BLOCKS_MAX]

    fallback = f"[{topic}] {title} ({outlet}, {when})"
    target = safe_url(alert.url)
    if target and len(target) <= MAX_LINK:
        fallback += " " + escape(target)
    return {
        "text": _cut(fallback, FALLBACK_TEXT_MAX),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def test_payload() -> dict[str, Any]:
    return {"text": text(probe_text(), 500)}


# --------------------------------------------------------------------------------------------
# Response classification (pure)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Slack's ``Retry-After`` in seconds, at most an hour (see ``daemon.retry``)."""
    return retry.parse_retry_after(value, cap=MAX_RETRY_AFTER, now=now)


def classify(status: int, body: str, retry_after: str | None = None) -> SendResult:
    """Map Slack's answer to ok / retry later / give up."""
    answer = safe_line(body, 200)
    detail = f"{status} {answer}".strip()
    if 200 <= status < 300:
        return SendResult(True, detail)
    if status == 429:
        return SendResult(False, detail, retry_after=parse_retry_after(retry_after) or 1.0)
    if 300 <= status < 400:
        return SendResult(False, f"{status} redirect refused", permanent=True)
    if status in _PERMANENT_STATUSES or (400 <= status < 500 and status != 408):
        return SendResult(False, detail, permanent=True)
    return SendResult(False, detail)


# --------------------------------------------------------------------------------------------
# The sender


class SlackNotifier:
    """One Slack incoming webhook."""

    digest: float | None = None

    def __init__(
        self,
        name: str,
        webhook_url: str,
        *,
        timeout: float = 10.0,
        user_agent: str = USER_AGENT,
        limiter: RateLimiter | None = None,
    ) -> None:
        if safe_url(webhook_url) is None:
            raise ValueError(f"notifier {name!r}: webhook_url must be an http(s) URL")
        self.name = name
        self._url = webhook_url.strip()
        self._timeout = float(timeout)
        self._user_agent = user_agent
        self._limiter = limiter if limiter is not None else LIMITER
        self._key = limiter_key(self._url)

    @classmethod
    def from_config(
        cls, name: str, cfg: Mapping[str, Any] | object, *, user_agent: str = USER_AGENT
    ) -> SlackNotifier:
        return cls(
            name,
            str(option(cfg, "webhook_url") or ""),
            timeout=float(option(cfg, "timeout", 10.0) or 10.0),
            user_agent=user_agent,
        )

    def __repr__(self) -> str:  # never the URL
        return f"SlackNotifier(name={self.name!r})"

    def send(self, alerts: Sequence[AlertMessage]) -> SendResult:
        if len(alerts) != 1:
            raise ValueError("Slack sends one message per alert")
        return self._post(build_payload(alerts[0]))

    def send_test(self) -> SendResult:
        return self._post(test_payload())

    def _post(self, payload: dict[str, Any]) -> SendResult:
        return http.send(
            self._url,
            json.dumps(payload).encode(),
            {"User-Agent": self._user_agent, "Content-Type": "application/json"},
            timeout=self._timeout,
            classify=classify,
            limiter=self._limiter,
            key=self._key,
            max_wait=MAX_LOCAL_WAIT,
            secrets=[self._url],
            max_answer=_BODY_READ,
        )
