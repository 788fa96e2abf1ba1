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
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NoReturn

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


# --since when not given (kept as a timedelta: parsing "24h" would import the config module,
# which `pantau run` wants to import only after its forkserver has started).
DEFAULT_SINCE = timedelta(hours=24)


class SinceDate(timedelta):
    """``--since 2026-12-01``: the time back to that moment, named as the user wrote it."""

    label: str


def _since(value: str) -> timedelta:
    from daemon.config import parse_duration

    if value.strip().startswith("-"):
        raise argparse.ArgumentTypeError(
            f"{value!r} is negative: --since counts back from now, e.g. --since 2h or 3d"
        )
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        since = _since_date(value)
        if since is None:
            raise argparse.ArgumentTypeError(
                f"{exc}, or a date such as 2026-12-01 (midnight WIB) or 2026-12-01T08:00+07:00"
            ) from None
        return since
    # longer than anything stored means "everything" (and must not overflow a date)
    return timedelta(seconds=min(seconds, SINCE_MAX.total_seconds()))


def _since_date(value: str) -> SinceDate | None:
    """An analyst asks for "everything since 1 December": an ISO 8601 date or date and time,
    read in WIB when it names no zone (the desks' time, as the dashboard shows it)."""
    v = value.strip()
    if not v[:4].isdigit():
        return None
    try:
        at = datetime.fromisoformat(v)
    except ValueError:
        return None
    zoned = at.tzinfo is not None
    if not zoned:
        at = at.replace(tzinfo=timezone(timedelta(hours=7)))
    try:
        back = datetime.now(timezone.utc) - at
    except OverflowError:  # a year-1 date with an offset: before anything stored
        back = SINCE_MAX
    if back < timedelta(0):
        raise argparse.ArgumentTypeError(
            f"{value!r} is in the future: --since counts back from now"
        )
    since = SinceDate(seconds=min(back, SINCE_MAX).total_seconds())
    since.label = f"since {v}" if zoned else f"since {v} WIB"
    return since


def _window(since: timedelta) -> str:
    """How a listing names its window when it found nothing: "in the last 2h", "since …"."""
    from daemon.config import format_duration

    if isinstance(since, SinceDate):
        return since.label
    return f"in the last {format_duration(since.total_seconds())}"


SINCE_MAX = timedelta(days=100 * 365)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line on stderr (exit 2), as README.md promises."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"pantau: {message} (see `{self.prog} --help`)\n")


def _global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    """--config and --log-level, accepted before and after the command (`pantau check
    --config x`). On the commands they default to "not given", so they never undo a value
    given before the command."""
    kw: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument(
        "--config",
        "-c",
        metavar="PATH",
        help="config file (default: $PANTAU_CONFIG, else ./config.yaml)",
        **kw,
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="how much to log on stderr (default: info)",
        **({"default": "info"} if top else kw),
    )


