"""All HTTP policy in one place: feeds now, article pages later.

A feed server is untrusted. It may be slow, huge, a decompression bomb, a redirect loop, a
redirect into the operator's private network, or an error page. Every fetch therefore:

- ends by one *total* deadline (connect, headers, body and every redirect hop together).
  Socket timeouts alone are per operation, so a watchdog thread also shuts the socket down
  when the deadline passes or the fetcher is stopped; the socket is found through a urllib3
  connection subclass that registers it with the fetch running on the current thread;
- decompresses gzip/deflate itself, chunk by chunk with ``max_length``, and counts
  *decompressed* bytes against ``max_bytes``, so memory stays bounded whatever the ratio;
- follows redirects itself (never reading a redirect's body), http/https only, at most
  ``max_redirects`` hops, and refuses a hop from a public address into private space;
- never raises for network or HTTP trouble: the result carries a readable ``error`` that
  names no query string (it may carry tokens) and no traceback.

SSRF. Every URL is read once, by the parser that connects (urllib3's, through requests'
``prepare``: :func:`connect_target`); a URL that ``urlsplit`` reads with another scheme, host or
port (``http://127.0.0.1\\@example.org/``) is refused, since some other code reading it would be
misled. The host is resolved once per hop (``resolve(host) -> list[str]``, with the deadline,
so a hanging DNS server costs at most ``timeout``), the addresses are judged, and the connection
goes to those very addresses (``_PinnedConnection``: TCP to the checked IP, while the Host
header, SNI and certificate check keep the name), so DNS rebinding between check and connect
changes nothing. A keep-alive connection is reused only when its peer is one of the addresses
checked for this hop. A host with mixed records is private if *any* record is (it could be
made to connect there). Tests that need a "public" origin on loopback declare it with the
``is_private`` hook, never by connecting elsewhere than the check.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as _u3_connection
from urllib3.util import parse_url

from daemon import USER_AGENT, retry
from daemon.text import clean_line

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.8"

Resolver = Callable[[str], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CANCELLED = "fetch cancelled (shutting down)"
UNCHECKED = "connection to a host the policy did not check refused"
MAX_RETRY_AFTER = 24 * 3600.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_POLL = 0.1  # how often waiters and the watchdog look at an external stop event
_MAX_URL = 8192
_MAX_VALIDATOR = 1024


@dataclass(frozen=True)
class FetchPolicy:
    timeout: float = 20.0  # total seconds per fetch, redirects and body included
    max_bytes: int = 10 * 1024 * 1024  # decompressed
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    concurrency: int = 8
    per_host: int = 2


@dataclass
class CacheState:
    """What the caller stored from the previous fetch of the same URL."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int | None
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    not_modified: bool = False
    error: str | None = None
    retry_after: float | None = None
    gone: bool = False
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """A usable outcome: a body, or the server's word that nothing changed."""
        return self.error is None


# ---------------------------------------------------------------- pure helpers


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """A feed server's ``Retry-After`` in seconds, at most 24 h (see ``daemon.retry``)."""
    return retry.parse_retry_after(value, cap=MAX_RETRY_AFTER, now=now)


def is_private_address(ip: str | IPAddress) -> bool:
    """True for anything that is not a plain public unicast address: loopback, private,
    link-local, CGNAT, reserved, multicast, unspecified, and IPv6 forms embedding such an
    IPv4 address. Unparseable input counts as private (refusing is the safe side)."""
    try:
        addr = ip if not isinstance(ip, str) else ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return True
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return _not_public(addr.ipv4_mapped)
        embedded = addr.sixtofour or _nat64(addr)
        if embedded is not None and _not_public(embedded):
            return True
    return _not_public(addr)


