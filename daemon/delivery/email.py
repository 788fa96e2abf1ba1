"""Email sender (smtplib), one message per alert or a digest of several.

Feed text is untrusted: in headers it is reduced to one clean line (so a title cannot add a
``Bcc:``) and encoded here, never parsed (see ``_EncodedHeader``), in the HTML part it is escaped, and links are made only from http(s) URLs. The
envelope recipients are always the configured ones. Every SMTP step has a socket timeout,
and a watchdog shuts the socket down at an overall deadline, so a server that dribbles
bytes cannot hold a delivery forever. The password never appears in a result.
"""

from __future__ import annotations

import functools
import html
import smtplib
import socket
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from daemon import USER_AGENT
from daemon.delivery.base import (
    AlertMessage,
    SendResult,
    format_wib,
    group_by_topic,
    option,
    other_outlets,
    probe_text,
    redact,
    safe_line,
    safe_url,
)

SECURITY = ("starttls", "ssl", "none")
DEADLINE_FACTOR = 3.0  # whole conversation may take this many per-step timeouts
DIGEST_MAX_ITEMS = 200
SNIPPET_MAX = 1000
DIGEST_SNIPPET_MAX = 300


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    from_: str
    to: tuple[str, ...]
    digest: float | None
    timeout: float
    tls_verify: bool
    ca_file: str | None

    def __repr__(self) -> str:  # the password stays out of logs and tracebacks
        return f"EmailSettings(host={self.host!r}, port={self.port}, security={self.security!r})"


def settings_from(name: str, cfg: Mapping[str, Any] | object) -> EmailSettings:
    """Validate the config object once, at build time, so send() only does I/O."""
    security = str(option(cfg, "security", "starttls") or "starttls").lower()
    if security not in SECURITY:
        raise ValueError(f"notifier {name!r}: security must be one of {', '.join(SECURITY)}")
    to = option(cfg, "to") or []
    if isinstance(to, str):
        to = [to]
    addrs = tuple(_address(name, a) for a in to)
    if not addrs:
        raise ValueError(f"notifier {name!r}: no recipients in 'to'")
    default_port = 465 if security == "ssl" else 587
    digest = option(cfg, "digest")
    return EmailSettings(
        host=_one_line(name, "host", option(cfg, "host")),
        port=int(option(cfg, "port", default_port) or default_port),
        security=security,
        username=option(cfg, "username") or None,
        password=option(cfg, "password") or None,
        from_=_address(name, option(cfg, "from_")),
        to=addrs,
        digest=float(digest) if digest else None,
        timeout=float(option(cfg, "timeout", 30.0) or 30.0),
        tls_verify=bool(option(cfg, "tls_verify", True)),
        ca_file=option(cfg, "ca_file") or None,
    )


def _one_line(name: str, key: str, value: object) -> str:
    s = str(value or "").strip()
    if not s or any(ord(c) < 0x20 or ord(c) == 0x7F for c in s):
        raise ValueError(f"notifier {name!r}: {key} is missing or malformed")
    return s


def _address(name: str, value: object) -> str:
    s = _one_line(name, "address", value)
    if "@" not in parseaddr(s)[1]:
        raise ValueError(f"notifier {name!r}: {s!r} is not an email address")
    return s


# --------------------------------------------------------------------------------------------
# Composition (pure)


def subject_for(alerts: Sequence[AlertMessage]) -> str:
    if len(alerts) == 1:
        a = alerts[0]
        return f"[pantau] {safe_line(a.topic, 100)}: {safe_line(a.title, 200) or '(tanpa judul)'}"
    topics = ", ".join(t for t, _ in group_by_topic(alerts))
    return safe_line(f"[pantau] {len(alerts)} berita baru: {topics}", 250)


