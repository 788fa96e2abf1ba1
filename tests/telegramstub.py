"""A loopback stand-in for the Telegram Bot API's ``sendMessage``, built on ``daemon.demo.loopback``.

It checks what Telegram checks: the token in the path, a JSON body with ``chat_id`` and
``text``, and, with ``parse_mode=HTML``, markup Telegram would accept (only the tags pantau
uses, properly nested, only known entities, no stray ``<`` or ``&``) whose text after entity
parsing fits 4,096 UTF-16 code units. A bad message gets the 400 Telegram sends. With a
``clock``, it also enforces the flood limits (one message a second per chat, twenty a minute
per group) and answers 429 with ``parameters.retry_after`` as Telegram does.

The HTML reader here is written independently of daemon/delivery/telegram.py on purpose: a
test that parsed our output with our own code could not catch our mistakes.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from daemon.demo.loopback import LoopbackServer, send
from tests.servicestub import ServiceStub

TOKEN = "7100222333:AAH-tEsT_t0ken_S3cretPartDoNotLog42x"
ALLOWED_TAGS = {"b", "i", "a"}  # the ones pantau writes (Telegram accepts a few more)
ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_serial = itertools.count(1)


class BadHtml(ValueError):
    pass


@dataclass
class Parsed:
    text: str  # what Telegram shows
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, label)
    bold: list[str] = field(default_factory=list)


def _entity(s: str, i: int) -> tuple[str, int]:
    m = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-z]+);").match(s, i)
    if not m:
        raise BadHtml(f"Can't parse entities: unsupported entity or stray & at byte offset {i}")
    name = m.group(1)
    if name.startswith("#x"):
        ch = chr(int(name[2:], 16))
    elif name.startswith("#"):
        ch = chr(int(name[1:]))
    elif name in ENTITIES:
        ch = ENTITIES[name]
    else:
        raise BadHtml(f"Can't parse entities: unknown entity &{name};")
    return ch, m.end()


def _attr_value(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "&":
            ch, i = _entity(raw, i)
            out.append(ch)
        elif raw[i] in '<>"':
            raise BadHtml("Can't parse entities: bad character in attribute")
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def parse_html(s: str) -> Parsed:
    """Telegram's HTML as Telegram reads it, strictly: raises BadHtml where it would 400."""
    text: list[str] = []
    stack: list[tuple[str, int, str | None]] = []  # tag, text offset, href
    out = Parsed("")
    i = 0
    tag_re = re.compile(r'<(/?)([a-z]+)((?:\s+[a-z]+="[^"<>]*")*)\s*>')
    while i < len(s):
        c = s[i]
        if c == "<":
            m = tag_re.match(s, i)
            if not m or m.group(2) not in ALLOWED_TAGS:
                raise BadHtml(f"Can't parse entities: unsupported start tag at byte offset {i}")
            closing, tag, attrs = m.group(1), m.group(2), m.group(3)
            if closing:
                if attrs or not stack or stack[-1][0] != tag:
                    raise BadHtml(f"Can't parse entities: unmatched end tag </{tag}>")
                _, start, href = stack.pop()
                label = "".join(text)[start:]
                if tag == "a":
                    out.links.append((href or "", label))
                elif tag == "b":
                    out.bold.append(label)
            else:
                pairs = dict(re.findall(r'([a-z]+)="([^"]*)"', attrs))
                if tag == "a":
                    if set(pairs) != {"href"}:
                        raise BadHtml("Can't parse entities: <a> needs exactly an href")
                    href = _attr_value(pairs["href"])
                    if any(t == "a" for t, _, _ in stack):
                        raise BadHtml("Can't parse entities: nested links")
                elif pairs:
                    raise BadHtml(f"Can't parse entities: <{tag}> takes no attributes")
                else:
                    href = None
                stack.append((tag, len("".join(text)), href))
            i = m.end()
        elif c == "&":
            ch, i = _entity(s, i)
            text.append(ch)
        elif c == ">":
            raise BadHtml(f"Can't parse entities: stray > at byte offset {i}")
        else:
            text.append(c)
            i += 1
    if stack:
        raise BadHtml(f"Can't parse entities: can't find end tag corresponding to <{stack[-1][0]}>")
    out.text = "".join(text)
    return out


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