def _join_values(argv: Sequence[str]) -> list[str]:
    """``--since -1h`` as ``--since=-1h``, so that the value reaches ``_since`` and is refused
    with a reason (argparse takes "-1h" for an unknown option and says "expected one
    argument"). ``--since --json`` stays a missing value."""
    out: list[str] = []
    it = iter(argv)
    for a in it:
        if a == "--since":
            nxt = next(it, None)
            if (
                nxt is not None
                and nxt.startswith("-")
                and not nxt.startswith("--")
                and len(nxt) > 1
            ):
                out.append(f"{a}={nxt}")
                continue
            out.append(a)
            if nxt is not None:
                out.append(nxt)
            continue
        out.append(a)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="pantau",
        description="News-feed monitoring daemon for Indonesian media.",
    )
    p.add_argument("--version", action="version", version=f"pantau {__version__}")
    _global_options(p, top=True)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def command(name: str, help: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help, description=help)
        _global_options(c, top=False)
        return c

    since_help = (
        "only the last D, a duration such as 2h or 3d (default: 24h), or since a date such as "
        "2026-12-01 (midnight WIB) or 2026-12-01T08:00+07:00"
    )
    json_help = "print one JSON array on stdout instead of a table"
    r = command("run", "run the daemon (or one cycle with --once)")
    r.add_argument(
        "--once", action="store_true", help="poll every feed once, deliver what is due, exit"
    )
    command("check", "validate the config and print a summary")
    d = command("db", "database commands")
    dsub = d.add_subparsers(dest="db_command", metavar="SUBCOMMAND")
    dsub.required = True
    _global_options(dsub.add_parser("upgrade", help="apply migrations"), top=False)
    f = command("feeds", "feed health")
    f.add_argument("--json", action="store_true", help=json_help)
    s = command("stories", "stories with their outlet copies, by when pantau first saw them")
    s.add_argument("--since", type=_since, default=DEFAULT_SINCE, metavar="D", help=since_help)
    s.add_argument("--json", action="store_true", help=json_help)
    e = command("events", "events: the stories of one happening and every outlet that covered it")
    e.add_argument("--since", type=_since, default=DEFAULT_SINCE, metavar="D", help=since_help)
    e.add_argument("--json", action="store_true", help=json_help)
    a = command("alerts", "alerts with their delivery state, by when they were raised")
    a.add_argument("--since", type=_since, default=DEFAULT_SINCE, metavar="D", help=since_help)
    a.add_argument(
        "--topic", metavar="T", help="only the alerts of topic T (its name in the config)"
    )
    a.add_argument("--json", action="store_true", help=json_help)
    q = command(
        "search",
        "run a topic query over stored items, newest first (try a query before "
        "adding it as a topic)",
    )
    q.add_argument("query", help="a query in the topic language, e.g. '\"harga emas\" OR Antam'")
    q.add_argument(
        "--since",
        type=_since,
        default=DEFAULT_SINCE,
        metavar="D",
        help="only items first seen in the last D, such as 2h or 3d (default: 24h)",
    )
    q.add_argument(
        "--limit", type=int, default=100, metavar="N", help="at most N items (default: 100)"
    )
    q.add_argument("--json", action="store_true", help=json_help)
    n = command("notify-test", "send a test message through one notifier")
    n.add_argument("name", help="the notifier's name under `notifiers:` in the config")
    o = command("opml", "feeds as OPML 2.0, or an OPML file as a feeds: block")
    osub = o.add_subparsers(dest="opml_command", metavar="SUBCOMMAND")
    osub.required = True
    _global_options(
        osub.add_parser("export", help="print the configured feeds as OPML 2.0"), top=False
    )
    oi = osub.add_parser("import", help="print an OPML file's feeds as a feeds: YAML block")
    _global_options(oi, top=False)
    oi.add_argument("file", metavar="FILE", help="the OPML file (- for stdin)")
    w = command("web", "serve the dashboard read-only from the database (no polling)")
    w.add_argument("--listen", metavar="HOST:PORT", help="default: web.listen, else 127.0.0.1:8080")
    dm = command("demo", "run one cycle over bundled sample feeds (offline, no config)")
    dm.add_argument(
        "--web", action="store_true", help="then serve the dashboard on loopback until Ctrl-C"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_join_values(sys.argv[1:] if argv is None else argv))
    if args.command == "run":
        # First of all: a Ctrl-C or SIGTERM from now on stops the run cleanly, whatever it
        # is doing (importing, migrating, polling); see daemon.runtime.service.Daemon.
        args.stop = _stop_on_signals()
        from daemon.runtime import heap, workers

        heap.limit_arenas()  # before any thread starts: see daemon.runtime.heap
        if not args.once:
            workers.start_early()  # its imports run beside ours (config, SQLAlchemy)
    from daemon.config import ConfigError
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
        print(f"pantau: error: {describe_error(exc)}", file=sys.stderr)
        return 1


