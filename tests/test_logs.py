"""One-line key=value logs: escaping, journald mode, redaction, exceptions."""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as hst

from daemon import logs
from daemon.logs import add_secret, log_event, parse_level, redact, setup_logging
from tests.conftest import HOSTILE_GUARD_S

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def parse_kv(line: str) -> list[tuple[str, str]]:
    """An independent logfmt reader: key=bare or key="quoted with \\" \\\\ \\n escapes"."""
    pairs = []
    i = 0
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        eq = line.index("=", i)
        key = line[i:eq]
        i = eq + 1
        if i < len(line) and line[i] == '"':
            i += 1
            out = []
            while line[i] != '"':
                if line[i] == "\\":
                    i += 1
                    out.append({"n": "\n", "r": "\r", "t": "\t"}.get(line[i], line[i]))
                else:
                    out.append(line[i])
                i += 1
            i += 1
            pairs.append((key, "".join(out)))
        else:
            end = line.find(" ", i)
            end = len(line) if end < 0 else end
            pairs.append((key, line[i:end]))
            i = end
    return pairs


@pytest.fixture(autouse=True)
def _isolate() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    logs.clear_secrets()
    yield
    logs.clear_secrets()
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[1]:
        root.addHandler(h)
    root.setLevel(saved[0])
    logging.captureWarnings(False)


def capture(level: str = "debug", journald: bool = False, **kw: object) -> io.StringIO:
    buf = io.StringIO()
    setup_logging(level, stream=buf, journald=journald, **kw)  # type: ignore[arg-type]
    return buf


def lines_of(buf: io.StringIO) -> list[str]:
    text = buf.getvalue()
    assert text.endswith("\n")
    return text[:-1].split("\n")


def test_event_line_shape() -> None:
    buf = capture()
    log_event(logging.getLogger("t"), "info", "poll.ok", feed="Antara", items=20, ms=312)
    (line,) = lines_of(buf)
    ts, rest = line.split(" ", 1)
    assert TS_RE.match(ts)
    stamp = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - stamp) < timedelta(minutes=1)
    assert rest == "level=info event=poll.ok feed=Antara items=20 ms=312"


def test_values_quoted_when_needed() -> None:
    buf = capture()
    log_event(
        logging.getLogger("t"),
        "warning",
        "poll.error",
        feed="Republika Online",
        error='HTTP 503 "Service Unavailable"',
        query="a=b",
        empty="",
        path="C:\\x",
        none=None,
        flag=True,
        ratio=0.25,
    )
    (line,) = lines_of(buf)
    assert 'feed="Republika Online"' in line
    pairs = dict(parse_kv(line.split(" ", 1)[1]))
    assert pairs["error"] == 'HTTP 503 "Service Unavailable"'
    assert pairs["query"] == "a=b"
    assert pairs["empty"] == ""
    assert pairs["path"] == "C:\\x"
    assert pairs["none"] == "null"
    assert pairs["flag"] == "true"
    assert pairs["ratio"] == "0.25"
    assert pairs["level"] == "warning"


def test_log_injection_stays_on_one_line() -> None:
    buf = capture()
    title = "Gempa di Cianjur\n2026-01-01T00:00:00Z level=error event=fake\r\x1b[31mred\x00\u2028x"
    log_event(logging.getLogger("t"), "info", "item.new", title=title)
    (line,) = lines_of(buf)
    pairs = parse_kv(line.split(" ", 1)[1])
    assert [k for k, _ in pairs] == ["level", "event", "title"]
    value = dict(pairs)["title"]
    assert value.startswith("Gempa di Cianjur\n2026-01-01T00:00:00Z level=error event=fake\r")
    assert "\x1b" not in line and "\x00" not in line and "\u2028" not in line
    assert "\r" not in line


def test_hostile_keys_and_reserved_names() -> None:
    buf = capture()
    log_event(logging.getLogger("t"), "info", "x", **{"level": "fake", "a b=c\n": 1})
    (line,) = lines_of(buf)
    pairs = parse_kv(line.split(" ", 1)[1])
    assert pairs[0] == ("level", "info")
    assert ("level_", "fake") in pairs
    assert ("a_b_c_", "1") in pairs


