"""What every notifier shares: the alert as delivered, the send result, and safe formatting.

Alert text comes from feeds we do not control. Each sender escapes for its own medium, but
the decisions that are the same everywhere (which URLs may become links, how a time reads
in WIB, what a one-line value may contain) live here so they are made once.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from daemon import USER_AGENT
from daemon.outlets import others_than
from daemon.text import clean_line

# WIB has been UTC+7 without daylight saving since 1964: a fixed offset needs no tzdata.
WIB = timezone(timedelta(hours=7), "WIB")
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")

MAX_URL = 2048
# ANSI/VT escape sequences (CSI, OSC, and two-byte ESC forms); the ESC itself would also go
# with the control characters, but the remaining "[31m" is noise in a log line.
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# Bidirectional overrides and isolates: they can make a line read differently than it is.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)
# Characters that are never left raw in a URL we emit: they end or split link markup in
# Slack (`<url|text>`), HTML attributes, or plain text.
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]_~"


@dataclass(frozen=True)
class Source:
    outlet: str
    url: str | None
    title: str


@dataclass(frozen=True)
class AlertMessage:
    alert_id: int
    topic: str
    title: str
    url: str | None
    outlet: str
    published_at: datetime
    matched: tuple[str, ...]
    snippet: str
    sources: tuple[Source, ...]
    # The outbox row this message is sent for (a receiver's idempotency key), and the alert
    # as ``pantau alerts --json`` shows it (a webhook posts exactly that). Both are set by
    # the dispatcher; a notifier built for one message (notify-test) has neither.
    delivery_id: int | None = None
    record: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SendResult:
    ok: bool
    detail: str = ""
    permanent: bool = False
    retry_after: float | None = None
    # Alerts that reached the receiver although the send as a whole did not succeed (a
    # digest split into several messages, one of which failed): the dispatcher marks those
    # sent, so a retry does not repeat them.
    delivered: frozenset[int] = frozenset()


class Notifier(Protocol):
    name: str
    digest: float | None

    def send(self, alerts: Sequence[AlertMessage]) -> SendResult: ...

    def send_test(self) -> SendResult: ...


# --------------------------------------------------------------------------------------------
# Pure formatting helpers


def safe_line(s: object, max_len: int = 500) -> str:
    """One line of feed text fit for a header, a log line or a chat message: no controls, no
    ANSI sequences, no bidi overrides, no CR/LF."""
    if s is None:
        return ""
    text = _ANSI_RE.sub("", str(s)).translate(_BIDI)
    return clean_line(text, max_len)


def to_wib(dt: datetime) -> datetime:
    """A naive datetime is taken as UTC (that is how alerts are stored)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(WIB)


def format_wib(dt: datetime) -> str:
    """``Kamis, 16 Des 2021 20:20 WIB``: how Indonesian outlets write a time."""
    w = to_wib(dt)
    return f"{HARI[w.weekday()]}, {w.day:02d} {BULAN[w.month - 1]} {w.year} {w:%H:%M} WIB"


def safe_url(url: str | None) -> str | None:
    """The URL if it may become a link (absolute http/https with a host), with every
    character that could break link markup percent-encoded; otherwise None."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if len(url) > MAX_URL or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            netloc = netloc.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if any(c in netloc for c in "<>|\"'` \\{}^"):
        return None
    path, query, frag = (
        quote(p, safe=_URL_SAFE) for p in (parts.path, parts.query, parts.fragment)
    )
    return urlunsplit((parts.scheme.lower(), netloc, path, query, frag))


def other_outlets(alert: AlertMessage, max_items: int = 20) -> list[str]:
    """Outlets that carried the story besides the one the alert names, once each, however
    feeds and aggregators name them ("Detik", "detikNews": ``daemon.outlets``). A source at
    the alert's own address is the same article, whichever of the outlet's feeds (its main
    and its finance section, say) carried it: no other outlet (as ``views.alert_line``)."""
    out = others_than(
        safe_line(alert.outlet, 100),
        (safe_line(s.outlet, 100) for s in alert.sources if not s.url or s.url != alert.url),
    )
    if len(out) > max_items:
        out = out[:max_items] + [f"{len(out) - max_items} lainnya"]
    return out


def group_by_topic(alerts: Sequence[AlertMessage]) -> list[tuple[str, list[AlertMessage]]]:
    """Topics in order of first appearance, each with its alerts in the order given."""
    groups: dict[str, list[AlertMessage]] = {}
    for a in alerts:
        groups.setdefault(safe_line(a.topic, 100), []).append(a)
    return list(groups.items())


def redact(text: str, secrets: Sequence[str | None]) -> str:
    """Replace every occurrence of a secret (and, for URLs, their path) with ``***``."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "***")
        try:
            path = urlsplit(secret).path
        except ValueError:
            path = ""
        if len(path) > 8:
            text = text.replace(path, "***")
    return text


def probe_text() -> str:
    return f"pantau: pesan uji dari {hostname()}"


def hostname() -> str:
    return safe_line(socket.gethostname(), 100) or "localhost"


def option(cfg: Mapping[str, Any] | object, key: str, default: Any = None) -> Any:
    """Read a config value from a pydantic model, a namespace or a plain mapping."""
    if isinstance(cfg, Mapping):
        if key in cfg:
            return cfg[key]
        return cfg.get(key.rstrip("_"), default) if key.endswith("_") else default
    return getattr(cfg, key, default)


def build_notifier(
    name: str, cfg: Mapping[str, Any] | object, *, user_agent: str = USER_AGENT
) -> Notifier:
    """The notifier for one ``notifiers:`` entry; raises ValueError on an unknown type."""
    kind = option(cfg, "type")
    if kind == "slack":
        from daemon.delivery.slack import SlackNotifier

        return SlackNotifier.from_config(name, cfg, user_agent=user_agent)
    if kind == "email":
        from daemon.delivery.email import EmailNotifier

        return EmailNotifier.from_config(name, cfg, user_agent=user_agent)
    if kind == "telegram":
        from daemon.delivery.telegram import TelegramNotifier

        return TelegramNotifier.from_config(name, cfg, user_agent=user_agent)
    if kind == "webhook":
        from daemon.delivery.webhook import WebhookNotifier

        return WebhookNotifier.from_config(name, cfg, user_agent=user_agent)
    if kind == "console":
        from daemon.delivery.console import ConsoleNotifier

        return ConsoleNotifier.from_config(name, cfg)
    raise ValueError(f"notifier {name!r}: unknown type {kind!r}")
