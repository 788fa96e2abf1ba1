"""Telegram Bot API sender: one ``sendMessage`` per alert (or per part of a digest).

Messages use ``parse_mode=HTML`` because its escaping is the simplest to get right: feed
text goes through ``&``, ``<``, ``>`` escaping and nothing else, so a title can never open a
tag, close ours, or forge a link; the only tags in a message are the ``<b>``, ``<i>`` and
``<a href>`` written here, and a link is made only from the item's own http(s) URL. Telegram
limits a message to 4,096 characters *after* entity parsing (``&amp;`` counts as one, tags
as none), counted in UTF-16 code units; the visible length is measured as the message is
built, so a message is never refused as too long, and a digest is split into several.

The bot token sits in the URL path (``/bot<token>/sendMessage``): it is kept out of every
result and log line (see daemon/logs.py for the masking of registered secrets).

Limits (Telegram's documented ones): at most one message a second to one chat and twenty a
minute to a group or channel; a ``429`` carries ``parameters.retry_after``, which holds every
sender to that chat for that long.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from daemon import USER_AGENT, retry
from daemon.delivery import http
from daemon.delivery.base import (
    AlertMessage,
    SendResult,
    format_wib,
    group_by_topic,
    option,
    other_outlets,
    probe_text,
    safe_line,
    safe_url,
)
from daemon.delivery.slack import limiter_key
from daemon.ratelimit import WindowLimiter

MESSAGE_MAX = 4096  # visible characters (UTF-16 code units) after entity parsing
GROUP_WINDOW = (20, 60.0)  # messages per window to one group or channel
MIN_INTERVAL = 1.0  # seconds between messages to one chat
MAX_LOCAL_WAIT = 30.0  # longer than this, hand the wait back to the dispatcher
MAX_RETRY_AFTER = 86400.0
MAX_LINK = 2048
# The answer echoes the whole message (entities, the text with \uXXXX escapes): read enough
# to parse it, and take a cut-off answer that starts {"ok":true as the success it is.
MAX_ANSWER = 256 * 1024
_OK_PREFIX_RE = re.compile(r'^\s*\{\s*"ok"\s*:\s*true\b')
SNIPPET_MAX = 1200
DIGEST_SNIPPET_MAX = 200
DEFAULT_API = "https://api.telegram.org"

TOKEN_RE = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")
CHAT_ID_RE = re.compile(r"^(?:-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")


# --------------------------------------------------------------------------------------------
# Formatting (pure)


def escape(s: str) -> str:
    """The three characters Telegram's HTML mode requires escaped in text."""
    return html.escape(s, quote=False)


def visible_len(s: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts two)."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def cut(s: str, budget: int) -> str:
    """``s`` within ``budget`` visible characters, ending in "…" when shortened."""
    if visible_len(s) <= budget:
        return s
    if budget <= 1:
        return ""
    out: list[str] = []
    used = 0
    for ch in s:
        n = visible_len(ch)
        if used + n > budget - 1:
            break
        out.append(ch)
        used += n
    return "".join(out).rstrip() + "…"


