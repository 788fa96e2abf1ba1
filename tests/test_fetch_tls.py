"""daemon.feeds.fetch over real TLS on loopback: certificate errors are readable, a private CA
works, and a server that never answers the handshake costs no more than the deadline."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.demo.loopback import LoopbackServer
from daemon.feeds.fetch import Fetcher, FetchPolicy

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Warta</title></channel></rss>'


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-keyout", str(key), "-out", str(crt), "-days", "2"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return key, crt


@pytest.fixture(scope="module")
def https_server(cert: tuple[Path, Path]) -> Iterator[LoopbackServer]:
    key, crt = cert
    srv = LoopbackServer()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv.httpd.socket = ctx.wrap_socket(srv.httpd.socket, server_side=True)
    srv.base = srv.base.replace("http://", "https://")
    with srv:
        srv.static("/feed.xml", FEED, gzip_body=True)
        yield srv


def test_self_signed_certificate_is_a_readable_error(https_server: LoopbackServer) -> None:
    with Fetcher(FetchPolicy(timeout=5.0)) as f:
        r = f.fetch(https_server.url("/feed.xml?token=SECRET"))
    assert r.error and r.error.startswith("TLS certificate error")
    assert "SECRET" not in r.error and r.body is None and r.status is None


def test_private_ca_bundle_accepted(https_server: LoopbackServer, cert: tuple[Path, Path]) -> None:
    with Fetcher(FetchPolicy(timeout=5.0), ca_bundle=str(cert[1])) as f:
        first = f.fetch(https_server.url("/feed.xml"))
        second = f.fetch(https_server.url("/feed.xml"))  # over the pooled connection
    assert first.ok and first.body == FEED
    assert second.ok and second.body_hash == first.body_hash


def test_silent_tls_server_cut_at_deadline() -> None:
    """TCP accepts (kernel backlog) but nothing ever answers the ClientHello."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        with Fetcher(FetchPolicy(timeout=1.0)) as f:
            r = f.fetch(f"https://127.0.0.1:{port}/feed.xml")
    assert r.error == "timed out after 1 s"
    assert r.elapsed < 2.0


def test_stop_cuts_hung_tls_fetch(https_server: LoopbackServer, cert: tuple[Path, Path]) -> None:
    release = threading.Event()
    https_server.route("/hang", lambda req: release.wait(30))
    stop = threading.Event()
    results = []
    with Fetcher(FetchPolicy(timeout=30.0), stop=stop, ca_bundle=str(cert[1])) as f:
        t = threading.Thread(target=lambda: results.append(f.fetch(https_server.url("/hang"))))
        t.start()
        try:
            give_up = time.monotonic() + 5
            while https_server.count("/hang") == 0 and time.monotonic() < give_up:
                time.sleep(0.01)
            t0 = time.monotonic()
            stop.set()
            t.join(3)
        finally:
            release.set()
    assert not t.is_alive() and time.monotonic() - t0 < 1.5
    assert results and "cancelled" in (results[0].error or "")
