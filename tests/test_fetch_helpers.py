"""Pure decisions of daemon.feeds.fetch: Retry-After, address classification, URL checks, the
incremental decoder and error wording."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import ssl
import zlib
from email.utils import formatdate

import pytest
import requests

from daemon.feeds.fetch import (
    MAX_RETRY_AFTER,
    BoundedDecoder,
    FetchFailed,
    describe_exception,
    human_size,
    is_private_address,
    parse_retry_after,
    redact_url,
    status_text,
    url_problem,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("999999999999999", MAX_RETRY_AFTER),
        (formatdate(NOW + 300, usegmt=True), 300.0),
        (formatdate(NOW - 300, usegmt=True), 0.0),  # in the past: retry now
        (formatdate(NOW + 10 * 86400, usegmt=True), MAX_RETRY_AFTER),
        ("Wed, 15 Nov 2023 00:18:20 -0000", 0.0 + (1_700_007_500 - NOW)),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("\u0661\u0662\u0660", None),  # Arabic-Indic digits are not delta-seconds
        ("Mon, 99 Foo 2023 99:99:99 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.10",
        "169.254.169.254",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.251",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "[::1]",
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
        "not-an-ip",
        "",
    ],
)
def test_private_addresses(ip: str) -> None:
    assert is_private_address(ip) is True


@pytest.mark.parametrize(
    "ip",
    ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"],
)
def test_public_addresses(ip: str) -> None:
    assert is_private_address(ip) is False


def test_private_address_accepts_ipaddress_objects() -> None:
    assert is_private_address(ipaddress.ip_address("10.0.0.1"))
    assert not is_private_address(ipaddress.ip_address("8.8.4.4"))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "etc/passwd",
        "ftp://example.com/feed",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:text/xml,<rss/>",
        "",
        "   ",
        "http://",
        "http:///path",
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://example.com/a\nb",
        "http://example.com/" + "a" * 9000,
    ],
)
def test_url_problem_refuses(url: str) -> None:
    assert url_problem(url) is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/rss",
        "HTTPS://Example.COM:8443/feed?x=1",
        "http://[::1]:8080/",
        " http://a.id/ ",
    ],
)
def test_url_problem_accepts(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@example.com/feed?token=SECRET#x", "https://example.com/feed"),
        ("http://[::1]:8080/a?b", "http://[::1]:8080/a"),
        ("http://example.com:99999/", "<invalid URL>"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_human_size_and_status_text() -> None:
    assert human_size(10 * 1024 * 1024) == "10 MB"
    assert human_size(1536) == "1.5 KB"
    assert human_size(999) == "999 bytes"
    assert status_text(404) == "HTTP 404 Not Found"
    assert status_text(599) == "HTTP 599"


def _drain(decoder: BoundedDecoder, data: bytes, step: int) -> bytes:
    out = bytearray()
    for i in range(0, len(data), step):
        for piece in decoder.feed(data[i : i + step]):
            assert len(piece) <= 1024
            out += piece
    for piece in decoder.finish():
        out += piece
    return bytes(out)


@pytest.mark.parametrize("step", [1, 7, 4096])
def test_decoder_bounded_pieces_any_input_split(step: int) -> None:
    original = b"Harga emas Antam naik Rp 5.000 per gram. " * 2000
    assert _drain(BoundedDecoder("gzip", chunk=1024), gzip.compress(original), step) == original
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = raw.compress(original) + raw.flush()
    assert _drain(BoundedDecoder("deflate", chunk=1024), deflated, step) == original
    assert _drain(BoundedDecoder("deflate", chunk=1024), zlib.compress(original), step) == original


def test_decoder_bomb_yields_small_pieces_lazily() -> None:
    """A 64 MB zero bomb: taking the first pieces must not expand the rest."""
    bomb = gzip.compress(bytes(64 * 1024 * 1024))
    pieces = BoundedDecoder("gzip", chunk=1024).feed(bomb)
    first = [next(pieces) for _ in range(3)]
    assert [len(p) for p in first] == [1024, 1024, 1024]


def test_decoder_ignores_trailing_garbage_and_rejects_corruption() -> None:
    body = b"<rss/>"
    assert _drain(BoundedDecoder("gzip"), gzip.compress(body) + b"\x00garbage", 5) == body
    with pytest.raises(FetchFailed):
        _drain(BoundedDecoder("gzip"), b"\x1f\x8b\x08\x00" + b"\xff" * 64, 64)
    with pytest.raises(FetchFailed):
        _drain(BoundedDecoder("deflate"), b"\xff" * 64, 64)


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (
            requests.exceptions.ConnectionError(
                "HTTPConnectionPool(host='x', port=80): Max retries exceeded with url: /?token=S",
            ),
            "connection failed",
        ),
        (requests.exceptions.ReadTimeout("url: /?token=S"), "read timed out"),
        (requests.exceptions.ConnectTimeout("url: /?token=S"), "connect timed out"),
        (socket.gaierror(-2, "Name or service not known"), "cannot resolve host"),
        (ConnectionRefusedError(111, "refused"), "connection refused"),
        (ValueError("boom /?token=S"), "fetch failed (ValueError)"),
    ],
)
def test_describe_exception_never_echoes_the_url(exc: BaseException, text: str) -> None:
    assert describe_exception(exc) == text


def test_describe_exception_finds_nested_tls_cause() -> None:
    inner = ssl.SSLCertVerificationError(1, "certificate verify failed")
    inner.verify_message = "self-signed certificate"
    outer = requests.exceptions.SSLError("https://host/?token=S")
    outer.__context__ = inner
    assert describe_exception(outer) == "TLS certificate error: self-signed certificate"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.antaranews.com/rss/terkini.xml",
        "http://127.0.0.1:8080/feed?x=1&y=dua%20kata#frag",
        "https://user:rahasia@feeds.example.co.id/rss",
        "https://berita.例え.jp/rss",
        "http://[::1]:9000/rss/",
        "https://example.com/path with space/feed.xml",
    ],
)
def test_prepared_request_is_what_the_session_would_prepare(url: str) -> None:
    """Fetcher.prepare_request skips Session.prepare_request (a third of its cost); for the
    session it sends through (fetch.make_session: no cookies, no environment) it must build
    the very same request."""
    from requests.adapters import HTTPAdapter

    from daemon.feeds.fetch import Fetcher, FetchPolicy, make_session

    f = Fetcher(FetchPolicy(user_agent="pantau-test/1.0"))
    session = make_session("pantau-test/1.0", HTTPAdapter())
    try:
        for headers in (
            {"Accept": "application/rss+xml"},
            {"Accept": "*/*", "If-None-Match": '"v1"', "If-Modified-Since": "Sat, 28 Nov 2026"},
        ):
            ours = f.prepare_request(url, headers)
            theirs = session.prepare_request(requests.Request("GET", url, headers=headers))
            assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
            assert list(ours.headers.items()) == list(theirs.headers.items())
            assert ours.hooks == theirs.hooks
            assert ours.headers["User-Agent"] == "pantau-test/1.0"
    finally:
        f.close()
        session.close()
