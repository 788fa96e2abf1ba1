"""Logging: one event per line on stderr as ``key=value`` fields, secrets redacted.

Why one line per event: journald, ``grep`` and log shippers all split on newlines, and feed
titles are attacker-controlled text. A title holding ``\\n level=error event=fake`` must not
forge a second event, so every value is escaped (CR/LF become ``\\n``, other controls are
dropped) and exceptions are folded into one line too.

Why redaction at the formatter: the daemon handles webhook URLs (the URL *is* the secret),
SMTP passwords, bot tokens and database URLs, and any of them can end up in an exception
message from a library, or piecemeal: urllib3's debug log names only the request line
(``POST /services/T.../B.../XXXX``), a server may echo only the token. Every line passes
through :func:`redact`, which replaces registered secrets *and their distinctive parts*
(:func:`secret_parts`) and well-known secret shapes. The registry is general: config keys
that hold secrets are listed once (:data:`SECRET_FIELDS`, :func:`register_secret_field`), so
a new notifier's secret (a Telegram bot token, a webhook's signing secret) is masked by
naming its key; the CLI's stdout (:class:`RedactingWriter`), stored error texts (feeds'
and deliveries' ``last_error``) and config errors go through the same masks.

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
from urllib.parse import parse_qsl, quote, urlsplit

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
    # Slack incoming webhooks: the path is the credential (with or without the host, as in
    # urllib3's request line).
    (
        re.compile(r"(https?://hooks\.slack\.com/)[^\s\"'<>|]+", re.I),
        r"\1" + MASK,
    ),
    (re.compile(r"(/services/)T[A-Z0-9]{4,}/B[A-Z0-9]{4,}/[A-Za-z0-9]{8,}"), r"\1" + MASK),
    # Telegram Bot API tokens, in a URL path (/bot<token>/sendMessage) or alone.
    (re.compile(r"\b(bot)?\d{5,}:[A-Za-z0-9_-]{30,}"), r"\1" + MASK),
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


#: Config keys whose values are secrets, wherever they appear (notifiers, ``web.auth``).
SECRET_FIELDS: set[str] = {"webhook_url", "password", "bot_token", "secret", "auth", "token"}
_DISTINCT_MIN = 8  # a URL segment or query value this long, with a digit, is a secret's part


def register_secret_field(*names: str) -> None:
    """Declare config keys that hold secrets (a new notifier's ``bot_token``, ...): their
    values are then masked like ``${ENV}`` values (see ``daemon.config.parse_config``)."""
    SECRET_FIELDS.update(names)


# A query parameter of a feed's address that carries its credential: "?key=", "?token=",
# "?apikey=", "?access_token=", "?private_token=", "?auth=", "?sig=" (a signed URL).
_URL_SECRET_PARAM = re.compile(
    r"(?:^|[_.-])(?:key|apikey|token|secret|password|passwd|pass|pwd|auth|sig|signature)$", re.I
)


def url_secrets(url: str) -> list[str]:
    """The parts of a feed's address that are its credentials, however written in the config
    (literally, or through ``${ENV}``): the password of ``user:password@`` (a user name alone,
    ``token@host``, is the token), and the values of query parameters named like a key. A
    private feed's address is a secret only in those parts: the rest is shown."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return []
    # A password is one whatever it says (masking a short one may hide a word in output);
    # a lone user name or a parameter's value only when it is as long as a key: "alice@" and
    # "?auth=true" are not, and masking "true" would blank it out of every JSON line.
    out = [password] if password and len(password) >= MIN_SECRET_CHARS else []
    if not password and user and "@" in parts.netloc and len(user) >= _DISTINCT_MIN:
        out.append(user)
    query = parse_qsl(parts.query)
    out += [v for k, v in query if _URL_SECRET_PARAM.search(k) and len(v) >= _DISTINCT_MIN]
    return out


def shown_url(url: str) -> str:
    """``url`` as pages and lists show it: its credentials (:func:`url_secrets`), registered
    secrets and secret shapes masked."""
    return mask(url, url_secrets(url))


def secret_parts(value: str) -> set[str]:
    """The value and the parts of it that identify it on their own: its percent-encoded
    form; for a URL its path, its distinctive path segments and query values, and its
    password; for a ``id:token`` (Telegram) the token."""
    parts = {value, quote(value, safe="")}
    try:
        url = urlsplit(value) if "://" in value else None
    except ValueError:
        url = None
    if url is not None and url.netloc:
        if len(url.path) >= _DISTINCT_MIN:
            parts.add(url.path)
        pieces = [seg for seg in url.path.split("/") if seg]
        pieces += [v for _, v in parse_qsl(url.query, keep_blank_values=True)]
        if url.password:
            pieces.append(url.password)
        parts.update(p for p in pieces if len(p) >= _DISTINCT_MIN and any(c.isdigit() for c in p))
        if url.password and len(url.password) >= MIN_SECRET_CHARS:
            parts.add(url.password)
    elif ":" in value:
        tail = value.rsplit(":", 1)[1]
        if len(tail) >= 16:
            parts.add(tail)
    return {p for p in parts if len(p) >= MIN_SECRET_CHARS}


def add_secret(*values: str | None) -> None:
    """Register values (expanded ``${ENV}`` values, webhook URLs, passwords, tokens) to be
    masked in every line, with their distinctive parts (:func:`secret_parts`)."""
    global _secrets_re
    with _secrets_lock:
        for value in values:
            if value and len(value) >= MIN_SECRET_CHARS:
                _secrets.update(secret_parts(value))
        if _secrets:
            _secrets_re = _alternation(_secrets)


def _alternation(values: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted(set(values), key=len, reverse=True)  # longest first
    return re.compile("|".join(map(re.escape, ordered)))


def mask(text: str, values: Iterable[str | None]) -> str:
    """``text`` with the given secrets (and their parts) masked, and the well-known shapes:
    for texts made before the registry is filled, such as config errors."""
    parts: set[str] = set()
    for v in values:
        if v and len(v) >= MIN_SECRET_CHARS:
            parts.update(secret_parts(v))
    if parts:
        text = _alternation(parts).sub(MASK, text)
    return redact(text)


class RedactingWriter:
    """A text stream that masks registered secrets in everything written to it: the CLI's
    stdout, so no command prints a ``${...}`` value (a feed URL's key, a webhook path)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, s: str) -> int:
        # registered secrets only: the secret *shapes* would also rewrite feed text
        pattern = _secrets_re
        self._stream.write(pattern.sub(MASK, s) if pattern is not None else s)
        return len(s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


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
