"""daemon.feeds.fetch against a real loopback HTTP server: caching, decoding, limits, deadlines,
redirects, SSRF refusal, status handling and concurrency limits."""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler

import pytest

from daemon import USER_AGENT
from daemon.demo.loopback import LoopbackServer, send
from daemon.feeds.fetch import (
    CacheState,
    Fetcher,
    FetchPolicy,
    FetchResult,
    is_private_address,
)

FEED = (
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
    "<title>Kabar Nusantara</title><item><title>Banjir rendam 120 rumah di Bekasi – warga mengungsi</title>"
    "<link>https://kabar.example.id/berita/banjir-bekasi</link></item></channel></rss>"
).encode()

MB = 1024 * 1024


def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets hanging handlers finish once the test is over."""
    ev = threading.Event()
    yield ev
    ev.set()


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LoopbackServer]:
    # One server for the module: each LoopbackServer shutdown costs a 0.5 s poll interval.
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def server(shared_server: LoopbackServer, release: threading.Event) -> LoopbackServer:
    """The shared server with no routes and no hits: each test starts clean."""
    shared_server.reset()
    return shared_server


@pytest.fixture
def make_fetcher() -> Iterator[Callable[..., Fetcher]]:
    made: list[Fetcher] = []

    def make(policy: FetchPolicy | None = None, **kw: object) -> Fetcher:
        f = Fetcher(policy or FetchPolicy(timeout=5.0), **kw)  # type: ignore[arg-type]
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()


def headers_only(req: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    req.send_response(status)
    for k, v in headers.items():
        req.send_header(k, v)
    req.end_headers()
    req.wfile.flush()


def stream_zeros(req: BaseHTTPRequestHandler, total: int, release: threading.Event) -> None:
    chunk = bytes(64 * 1024)
    sent = 0
    while sent < total and not release.is_set():
        req.wfile.write(chunk)
        sent += len(chunk)


PUBLIC_IP = "127.0.0.2"  # a loopback address the policy is told is public: "the internet"


def public_net(addr: str) -> bool:
    """The policy classifier of these tests: 127.0.0.2 is public, the rest as in production."""
    return addr != PUBLIC_IP and is_private_address(addr)


@pytest.fixture(scope="module")
def public_server() -> Iterator[LoopbackServer]:
    with LoopbackServer(PUBLIC_IP) as srv:
        yield srv


# ---------------------------------------------------------------- caching


def test_etag_then_304_with_cache(server: LoopbackServer, make_fetcher) -> None:
    url = server.static("/feed.xml", FEED)
    f = make_fetcher()
    first = f.fetch(url)
    assert first.ok and first.status == 200 and first.body == FEED
    assert first.etag and first.last_modified
    assert first.body_hash == hashlib.sha256(FEED).hexdigest()

    second = f.fetch(url, CacheState(etag=first.etag, last_modified=first.last_modified))
    assert second.ok and second.not_modified and second.status == 304
    assert second.body is None and second.body_hash is None
    assert second.etag == first.etag
    assert server.hits[-1].headers.get("If-None-Match") == first.etag
    assert "If-None-Match" not in server.hits[0].headers


def test_last_modified_conditional(server: LoopbackServer, make_fetcher) -> None:
    url = server.static("/feed.xml", FEED, etag=False)
    f = make_fetcher()
    first = f.fetch(url)
    assert first.ok and first.etag is None and first.last_modified
    second = f.fetch(url, CacheState(last_modified=first.last_modified))
    assert second.not_modified and second.ok
    assert second.last_modified == first.last_modified
    assert server.hits[-1].headers.get("If-Modified-Since") == first.last_modified


def test_body_hash_stable_and_distinct(server: LoopbackServer, make_fetcher) -> None:
    a = server.static("/a.xml", FEED, etag=False, last_modified=False)
    b = server.static("/b.xml", FEED.replace(b"120", b"121"), etag=False, last_modified=False)
    f = make_fetcher()
    h1, h2, h3 = f.fetch(a).body_hash, f.fetch(a).body_hash, f.fetch(b).body_hash
    assert h1 == h2 == hashlib.sha256(FEED).hexdigest()
    assert h3 != h1


def test_hostile_cache_values_are_not_sent(server: LoopbackServer, make_fetcher) -> None:
    url = server.static("/feed.xml", FEED)
    r = make_fetcher().fetch(url, CacheState(etag='"x"\r\nX-Injected: 1', last_modified="é" * 2000))
    assert r.ok and r.body == FEED
    hit = server.hits[-1].headers
    assert "X-Injected" not in hit and "If-None-Match" not in hit
    assert "If-Modified-Since" not in hit


def test_request_headers_user_agent_and_encoding(server: LoopbackServer, make_fetcher) -> None:
    url = server.static("/feed.xml", FEED)
    make_fetcher().fetch(url)
    make_fetcher(FetchPolicy(user_agent="pantau-test/9 (+https://example.org)")).fetch(url)
    first, second = server.hits[0].headers, server.hits[1].headers
    assert first["User-Agent"] == USER_AGENT
    assert second["User-Agent"] == "pantau-test/9 (+https://example.org)"
    assert first["Accept-Encoding"] == "gzip, deflate"
    assert "application/rss+xml" in first["Accept"]


def test_cookies_are_not_kept(server: LoopbackServer, make_fetcher) -> None:
    url = server.static("/feed.xml", FEED, headers={"Set-Cookie": "sid=abc; Path=/"})
    f = make_fetcher()
    f.fetch(url)
    f.fetch(url)
    assert "Cookie" not in server.hits[-1].headers


# ---------------------------------------------------------------- decoding and size


def test_gzip_response_decoded(server: LoopbackServer, make_fetcher) -> None:
    url = server.static("/feed.xml", FEED, gzip_body=True)
    r = make_fetcher().fetch(url)
    assert r.ok and r.body == FEED
    assert r.body_hash == hashlib.sha256(FEED).hexdigest()


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_both_flavours(server: LoopbackServer, make_fetcher, wbits: int) -> None:
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    payload = c.compress(FEED) + c.flush()
    url = server.route("/d", lambda req: send(req, 200, payload, {"Content-Encoding": "deflate"}))
    r = make_fetcher().fetch(url)
    assert r.ok and r.body == FEED


def test_multi_member_gzip(server: LoopbackServer, make_fetcher) -> None:
    payload = gzip.compress(FEED[:50]) + gzip.compress(FEED[50:])
    url = server.route("/g", lambda req: send(req, 200, payload, {"Content-Encoding": "gzip"}))
    assert make_fetcher().fetch(url).body == FEED


def test_corrupt_gzip_is_an_error(server: LoopbackServer, make_fetcher) -> None:
    payload = b"\x1f\x8b\x08\x00" + b"not really gzip" * 10
    url = server.route("/g", lambda req: send(req, 200, payload, {"Content-Encoding": "gzip"}))
    r = make_fetcher().fetch(url)
    assert r.body is None and "gzip" in (r.error or "")


def test_unsupported_encoding_is_an_error(server: LoopbackServer, make_fetcher) -> None:
    url = server.route("/b", lambda req: send(req, 200, b"\x0b\x01", {"Content-Encoding": "br"}))
    r = make_fetcher().fetch(url)
    assert r.body is None and "Content-Encoding" in (r.error or "")


def test_chunked_transfer(server: LoopbackServer, make_fetcher) -> None:
    def handler(req: BaseHTTPRequestHandler) -> None:
        headers_only(req, 200, {"Transfer-Encoding": "chunked"})
        for i in range(0, len(FEED), 37):
            part = FEED[i : i + 37]
            req.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        req.wfile.write(b"0\r\n\r\n")

    r = make_fetcher().fetch(server.route("/c", handler))
    assert r.ok and r.body == FEED


def test_gzip_bomb_cut_at_max_bytes_with_bounded_memory(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    """1 GB of zeros compressed on the fly (about 1 MB on the wire); cut at 10 MB."""

    def bomb(req: BaseHTTPRequestHandler) -> None:
        headers_only(req, 200, {"Content-Encoding": "gzip", "Connection": "close"})
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(MB)
        for _ in range(1024):
            if release.is_set():
                return
            req.wfile.write(c.compress(zeros))
        req.wfile.write(c.flush())

    url = server.route("/bomb", bomb)
    f = make_fetcher(FetchPolicy(timeout=20.0))
    tracemalloc.start()
    try:
        r = f.fetch(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.error == "body exceeds 10 MB"
    assert r.body is None and r.body_hash is None and not r.ok
    assert peak < 48 * MB, f"peak {peak / MB:.0f} MB"


def test_oversize_declared_length_refused_without_reading(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    def huge(req: BaseHTTPRequestHandler) -> None:
        headers_only(req, 200, {"Content-Length": str(1024 * MB)})
        stream_zeros(req, 1024 * MB, release)

    r = make_fetcher(FetchPolicy(timeout=5.0, max_bytes=1000)).fetch(server.route("/h", huge))
    assert r.error == "body exceeds 1000 bytes" and r.body is None
    assert r.elapsed < 2.0


def test_oversize_streamed_body_cut(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    def endless(req: BaseHTTPRequestHandler) -> None:
        headers_only(req, 200, {"Connection": "close"})  # length unknown: read to close
        stream_zeros(req, 1024 * MB, release)

    f = make_fetcher(FetchPolicy(timeout=5.0, max_bytes=2 * MB))
    r = f.fetch(server.route("/e", endless))
    assert r.error == "body exceeds 2 MB" and r.body is None
    assert r.elapsed < 3.0


def test_body_at_exactly_max_bytes_is_fine(server: LoopbackServer, make_fetcher) -> None:
    body = b"x" * 4096
    url = server.static("/x", body, gzip_body=True)
    r = make_fetcher(FetchPolicy(timeout=5.0, max_bytes=4096)).fetch(url)
    assert r.ok and r.body == body


def test_truncated_body_is_an_error(server: LoopbackServer, make_fetcher) -> None:
    def short(req: BaseHTTPRequestHandler) -> None:
        headers_only(req, 200, {"Content-Length": "5000", "Connection": "close"})
        req.wfile.write(FEED[:100])
        req.close_connection = True

    r = make_fetcher().fetch(server.route("/t", short))
    assert r.body is None and r.error and "closed" in r.error


# ---------------------------------------------------------------- deadlines


def test_dribbling_body_cut_at_total_deadline(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    def dribble(req: BaseHTTPRequestHandler) -> None:
        headers_only(req, 200, {"Connection": "close"})
        for _ in range(300):
            if release.wait(0.2):
                return
            req.wfile.write(b"<")

    r = make_fetcher(FetchPolicy(timeout=1.5)).fetch(server.route("/slow", dribble))
    assert r.error == "timed out after 1.5 s"
    assert r.status == 200 and r.body is None
    assert 1.4 < r.elapsed < 2.5


def test_no_headers_ever_cut_at_deadline(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    url = server.route("/hang", lambda req: release.wait(30))
    r = make_fetcher(FetchPolicy(timeout=1.5)).fetch(url)
    assert r.error == "timed out after 1.5 s" and r.status is None
    assert 1.4 < r.elapsed < 2.5


def test_dribbling_headers_cut_at_deadline(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    """Each byte resets a per-socket timeout; only the total deadline ends this."""

    def slow_headers(req: BaseHTTPRequestHandler) -> None:
        req.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(300):
            if release.wait(0.1):
                return
            req.wfile.write(b"a")

    r = make_fetcher(FetchPolicy(timeout=1.5)).fetch(server.route("/sh", slow_headers))
    assert r.error == "timed out after 1.5 s"
    assert r.elapsed < 2.5


def test_hanging_resolver_costs_at_most_the_deadline(make_fetcher) -> None:
    gate = threading.Event()

    def resolve(host: str) -> list[str]:
        gate.wait(10)
        return ["93.184.216.34"]

    try:
        fetcher = make_fetcher(FetchPolicy(timeout=1.0), resolve=resolve)
        r = fetcher.fetch("http://feed.test/", allow_private=False)
    finally:
        gate.set()
    assert r.error == "timed out after 1 s" and r.elapsed < 2.0


def test_stop_event_cuts_hung_fetch(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    url = server.route("/hang", lambda req: release.wait(30))
    stop = threading.Event()
    f = make_fetcher(FetchPolicy(timeout=30.0, per_host=1), stop=stop)
    results: list[FetchResult] = []
    threads = [threading.Thread(target=lambda: results.append(f.fetch(url))) for _ in range(2)]
    for t in threads:
        t.start()
    wait_until(lambda: server.count("/hang") == 1 and f.queued == 1)
    t0 = time.monotonic()
    stop.set()
    for t in threads:
        t.join(5)
    assert time.monotonic() - t0 < 1.5
    assert len(results) == 2 and all(r.error and "cancelled" in r.error for r in results)
    assert server.count("/hang") == 1  # the queued one never started


def test_close_cuts_hung_fetch_and_later_fetches(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    url = server.route("/hang", lambda req: release.wait(30))
    f = make_fetcher(FetchPolicy(timeout=30.0))
    results: list[FetchResult] = []
    t = threading.Thread(target=lambda: results.append(f.fetch(url)))
    t.start()
    wait_until(lambda: server.count("/hang") == 1)
    t0 = time.monotonic()
    f.close()
    t.join(5)
    assert time.monotonic() - t0 < 1.5
    assert results and "cancelled" in (results[0].error or "")
    assert "cancelled" in (f.fetch(server.static("/ok", FEED)).error or "")


# ---------------------------------------------------------------- redirects


def redirect(server: LoopbackServer, path: str, location: str, status: int = 302) -> str:
    return server.route(path, lambda req: send(req, status, b"", {"Location": location}))


def test_redirect_chain_followed(server: LoopbackServer, make_fetcher) -> None:
    final = server.static("/feeds/final.xml", FEED)
    redirect(server, "/feeds/r3", final, 308)  # absolute
    redirect(server, "/feeds/r2", "r3", 307)  # relative to /feeds/
    start = redirect(server, "/r1", "/feeds/r2#frag", 301)  # absolute path
    r = make_fetcher().fetch(start)
    assert r.ok and r.body == FEED and r.status == 200
    assert r.url == start and r.final_url == final
    assert [h.path for h in server.hits] == ["/r1", "/feeds/r2", "/feeds/r3", "/feeds/final.xml"]


def test_redirect_loop(server: LoopbackServer, make_fetcher) -> None:
    redirect(server, "/b", "/a")
    start = redirect(server, "/a", "/b")
    r = make_fetcher().fetch(start)
    assert r.error and "redirect loop" in r.error and r.body is None
    assert server.count("/a") == 1 and server.count("/b") == 1


def test_too_many_redirects(server: LoopbackServer, make_fetcher) -> None:
    for i in range(10):
        redirect(server, f"/r{i}", f"/r{i + 1}")
    r = make_fetcher().fetch(server.url("/r0"))
    assert r.error == "too many redirects (more than 5)"
    assert len(server.hits) == 6  # the first URL and five hops


def test_redirect_body_is_never_read(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    final = server.static("/final.xml", FEED)

    def heavy(req: BaseHTTPRequestHandler) -> None:
        headers_only(req, 302, {"Location": final, "Content-Length": str(1024 * MB)})
        stream_zeros(req, 1024 * MB, release)

    r = make_fetcher(FetchPolicy(timeout=10.0)).fetch(server.route("/heavy", heavy))
    assert r.ok and r.body == FEED
    assert r.elapsed < 2.0


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)", "https:///x"]
)
def test_redirect_to_other_schemes_refused(
    server: LoopbackServer, make_fetcher, location: str
) -> None:
    r = make_fetcher().fetch(redirect(server, "/r", location))
    assert r.error and "refused" in r.error
    assert r.body is None and r.status == 302


def test_redirect_without_location(server: LoopbackServer, make_fetcher) -> None:
    url = server.route("/r", lambda req: send(req, 302, b"", {}))
    r = make_fetcher().fetch(url)
    assert r.error == "HTTP 302 Found redirect without Location"


# ---------------------------------------------------------------- SSRF


PRIVATE_TARGETS = [
    "http://localhost:{port}/secret",
    "http://10.0.0.1:{port}/secret",
    "http://192.168.1.1/secret",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:{port}/secret",
    "http://[::ffff:127.0.0.1]:{port}/secret",
    "http://[fe80::1]/secret",
    "http://0.0.0.0:{port}/secret",
    "http://224.0.0.1/secret",
]


@pytest.mark.parametrize("target", PRIVATE_TARGETS)
def test_public_to_private_redirect_refused(
    server: LoopbackServer, public_server: LoopbackServer, make_fetcher, target: str
) -> None:
    server.static("/secret", b"internal")
    start = redirect(public_server, "/go", target.format(port=server.port) + "?token=SECRET")
    f = make_fetcher(is_private=public_net)
    r = f.fetch(start)
    assert r.error and "refused" in r.error, r.error
    assert "SECRET" not in r.error
    assert r.body is None and server.count("/secret") == 0


def test_public_to_public_redirect_allowed(public_server: LoopbackServer, make_fetcher) -> None:
    final = public_server.static("/final.xml", FEED)
    start = redirect(public_server, "/go-public", final)
    r = make_fetcher(is_private=public_net).fetch(start)
    assert r.ok and r.body == FEED


def test_private_origin_may_redirect_within_private_space(
    server: LoopbackServer, make_fetcher
) -> None:
    final = server.static("/final.xml", FEED)
    start = redirect(server, "/go", final.replace("127.0.0.1", "localhost"))
    r = make_fetcher().fetch(start)  # the operator configured a loopback URL: allowed
    assert r.ok and r.body == FEED


def test_allow_private_false_refuses_first_url(
    server: LoopbackServer, public_server: LoopbackServer, make_fetcher
) -> None:
    url = server.static("/feed.xml", FEED)
    r = make_fetcher().fetch(url, allow_private=False)
    assert r.error and "refused" in r.error and server.count("/feed.xml") == 0
    public = public_server.static("/feed.xml", FEED)
    ok = make_fetcher(is_private=public_net).fetch(public, allow_private=False)
    assert ok.ok and ok.body == FEED


def test_unresolvable_redirect_target(server: LoopbackServer, make_fetcher) -> None:
    start = redirect(server, "/go", "http://no-such-host.invalid/feed")
    r = make_fetcher().fetch(start)
    assert r.error == "cannot resolve host no-such-host.invalid"


# ---------------------------------------------------------------- statuses and errors


@pytest.mark.parametrize(
    ("status", "text"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")]
)
def test_error_status(server: LoopbackServer, make_fetcher, status: int, text: str) -> None:
    url = server.route("/e", lambda req: send(req, status, b"<html>oops</html>", {}))
    r = make_fetcher().fetch(url + "?token=SECRET")
    assert r.error == text and r.status == status and r.body is None
    assert not r.ok and not r.gone and r.retry_after is None


def test_error_body_not_read(
    server: LoopbackServer, make_fetcher, release: threading.Event
) -> None:
    def huge_error(req: BaseHTTPRequestHandler) -> None:
        headers_only(req, 500, {"Content-Length": str(1024 * MB)})
        stream_zeros(req, 1024 * MB, release)

    r = make_fetcher(FetchPolicy(timeout=10.0)).fetch(server.route("/e", huge_error))
    assert r.error == "HTTP 500 Internal Server Error" and r.elapsed < 2.0


def test_server_reason_phrase_not_trusted(server: LoopbackServer, make_fetcher) -> None:
    def handler(req: BaseHTTPRequestHandler) -> None:
        req.wfile.write(b"HTTP/1.1 418 <script>x</script>\r\nContent-Length: 0\r\n\r\n")

    r = make_fetcher().fetch(server.route("/t", handler))
    assert r.error == "HTTP 418 I'm a Teapot" or r.error == "HTTP 418"
    assert "script" not in (r.error or "")


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds(server: LoopbackServer, make_fetcher, status: int) -> None:
    url = server.route("/r", lambda req: send(req, status, b"", {"Retry-After": "120"}))
    r = make_fetcher().fetch(url)
    assert r.error and r.error.startswith(f"HTTP {status}")
    assert r.retry_after == 120.0


def test_retry_after_http_date(server: LoopbackServer, make_fetcher) -> None:
    when = formatdate(time.time() + 300, usegmt=True)
    url = server.route("/r", lambda req: send(req, 503, b"", {"Retry-After": when}))
    r = make_fetcher().fetch(url)
    assert r.retry_after is not None and 290 <= r.retry_after <= 301


def test_retry_after_capped(server: LoopbackServer, make_fetcher) -> None:
    url = server.route("/r", lambda req: send(req, 429, b"", {"Retry-After": "999999999"}))
    assert make_fetcher().fetch(url).retry_after == 24 * 3600


def test_gone(server: LoopbackServer, make_fetcher) -> None:
    r = make_fetcher().fetch(server.route("/g", lambda req: send(req, 410, b"", {})))
    assert r.gone and r.error == "HTTP 410 Gone" and r.status == 410


def test_connection_refused_message_has_no_query(make_fetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    r = make_fetcher().fetch(f"http://127.0.0.1:{port}/feed?token=SECRET")
    assert r.error == "connection refused" and r.status is None
    assert r.url.endswith("token=SECRET")  # the caller's own URL is reported back as given


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "ftp://127.0.0.1/feed",
        "javascript:alert(1)",
        "",
        "http://",
        "http://exa mple.com/feed",
        "http://example.com:99999/",
        "http://example.com/\x00",
    ],
)
def test_non_http_urls_refused(make_fetcher, url: str) -> None:
    r = make_fetcher().fetch(url)
    assert r.error and r.body is None and r.status is None
    assert r.elapsed < 0.5


# ---------------------------------------------------------------- concurrency limits


class InFlight:
    """Counts requests a handler is holding, and the most held at once."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, req: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        self.gate.wait(10)
        with self.lock:  # before the response, so the next fetch cannot overlap this one
            self.now -= 1
        send(req, 200, FEED, {})


