"""A real HTTP server on 127.0.0.1: the one that ``pantau demo``, the tests and the
benchmarks serve their feeds, article pages and webhook stand-ins from.

Routes map a path to a handler; a handler gets the ``BaseHTTPRequestHandler`` and writes the
whole response itself, so a test can dribble bytes, hang, redirect or send a bomb.
``static`` covers the common case of a document with ETag / Last-Modified support;
``fallback`` answers every path without a route (a farm of generated feeds). Requests are
recorded in ``hits`` unless ``record=False`` (a long benchmark would keep them all).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # a poller opening many connections at once is not refused

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-answer (pantau refusing a bomb) is expected here


class LoopbackServer:
    """``port`` 0: a free one; a fixed port lets a stand-in go away and come back."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        fallback: Handler | None = None,
        record: bool = True,
        name: str = "loopback-http",
    ) -> None:
        self.routes: dict[str, Handler] = {}
        self.fallback = fallback
        self.hits: list[Hit] = []
        self.connections = 0  # TCP connections accepted (keep-alive reuse shows here)
        self._record = record
        self._lock = threading.Lock()
        outer = self

        class _Req(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out without a 40 ms stall
            server_version = "pantau-loopback"
            sys_version = ""

            def log_message(self, *a: object) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                with outer._lock:
                    outer.connections += 1

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                self.request_body = body
                if outer._record:
                    with outer._lock:
                        outer.hits.append(Hit(self.command, self.path, dict(self.headers), body))
                handler = (
                    outer.routes.get(self.path)
                    or outer.routes.get(self.path.split("?")[0])
                    or outer.fallback
                )
                try:
                    if handler is None:
                        send(self, 404, b"not found\n", {"Content-Type": "text/plain"})
                    else:
                        handler(self)
                except (BrokenPipeError, ConnectionResetError, TimeoutError):
                    pass

            do_GET = do_POST = do_HEAD = _handle

        self.httpd = _Server((host, port), _Req)
        self.port: int = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=name, daemon=True)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def static(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/rss+xml; charset=utf-8",
        *,
        etag: bool = True,
        last_modified: bool = True,
        gzip_body: bool = False,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve ``body`` with validators; honour If-None-Match / If-Modified-Since."""
        tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        lm = formatdate(1_700_000_000, usegmt=True)

        def handler(req: BaseHTTPRequestHandler) -> None:
            if etag and req.headers.get("If-None-Match") == tag:
                send(req, 304, b"", {"ETag": tag})
                return
            if last_modified and not etag and req.headers.get("If-Modified-Since") == lm:
                send(req, 304, b"", {})
                return
            h = {"Content-Type": content_type, **(headers or {})}
            if etag:
                h["ETag"] = tag
            if last_modified:
                h["Last-Modified"] = lm
            payload = body
            if gzip_body:
                payload = gzip.compress(body)
                h["Content-Encoding"] = "gzip"
            send(req, status, payload, h)

        return self.route(path, handler)

    def reset(self) -> None:
        """No routes and no hits: a server shared by several tests, clean for the next."""
        with self._lock:
            self.routes.clear()
            self.hits.clear()

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for h in self.hits if h.path == path)


def send(
    req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    """A whole response: status, headers, Content-Length, and the body unless HEAD."""
    req.send_response(status)
    for k, v in (headers or {}).items():
        req.send_header(k, v)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    if body and req.command != "HEAD":
        req.wfile.write(body)