def describe_error(exc: BaseException) -> str:
    """One line for a person: what is wrong and, where we know it, what to do. No
    exception class names (run with --log-level debug for the traceback)."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    if orig is not None:
        return _one_line(
            f"the database refused: {orig or type(orig).__name__} "
            "(check `database:` in the config, and that the database server is up)"
        )
    if isinstance(exc, PermissionError):
        return f"not allowed: {exc.filename or ''}: check the permissions of that path".strip()
    if isinstance(exc, FileNotFoundError):
        return f"no such file or directory: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return _one_line(f"{exc.strerror.lower()}{where}")
    text = _one_line(str(exc))
    return text or f"unexpected failure ({type(exc).__name__}); run with --log-level debug"


def entry() -> None:
    """The console script: ``main``, the exit handlers (multiprocessing's clean-up of its
    temporary directory among them), then leave without tearing down the interpreter:
    freeing every object of a process that imported SQLAlchemy, pydantic and feedparser
    and ingested a cycle costs a noticeable share of a short ``run --once``."""
    _leave(main())


def _leave(rc: int, budget: float = 2.0) -> NoReturn:
    """Run the exit handlers (within ``budget`` seconds), flush, and end the process.

    The handlers matter: multiprocessing's release the parse pool's semaphores (skipped,
    its resource tracker warns of "leaked semaphore objects") and remove its temporary
    directory. The budget bounds them; threads still stuck in a fetch or an SMTP
    conversation are not waited for (their work is safe to drop: a claimed delivery is
    retried after its lease), so SIGTERM ends pantau within 10 s."""
    import atexit

    t = threading.Thread(target=atexit._run_exitfuncs, name="exit", daemon=True)
    t.start()
    t.join(budget)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a reader that left (`pantau feeds | head`)
            pass
    logging.shutdown()
    os._exit(rc)


def _stop_on_signals() -> threading.Event:
    """SIGINT (Ctrl-C) and SIGTERM set the returned event instead of raising or killing."""
    from daemon.runtime.signals import on_signal

    stop = threading.Event()
    on_signal(signal.SIGINT, stop)
    on_signal(signal.SIGTERM, stop)
    return stop


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
    if cmd == "opml" and args.opml_command == "import":
        return cmd_opml_import(args)
    loaded = _load(args)
    if cmd == "opml":
        return cmd_opml_export(loaded)
    if cmd == "notify-test":
        return cmd_notify_test(loaded, args.name)
    _require_usable(loaded, cmd)
    if cmd == "check":
        return cmd_check(loaded)
    if cmd == "run":
        return cmd_run(loaded, once=args.once, stop=args.stop)
    if cmd == "db":
        return cmd_db_upgrade(loaded)
    _require_database_file(loaded.config.database)
    if cmd == "web":
        return cmd_web(loaded, args.listen)
    store = Store.open(loaded.config.database)
    try:
        if not store.is_current():
            raise UsageError(
                "the database is not initialised or not migrated: run `pantau db upgrade`"
            )
        if cmd == "feeds":
            return cmd_feeds(store, args.json, loaded.config.database)
        if cmd == "stories":
            return cmd_stories(store, args.since, args.json)
        if cmd == "events":
            return cmd_events(store, args.since, args.json)
        if cmd == "alerts":
            return cmd_alerts(store, args.since, args.topic, args.json, loaded)
        if cmd == "search":
            return cmd_search(loaded.config.database, args.query, args.since, args.limit, args.json)
    finally:
        store.close()
    raise UsageError(f"unknown command {cmd}")


def _require_usable(loaded: LoadedConfig, cmd: str) -> None:
    """What `check` promises and `run` needs beyond a valid file: a database pantau can
    open (see daemon.storage.db.database_problem) and, to run, at least one feed."""
    from daemon.config import ConfigError
    from daemon.storage.db import database_problem

    errors = []
    problem = database_problem(loaded.config.database, strict=cmd != "run")
    if problem:
        errors.append(f"database: {problem}")
    if cmd in ("check", "run") and not loaded.config.feeds:
        errors.append("feeds: none configured: add at least one feed (see config.yaml)")
    if errors:
        raise ConfigError(errors, loaded.path)


def _require_database_file(url: str) -> None:
    """Reading commands never create a database (SQLite would make an empty file)."""
    from pathlib import Path

    from daemon.storage.db import sqlite_path

    path = sqlite_path(url)
    if path and not Path(path).expanduser().exists():
        raise UsageError(
            f"no database at {path} yet: `pantau run --once` (or `pantau db upgrade`) creates it"
        )


def cmd_db_upgrade(loaded: LoadedConfig) -> int:
    from pathlib import Path

    from daemon.storage import db
    from daemon.storage.store import Store

    url = loaded.config.database
    path = db.sqlite_path(url)
    new_file = path is not None and not Path(path).expanduser().exists()
    store = Store.open(url)
    try:
        before = db.current_revision(store.engine)
        store.upgrade()
    finally:
        store.close()
    where = path or _redact_url(url)
    if new_file:
        print(f"created a new database at {where}", file=sys.stderr)
    elif before is None:
        print(f"created pantau's tables in {where}", file=sys.stderr)
    elif before != db.HEAD:
        print(f"migrated {where} from revision {before} to {db.HEAD}", file=sys.stderr)
    else:
        print(f"{where} is up to date", file=sys.stderr)
    return 0


def cmd_check(loaded: LoadedConfig) -> int:
    from daemon.config import format_duration

    cfg = loaded.config
    print(f"{loaded.path}: OK")
    print(f"database: {_redact_url(cfg.database)}")
    print(f"feeds: {len(cfg.feeds)}")
    names = cfg.feed_names()
    for f in cfg.feeds:
        print(f"  {names[f.url]:<24} every {format_duration(cfg.feed_interval(f)):<5} {f.url}")
    print(f"topics: {len(cfg.topics)}")
    for t in cfg.topics:
        to = ", ".join(t.notify) or "(stored only)"
        print(f"  {t.name:<24} -> {to:<24} {t.query}")
    print(f"notifiers: {len(cfg.notifiers)}")
    for name, n in cfg.notifiers.items():
        extra = ""
        if n.type == "email":
            extra = f"{n.host}:{n.port} {n.security} to {', '.join(n.to)}"
        elif n.type == "telegram":
            extra = f"chat {n.chat_id} via {_host(n.api_url)}"
        elif n.type == "webhook":  # the host only: a path or query may hold a token
            extra = f"POST to {_host(n.url)}" + (", signed" if n.secret else "")
        if getattr(n, "digest", None):
            extra += f", digest every {format_duration(n.digest)}"
        print(f"  {name:<24} {n.type:<8} {extra}")
    return 0


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or "?"


def _redact_url(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def _new_sqlite_file(url: str) -> bool:
    """A SQLite database whose file does not exist yet (or is empty), read from the URL's
    text (SQLAlchemy is not imported yet: see ``cmd_run``)."""
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.startswith("sqlite"):
        return False
    path = os.path.expanduser(rest.split("?", 1)[0])
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return True


def cmd_run(loaded: LoadedConfig, *, once: bool, stop: threading.Event | None = None) -> int:
    from daemon.runtime import gctune, workers

    if once and _new_sqlite_file(loaded.config.database):
        # A one-shot run starts the parse workers' server early only for a first cycle,
        # whose every feed brings a document to parse. Any other run starts it when a
        # document needs it (``ParsePool.warm``, or the first parse): a cycle of 304s
        # never does (~0.2 s of CPU and ~25 MB less; bench/README.md, issue 29).
        workers.start_early()
    from daemon.runtime.service import AlreadyRunning, Daemon, run_once

    gctune.tune()
    try:
        if once:
            started = time.monotonic()
            outcomes, stats = run_once(loaded, stop)
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
            if stop is not None and stop.is_set():
                print("pantau: interrupted: the cycle did not finish", file=sys.stderr)
                return 1
            if outcomes and ok == 0:
                print(
                    f"pantau: every feed failed ({len(outcomes)} of {len(outcomes)}): "
                    "see `pantau feeds` for each one's error",
                    file=sys.stderr,
                )
                return 1
            return 0
        from daemon.runtime.sdnotify import SdNotifier

        rc = Daemon(loaded, notify=SdNotifier(), stop=stop).run()
        # Leave now, not through the interpreter's teardown: it would join pool threads
        # still stuck in a fetch or an SMTP conversation (see _leave).
        _leave(rc)
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

    from daemon.runtime.signals import on_signal
    from daemon.web.server import WebServer

    stop = threading.Event()
    on_signal(signal.SIGTERM, stop)
    on_signal(signal.SIGINT, stop)
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


def cmd_opml_export(loaded: LoadedConfig) -> int:
    from daemon import opml
    from daemon.logs import url_secrets

    urls = _urls_as_written(loaded)
    for i, (f, u) in enumerate(zip(loaded.config.feeds, urls)):
        if f.url != u:
            print(f"pantau: feeds[{i}].url: exported as written (${{...}} not expanded)",
                  file=sys.stderr)  # fmt: skip
        elif url_secrets(u):  # written in the address itself: masked on stdout, say so
            print(f"pantau: feeds[{i}].url: its credentials are exported as ***",
                  file=sys.stderr)  # fmt: skip
    sys.stdout.write(opml.export(loaded.config, urls))
    return 0


def _urls_as_written(loaded: LoadedConfig) -> list[str]:
    """Feed URLs, those holding an expanded ``${ENV}`` value as written in the file: a
    secret in a feed URL is not exported."""
    urls = [f.url for f in loaded.config.feeds]
    if not any(secret in u for u in urls for secret in loaded.secrets):
        return urls
    import yaml

    with open(loaded.path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    for i, r in enumerate(raw.get("feeds") or []):
        if any(secret in urls[i] for secret in loaded.secrets) and isinstance(r, dict):
            urls[i] = str(r.get("url", "")).strip()
    return urls


def cmd_opml_import(args: argparse.Namespace) -> int:
    """Print FILE's feeds as a ``feeds:`` block; feeds already configured (when a config is
    found) are reported with the other skipped outlines on stderr."""
    from daemon import opml
    from daemon.config import resolve_path

    known: dict[str, str] = {}
    names: list[str] = []
    if args.config or os.environ.get("PANTAU_CONFIG") or os.path.exists(resolve_path(None)):
        loaded = _load(args)
        names = [f.name for f in loaded.config.feeds if f.name]
        for urls in ([f.url for f in loaded.config.feeds], _urls_as_written(loaded)):
            known.update({opml.url_key(u): f"feeds[{i}]" for i, u in enumerate(urls)})
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read(opml.MAX_BYTES + 1)
        else:
            with open(args.file, "rb") as fh:
                data = fh.read(opml.MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or type(exc).__name__}") from None
    try:
        result = opml.read(data, known, names)
    except opml.OpmlError as exc:
        print(f"pantau: {args.file}: {exc}", file=sys.stderr)
        return 1
    for line in result.problems:
        print(f"pantau: {args.file}: {line}", file=sys.stderr)
    if not result.feeds:
        if not result.already:
            print(f"pantau: {args.file}: no feeds found", file=sys.stderr)
            return 1
        print(f"pantau: {args.file}: every feed is already configured", file=sys.stderr)
        return 0
    sys.stdout.write(opml.to_yaml(result.feeds))
    print(f"pantau: {len(result.feeds)} feeds; paste the block into the config", file=sys.stderr)
    return 0


def cmd_feeds(store: Store, as_json: bool, url: str | None = None) -> int:
    from daemon import views
    from daemon.feeds.dates import parse_date
    from daemon.storage import db
    from daemon.storage.sql import utcnow

    rows = store.feed_rows()
    # a date that parses was only in the future; one that does not is unreadable
    undated = {i for i, raw in store.undated_feeds().items() if parse_date(raw) is None}
    if as_json:
        out = [views.feed_json(f, dates_unreadable=f.id in undated) for f in rows]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no feeds yet: run `pantau run --once`")
        return 0
    polling = db.in_use(url) if url else None
    if polling is False:
        print(views.NOT_POLLING)
    print(views.FEEDS_HEADER)
    now = utcnow()
    for f in rows:
        print(views.feed_line(f, polling=polling, now=now, dates_unreadable=f.id in undated))
    return 0


def _require_topic(store: Store, topic: str, loaded: LoadedConfig | None) -> None:
    """`--topic` names a topic of the config or of stored alerts, exactly (names are case
    sensitive, as in the config); otherwise say so and suggest the close ones."""
    import difflib

    import sqlalchemy as sa

    from daemon.storage.schema import alerts

    known = {t.name for t in loaded.config.topics} if loaded is not None else set()
    with store.engine.connect() as conn:
        known |= {r[0] for r in conn.execute(sa.select(alerts.c.topic).distinct())}
    if topic in known:
        return
    folded = {k.casefold(): k for k in known}
    close = [folded[topic.casefold()]] if topic.casefold() in folded else []
    close += [
        k
        for k in difflib.get_close_matches(topic, sorted(known), n=3, cutoff=0.6)
        if k not in close
    ]
    hint = (
        f"did you mean {' or '.join(repr(c) for c in close)}?"
        if close
        else f"topics: {', '.join(sorted(known)) or 'none configured'}"
    )
    raise UsageError(f"no topic is named {topic!r}: {hint}")


def _listing(
    rows: Sequence[Any],
    as_json: bool,
    to_json: Callable[[Any], Any],
    to_text: Callable[[Any], str],
    noun: str,
    since: timedelta,
) -> int:
    """``stories`` and ``events``: a JSON array, or the rows as text (a line when none)."""

    if as_json:
        print(json.dumps([to_json(r) for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        print(to_text(r))
    if not rows:
        print(f"no {noun} first seen {_window(since)}")
    return 0


def cmd_stories(store: Store, since: timedelta, as_json: bool) -> int:
    from daemon import views
    from daemon.storage.sql import utcnow

    rows = store.stories_since(utcnow() - since)
    return _listing(
        rows, as_json, views.story_json, lambda s: "\n".join(views.story_lines(s)), "stories", since
    )


def cmd_search(url: str, query: str, since: timedelta, limit: int, as_json: bool) -> int:
    """The dashboard's search (daemon/web/queries.py, the topics' parser and matcher) over
    the items first seen in ``since``, with no time budget."""
    from daemon import views
    from daemon.storage.sql import utcnow
    from daemon.topics.match import Matcher, TopicErrors, TopicSpec
    from daemon.web.queries import Reader

    if limit < 1:
        raise UsageError(f"--limit must be at least 1, not {limit}")
    try:
        matcher = Matcher.compile([TopicSpec("search", query)])
    except TopicErrors as exc:
        err = exc.errors[0][1]
        raise UsageError(f"query: at position {err.position}: {err.message}") from None
    reader = Reader.open(url, threads=1)
    try:
        page = reader.search(matcher, want=limit, budget=None, since=utcnow() - since)
    finally:
        reader.close()
    # the most recently stored items, newest news first (one poll stores a feed at once)
    found = sorted(
        page.hits, key=lambda h: (h.item.first_seen_at, h.item.published_at), reverse=True
    )
    rows = [views.search_hit_json(h, matcher) for h in found]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for h, row in zip(found, rows):
        print(views.search_hit_line(h.item, row["matched"]))
    if not rows:
        print(f"no items first seen {_window(since)} match")
    elif page.older is not None:
        print(f"(first {limit} shown; --limit N for more)")
    return 0


def cmd_events(store: Store, since: timedelta, as_json: bool) -> int:
    from daemon import views
    from daemon.storage.sql import utcnow

    rows = store.events_since(utcnow() - since)
    return _listing(rows, as_json, views.event_json, views.event_line, "events", since)


def cmd_alerts(
    store: Store,
    since: timedelta,
    topic: str | None,
    as_json: bool,
    loaded: LoadedConfig | None = None,
) -> int:
    from daemon import views
    from daemon.storage.sql import utcnow

    if topic is not None:
        _require_topic(store, topic, loaded)
    rows = store.alerts_since(utcnow() - since, topic)
    if as_json:
        print(json.dumps([views.alert_json(a) for a in rows], ensure_ascii=False, indent=2))
        return 0
    for a in rows:
        print(views.alert_line(a))
    if not rows:
        print(f"no alerts {_window(since)}")
    return 0