def run_parallel(f: Fetcher, urls: list[str]) -> tuple[list[threading.Thread], list[FetchResult]]:
    results: list[FetchResult] = []
    threads = [threading.Thread(target=lambda u=u: results.append(f.fetch(u))) for u in urls]
    for t in threads:
        t.start()
    return threads, results


@pytest.mark.parametrize(
    ("policy", "held"),
    [
        (FetchPolicy(timeout=15.0, concurrency=8, per_host=2), 2),
        (FetchPolicy(timeout=15.0, concurrency=3, per_host=10), 3),
    ],
    ids=["per_host", "global"],
)
def test_concurrency_limits(
    server: LoopbackServer, make_fetcher, policy: FetchPolicy, held: int
) -> None:
    gate = threading.Event()
    counter = InFlight(gate)
    url = server.route("/slow", counter)
    f = make_fetcher(policy)
    threads, results = run_parallel(f, [url] * 7)
    try:
        wait_until(lambda: counter.now == held and f.queued == 7 - held)
        assert f.in_flight == held
    finally:
        gate.set()
        for t in threads:
            t.join(10)
    assert counter.peak == held
    assert len(results) == 7 and all(r.ok for r in results)
    assert f.in_flight == 0 and f.queued == 0


def test_per_host_limit_is_per_host(server: LoopbackServer, make_fetcher) -> None:
    """Two host names for the same server get a slot each."""
    gate = threading.Event()
    counter = InFlight(gate)
    url = server.route("/slow", counter)
    f = make_fetcher(FetchPolicy(timeout=15.0, concurrency=8, per_host=1))
    threads, results = run_parallel(f, [url, url.replace("127.0.0.1", "localhost")])
    try:
        wait_until(lambda: counter.now == 2)
    finally:
        gate.set()
        for t in threads:
            t.join(10)
    assert all(r.ok for r in results)