def _item_text(a: AlertMessage, snippet_max: int) -> list[str]:
    lines = [f"* {safe_line(a.title, 300) or '(tanpa judul)'}"]
    lines.append(f"  {safe_line(a.outlet, 100)} · {format_wib(a.published_at)}")
    url = safe_url(a.url)
    if url:
        lines.append(f"  {url}")
    matched = ", ".join(m for m in (safe_line(x, 100) for x in a.matched[:20]) if m)
    if matched:
        lines.append(f"  Cocok: {matched}")
    snippet = safe_line(a.snippet, snippet_max)
    if snippet:
        lines.append(f"  {snippet}")
    others = other_outlets(a)
    if others:
        lines.append(f"  Juga dimuat: {', '.join(others)}")
    return lines


def render_text(alerts: Sequence[AlertMessage]) -> str:
    snippet_max = SNIPPET_MAX if len(alerts) == 1 else DIGEST_SNIPPET_MAX
    shown = list(alerts[:DIGEST_MAX_ITEMS])
    out: list[str] = []
    for topic, items in group_by_topic(shown):
        out.append(f"== {topic} ({len(items)}) ==")
        out.append("")
        for a in items:
            out.extend(_item_text(a, snippet_max))
            out.append("")
    if len(alerts) > len(shown):
        out.append(f"... dan {len(alerts) - len(shown)} berita lainnya.")
    out.append("-- ")
    out.append("pantau")
    return "\n".join(out) + "\n"


def _item_html(a: AlertMessage, snippet_max: int) -> str:
    esc = html.escape
    title = esc(safe_line(a.title, 300) or "(tanpa judul)")
    url = safe_url(a.url)
    head = f'<a href="{esc(url)}">{title}</a>' if url else title
    parts = [
        f"<li><p><strong>{head}</strong><br>",
        f"{esc(safe_line(a.outlet, 100))} · {esc(format_wib(a.published_at))}",
    ]
    matched = ", ".join(m for m in (safe_line(x, 100) for x in a.matched[:20]) if m)
    if matched:
        parts.append(f"<br>Cocok: {esc(matched)}")
    parts.append("</p>")
    snippet = safe_line(a.snippet, snippet_max)
    if snippet:
        parts.append(f"<p>{esc(snippet)}</p>")
    others = other_outlets(a)
    if others:
        parts.append(f"<p><small>Juga dimuat: {esc(', '.join(others))}</small></p>")
    parts.append("</li>")
    return "".join(parts)


def render_html(alerts: Sequence[AlertMessage]) -> str:
    snippet_max = SNIPPET_MAX if len(alerts) == 1 else DIGEST_SNIPPET_MAX
    shown = list(alerts[:DIGEST_MAX_ITEMS])
    body: list[str] = []
    for topic, items in group_by_topic(shown):
        body.append(f"<h2>{html.escape(topic)} ({len(items)})</h2>")
        body.append("<ul>" + "".join(_item_html(a, snippet_max) for a in items) + "</ul>")
    if len(alerts) > len(shown):
        body.append(f"<p>... dan {len(alerts) - len(shown)} berita lainnya.</p>")
    return (
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8"></head><body>\n'
        + "\n".join(body)
        + "\n<p><small>pantau</small></p></body></html>\n"
    )


class _EncodedHeader(str):
    """A header value encoded here, which the ``email`` package stores and writes as is.

    Assigning a string to ``msg["Subject"]`` makes the email policy *parse* it, and that
    parser decodes RFC 2047 encoded words: a title carrying ``=?utf-8?q?=0D=0AReply-To:...?=``
    became a real CRLF and an injected header on CPython 3.10-3.12. An object with a
    ``name`` is taken by the policy as an already parsed header (``header_store_parse``) and
    folded by its own ``fold``. Text that is not plain ASCII, or that contains ``=?`` (which
    a reader would decode), is encoded as UTF-8 encoded words, so a reader decodes it back
    to exactly the feed's text and nothing in it is ever read as an encoded word (so is a
    word too long to fold, which encoded words split)."""

    name: str

    def __new__(cls, name: str, value: str) -> _EncodedHeader:
        self = super().__new__(cls, value)
        self.name = name
        return self

    def fold(self, *, policy: Any) -> str:
        # plain when a reader cannot take it for encoded words and it folds at spaces
        plain = self.isascii() and "=?" not in self and max(map(len, self.split()), default=0) < 70
        header = Header(str(self), None if plain else "utf-8", header_name=self.name)
        folded = header.encode(linesep=policy.linesep)
        return f"{self.name}: {folded}{policy.linesep}"


