"""Command line: ``pantau <command>``. A thin shell over the pipeline and the store.

Exit codes: 0 success, 1 runtime failure, 2 usage or config error (one-line reason on
stderr). ``--json`` prints one JSON array on stdout and nothing else there.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from daemon import __version__

# This module stays light to import: it is the console script's, and multiprocessing
# re-imports a script's main module in every parse worker it starts. The daemon's heavy
# modules (SQLAlchemy, pydantic, feedparser) are imported by the commands that use them.
if TYPE_CHECKING:
    from daemon.config import Config, LoadedConfig
    from daemon.storage.store import Store

log = logging.getLogger("pantau")


class UsageError(Exception):
    pass


def _since(value: str) -> timedelta:
    from daemon.config import parse_duration

    try:
        return timedelta(seconds=parse_duration(value))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pantau",
        description="News-feed monitoring daemon for Indonesian media.",
    )
    p.add_argument("--version", action="version", version=f"pantau {__version__}")
    p.add_argument(
        "--config",
        "-c",
        metavar="PATH",
        help="config file (default: $PANTAU_CONFIG, else ./config.yaml)",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    r = sub.add_parser("run", help="run the daemon (or one cycle with --once)")
    r.add_argument(
        "--once", action="store_true", help="poll every feed once, deliver what is due, exit"
    )
    sub.add_parser("check", help="validate the config and print a summary")
    d = sub.add_parser("db", help="database commands")
    dsub = d.add_subparsers(dest="db_command", metavar="SUBCOMMAND")
    dsub.required = True
    dsub.add_parser("upgrade", help="apply migrations")
    f = sub.add_parser("feeds", help="feed health")
    f.add_argument("--json", action="store_true")
    s = sub.add_parser("stories", help="stories with their outlet copies")
    s.add_argument("--since", type=_since, default=timedelta(hours=24), metavar="D")
    s.add_argument("--json", action="store_true")
    a = sub.add_parser("alerts", help="alerts with their delivery state")
    a.add_argument("--since", type=_since, default=timedelta(hours=24), metavar="D")
    a.add_argument("--topic", metavar="T")
    a.add_argument("--json", action="store_true")
    n = sub.add_parser("notify-test", help="send a test message through one notifier")
    n.add_argument("name")
    w = sub.add_parser("web", help="serve the dashboard read-only from the database (no polling)")
    w.add_argument("--listen", metavar="HOST:PORT", help="default: web.listen, else 127.0.0.1:8080")
    dm = sub.add_parser("demo", help="run one cycle over bundled sample feeds (offline, no config)")
    dm.add_argument(
        "--web", action="store_true", help="then serve the dashboard on loopback until Ctrl-C"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from daemon.config import ConfigError

    args = build_parser().parse_args(argv)
    if args.command == "run":
        from daemon.runtime import heap, workers

        heap.limit_arenas()  # before any thread starts: see daemon.runtime.heap
        workers.start_early()  # its imports run beside ours (config, SQLAlchemy)
    from daemon.logs import setup_logging

    setup_logging(args.log_level)
    if args.log_level != "debug":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        for line in exc.errors:
            print(f"pantau: config error: {line}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"pantau: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 1
    except BrokenPipeError:  # `pantau feeds | head`: the reader left; not an error to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # one line, never a traceback
        log.debug("command failed", exc_info=True)
        print(f"pantau: error: {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
        return 1


def entry() -> None:
    """The console script: ``main``, the exit handlers (multiprocessing's clean-up of its
    temporary directory among them), then leave without tearing down the interpreter:
    freeing every object of a process that imported SQLAlchemy, pydantic and feedparser
    and ingested a cycle costs a noticeable share of a short ``run --once``."""
    import atexit

    rc = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a reader that left (`pantau feeds | head`)
            pass
    logging.shutdown()
    os._exit(rc)


def _one_line(s: str) -> str:
    return " ".join(s.split())[:500]


def _load(args: argparse.Namespace) -> LoadedConfig:
    from daemon.config import load_config

    loaded = load_config(args.config)
    from daemon.logs import RedactingWriter, add_secret

    for secret in loaded.secrets:
        add_secret(secret)
    if not isinstance(sys.stdout, RedactingWriter):  # no command prints a secret
        sys.stdout = RedactingWriter(sys.stdout)  # type: ignore[assignment]
    return loaded


def _dispatch(args: argparse.Namespace) -> int:
    from daemon.storage.store import Store

    cmd = args.command
    if cmd == "demo":
        from daemon.demo import run_demo

        return run_demo(web=args.web)
    loaded = _load(args)
    if cmd == "check":
        return cmd_check(loaded)
    if cmd == "run":
        return cmd_run(loaded, once=args.once)
    if cmd == "db":
        store = Store.open(loaded.config.database)
        try:
            store.upgrade()
        finally:
            store.close()
        print("database is up to date", file=sys.stderr)
        return 0
    if cmd == "notify-test":
        return cmd_notify_test(loaded, args.name)
    if cmd == "web":
        return cmd_web(loaded, args.listen)
    store = Store.open(loaded.config.database)
    try:
        if not store.is_current():
            raise UsageError(
                "the database is not initialised or not migrated: run `pantau db upgrade`"
            )
        if cmd == "feeds":
            return cmd_feeds(store, args.json)
        if cmd == "stories":
            return cmd_stories(store, args.since, args.json)
        if cmd == "alerts":
            return cmd_alerts(store, args.since, args.topic, args.json)
    finally:
        store.close()
    raise UsageError(f"unknown command {cmd}")


def cmd_check(loaded: LoadedConfig) -> int:
    from daemon.config import format_duration

    cfg = loaded.config
    print(f"{loaded.path}: OK")
    print(f"database: {_redact_url(cfg.database)}")
    print(f"feeds: {len(cfg.feeds)}")
    for f in cfg.feeds:
        print(f"  {f.display_name:<24} every {format_duration(cfg.feed_interval(f)):<5} {f.url}")
    print(f"topics: {len(cfg.topics)}")
    for t in cfg.topics:
        to = ", ".join(t.notify) or "(stored only)"
        print(f"  {t.name:<24} -> {to:<24} {t.query}")
    print(f"notifiers: {len(cfg.notifiers)}")
    for name, n in cfg.notifiers.items():
        extra = ""
        if n.type == "email":
            extra = f"{n.host}:{n.port} {n.security} to {', '.join(n.to)}"
            if n.digest:
                extra += f", digest every {format_duration(n.digest)}"
        print(f"  {name:<24} {n.type:<8} {extra}")
    return 0


def _redact_url(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def cmd_run(loaded: LoadedConfig, *, once: bool) -> int:
    from daemon.runtime import gctune
    from daemon.runtime.service import AlreadyRunning, Daemon, run_once

    gctune.tune()
    try:
        if once:
            started = time.monotonic()
            outcomes, stats = run_once(loaded)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            ok = sum(1 for o in outcomes if o.ok)
            new = sum(o.stats.new for o in outcomes)
            alerts = sum(len(o.stats.alerts) for o in outcomes)
            from daemon.logs import log_event

            log_event(
                log, "info", "run.once", feeds=len(outcomes), ok=ok, failed=len(outcomes) - ok,
                new_items=new, alerts=alerts, sent=stats.sent, retrying=stats.retried,
                failed_deliveries=stats.failed, seconds=round(time.monotonic() - started, 2),
                cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2),
                max_rss_mb=round(usage.ru_maxrss / 1024),
            )  # fmt: skip
            return 0
        from daemon.runtime.sdnotify import SdNotifier

        rc = Daemon(loaded, notify=SdNotifier()).run()
        # Threads still stuck in a fetch or an SMTP conversation would hold the interpreter's
        # exit (it joins pool threads); their work is safe to drop (a claimed delivery is
        # retried after its lease), so leave now: SIGTERM must end pantau within 10 s.
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(rc)
    except AlreadyRunning as exc:
        print(f"pantau: {exc}", file=sys.stderr)
        return 1


def cmd_web(loaded: LoadedConfig, listen: str | None) -> int:
    """The dashboard alone, read-only: no migration, no polling (a PostgreSQL deployment's
    second host, or a copy of the database)."""
    from daemon.config import ConfigError, check_web, web_listen
    from daemon.storage.store import Store

    cfg = loaded.config
    if listen is not None:
        try:
            listen = web_listen(listen)
        except ValueError as exc:
            raise UsageError(f"--listen: {exc}") from None
    listen = listen or cfg.web.listen_or_default()
    errors = check_web(listen, cfg.web.auth)
    if errors:
        raise ConfigError(errors, loaded.path)
    store = Store.open(cfg.database)
    try:
        if not store.is_current():
            raise UsageError(
                "the database is not initialised or not migrated: run `pantau db upgrade`"
            )
    finally:
        store.close()
    return serve_web(listen, cfg.database, lambda: cfg, auth=cfg.web.auth)


def serve_web(
    listen: str, database: str, get_config: Callable[[], Config], *, auth: str | None
) -> int:
    """Serve until SIGTERM or Ctrl-C; prints the URL."""
    import signal
    import threading

    from daemon.web.server import WebServer

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        server = WebServer(listen, database, get_config, auth=auth).start()
    except OSError as exc:
        print(f"pantau: cannot listen on {listen}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"dashboard: {server.url}  (read-only; Ctrl-C stops)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def cmd_notify_test(loaded: LoadedConfig, name: str) -> int:
    from daemon.delivery import build_notifier

    cfg = loaded.config
    if name not in cfg.notifiers:
        known = ", ".join(cfg.notifiers) or "none"
        raise UsageError(f"no notifier named {name!r} (configured: {known})")
    notifier = build_notifier(name, cfg.notifiers[name], user_agent=cfg.polling.user_agent)
    res = notifier.send_test()
    if res.ok:
        print(f"{name}: sent: {res.detail}")
        return 0
    print(f"pantau: {name}: failed: {res.detail}", file=sys.stderr)
    return 1


def cmd_feeds(store: Store, as_json: bool) -> int:
    from daemon import views

    rows = store.feed_rows()
    if as_json:
        print(json.dumps([views.feed_json(f) for f in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no feeds yet: run `pantau run --once`")
        return 0
    print(views.FEEDS_HEADER)
    for f in rows:
        print(views.feed_line(f))
    return 0


def cmd_stories(store: Store, since: timedelta, as_json: bool) -> int:
    from daemon import views
    from daemon.config import format_duration
    from daemon.storage.sql import utcnow

    rows = store.stories_since(utcnow() - since)
    if as_json:
        print(json.dumps([views.story_json(s) for s in rows], ensure_ascii=False, indent=2))
        return 0
    for s in rows:
        print("\n".join(views.story_lines(s)))
    if not rows:
        print(f"no stories first seen in the last {format_duration(since.total_seconds())}")
    return 0


def cmd_alerts(store: Store, since: timedelta, topic: str | None, as_json: bool) -> int:
    from daemon import views
    from daemon.config import format_duration
    from daemon.storage.sql import utcnow

    rows = store.alerts_since(utcnow() - since, topic)
    if as_json:
        print(json.dumps([views.alert_json(a) for a in rows], ensure_ascii=False, indent=2))
        return 0
    for a in rows:
        print(views.alert_line(a))
    if not rows:
        print(f"no alerts in the last {format_duration(since.total_seconds())}")
    return 0