def test_connections_are_reused_after_304_and_200(server: LoopbackServer, make_fetcher) -> None:
    """Regression (found by the benchmark): every 304 dropped its keep-alive connection."""
    url = server.static("/reuse.xml", b"<rss><channel><title>x</title></channel></rss>" * 20)
    f = make_fetcher(FetchPolicy(per_host=1))
    hits0, conns0 = len(server.hits), server.connections
    first = f.fetch(url)
    for _ in range(5):
        r = f.fetch(url, CacheState(first.etag, first.last_modified))
        assert r.not_modified
    f.fetch(url)
    assert len(server.hits) - hits0 == 7 and server.connections - conns0 == 1


# ---------------------------------------------------------------- issue 24: one parser, pinned


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}\\@93.184.216.34/secret",  # urllib3 ends the host at "\"
        "http://127.0.0.1:{port}\\\\@93.184.216.34/secret",
        "http://%31%32%37.0.0.1:{port}/secret",  # urllib3 decodes the escapes, urlsplit not
    ],
)
def test_urls_two_parsers_read_differently_are_refused(
    server: LoopbackServer, public_server: LoopbackServer, make_fetcher, location: str
) -> None:
    server.static("/secret", b"internal")
    hits_before = len(server.hits)
    start = redirect(public_server, "/go-ambiguous", location.format(port=server.port))
    r = make_fetcher(is_private=public_net).fetch(start)
    assert r.error and "refused" in r.error, r.error
    assert len(server.hits) == hits_before  # the loopback service was never reached
    direct = make_fetcher().fetch(location.format(port=server.port))
    assert direct.error and "ambiguous" in direct.error or "refused" in (direct.error or "")