def _envelope(s: EmailSettings, subject: str, now: datetime, user_agent: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = _EncodedHeader("Subject", safe_line(subject, 1000))
    msg["From"] = s.from_
    msg["To"] = ", ".join(s.to)
    msg["Date"] = format_datetime(now.astimezone(timezone.utc))
    domain = parseaddr(s.from_)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring="pantau", domain=safe_line(domain, 200))
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    msg["User-Agent"] = safe_line(user_agent, 200)
    return msg


def compose(
    alerts: Sequence[AlertMessage],
    s: EmailSettings,
    *,
    now: datetime | None = None,
    user_agent: str = USER_AGENT,
) -> EmailMessage:
    """One email: a single alert, or a digest grouped by topic."""
    if not alerts:
        raise ValueError("nothing to send")
    msg = _envelope(s, subject_for(alerts), now or datetime.now(timezone.utc), user_agent)
    # Quoted-printable keeps the message 7-bit clean for relays without 8BITMIME.
    msg.set_content(render_text(alerts), cte="quoted-printable")
    msg.add_alternative(render_html(alerts), subtype="html", cte="quoted-printable")
    return msg


def compose_test(
    s: EmailSettings, *, now: datetime | None = None, user_agent: str = USER_AGENT
) -> EmailMessage:
    line = probe_text()
    msg = _envelope(s, line, now or datetime.now(timezone.utc), user_agent)
    msg.set_content(line + "\n", cte="quoted-printable")
    return msg


# --------------------------------------------------------------------------------------------
# Result classification (pure)


def _reply(code: int, msg: bytes | str) -> str:
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    return safe_line(f"{code} {text}", 300)