def _not_public(addr: IPAddress) -> bool:
    return (
        not addr.is_global
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    )


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _nat64(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def default_resolve(host: str) -> list[str]:
    """The system resolver: every address ``host`` may connect to."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def redact_url(url: str) -> str:
    """A URL fit for messages and logs: no user info, query or fragment (tokens live there)."""
    try:
        p = urlsplit(url)
        host = p.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{p.port}" if p.port else ""
    except ValueError:
        return "<invalid URL>"
    shown = urlunsplit((p.scheme, host + port, p.path, "", ""))
    return clean_line(shown, 200)


@dataclass(frozen=True)
class Target:
    """Where a URL connects, as the connecting parser reads it."""

    url: str  # as requests prepares it: what is sent
    scheme: str
    host: str  # lower case, IDNA, no brackets, no trailing dot
    port: int


def _split_host(url: str) -> tuple[str, str, int | None]:
    """scheme, host, port as ``urlsplit`` reads them, normalised like urllib3's."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if host and not host.isascii():
        host = host.encode("idna").decode("ascii")
    return parts.scheme.lower(), host.lower(), parts.port


def connect_target(url: str) -> Target:
    """The scheme, host and port that a request for ``url`` connects to, read by the parser
    that connects (requests' ``prepare``, which uses urllib3's ``parse_url``). Raises
    ValueError when the URL is unusable, or when ``urlsplit`` reads another scheme, host or
    port: such a URL is refused rather than guessed at."""
    prepared = requests.PreparedRequest()
    try:
        prepared.prepare_url(url, None)
        parsed = parse_url(prepared.url or "")
        seen = _split_host(url)
        again = _split_host(prepared.url or "")
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, ValueError,
            UnicodeError) as exc:  # fmt: skip
        raise ValueError("invalid URL") from exc
    scheme = (parsed.scheme or "").lower()
    host = (parsed.host or "").strip("[]").rstrip(".").lower()
    default = 443 if scheme == "https" else 80
    mine = (scheme, host, parsed.port or default)
    for other in (seen, again):
        if (other[0], other[1].strip("[]"), other[2] or default) != mine:
            raise ValueError("ambiguous URL (parsers disagree about its host)")
    return Target(prepared.url or "", scheme, host, parsed.port or default)


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be fetched at all, or None. Only absolute http(s) URLs with a host,
    read the same by every parser: a feed body or link is never taken as a path."""
    if not isinstance(url, str) or not url.strip():
        return "empty URL"
    if len(url) > _MAX_URL:
        return "URL too long"
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url.strip()):
        return "invalid URL (control character or space)"
    try:
        parts = urlsplit(url.strip())
        _ = parts.port
    except ValueError:
        return "invalid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"unsupported URL scheme {scheme!r}" if scheme else "not an http(s) URL"
    if not parts.hostname:
        return "URL has no host"
    try:
        connect_target(url.strip())
    except ValueError as exc:
        return str(exc)
    return None


def human_size(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def status_text(status: int) -> str:
    """``HTTP 404 Not Found`` from the standard phrase, never the server's reason text."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {status} {phrase}".strip()


def describe_exception(exc: BaseException) -> str:
    """A short human reason for a transport failure. Never ``str(exc)`` of a requests or
    urllib3 error: those embed the full URL, query string included."""
    seen = _exception_chain(exc)
    for e in seen:
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"TLS certificate error: {clean_line(e.verify_message or 'verify failed', 120)}"
    for e in seen:
        if isinstance(e, ssl.SSLError):
            return f"TLS error: {clean_line(str(e.reason or 'handshake failed'), 120)}"
    for e in seen:
        if isinstance(e, socket.gaierror):
            return "cannot resolve host"
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, ConnectionResetError):
            return "connection reset by peer"
    if any(isinstance(e, UncheckedHost) for e in seen):
        return UNCHECKED
    kinds: list[tuple[type[BaseException], str]] = [
        (requests.exceptions.ConnectTimeout, "connect timed out"),
        (urllib3.exceptions.ConnectTimeoutError, "connect timed out"),
        (requests.exceptions.ReadTimeout, "read timed out"),
        (urllib3.exceptions.ReadTimeoutError, "read timed out"),
        (TimeoutError, "timed out"),
        (requests.exceptions.SSLError, "TLS error"),
        (requests.exceptions.InvalidHeader, "invalid request header"),
        (urllib3.exceptions.IncompleteRead, "connection closed before the body was complete"),
        (requests.exceptions.ChunkedEncodingError, "broken chunked encoding"),
        (urllib3.exceptions.ProtocolError, "connection broken"),
        (requests.exceptions.InvalidURL, "invalid URL"),
        (requests.exceptions.ConnectionError, "connection failed"),
        (OSError, "network error"),
    ]
    for kind, text in kinds:
        if any(isinstance(e, kind) for e in seen):
            return text
    return f"fetch failed ({type(exc).__name__})"