@dataclass
class Message:
    chat_id: Any
    text: str
    payload: dict[str, Any]
    parsed: Parsed
    at: float


class TelegramStub(ServiceStub):
    """Own server by default; pass a running ``LoopbackServer`` to share one."""

    def __init__(
        self,
        server: LoopbackServer | None = None,
        *,
        token: str = TOKEN,
        clock: Callable[[], float] | None = None,
        delay: float = 0.0,
    ) -> None:
        super().__init__(server)
        self.delay = delay  # seconds each answer takes (a slow API, for crash tests)
        # a prefix per stub: stubs on one server keep their own traffic apart
        self.prefix = f"/tg{next(_serial)}"
        self.token = token
        self.clock = clock
        self.messages: list[Message] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.flood_refusals = 0
        self._sent: dict[str, deque[float]] = {}
        self._next_id = itertools.count(1000)
        self.server.route(f"{self.prefix}/bot{token}/sendMessage", self._handle)

    @property
    def api_url(self) -> str:
        return self.server.url(self.prefix)

    def reply(  # type: ignore[override]
        self,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Queue the next answers (after validation passes); then it answers ok again."""
        super().reply(status, json.dumps(body).encode(), headers, times)

    def kicked(self, times: int = 1) -> None:
        self.reply(403, {"ok": False, "error_code": 403,
                         "description": "Forbidden: bot was kicked from the supergroup chat"},
                   times=times)  # fmt: skip

    def too_many(self, retry_after: int, times: int = 1) -> None:
        self.reply(429, {"ok": False, "error_code": 429,
                         "description": f"Too Many Requests: retry after {retry_after}",
                         "parameters": {"retry_after": retry_after}}, times=times)  # fmt: skip

    def _answer(self, req: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        self.answers.append((status, body))
        send(req, status, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _bad(self, req: BaseHTTPRequestHandler, description: str) -> None:
        self._answer(req, 400, {"ok": False, "error_code": 400,
                                "description": f"Bad Request: {description}"})  # fmt: skip

    def _flooded(self, chat: str, now: float) -> float | None:
        """Seconds to wait if this message breaks a flood limit, else None (and counted)."""
        times = self._sent.setdefault(chat, deque())
        if times and now - times[-1] < 1.0 - 1e-6:
            return 1.0
        group = chat.startswith(("-", "@"))
        if group and len(times) >= 20 and now - times[-20] < 60.0 - 1e-6:
            return 60.0 - (now - times[-20])
        times.append(now)
        return None

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        if self.delay:
            time.sleep(self.delay)
        body = getattr(req, "request_body", b"")
        if "json" not in (req.headers.get("Content-Type") or ""):
            return self._bad(req, "expected a JSON body")
        try:
            payload = json.loads(body)
        except ValueError:
            return self._bad(req, "invalid JSON")
        if not isinstance(payload, dict) or "chat_id" not in payload or "text" not in payload:
            return self._bad(req, "chat_id and text are required")
        text = payload["text"]
        if not isinstance(text, str) or not text.strip():
            return self._bad(req, "message text is empty")
        try:
            parsed = parse_html(text) if payload.get("parse_mode") == "HTML" else Parsed(text)
        except BadHtml as exc:
            return self._bad(req, str(exc))
        if utf16_len(parsed.text) > 4096:
            return self._bad(req, "message is too long")
        with self._lock:
            if self.clock is not None:
                wait = self._flooded(str(payload["chat_id"]), self.clock())
                if wait is not None:
                    self.flood_refusals += 1
                    retry = max(1, round(wait))
                    return self._answer(req, 429, {
                        "ok": False, "error_code": 429,
                        "description": f"Too Many Requests: retry after {retry}",
                        "parameters": {"retry_after": retry},
                    })  # fmt: skip
            queued = self.next_reply()
            at = self.clock() if self.clock else 0.0
        if queued is not None:
            status, answer, headers = queued
            self.answers.append((status, json.loads(answer)))
            return send(req, status, answer, {"Content-Type": "application/json", **headers})
        msg = Message(payload["chat_id"], text, payload, parsed, at)
        with self._lock:
            self.messages.append(msg)
            mid = next(self._next_id)
        self._answer(req, 200, {"ok": True, "result": {
            "message_id": mid, "chat": {"id": payload["chat_id"]}, "text": parsed.text}})  # fmt: skip