def classify_error(exc: BaseException, timed_out: bool = False) -> SendResult:
    """SMTP refusals with 5xx and auth failures are permanent; 4xx, network trouble and
    timeouts are worth another try."""
    if timed_out:
        return SendResult(False, "timeout: SMTP server too slow")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SendResult(
            False, "authentication failed: " + _reply(exc.smtp_code, exc.smtp_error), True
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        first = next(iter(exc.recipients.values()), (0, b""))
        detail = "recipients refused: " + _reply(*first)
        return SendResult(False, detail, permanent=bool(codes) and all(c >= 500 for c in codes))
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendResult(False, safe_line(f"server lacks a feature: {exc}", 300), True)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return SendResult(False, _reply(code, exc.smtp_error), permanent=500 <= code < 600)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a read timeout into a disconnect; say which it was.
        timeout = "timed out" in str(exc)
        return SendResult(False, "timeout" if timeout else "server disconnected")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendResult(False, safe_line(f"TLS certificate refused: {exc.verify_message}", 300))
    if isinstance(exc, ssl.SSLError):
        return SendResult(False, safe_line(f"TLS error: {exc.reason or type(exc).__name__}", 300))
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return SendResult(False, "timeout")
    if isinstance(exc, ConnectionRefusedError):
        return SendResult(False, "connection refused")
    if isinstance(exc, OSError):
        return SendResult(False, safe_line(f"network error: {exc.strerror or type(exc).__name__}"))
    return SendResult(False, safe_line(f"SMTP error: {type(exc).__name__}"))


# --------------------------------------------------------------------------------------------
# Transport


@functools.lru_cache(maxsize=1)
def _ehlo_name() -> str:
    """Our name for EHLO, resolved once: smtplib would otherwise call getfqdn() (a DNS
    lookup without a timeout) on every connection."""
    fqdn = socket.getfqdn()
    return fqdn if "." in fqdn and fqdn.isascii() else "[127.0.0.1]"


def tls_context(s: EmailSettings) -> ssl.SSLContext:
    if not s.tls_verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx = ssl.create_default_context(cafile=s.ca_file)
    ctx.check_hostname = True
    return ctx


class _Watch:
    """Shuts the connection's socket down at the deadline, which wakes a blocked recv()."""

    def __init__(self, deadline: float) -> None:
        self.conn: smtplib.SMTP | None = None
        self.expired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watch:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            sock = getattr(self.conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Recording:
    """Mixin: registers the socket with the watchdog and keeps the reply to DATA, which
    smtplib otherwise discards."""

    watch: _Watch | None = None
    data_reply: tuple[int, bytes] | None = None

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        if self.watch is not None:
            self.watch.conn = self  # type: ignore[assignment]
        return super()._get_socket(host, port, timeout)  # type: ignore[misc]

    def data(self, msg: Any) -> tuple[int, bytes]:
        reply = super().data(msg)  # type: ignore[misc]
        self.data_reply = reply
        return reply


class _SMTP(_Recording, smtplib.SMTP):
    pass


class _SMTPSSL(_Recording, smtplib.SMTP_SSL):
    pass


def _new_connection(s: EmailSettings, watch: _Watch) -> smtplib.SMTP:
    """An unconnected client (no I/O yet), so the caller can always close it."""
    if s.security == "ssl":
        conn: smtplib.SMTP = _SMTPSSL(
            local_hostname=_ehlo_name(), timeout=s.timeout, context=tls_context(s)
        )
    else:
        conn = _SMTP(local_hostname=_ehlo_name(), timeout=s.timeout)
    conn.watch = watch  # type: ignore[attr-defined]
    conn._host = s.host  # smtplib checks the certificate against this name
    return conn


def _handshake(conn: smtplib.SMTP, s: EmailSettings) -> None:
    code, answer = conn.connect(s.host, s.port)
    if code != 220:
        raise smtplib.SMTPConnectError(code, answer)
    conn.ehlo()
    if s.security == "starttls":
        conn.starttls(context=tls_context(s))
        conn.ehlo()
    if s.username:
        conn.login(s.username, s.password or "")


def transmit(msg: EmailMessage, s: EmailSettings) -> SendResult:
    """Deliver ``msg`` to the configured recipients and map the outcome."""
    with _Watch(s.timeout * DEADLINE_FACTOR) as watch:
        conn = _new_connection(s, watch)
        sent = False
        try:
            _handshake(conn, s)
            refused = conn.send_message(msg, from_addr=s.from_, to_addrs=list(s.to))
            sent = True
            code, answer = getattr(conn, "data_reply", None) or (250, b"")
            detail = _reply(code, answer)
            if refused:
                detail += f"; {len(refused)} of {len(s.to)} recipients refused"
            result = SendResult(True, detail)
        except Exception as e:  # every failure becomes a result, never a crash
            result = classify_error(e, timed_out=watch.expired)
        finally:
            # QUIT only after a success: a server that just failed may never answer it.
            _close(conn, polite=sent)
    return SendResult(
        result.ok, redact(result.detail, [s.password]), result.permanent, result.retry_after
    )


def _close(conn: smtplib.SMTP, *, polite: bool) -> None:
    try:
        if polite:
            conn.quit()
    except Exception:
        pass
    finally:
        conn.close()


class EmailNotifier:
    """One ``type: email`` notifier; ``digest`` set means the dispatcher batches alerts."""

    def __init__(self, name: str, settings: EmailSettings, *, user_agent: str = USER_AGENT):
        self.name = name
        self.settings = settings
        self.digest = settings.digest
        self._user_agent = user_agent

    @classmethod
    def from_config(
        cls, name: str, cfg: Mapping[str, Any] | object, *, user_agent: str = USER_AGENT
    ) -> EmailNotifier:
        return cls(name, settings_from(name, cfg), user_agent=user_agent)

    def __repr__(self) -> str:
        return f"EmailNotifier(name={self.name!r}, {self.settings!r})"

    def send(self, alerts: Sequence[AlertMessage]) -> SendResult:
        return transmit(compose(alerts, self.settings, user_agent=self._user_agent), self.settings)

    def send_test(self) -> SendResult:
        return transmit(compose_test(self.settings, user_agent=self._user_agent), self.settings)