def _exception_chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(out) < 20:
        e = todo.pop(0)
        if any(e is s for s in out):
            continue
        out.append(e)
        nested = [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
        todo.extend(x for x in nested if isinstance(x, BaseException))
    return out


def _header_value(v: str | None) -> str | None:
    """A validator fit to store and send back: short, one line, latin-1."""
    if not v or len(v) > _MAX_VALIDATOR or any(ord(c) < 0x20 or ord(c) == 0x7F for c in v):
        return None
    try:
        v.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return v


def _content_encoding(value: str | None) -> str | None:
    tokens = [t.strip().lower() for t in (value or "").split(",")]
    tokens = [t for t in tokens if t and t != "identity"]
    if not tokens:
        return None
    if len(tokens) == 1 and tokens[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if tokens[0] == "deflate" else "gzip"
    raise FetchFailed(f"unsupported Content-Encoding {clean_line(value, 40)!r}")


def _content_length(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


def _location(raw: str) -> str:
    """http.client decodes header bytes as latin-1; servers mostly send UTF-8."""
    try:
        return raw.encode("latin-1").decode("utf-8").strip()
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw.strip()


# ---------------------------------------------------------------- decompression


class BoundedDecoder:
    """Incremental gzip/deflate with bounded output per step, so a bomb never expands
    further than one chunk past what the caller has counted."""

    def __init__(self, encoding: str | None, chunk: int = _CHUNK) -> None:
        self._enc = encoding
        self._chunk = chunk
        self._finished = False
        self._started = False  # some output produced: deflate flavour settled
        self._head = b""  # deflate input kept until the flavour is settled
        self._obj = self._new(raw_deflate=False)

    def _new(self, *, raw_deflate: bool) -> Any:
        if self._enc == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._enc is None:
            if data:
                yield data
            return
        if self._finished or not data:
            return
        if self._enc == "deflate" and not self._started:
            self._head = (self._head + data)[: 1 << 16]
        try:
            yield from self._inflate(data)
        except zlib.error:
            if self._enc != "deflate" or self._started:
                raise FetchFailed(f"corrupt {self._enc} body") from None
            # Some servers send raw deflate without the zlib wrapper.
            self._obj = self._new(raw_deflate=True)
            try:
                yield from self._inflate(self._head)
            except zlib.error:
                raise FetchFailed("corrupt deflate body") from None

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        buf = data
        while True:
            out = self._obj.decompress(buf, self._chunk)
            if out:
                self._started = True
                self._head = b""
                yield out
            if self._obj.eof:
                rest = self._obj.unused_data
                if self._enc == "gzip" and rest.startswith(b"\x1f\x8b"):  # next gzip member
                    self._obj = self._new(raw_deflate=False)
                    buf = rest
                    continue
                self._finished = True  # trailing bytes after the stream are ignored
                return
            buf = self._obj.unconsumed_tail
            if not buf and len(out) < self._chunk:
                return

    def finish(self) -> Iterator[bytes]:
        if self._enc is None or self._finished:
            return
        try:
            tail = self._obj.flush()
        except zlib.error:
            raise FetchFailed(f"corrupt {self._enc} body") from None
        for i in range(0, len(tail), self._chunk):
            yield tail[i : i + self._chunk]


# ---------------------------------------------------------------- deadline machinery


class FetchFailed(Exception):
    """Ends a fetch with a readable reason: the message is what the feed's status shows."""


class _Token:
    """One fetch's deadline and the sockets to shut down when it is cancelled."""

    def __init__(self, deadline: float, timeout_reason: str) -> None:
        self.deadline = deadline
        self.timeout_reason = timeout_reason
        self.reason: str | None = None
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self.reason is None:
                self._socks.append(sock)
                return
        _shutdown(sock)

    def cancel(self, reason: str) -> None:
        with self._lock:
            if self.reason is not None:
                return
            self.reason = reason
            socks, self._socks = self._socks, []
        for s in socks:
            _shutdown(s)


def _release(resp: requests.Response) -> None:
    """Return a fully read response's connection to the pool (keep-alive)."""
    try:
        resp.raw.drain_conn()
        resp.raw.release_conn()
    except Exception:  # noqa: BLE001 - then it is simply not reused
        resp.close()


def _shutdown(sock: socket.socket) -> None:
    """shutdown() (unlike close()) wakes a recv blocked in another thread."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass


_current = threading.local()


def _attach_current(sock: socket.socket | None) -> None:
    token: _Token | None = getattr(_current, "token", None)
    if token is not None:
        token.attach(sock)


@dataclass(frozen=True)
class _Pin:
    """The checked addresses of one hop: the only ones its connection may go to."""

    host: str
    port: int
    addrs: tuple[str, ...]


class UncheckedHost(urllib3.exceptions.HTTPError):
    """urllib3 was about to connect to a host other than the one the policy checked."""


def _pin_for(host: str, port: int) -> _Pin:
    pin: _Pin | None = getattr(_current, "pin", None)
    if pin is None or pin.host != host.strip("[]").rstrip(".").lower() or pin.port != port:
        raise UncheckedHost(UNCHECKED)  # never connect to an address nobody checked
    return pin


def _same_ip(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.split("%", 1)[0]) == ipaddress.ip_address(b.split("%", 1)[0])
    except ValueError:
        return False


class _PinnedMixin:
    """A urllib3 connection that connects to the addresses checked for the current hop (not
    to whatever the name resolves to now), registers its socket with the current fetch (for
    the deadline watchdog), and is reused only while its peer is one of those addresses."""

    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        pin = _pin_for(self.host, self.port)
        last: BaseException | None = None
        for ip in pin.addrs:
            try:
                sock = _u3_connection.create_connection(
                    (ip, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as e:
                raise urllib3.exceptions.ConnectTimeoutError(self, "connect timed out") from e
            except OSError as e:
                last = e
                continue
            _attach_current(sock)
            return sock
        raise urllib3.exceptions.NewConnectionError(
            self,
            f"Failed to establish a new connection: {last}",  # type: ignore[arg-type]
        ) from last

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if self.sock is not None:
            pin = _pin_for(self.host, self.port)
            try:
                peer = str(self.sock.getpeername()[0])
            except OSError:
                peer = ""
            if not any(_same_ip(peer, a) for a in pin.addrs):
                self.close()  # http.client connects afresh, through _new_conn
            else:
                _attach_current(self.sock)  # a reused keep-alive connection joins this fetch
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_PinnedMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_PinnedMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class _NoCookies(DefaultCookiePolicy):
    """Feeds are fetched anonymously; one feed's cookies never reach another host."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


class _Watchdog:
    """One thread per Fetcher that cancels fetches past their deadline or on stop."""

    def __init__(self, stopped: Callable[[], bool]) -> None:
        self._stopped = stopped
        self._cond = threading.Condition()
        self._tokens: set[_Token] = set()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._wake_at: float | None = None  # when the thread looks next (None: not before told)

    def add(self, token: _Token) -> None:
        with self._cond:
            self._tokens.add(token)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="pantau-fetch-watchdog", daemon=True
                )
                self._thread.start()
            # Woken only if it would look too late: it looks every ``_POLL`` while fetches
            # are in flight, and waking it for each of them (a thread switch per fetch) was
            # a tenth of the main process's CPU in a run that met only 304s.
            if self._wake_at is None or token.deadline < self._wake_at:
                self._cond.notify_all()

    def remove(self, token: _Token) -> None:
        with self._cond:
            self._tokens.discard(token)

    def shutdown(self) -> None:
        with self._cond:
            for t in self._tokens:
                t.cancel(CANCELLED)
            self._closed = True
            self._cond.notify_all()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if not self._tokens:
                    self._wake_at = None
                    self._cond.wait()
                    continue
                now = time.monotonic()
                stopped = self._stopped()
                wait = _POLL
                for t in self._tokens:
                    if stopped:
                        t.cancel(CANCELLED)
                    elif now >= t.deadline:
                        t.cancel(t.timeout_reason)
                    else:
                        wait = min(wait, t.deadline - now)
                wait = max(wait, 0.005)
                self._wake_at = now + wait
                self._cond.wait(wait)


class _Slots:
    """Global and per-host limits on fetches in flight, shared by every calling thread."""

    def __init__(self, total: int, per_host: int) -> None:
        self._cond = threading.Condition()
        self._total = max(1, total)
        self._per_host = max(1, per_host)
        self.active = 0
        self.waiting = 0
        self._hosts: dict[str, int] = {}

    def acquire(self, host: str, stopped: Callable[[], bool]) -> bool:
        with self._cond:
            self.waiting += 1
            try:
                while self.active >= self._total or self._hosts.get(host, 0) >= self._per_host:
                    if stopped():
                        return False
                    self._cond.wait(_POLL)
                if stopped():
                    return False
                self.active += 1
                self._hosts[host] = self._hosts.get(host, 0) + 1
                return True
            finally:
                self.waiting -= 1

    def release(self, host: str) -> None:
        with self._cond:
            self.active -= 1
            left = self._hosts.get(host, 1) - 1
            if left:
                self._hosts[host] = left
            else:
                self._hosts.pop(host, None)
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


# ---------------------------------------------------------------- the fetcher


@dataclass
class _Progress:
    """Where a fetch got to, so an error result can still report status and final URL."""

    url: str
    final_url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def failure(self, error: str, **extra: Any) -> FetchResult:
        return FetchResult(
            url=self.url,
            final_url=self.final_url,
            status=self.status,
            body=None,
            headers=self.headers,
            error=error,
            **extra,
        )


def make_session(user_agent: str, adapter: HTTPAdapter) -> requests.Session:
    """The one ``requests`` session a ``Fetcher`` sends through: no environment, no cookies,
    our User-Agent, gzip, every scheme on ``adapter``."""
    s = requests.Session()
    s.trust_env = False  # no .netrc credentials or env CA/proxy surprises under systemd
    s.headers.clear()
    s.headers.update(
        {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}
    )
    s.cookies.set_policy(_NoCookies())
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


class Fetcher:
    """A pooled HTTP client with the fetch policy built in. Thread-safe: any number of
    threads may call :meth:`fetch`; the concurrency limits hold across all of them."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolve: Resolver | None = None,
        is_private: Callable[[str], bool] | None = None,
        stop: threading.Event | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        """``resolve``: host -> addresses, both judged and connected to. ``is_private``:
        address -> bool (default :func:`is_private_address`); tests use it to declare a
        loopback address "public", the one stand-in for the internet."""
        self.policy = policy or FetchPolicy()
        self._verify: bool | str = ca_bundle or True  # a private CA for internal feeds
        self._resolve = resolve or default_resolve
        self._classify = is_private
        self._stop = stop
        self._closed = threading.Event()
        self._slots = _Slots(self.policy.concurrency, self.policy.per_host)
        self._watchdog = _Watchdog(self._stopped)
        self._dns = ThreadPoolExecutor(
            max_workers=max(2, self.policy.concurrency), thread_name_prefix="pantau-dns"
        )
        self._adapter = _Adapter(
            pool_connections=max(10, 2 * self.policy.concurrency),
            pool_maxsize=max(2, self.policy.per_host),
            max_retries=0,
        )
        self._session = make_session(self.policy.user_agent, self._adapter)

    # -- lifecycle

    @property
    def in_flight(self) -> int:
        return self._slots.active

    @property
    def queued(self) -> int:
        """Fetches waiting for a concurrency slot."""
        return self._slots.waiting

    def close(self) -> None:
        """Cut in-flight fetches and release the pool; later fetches fail as cancelled."""
        self._closed.set()
        self._watchdog.shutdown()
        self._slots.wake()
        self._dns.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stopped(self) -> bool:
        return self._closed.is_set() or (self._stop is not None and self._stop.is_set())

    # -- fetching

    def fetch(
        self,
        url: str,
        cache: CacheState | None = None,
        *,
        accept: str = FEED_ACCEPT,
        allow_private: bool = True,
    ) -> FetchResult:
        """GET ``url`` under the policy. ``allow_private=False`` (article links of a feed that
        is itself public) refuses private addresses from the first URL on; with True the
        first URL may point anywhere but a redirect from public into private space is still
        refused. Never raises for network or HTTP problems."""
        started = time.monotonic()
        url = url.strip() if isinstance(url, str) else url
        progress = _Progress(url=url, final_url=url)
        try:
            problem = url_problem(url)
            if problem:
                raise FetchFailed(problem)
            host = connect_target(url).host
            if self._stopped() or not self._slots.acquire(host, self._stopped):
                raise FetchFailed(CANCELLED)
            try:
                result = self._fetch_in_slot(url, cache, accept, allow_private, progress)
            finally:
                self._slots.release(host)
        except FetchFailed as fail:
            result = progress.failure(str(fail))
        except Exception as exc:  # the contract is: never raise
            result = progress.failure(f"fetch failed ({type(exc).__name__})")
        result.elapsed = time.monotonic() - started
        return result

    def _fetch_in_slot(
        self,
        url: str,
        cache: CacheState | None,
        accept: str,
        allow_private: bool,
        progress: _Progress,
    ) -> FetchResult:
        timeout = self.policy.timeout
        token = _Token(time.monotonic() + timeout, f"timed out after {timeout:g} s")
        self._watchdog.add(token)
        _current.token = token
        try:
            return self._follow(url, cache, accept, allow_private, progress, token)
        finally:
            _current.token = None
            _current.pin = None
            self._watchdog.remove(token)

    def _check(self, token: _Token) -> None:
        if token.reason is None:
            if self._stopped():
                token.cancel(CANCELLED)
            elif time.monotonic() >= token.deadline:
                token.cancel(token.timeout_reason)
        if token.reason is not None:
            raise FetchFailed(token.reason)

    def _follow(
        self,
        url: str,
        cache: CacheState | None,
        accept: str,
        allow_private: bool,
        progress: _Progress,
        token: _Token,
    ) -> FetchResult:
        headers = self._request_headers(cache, accept)
        current = url
        # Every hop is resolved once and connected to the addresses judged here (_Pin).
        current_private = self._pin(current, token)
        if current_private and not allow_private:
            raise FetchFailed(f"refused: {redact_url(current)} is a private address")
        visited = {current}
        for hop in range(self.policy.max_redirects + 1):
            progress.final_url = current
            resp = self._send(current, headers, token)
            reusable = False
            try:
                progress.status = resp.status_code
                progress.headers = {k.lower(): v for k, v in resp.headers.items()}
                if resp.status_code not in _REDIRECTS:
                    result = self._finish(resp, cache, progress, token)
                    reusable = result.status == 304 or result.body is not None
                    return result
                target = self._redirect_target(current, resp)
            finally:
                if reusable:
                    _release(resp)  # body read to the end: the connection goes back to the pool
                else:
                    resp.close()  # a redirect's body is never read; a failed read is dropped
            if hop == self.policy.max_redirects:
                break
            if target in visited:
                raise FetchFailed(f"redirect loop at {redact_url(target)}")
            visited.add(target)
            target_private = self._pin(target, token)
            if target_private and not allow_private:
                raise FetchFailed(f"redirect to {redact_url(target)} refused: private address")
            if target_private and not current_private:
                raise FetchFailed(
                    f"redirect from a public to a private address refused ({redact_url(target)})"
                )
            current, current_private = target, target_private
        raise FetchFailed(f"too many redirects (more than {self.policy.max_redirects})")

    def _request_headers(self, cache: CacheState | None, accept: str) -> dict[str, str]:
        headers = {"Accept": _header_value(accept) or FEED_ACCEPT}
        if cache is not None:
            etag = _header_value(cache.etag)
            modified = _header_value(cache.last_modified)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        return headers

    def _pin(self, url: str, token: _Token) -> bool:
        """Resolve ``url``'s host (as the connecting parser reads it) once, pin the next
        connection to those addresses, and say whether any of them is private."""
        try:
            target = connect_target(url)
        except ValueError as exc:
            raise FetchFailed(f"{redact_url(url)} refused: {exc}") from None
        addrs = self._addresses(target.host, token)
        classify = self._classify or is_private_address
        _current.pin = _Pin(target.host, target.port, tuple(addrs))
        return any(classify(a) for a in addrs)

    def _addresses(self, host: str, token: _Token) -> list[str]:
        """Every address of ``host`` (an IP literal is its own), looked up on a worker so a
        hanging DNS server costs no more than the deadline."""
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        try:
            future = self._dns.submit(self._resolve, host)
        except RuntimeError:  # executor shut down by close()
            raise FetchFailed(CANCELLED) from None
        while True:
            self._check(token)
            try:
                addrs = future.result(timeout=max(0.001, min(token.remaining(), _POLL)))
                break
            except FutureTimeout:
                continue
            except Exception:
                raise FetchFailed(f"cannot resolve host {clean_line(host, 100)}") from None
        if not addrs:
            raise FetchFailed(f"cannot resolve host {clean_line(host, 100)}")
        return [str(a) for a in addrs]

    def prepare_request(self, url: str, headers: dict[str, str]) -> requests.PreparedRequest:
        """What ``Session.prepare_request`` builds for this session, built directly: the
        session's headers, then the request's; no cookies (the session's policy refuses
        them all) and no credentials but those in the URL (``trust_env`` is off). 34 us
        instead of 110 per request (tests/test_fetch_helpers.py compares the two)."""
        prepared = requests.PreparedRequest()
        prepared.prepare(method="GET", url=url, headers={**self._session.headers, **headers})
        return prepared

    def _send(self, url: str, headers: dict[str, str], token: _Token) -> requests.Response:
        self._check(token)
        t = max(0.001, token.remaining())
        try:
            prepared = self.prepare_request(url, headers)
            # The adapter, not Session.send: with allow_redirects=False the session still
            # reads a redirect's whole body to look ahead at the next hop.
            return self._adapter.send(prepared, stream=True, timeout=(t, t), verify=self._verify)
        except Exception as exc:
            self._check(token)  # the deadline or a stop explains it better
            raise FetchFailed(describe_exception(exc)) from None

    def _redirect_target(self, current: str, resp: requests.Response) -> str:
        raw = resp.headers.get("Location")
        if not raw:
            raise FetchFailed(f"{status_text(resp.status_code)} redirect without Location")
        try:
            parts = urlsplit(urljoin(current, _location(raw)))
            _ = parts.port
        except ValueError:
            raise FetchFailed("invalid redirect Location") from None
        target = urlunsplit(parts._replace(fragment=""))
        problem = url_problem(target)
        if problem:
            raise FetchFailed(f"redirect to {redact_url(target)} refused: {problem}")
        return target

    def _finish(
        self,
        resp: requests.Response,
        cache: CacheState | None,
        progress: _Progress,
        token: _Token,
    ) -> FetchResult:
        status = resp.status_code
        hdrs = progress.headers
        etag = _header_value(hdrs.get("etag"))
        modified = _header_value(hdrs.get("last-modified"))
        if status == 304:
            return FetchResult(
                url=progress.url,
                final_url=progress.final_url,
                status=status,
                body=None,
                headers=hdrs,
                etag=etag or (cache.etag if cache else None),
                last_modified=modified or (cache.last_modified if cache else None),
                not_modified=True,
            )
        if 200 <= status < 300:
            body = self._read_body(resp, token)
            return FetchResult(
                url=progress.url,
                final_url=progress.final_url,
                status=status,
                body=body,
                headers=hdrs,
                etag=etag,
                last_modified=modified,
                body_hash=hashlib.sha256(body).hexdigest(),
            )
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(hdrs.get("retry-after"))
        return progress.failure(status_text(status), retry_after=retry_after, gone=status == 410)

    def _read_body(self, resp: requests.Response, token: _Token) -> bytes:
        limit = self.policy.max_bytes
        too_big = f"body exceeds {human_size(limit)}"
        encoding = _content_encoding(resp.headers.get("Content-Encoding"))
        declared = _content_length(resp.headers.get("Content-Length"))
        if encoding is None and declared is not None and declared > limit:
            raise FetchFailed(too_big)
        decoder = BoundedDecoder(encoding)
        body = bytearray()
        while True:
            self._check(token)
            try:
                data = resp.raw.read1(_CHUNK, decode_content=False)
            except Exception as exc:
                self._check(token)
                raise FetchFailed(describe_exception(exc)) from None
            for piece in decoder.feed(data) if data else decoder.finish():
                body += piece
                if len(body) > limit:
                    raise FetchFailed(too_big)
            if not data:
                break
        self._check(token)  # a shut-down socket looks like EOF: make sure it was not one
        return bytes(body)
