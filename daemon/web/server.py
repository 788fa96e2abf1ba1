"""The dashboard's HTTP server: waitress on its own threads, beside the daemon or alone.

waitress is a production WSGI server in pure Python: one I/O thread buffers requests and
responses (a browser on a slow link holds a socket, not a worker), and a small pool of
worker threads renders pages. In ``pantau run`` those threads are the dashboard's own; the
pages read through their own connection pool (``daemon.web.queries.Reader``), so a slow or
busy browser never holds a poll thread or the store's write connection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from daemon.config import Config
from daemon.runtime.metrics import parse_listen
from daemon.web.app import create_app
from daemon.web.queries import Reader

log = logging.getLogger("pantau.web")

THREADS = 4  # page-rendering threads
CHANNEL_TIMEOUT = 30  # seconds an idle or stalled connection is kept


class WebServer:
    """``start()`` binds and serves from background threads; ``stop()`` ends them."""

    def __init__(
        self,
        listen: str,
        database: str,
        get_config: Callable[[], Config],
        *,
        auth: str | None = None,
        threads: int = THREADS,
    ) -> None:
        from waitress import create_server

        self.host, port = parse_listen(listen)
        self.reader = Reader.open(database, threads=threads)
        self.app = create_app(self.reader, get_config, auth=auth)
        try:
            self._server = create_server(
                self.app,
                host=self.host,
                port=port,
                threads=threads,
                channel_timeout=CHANNEL_TIMEOUT,
                ident="pantau",
                clear_untrusted_proxy_headers=True,
                expose_tracebacks=False,
            )
        except BaseException:  # the port is taken: no pool left behind
            self.reader.close()
            raise
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
        return f"http://{host}:{self.port}/"

    def start(self) -> WebServer:
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="web-http", daemon=True)
        self._thread.start()
        self.app.config["pantau.warm"]()  # topic charts' counts, in the background
        return self

    def _serve(self) -> None:
        try:
            self._server.run()  # type: ignore[union-attr]
        except (OSError, ValueError):
            # ``stop`` closes the sockets from another thread; a loop then inside select()
            # on them fails with EBADF (or a negative fd). That is the loop ending, not an
            # error: without this, `pantau run` with `web.listen` printed a thread's
            # traceback on stop about once in ten.
            if not self._stopping:
                raise

    def stop(self) -> None:
        from waitress import wasyncore

        self._stopping = True
        self.app.config["pantau.counts"].stop()
        self._server.task_dispatcher.shutdown(timeout=2)
        wasyncore.close_all(self._server._map)  # type: ignore[union-attr]
        if self._thread is not None:
            self._thread.join(3)
            self._thread = None
        self.reader.close()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
