"""A real HTTP server on 127.0.0.1 for tests: routes map a path to a handler.

Handlers get the ``BaseHTTPRequestHandler`` and write the whole response themselves, so a
test can dribble bytes, hang, redirect or send a bomb. ``static`` covers the common case
of a document with ETag / Last-Modified support. Every request is recorded in ``hits``.
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


class LoopbackServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: list[Hit] = []
        self.connections = 0  # TCP connections accepted (keep-alive reuse shows here)
        self._lock = threading.Lock()
        outer = self

        class _Req(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out without a 40 ms stall

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
                with outer._lock:
                    outer.hits.append(Hit(self.command, self.path, dict(self.headers), body))
                handler = outer.routes.get(self.path) or outer.routes.get(self.path.split("?")[0])
                try:
                    if handler is None:
                        send(self, 404, b"not found", {"Content-Type": "text/plain"})
                    else:
                        handler(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = _handle

        self.httpd = _Server((host, 0), _Req)
        self.port = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

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

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for h in self.hits if h.path == path)


def send(
    req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    req.send_response(status)
    for k, v in (headers or {}).items():
        req.send_header(k, v)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    if body and req.command != "HEAD":
        req.wfile.write(body)