class Html:
    """Telegram HTML and its visible length, built together: the limit applies to what
    Telegram shows, not to the markup. Feed text goes in only through :meth:`text`."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.length = 0

    def text(self, s: str) -> Html:
        self._parts.append(escape(s))
        self.length += visible_len(s)
        return self

    def bold(self, s: str) -> Html:
        self._parts.append("<b>")
        self.text(s)
        self._parts.append("</b>")
        return self

    def italic(self, s: str) -> Html:
        self._parts.append("<i>")
        self.text(s)
        self._parts.append("</i>")
        return self

    def link(self, url: str | None, label: str, *, bold: bool = False) -> Html:
        """``<a href>`` for an http(s) URL, else the label as plain text."""
        target = safe_url(url)
        if target is None or len(target) > MAX_LINK:
            return self.bold(label) if bold else self.text(label)
        self._parts.append(f'{"<b>" if bold else ""}<a href="{html.escape(target, quote=True)}">')
        self.text(label)
        self._parts.append(f"</a>{'</b>' if bold else ''}")
        return self

    def extend(self, other: Html) -> Html:
        self._parts.extend(other._parts)
        self.length += other.length
        return self

    def markup(self) -> str:
        return "".join(self._parts)


def _matched(alert: AlertMessage) -> str:
    return ", ".join(m for m in (safe_line(x, 100) for x in alert.matched[:20]) if m)


def _alert_html(alert: AlertMessage, *, snippet_max: int, with_topic: bool) -> Html:
    """One alert: linked title, outlet and WIB time, topic and matched terms, snippet, and
    the other outlets that carried it."""
    h = Html()
    title = cut(safe_line(alert.title, 500), 400) or "(tanpa judul)"
    h.link(alert.url, title, bold=True)
    h.text(f"\n{cut(safe_line(alert.outlet, 100), 100)} · {format_wib(alert.published_at)}")
    matched = cut(_matched(alert), 400)
    if with_topic:
        h.text("\nTopik: ").bold(cut(safe_line(alert.topic, 100), 100))
        if matched:
            h.text(f" · cocok: {matched}")
    elif matched:
        h.text(f"\ncocok: {matched}")
    others = other_outlets(alert)
    tail = f"\njuga: {cut(', '.join(others), 600)}" if others else ""
    budget = min(snippet_max, MESSAGE_MAX - h.length - visible_len(tail) - 1)
    snippet = cut(safe_line(alert.snippet, max(snippet_max, 1)), budget) if budget > 20 else ""
    if snippet:
        h.text("\n").italic(snippet)
    if tail:
        h.text(tail)
    return h


def build_message(alert: AlertMessage) -> str:
    """The HTML text of one alert's message (always within MESSAGE_MAX)."""
    return _alert_html(alert, snippet_max=SNIPPET_MAX, with_topic=True).markup()


def build_digest(alerts: Sequence[AlertMessage]) -> list[tuple[str, tuple[int, ...]]]:
    """A digest as messages, each within MESSAGE_MAX, with the alert ids each carries:
    grouped by topic in order of first appearance; a topic split across two messages
    repeats its heading in the second."""
    parts: list[tuple[str, tuple[int, ...]]] = []
    cur = Html().bold(f"pantau: {len(alerts)} berita baru")
    ids: list[int] = []

    def heading(topic: str, n: int, h: Html) -> None:
        h.text("\n\n").bold(f"Topik: {cut(topic, 100)}").text(f" ({n})")

    for topic, items in group_by_topic(alerts):
        for k, a in enumerate(items):
            block = Html()
            if k == 0:  # a topic's heading goes with its first alert, never alone
                heading(topic, len(items), block)
            block.text("\n\n").extend(
                _alert_html(a, snippet_max=DIGEST_SNIPPET_MAX, with_topic=False)
            )
            if ids and cur.length + block.length > MESSAGE_MAX:
                parts.append((cur.markup(), tuple(ids)))
                cur, ids = Html().bold("pantau (lanjutan)"), []
                if k > 0:
                    heading(topic, len(items), cur)
            cur.extend(block)
            ids.append(a.alert_id)
    if ids:
        parts.append((cur.markup(), tuple(ids)))
    return parts


def probe_message() -> str:
    return Html().text(probe_text()).markup()


# --------------------------------------------------------------------------------------------
# Answer classification (pure)


def _retry_after(params: Mapping[str, Any], header: str | None) -> float:
    value = params.get("retry_after")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    return retry.parse_retry_after(header, cap=MAX_RETRY_AFTER) or 1.0


def classify(status: int, body: str, retry_after: str | None = None) -> SendResult:
    """Map the Bot API's answer to ok / retry later / give up."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    params = data.get("parameters")
    params = params if isinstance(params, dict) else {}
    described = safe_line(data.get("description") or body, 200)
    detail = f"{status} {described}".strip()
    if 200 <= status < 300:
        if data.get("ok") is True:
            result = data.get("result")
            mid = result.get("message_id") if isinstance(result, dict) else None
            return SendResult(True, f"{status} ok" + (f" message_id={mid}" if mid else ""))
        if _OK_PREFIX_RE.match(body):
            return SendResult(True, f"{status} ok")
        return SendResult(False, f"{status} unexpected answer: {described}")
    if status == 429:
        return SendResult(False, detail, retry_after=_retry_after(params, retry_after))
    if 300 <= status < 400:
        return SendResult(False, f"{status} redirect refused", permanent=True)
    migrate = params.get("migrate_to_chat_id")
    if isinstance(migrate, int):
        detail += f" (the group is now a supergroup: set chat_id to {migrate})"
    if 400 <= status < 500 and status != 408:  # 400 bad request, 401 token, 403 kicked
        return SendResult(False, detail, permanent=True)
    return SendResult(False, detail)


# --------------------------------------------------------------------------------------------
# The sender


def is_group(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids or an @username."""
    return chat_id.startswith(("-", "@"))


