"""Notifier stand-ins for the soak: a Slack webhook server and an SMTP server, both switchable.

Slack modes: ``ok``; ``slow`` (the message is taken, the answer comes after a delay, so a
kill lands mid-request); ``500``; ``429`` with Retry-After; ``refused`` (the listener is
closed, then bound again on the same port). SMTP modes: ``ok`` (aiosmtpd) and ``hang`` (a raw
socket that accepts, greets, and then never answers). Every message taken is recorded with
its wall-clock arrival time and parsed into (topic, article URL).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from daemon.demo.loopback import LoopbackServer, send

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests/
from tests.smtpstub import HangServer, SMTPStub, free_port  # noqa: E402

TEXT = {"Content-Type": "text/plain"}
URL_RE = re.compile(r"https?://127\.0\.0\.1:\d+/a/\d+/s\d+-[^\s<>|\"')]*")
SLACK_TOPIC_RE = re.compile(r"^\[([^\]]+)\]")
SUBJECT_RE = re.compile(r"^\[pantau\] ([^:]+):")


@dataclass(frozen=True)
class Message:
    notifier: str
    topic: str | None
    url: str | None
    at: float  # time.time() when the stand-in read it


def parse_slack(notifier: str, payload: dict[str, Any], at: float) -> Message:
    text = str(payload.get("text") or "")
    m = SLACK_TOPIC_RE.match(text)
    u = URL_RE.search(text)
    return Message(notifier, m.group(1) if m else None, u.group(0) if u else None, at)


def parse_email(notifier: str, raw: bytes, at: float) -> Message:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    subject = str(msg.get("Subject") or "").strip()  # a fold may start the value
    m = SUBJECT_RE.match(subject)
    body = ""
    part = msg.get_body(("plain",))
    if part is not None:
        body = part.get_content()
    u = URL_RE.search(body)
    return Message(notifier, m.group(1).strip() if m else None, u.group(0) if u else None, at)


class SlackStandIn:
    """One server, one webhook path per notifier name: ``/hook/<name>``."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.retry_after = 5
        self.slow_seconds = 1.5
        self.messages: list[Message] = []
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.server: LoopbackServer | None = None
        self.port = 0
        self._bind()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    def _bind(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self.server = LoopbackServer(
                    port=self.port, fallback=self._post, record=False, name="soak-slack"
                )
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.port = self.server.start().port

    def _unbind(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def set_mode(self, mode: str, retry_after: int = 5) -> None:
        with self.lock:
            was, self.mode, self.retry_after = self.mode, mode, retry_after
        if mode == "refused" and was != "refused":
            self._unbind()
        elif mode != "refused" and was == "refused":
            self._bind()

    def _post(self, req: BaseHTTPRequestHandler) -> None:
        at = time.time()
        body: bytes = getattr(req, "request_body", b"")  # read by the loopback server
        name = req.path.rsplit("/", 1)[-1]
        with self.lock:
            mode, retry_after = self.mode, self.retry_after
            self.attempts[mode] = self.attempts.get(mode, 0) + 1
        if mode == "500":
            send(req, 500, b"internal_error", TEXT)
            return
        if mode == "429":
            send(req, 429, b"rate_limited", {**TEXT, "Retry-After": str(retry_after)})
            return
        try:
            payload = json.loads(body)
        except ValueError:
            send(req, 400, b"invalid_payload", TEXT)
            return
        with self.lock:  # Slack has the message once it has read it
            self.messages.append(parse_slack(name, payload, at))
        if mode == "slow":
            time.sleep(self.slow_seconds)
        send(req, 200, b"ok", TEXT)

    def close(self) -> None:
        self._unbind()


class _Recorder:
    def __init__(self, owner: MailStandIn) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        at = time.time()
        raw = envelope.original_content or b""
        msg = parse_email(self.owner.name, raw, at)
        with self.owner.lock:
            self.owner.messages.append(msg)
            if msg.topic is None or msg.url is None:
                self.owner.unparsed.append(raw[:4000])
        return "250 2.0.0 Ok: queued"


class MailStandIn:
    """The tests' SMTP stub on a fixed port, replaced by their ``HangServer`` on that port in
    ``hang`` mode."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.messages: list[Message] = []
        self.unparsed: list[bytes] = []  # raw emails the parser could not read, for debugging
        self.port = free_port()
        self.mode = "ok"
        self.hang: HangServer | None = None
        self.hang_accepted = 0
        self.smtp: SMTPStub | None = None
        self._start_smtp()

    def _start_smtp(self) -> None:
        deadline = time.monotonic() + 15
        while True:
            try:
                smtp = SMTPStub(_Recorder(self), port=self.port)  # type: ignore[arg-type]
                self.smtp = smtp.__enter__()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        if mode == "hang":
            if self.smtp is not None:
                self.smtp.__exit__()
                self.smtp = None
            self.hang = _hang(self.port)
        else:
            if self.hang is not None:
                self.hang_accepted += self.hang.accepted
                self.hang.__exit__()
                self.hang = None
            self._start_smtp()
        self.mode = mode

    def close(self) -> None:
        if self.hang is not None:
            self.hang.__exit__()
        if self.smtp is not None:
            self.smtp.__exit__()


def _hang(port: int) -> HangServer:
    """Accepts and greets on ``port``, then never answers (bound again as soon as the port
    the SMTP server left is free)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return HangServer(greeting=b"220 soak.invalid ESMTP\r\n", port=port).__enter__()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
