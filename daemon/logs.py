"""Logging: one event per line on stderr as ``key=value`` fields, secrets redacted.

Why one line per event: journald, ``grep`` and log shippers all split on newlines, and feed
titles are attacker-controlled text. A title holding ``\\n level=error event=fake`` must not
forge a second event, so every value is escaped (CR/LF become ``\\n``, other controls are
dropped) and exceptions are folded into one line too.

Why redaction at the formatter: the daemon handles webhook URLs (the URL *is* the secret),
SMTP passwords and database URLs, and any of them can end up in an exception message from a
library. Every line passes through :func:`redact`, which replaces registered secrets (the
expanded ``${ENV}`` values of the config) and well-known secret shapes.

Under journald (``JOURNAL_STREAM`` names our stderr) lines carry no timestamp (journald adds
its own) and start with a ``<N>`` syslog priority so ``journalctl -p warning`` works.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import IO, Any
from urllib.parse import quote

LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
# syslog priorities for journald's <N> prefix.
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}
_PRIORITY_CRITICAL = 2

MAX_VALUE_CHARS = 2000
MAX_TRACE_CHARS = 8000
MIN_SECRET_CHARS = 4  # shorter "secrets" would blank out ordinary words everywhere
MASK = "***"
_FIELDS_ATTR = "pantau_fields"
_RESERVED = frozenset({"ts", "level", "event"})

# --- redaction ----------------------------------------------------------------------------------

_secrets: set[str] = set()
_secrets_re: re.Pattern[str] | None = None
_secrets_lock = threading.Lock()

_SECRET_WORD = r"password|passwd|secret|token|api[_-]?key|apikey"
_SECRET_KEY = rf"[\w.-]*(?:{_SECRET_WORD})"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Slack incoming webhooks: the path is the credential.
    (
        re.compile(r"(https?://hooks\.slack\.com/)[^\s\"'<>|]+", re.I),
        r"\1" + MASK,
    ),
    # Authorization / Proxy-Authorization headers, also as dict reprs; keeps the scheme.
    (
        re.compile(
            r"\b((?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)"
            r"((?:bearer|basic|token|digest)\s+)?[^\s'\",;}]+",
            re.I,
        ),
        r"\1\2" + MASK,
    ),
    # password=..., "token": "...", api_key: ... (quoted values may hold spaces). No prefix
    # like [\w.-]* before the word: on "a.a.a.a…" that backtracks quadratically.
    (
        re.compile(
            rf"((?:{_SECRET_WORD})['\"]?\s*[:=]\s*)"
            r"(?:\"[^\"]*\"|'[^']*'|[^\s&,;}'\"]+)",
            re.I,
        ),
        r"\1" + MASK,
    ),
    # URL userinfo: scheme://user:pass@host keeps the user; scheme://token@host hides all.
    # Greedy up to the last "@" before the path: a password may itself contain "@".
    (re.compile(r"(://[^/\s:@'\"]+:)[^/\s'\"]+@"), r"\1" + MASK + "@"),
    (re.compile(r"(://)[^/\s:@'\"]+@"), r"\1" + MASK + "@"),
]
_SECRET_FIELD_RE = re.compile(
    rf"^(?:{_SECRET_KEY}|(?:proxy_)?authorization|webhook(?:_url)?)$", re.I
)


def add_secret(*values: str | None) -> None:
    """Register values (expanded ``${ENV}`` values, webhook URLs, passwords) to be masked in
    every line. Also masks their percent-encoded form, as they appear inside URLs."""
    global _secrets_re
    with _secrets_lock:
        for value in values:
            if value and len(value) >= MIN_SECRET_CHARS:
                _secrets.add(value)
                _secrets.add(quote(value, safe=""))
        if _secrets:
            ordered = sorted(_secrets, key=len, reverse=True)  # longest first
            _secrets_re = re.compile("|".join(map(re.escape, ordered)))


def clear_secrets() -> None:
    """Forget registered secrets (on reload, before registering the new config's)."""
    global _secrets_re
    with _secrets_lock:
        _secrets.clear()
        _secrets_re = None


def redact(s: str) -> str:
    """Mask registered secrets and secret-shaped substrings. For log lines and for any error
    text stored or shown elsewhere (e.g. a delivery's ``last_error``)."""
    pattern = _secrets_re
    if pattern is not None:
        s = pattern.sub(MASK, s)
    for rx, repl in _PATTERNS:
        s = rx.sub(repl, s)
    return s


# --- value rendering ------------------------------------------------------------------------

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE_RE = re.compile(r'[\\"\n\r\t]')
# C0/C1 controls, DEL, and Unicode line/paragraph separators (NEL is in C1): dropped.
_DROP_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_NEEDS_QUOTES_RE = re.compile(r'[\s"=\\]')
_KEY_BAD_RE = re.compile(r"[^A-Za-z0-9_.-]")


def _to_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else "nan"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
            return value.isoformat(timespec="seconds") + "Z"
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return str(value)


def _cap(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def format_value(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """Redacted, one-line, quoted when needed (spaces, quotes, ``=``, escapes, empty)."""
    # Cut before redacting too, so a megabyte of feed text costs no more than a long line.
    text = _cap(_DROP_RE.sub("", redact(_cap(_to_text(value), 4 * limit))), limit)
    if text and not _NEEDS_QUOTES_RE.search(text):
        return text
    return '"' + _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], text) + '"'


def format_key(key: str) -> str:
    key = _KEY_BAD_RE.sub("_", key)[:64] or "_"
    return key + "_" if key in _RESERVED else key


def format_exception(exc_info: Any) -> str:
    """A traceback as one line, frames joined by `` | ``; the tail (where the error is) kept
    when too long."""
    lines = traceback.format_exception(*exc_info)
    parts = [p.strip() for chunk in lines for p in chunk.splitlines() if p.strip()]
    text = " | ".join(parts)
    return text if len(text) <= MAX_TRACE_CHARS else "…" + text[-(MAX_TRACE_CHARS - 1) :]


# --- the formatter ------------------------------------------------------------------------


def level_name(levelno: int) -> str:
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


def syslog_priority(levelno: int) -> int:
    if levelno >= logging.CRITICAL:
        return _PRIORITY_CRITICAL
    for threshold in (logging.ERROR, logging.WARNING, logging.INFO):
        if levelno >= threshold:
            return _PRIORITY[threshold]
    return _PRIORITY[logging.DEBUG]


class KVFormatter(logging.Formatter):
    """``2026-11-27T11:22:33Z level=info event=poll.ok feed=Antara items=20 ms=312``.

    Records from :func:`log_event` carry their fields; any other record (libraries, plain
    ``logger.info(...)``) becomes ``event=log logger=NAME msg="..."``.
    """

    def __init__(self, journald: bool = False) -> None:
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        pairs: list[tuple[str, Any]] = []
        fields: Mapping[str, Any] | None = getattr(record, _FIELDS_ATTR, None)
        if fields is not None:
            pairs.append(("event", record.msg))
            pairs.extend((format_key(k), v) for k, v in fields.items())
        else:
            pairs += [("event", "log"), ("logger", record.name), ("msg", record.getMessage())]
        if record.exc_info and record.exc_info[0] is not None:
            pairs.append(("error", record.exc_info[1]))
            trace = format_exception(record.exc_info)
            pairs.append(("traceback", trace))
        if record.stack_info:
            pairs.append(("stack", " | ".join(record.stack_info.splitlines())))
        body = " ".join(
            f"{key}={format_value(value, MAX_TRACE_CHARS if key in ('traceback', 'stack') else MAX_VALUE_CHARS)}"
            for key, value in pairs
        )
        level = level_name(record.levelno)
        if self.journald:
            return f"<{syslog_priority(record.levelno)}>level={level} {body}"
        ts = datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{ts} level={level} {body}"


# --- entry points -----------------------------------------------------------------------------


def parse_level(level: str | int) -> int:
    """``info`` → logging.INFO; ValueError naming the choices for anything else."""
    if isinstance(level, int):
        return level
    try:
        return LEVELS[level.strip().lower()]
    except KeyError:
        choices = ", ".join(k for k in LEVELS if k != "warn")
        raise ValueError(f"unknown log level {level!r} (expected one of {choices})") from None


def log_event(
    logger: logging.Logger,
    level: str | int,
    event: str,
    /,
    exc_info: Any = None,
    **fields: Any,
) -> None:
    """Log one event with fields: ``log_event(log, "info", "poll.ok", feed=name, items=20)``.
    Fields named like secrets (``password``, ``token``, ``webhook_url``, ...) are masked."""
    levelno = parse_level(level)
    if not logger.isEnabledFor(levelno):
        return
    safe = {k: (MASK if _SECRET_FIELD_RE.match(k) else v) for k, v in fields.items()}
    logger.log(levelno, event, exc_info=exc_info, extra={_FIELDS_ATTR: safe}, stacklevel=2)


def journald_stream(stream: IO[str], env: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is the journald connection systemd gave us: JOURNAL_STREAM holds
    its ``device:inode``. Comparing (not just checking the variable) keeps plain lines when
    the output was redirected somewhere else by a wrapper."""
    value = (os.environ if env is None else env).get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


class _QuietOverruns(logging.Filter):
    """Drops APScheduler's warning that a job run was skipped because the previous run of
    the same job is still going. pantau's jobs are ticks (feeds every second, deliveries,
    full text): a tick that outlasts its interval, such as a feeds tick waiting for the
    database during a busy first cycle, simply makes the next one wait, which is the
    intended ``max_instances=1``. Seen once a second through a first cycle whose main
    process ran ~3× slower than usual (under tracemalloc; a slow disk or a small VM does
    the same), not in an ordinary 1,000-feed start on this machine (0 in 629 polls); where
    it happens, a WARNING tells operators something is wrong when nothing is."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


_QUIET_OVERRUNS = _QuietOverruns()


class _PantauHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler setup_logging owns, so calling it again replaces rather than adds."""


def setup_logging(
    level: str | int = "info",
    stream: IO[str] | None = None,
    journald: bool | None = None,
    secrets: Iterable[str] = (),
) -> logging.Handler:
    """Route all logging (libraries included) to ``stream`` (default stderr) in the one-line
    format. ``journald=None`` detects it from JOURNAL_STREAM. Safe to call again (reload)."""
    levelno = parse_level(level)
    stream = sys.stderr if stream is None else stream
    if journald is None:
        journald = journald_stream(stream)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _PantauHandler)]:
        root.removeHandler(old)
    handler = _PantauHandler(stream)
    handler.setFormatter(KVFormatter(journald=journald))
    root.addHandler(handler)
    root.setLevel(levelno)
    # APScheduler logs every job run at INFO: noise at the default level.
    logging.getLogger("apscheduler").setLevel(max(levelno, logging.WARNING))
    # (a filter already there is not added twice)
    logging.getLogger("apscheduler.scheduler").addFilter(_QUIET_OVERRUNS)
    logging.captureWarnings(True)
    add_secret(*secrets)
    return handler