def chat_limiter(chat_id: str, **clock: Any) -> WindowLimiter:
    """Telegram's limits for this kind of chat: one message a second, and for a group or
    channel also twenty a minute. ``clock``: ``clock=`` and ``sleep=`` for tests."""
    return WindowLimiter(MIN_INTERVAL, window=GROUP_WINDOW if is_group(chat_id) else None, **clock)


# One of each per process, keyed by bot and chat: notifiers posting to one chat share it.
CHAT_LIMITER = chat_limiter("1")
GROUP_LIMITER = chat_limiter("-1")


class TelegramNotifier:
    """One bot posting to one chat."""

    def __init__(
        self,
        name: str,
        bot_token: str,
        chat_id: str,
        *,
        api_url: str = DEFAULT_API,
        disable_web_page_preview: bool = True,
        digest: float | None = None,
        timeout: float = 10.0,
        user_agent: str = USER_AGENT,
        limiter: http.Limiter | None = None,
    ) -> None:
        if not TOKEN_RE.match(bot_token or ""):
            # never the value: it is the secret
            raise ValueError(f"notifier {name!r}: bot_token is not a bot token (<id>:<key>)")
        if not CHAT_ID_RE.match(chat_id or ""):
            raise ValueError(f"notifier {name!r}: chat_id must be a number or @channelname")
        base = safe_url(api_url)
        if base is None:
            raise ValueError(f"notifier {name!r}: api_url must be an http(s) URL")
        self.name = name
        self.chat_id = chat_id
        self.digest = digest
        self._token = bot_token
        self._endpoint = f"{base.rstrip('/')}/bot{bot_token}/sendMessage"
        self._preview_off = bool(disable_web_page_preview)
        self._timeout = float(timeout)
        self._user_agent = user_agent
        self._limiter = limiter or (GROUP_LIMITER if is_group(chat_id) else CHAT_LIMITER)
        self._key = limiter_key(f"{bot_token}\n{chat_id}")

    @classmethod
    def from_config(
        cls, name: str, cfg: Mapping[str, Any] | object, *, user_agent: str = USER_AGENT
    ) -> TelegramNotifier:
        digest = option(cfg, "digest")
        return cls(
            name,
            str(option(cfg, "bot_token") or ""),
            str(option(cfg, "chat_id") or ""),
            api_url=str(option(cfg, "api_url") or DEFAULT_API),
            disable_web_page_preview=bool(option(cfg, "disable_web_page_preview", True)),
            digest=float(digest) if digest else None,
            timeout=float(option(cfg, "timeout", 10.0) or 10.0),
            user_agent=user_agent,
        )

    def __repr__(self) -> str:  # never the token
        return f"TelegramNotifier(name={self.name!r}, chat_id={self.chat_id!r})"

    def send(self, alerts: Sequence[AlertMessage]) -> SendResult:
        if not alerts:
            return SendResult(True, "nothing to send")
        if len(alerts) == 1:
            messages = [(build_message(alerts[0]), (alerts[0].alert_id,))]
        else:
            messages = build_digest(alerts)
        delivered: set[int] = set()
        result = SendResult(True)
        for text, ids in messages:
            result = self._send_text(text)
            if not result.ok:
                return SendResult(
                    False, result.detail, result.permanent, result.retry_after,
                    frozenset(delivered),
                )  # fmt: skip
            delivered.update(ids)
        if len(messages) > 1:
            return SendResult(True, f"{result.detail} ({len(messages)} messages)")
        return result

    def send_test(self) -> SendResult:
        return self._send_text(probe_message())

    def _send_text(self, text: str) -> SendResult:
        payload = {
            "chat_id": self.chat_id,
            "text": text,
            "parse_mode": "HTML",
            "disable_web_page_preview": self._preview_off,
            "link_preview_options": {"is_disabled": self._preview_off},
        }
        return http.send(
            self._endpoint,
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            {"Content-Type": "application/json", "User-Agent": self._user_agent},
            timeout=self._timeout,
            classify=classify,
            limiter=self._limiter,
            key=self._key,
            max_wait=MAX_LOCAL_WAIT,
            secrets=[self._token, self._endpoint],
            max_answer=MAX_ANSWER,
        )
