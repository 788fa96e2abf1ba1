"""Real SMTP servers on loopback for the email tests.

``SMTPStub`` wraps aiosmtpd's threaded ``Controller`` (plain, STARTTLS or implicit TLS,
optionally with AUTH) and keeps every accepted envelope. ``make_cert`` writes a throwaway
self-signed certificate for 127.0.0.1 with the ``openssl`` command (the ``cryptography``
package is not installed here). ``HangServer`` accepts connections and then says nothing,
or dribbles a never-ending greeting, to prove client timeouts.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class RecordingHandler:
    """Stores envelopes; can refuse chosen recipients or answer DATA with a set reply."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply
    data_reply: str = "250 2.0.0 Ok: queued as PANTAU42"
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply.startswith("250"):
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return self.data_reply


def make_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate valid for 127.0.0.1 and localhost, or skip the test."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPStub:
    """``tls``: None (plain), "starttls" (required before MAIL) or "ssl" (implicit TLS)."""

    def __init__(
        self,
        handler: RecordingHandler | None = None,
        *,
        tls: str | None = None,
        cert: tuple[Path, Path] | None = None,
        users: dict[str, str] | None = None,
        port: int = 0,
    ) -> None:
        """``port`` 0: a free one; a fixed one lets the soak swap this for a ``HangServer``."""
        self.handler = handler or RecordingHandler()
        self.host = "127.0.0.1"
        self.port = port or free_port()
        kwargs: dict[str, Any] = {}
        if tls:
            assert cert is not None
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(cert[0]), str(cert[1]))
            if tls == "ssl":
                kwargs["ssl_context"] = ctx
            else:
                kwargs.update(tls_context=ctx, require_starttls=True)
        if users is not None:
            kwargs.update(
                authenticator=_authenticator(users),
                auth_required=True,
                auth_require_tls=tls is not None,
            )
        self.controller = Controller(self.handler, hostname=self.host, port=self.port, **kwargs)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def __enter__(self) -> SMTPStub:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def _authenticator(users: dict[str, str]) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, pw = data.login.decode(), data.password.decode()
            if users.get(user) == pw:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return check


class HangServer:
    """Accepts TCP connections and never completes a greeting.

    ``dribble``: seconds between single bytes of an endless multi-line 220 greeting (each
    byte resets a per-read timeout, so only an overall deadline ends the conversation);
    None: send nothing at all. ``greeting`` is sent once first (then silence). After ``max_seconds`` the dribble stops and the connection
    closes, so a client without a deadline fails the test quickly instead of hanging.
    """

    def __init__(
        self,
        dribble: float | None = None,
        max_seconds: float = 5.0,
        greeting: bytes = b"",
        port: int = 0,
    ) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.dribble = dribble
        self.max_seconds = max_seconds
        self.greeting = greeting
        self.accepted = 0
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self._conns.append(conn)
            if self.greeting:
                try:
                    conn.sendall(self.greeting)
                except OSError:
                    continue
            if self.dribble is not None:
                threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        line = b"220-pantau hang stub\r\n"
        i = 0
        give_up = time.monotonic() + self.max_seconds  # so a broken client fails fast
        while not self._stop.wait(self.dribble or 0) and time.monotonic() < give_up:
            try:
                conn.sendall(line[i % len(line) : i % len(line) + 1])
            except OSError:
                return
            i += 1
        conn.close()

    def __enter__(self) -> HangServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    """Poll with a deadline instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