def test_huge_value_is_capped() -> None:
    buf = capture()
    log_event(logging.getLogger("t"), "info", "x", body="é" * 1_000_000)
    (line,) = lines_of(buf)
    assert len(line) < logs.MAX_VALUE_CHARS + 200


def test_journald_mode_has_priority_and_no_timestamp() -> None:
    buf = capture(journald=True)
    log = logging.getLogger("t")
    expected = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2}
    for name in expected:
        log_event(log, name, "e")
    for line, (name, prio) in zip(lines_of(buf), expected.items(), strict=True):
        assert line == f"<{prio}>level={name} event=e"


def test_journald_detected_from_journal_stream(tmp_path: Path) -> None:
    path = tmp_path / "stream"
    with open(path, "w", encoding="utf-8") as f:
        st = os.fstat(f.fileno())
        assert logs.journald_stream(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not logs.journald_stream(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not logs.journald_stream(f, {"JOURNAL_STREAM": "garbage"})
        assert not logs.journald_stream(f, {})
    assert not logs.journald_stream(io.StringIO(), {"JOURNAL_STREAM": "1:2"})


def test_setup_logging_autodetects_journald(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stream"
    with open(path, "w", encoding="utf-8") as f:
        st = os.fstat(f.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        setup_logging("info", stream=f)
        logging.getLogger("t").warning("disk %s", "full")
    assert path.read_text(encoding="utf-8") == (
        '<4>level=warning event=log logger=t msg="disk full"\n'
    )


def test_level_filtering_and_parse() -> None:
    buf = capture("warning")
    log = logging.getLogger("t")
    log_event(log, "info", "hidden")
    log_event(log, "debug", "hidden")
    log_event(log, "error", "shown")
    assert [parse_kv(x.split(" ", 1)[1])[1][1] for x in lines_of(buf)] == ["shown"]
    assert parse_level("WARN") == logging.WARNING
    assert parse_level(" Debug ") == logging.DEBUG
    with pytest.raises(ValueError, match="verbose"):
        parse_level("verbose")


def test_setup_twice_does_not_duplicate_lines() -> None:
    capture()
    buf = capture()
    logging.getLogger("t").error("once")
    assert len(lines_of(buf)) == 1


def test_foreign_records_and_warnings_are_one_line() -> None:
    buf = capture()
    logging.getLogger("urllib3.connectionpool").info("Retrying (%r)\nnext", 3)
    warnings.warn("deprecated\nthing", DeprecationWarning, stacklevel=1)
    out = lines_of(buf)
    assert len(out) == 2
    first = dict(parse_kv(out[0].split(" ", 1)[1]))
    assert first == {
        "level": "info",
        "event": "log",
        "logger": "urllib3.connectionpool",
        "msg": "Retrying (3)\nnext",
    }
    assert "logger=py.warnings" in out[1]


def test_skipped_tick_is_not_a_warning_but_other_scheduler_warnings_are() -> None:
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES
    from apscheduler.schedulers.background import BackgroundScheduler

    buf = capture()
    release, skipped = threading.Event(), threading.Event()
    sched = BackgroundScheduler(timezone="UTC")
    sched.add_listener(lambda _e: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    sched.add_job(lambda: release.wait(30), "interval", seconds=0.05, max_instances=1)
    sched.start()
    try:
        assert skipped.wait(30), "the scheduler never skipped the overrunning tick"
    finally:
        release.set()
        sched.shutdown(wait=True)
    logging.getLogger("apscheduler.scheduler").warning("Run time of job %s was missed", "x")
    out = lines_of(buf)
    assert not [line for line in out if "maximum number of running instances" in line]
    assert [line for line in out if "was missed" in line and "level=warning" in line]


def test_exception_is_one_line() -> None:
    buf = capture()
    log = logging.getLogger("t")
    try:
        raise ValueError("bad feed\nlevel=critical event=forged")
    except ValueError:
        log_event(log, "error", "poll.crash", exc_info=True, feed="Antara")
    (line,) = lines_of(buf)
    pairs = dict(parse_kv(line.split(" ", 1)[1]))
    assert pairs["error"] == "ValueError: bad feed\nlevel=critical event=forged"
    assert pairs["traceback"].startswith("Traceback (most recent call last): | File ")
    assert "test_exception_is_one_line" in pairs["traceback"]
    assert pairs["traceback"].endswith("level=critical event=forged")


def test_logger_exception_from_library_style_call() -> None:
    buf = capture()
    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("lib").exception("lookup failed")
    (line,) = lines_of(buf)
    pairs = dict(parse_kv(line.split(" ", 1)[1]))
    assert pairs["msg"] == "lookup failed"
    assert pairs["error"] == "KeyError: 'missing'"
    assert "KeyError" in pairs["traceback"]


# --- redaction --------------------------------------------------------------------------------

SLACK = "https://hooks.slack.com/services/T0ABCDEF/B0GHIJKL/s3cr3tW3bh00kT0k3n"


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        (f"POST {SLACK} failed", "s3cr3tW3bh00kT0k3n"),
        (f"url='{SLACK}'", "B0GHIJKL"),
        ("login failed password=hunter2 for pantau", "hunter2"),
        ("smtp: {'password': 'two words', 'user': 'x'}", "two words"),
        ('{"api_key": "AKIA-XYZ-123"}', "AKIA-XYZ-123"),
        ("GET /feed?token=abc123&page=2", "abc123"),
        ("SMTP_PASSWORD=p4ss,", "p4ss"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"),
        ("{'Authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        ("postgresql+psycopg://pantau:db-p@ss@db.internal/pantau", "db-p@ss"),
        ("https://ghp_tokenonly@github.com/x", "ghp_tokenonly"),
    ],
)
def test_pattern_redaction(text: str, leak: str) -> None:
    out = redact(text)
    assert leak not in out
    assert logs.MASK in out


def test_redaction_keeps_harmless_text() -> None:
    for text in [
        "https://www.antaranews.com:443/rss/terkini.xml",
        "token_count=5 items=20",
        "Kemenkeu: anggaran naik",
        "mailto:redaksi@example.org",
    ]:
        assert redact(text) == text


def test_registered_secrets_are_masked_everywhere() -> None:
    buf = capture(secrets=["Zx9-kopi-TUBRUK"])
    add_secret("s p@ce/secret", None, "", "abc")  # None/empty/too short are ignored
    log = logging.getLogger("t")
    log_event(log, "error", "deliver.fail", detail="server said Zx9-kopi-TUBRUK is wrong")
    log.warning("connect smtp://u:%s@host", "s%20p%40ce%2Fsecret")
    log_event(log, "info", "x", note="abc stays")
    out = buf.getvalue()
    assert "Zx9-kopi-TUBRUK" not in out
    assert "s%20p%40ce%2Fsecret" not in out
    assert "abc stays" in out
    assert out.count(logs.MASK) >= 2


def test_secret_named_fields_are_masked() -> None:
    buf = capture()
    log_event(
        logging.getLogger("t"),
        "info",
        "notifier.config",
        webhook_url="https://example.org/hook/xyz",
        smtp_password="x",
        authorization="y",
        name="newsroom",
    )
    pairs = dict(parse_kv(lines_of(buf)[0].split(" ", 1)[1]))
    assert pairs["webhook_url"] == pairs["smtp_password"] == pairs["authorization"] == "***"
    assert pairs["name"] == "newsroom"


def test_secret_inside_exception_is_masked() -> None:
    buf = capture()
    try:
        raise ConnectionError(f"cannot POST {SLACK}")
    except ConnectionError:
        logging.getLogger("t").exception("delivery failed")
    assert "s3cr3tW3bh00kT0k3n" not in buf.getvalue()
    assert "hooks.slack.com/***" in buf.getvalue()


def test_secret_with_quotes_is_masked_before_escaping() -> None:
    buf = capture(secrets=['pa"ss\\word'])
    log_event(logging.getLogger("t"), "info", "x", detail='got pa"ss\\word back')
    assert "ss" not in buf.getvalue().split("detail=", 1)[1]


@pytest.mark.parametrize("unit", ["a.", "a-", "a:", "://a:", "Authorization: ", "password "])
def test_redaction_is_linear_on_hostile_text(unit: str) -> None:
    """A quadratic pattern takes minutes on 100 KB of this; a linear one milliseconds."""
    text = unit * (100_000 // len(unit))
    t0 = time.perf_counter()
    redact(text)
    assert time.perf_counter() - t0 < HOSTILE_GUARD_S


# ---------------------------------------------------------------- issue 24: secret parts


def test_a_registered_webhook_is_masked_in_urllib3s_request_line() -> None:
    buf = capture(secrets=["https://hooks.slack.com/services/T0PAN7AU1/B0XYZ9876/a1b2c3d4e5f6g7h8"])
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "hooks.slack.com", 443, "POST",
        "/services/T0PAN7AU1/B0XYZ9876/a1b2c3d4e5f6g7h8", "HTTP/1.1", 400, 12,
    )  # fmt: skip
    logging.getLogger("t").warning("server said: invalid token a1b2c3d4e5f6g7h8")
    text = buf.getvalue()
    assert "a1b2c3d4e5f6g7h8" not in text and "T0PAN7AU1" not in text, text
    assert '"POST ***' in text


def test_unregistered_webhook_and_bot_token_shapes_are_masked() -> None:
    buf = capture()
    log = logging.getLogger("t")
    log.debug('"POST /services/T0PAN7AU1/B0XYZ9876/a1b2c3d4e5f6g7h8 HTTP/1.1" 200')
    log.debug("GET /bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe")
    text = buf.getvalue()
    assert "a1b2c3d4e5f6g7h8" not in text and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in text


def test_secret_fields_are_a_registry() -> None:
    """A notifier added later declares its secret key once; its value is then masked in
    config errors and registered like a ${...} value."""
    from daemon.config import ConfigError, parse_config

    logs.register_secret_field("signing_key")
    assert "signing_key" in logs.SECRET_FIELDS and "bot_token" in logs.SECRET_FIELDS
    text = (
        "feeds: [{url: 'https://kabar.example/rss'}]\n"
        "notifiers: {h: {type: nosuch, signing_key: 'k3y-0f-the-hook-77'}}\n"
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text, env={})
    assert "k3y-0f-the-hook-77" not in str(err.value)
    assert logs.secret_parts("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") >= {
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    }


# -- a private feed's address (issue 24's probing: the dashboard showed it whole) ----------

_KEYISH = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://alice:s3cretpw@feeds.example.id/rss", "s3cretpw"),
        ("https://feeds.example.id/rss?key=k9x8c7v6b5n4", "k9x8c7v6b5n4"),
        ("https://feeds.example.id/rss?kategori=nasional&private_token=glpat9XyZ12", "glpat9XyZ12"),
        ("https://ab12cd34ef56@feeds.example.id/rss", "ab12cd34ef56"),  # a token as the user
        ("https://feeds.example.id/rss?api_key=ZZ99ZZ99ZZ&page=2", "ZZ99ZZ99ZZ"),
    ],
)
def test_a_feeds_credentials_are_masked_and_the_rest_is_shown(url: str, secret: str) -> None:
    assert logs.url_secrets(url) == [secret]
    shown = logs.shown_url(url)
    assert secret not in shown and "feeds.example.id/rss" in shown and "***" in shown


@pytest.mark.parametrize(
    "url",
    [
        "https://www.antaranews.com/rss/terkini.xml",
        "https://feeds.example.id/rss?kategori=nasional&page=2",
        "https://feeds.example.id/rss?monkey=1234567890",  # not a key's name
        "https://feeds.example.id/rss?auth=true",  # too short to be a key
    ],
)
def test_a_public_feeds_address_is_shown_whole(url: str) -> None:
    assert logs.url_secrets(url) == [] and logs.shown_url(url) == url


@given(
    secret=hst.text(_KEYISH, min_size=8, max_size=40),
    where=hst.sampled_from(["password", "user", "key", "token", "apikey", "access_token"]),
    path=hst.text(_KEYISH + "/-_.", max_size=30),
)
def test_a_credential_anywhere_in_a_feeds_address_is_never_shown(
    secret: str, where: str, path: str
) -> None:
    host = "feeds.example.id"
    url = {
        "password": f"https://reader:{secret}@{host}/{path}",
        "user": f"https://{secret}@{host}/{path}",
    }.get(where, f"https://{host}/{path}?lang=id&{where}={secret}")
    assert secret not in logs.shown_url(url)