def test_connection_goes_to_the_checked_address(
    public_server: LoopbackServer, make_fetcher
) -> None:
    """The name is resolved once, by the policy's resolver, and the TCP connection goes to
    that address; the Host header keeps the name."""
    url = public_server.static("/pinned.xml", FEED).replace(PUBLIC_IP, "kabar.test")
    asked: list[str] = []

    def resolve(host: str) -> list[str]:
        asked.append(host)
        return [PUBLIC_IP]

    r = make_fetcher(resolve=resolve, is_private=public_net).fetch(url, allow_private=False)
    assert r.ok and r.body == FEED, r.error
    assert asked == ["kabar.test"]
    assert public_server.hits[-1].headers["Host"] == f"kabar.test:{public_server.port}"


def test_dns_rebinding_between_check_and_connect_is_closed(
    public_server: LoopbackServer, server: LoopbackServer, make_fetcher
) -> None:
    """A name that answers public to the check and private to the connection (rebinding):
    only the checked answer is ever connected to."""
    server.route("/rebind.xml", lambda req: send(req, 200, b"internal", {}))
    public_server.static("/rebind.xml", FEED)
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])
    url = f"http://rebind.test:{public_server.port}/rebind.xml"
    f = make_fetcher(resolve=lambda h: next(answers, ["127.0.0.1"]), is_private=public_net)
    first = f.fetch(url, allow_private=False)
    assert first.ok and first.body == FEED
    second = f.fetch(url, allow_private=False)  # now it is private: refused, not reused
    assert second.error and "private" in second.error
    assert server.count("/rebind.xml") == 0


def test_a_host_with_any_private_record_is_private(
    public_server: LoopbackServer, server: LoopbackServer, make_fetcher
) -> None:
    public_server.static("/mixed.xml", FEED)
    url = f"http://mixed.test:{public_server.port}/mixed.xml"
    f = make_fetcher(resolve=lambda h: [PUBLIC_IP, "10.0.0.7"], is_private=public_net)
    r = f.fetch(url, allow_private=False)
    assert r.error and "private" in r.error and public_server.count("/mixed.xml") == 0
