"""The first five minutes, as a user types them: `pantau check` means "run can use this",
exit codes a cron job can act on, every config fault in one run, one-line usage errors and
messages that say what is wrong without speaking Python. Every test runs `python -m daemon`
in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from daemon.demo.loopback import LoopbackServer
from tests.feedgen import entries, rss

ROOT = Path(__file__).resolve().parent.parent
# An exception class name where a person should read a reason.
PYTHON_SPEAK = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback|codec")


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def pantau(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    p = subprocess.run(
        [sys.executable, "-m", "daemon", *args],
        cwd=cwd or ROOT, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return Result(p.returncode, p.stdout, p.stderr)


@pytest.fixture
def outlets() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


FEED = "feeds:\n  - {url: 'https://outlet.example/rss', name: Contoh}\n"


# -- check: exit 0 only for a config that `run` can use ------------------------------------


def test_check_accepts_a_usable_config(tmp_path: Path) -> None:
    cfg = write(tmp_path, f"database: sqlite:///{tmp_path / 'p.db'}\n{FEED}")
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 0, r.err
    assert "OK" in r.out and r.err == ""


@pytest.mark.parametrize(
    "database, reason",
    [
        ("'not a url'", "not a database URL"),
        ("mysql://x/y", "driver"),
        ("'sqlite:///{tmp}'", "is a directory"),
        ("sqlite:///{tmp}/no/such/dir/p.db", "does not exist"),
        ("'nosuchdb://x/y'", "no database type"),
    ],
)
def test_check_refuses_a_database_run_cannot_use(
    tmp_path: Path, database: str, reason: str
) -> None:
    cfg = write(tmp_path, f"database: {database.format(tmp=tmp_path)}\n{FEED}")
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2, (r.out, r.err)
    assert len(r.err_lines) == 1 and r.err.startswith("pantau: config error: database: ")
    assert reason in r.err
    assert not PYTHON_SPEAK.search(r.err), r.err


def test_one_rule_for_a_missing_directory(tmp_path: Path) -> None:
    """No command creates the database's directory (a mistyped path would start an empty
    database elsewhere); each says which directory is missing."""
    missing = tmp_path / "no" / "such"
    cfg = write(tmp_path, f"database: sqlite:///{missing}/p.db\n{FEED}")
    for cmd in (["check"], ["db", "upgrade"], ["run", "--once"], ["feeds"]):
        r = pantau("--config", str(cfg), *cmd)
        assert r.rc == 2, (cmd, r.err)
        assert f"the directory {missing} does not exist" in r.err, (cmd, r.err)
        assert not PYTHON_SPEAK.search(r.err), r.err
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("{db}topics:\n  - {{name: A, query: a}}\n", "feeds: none configured"),
        ("{db}" + FEED.replace("{", "{{").replace("}", "}}") + "feeds: []\n", "written twice"),
        ("{db}polling:\n  interval: 5m\n  interval: 10m\n", "'interval' is written twice"),
    ],
)
def test_check_refuses_empty_feedless_and_duplicate_key_configs(
    tmp_path: Path, text: str, reason: str
) -> None:
    cfg = write(tmp_path, text.format(db=f"database: sqlite:///{tmp_path / 'p.db'}\n"))
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2, (r.out, r.err)
    assert reason in r.err and "OK" not in r.out


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://berita.example.id:99999/rss", "invalid URL"),  # no such port
        ("https://berita.example.id/rss terkini.xml", "control character or space"),
        ("http://127.0.0.1\\@berita.example.id/rss", "ambiguous URL"),  # two parsers, two hosts
    ],
)
def test_check_refuses_a_feed_address_no_poll_could_fetch(
    tmp_path: Path, url: str, reason: str
) -> None:
    """Each of these passed `check` and then failed every poll: the fetcher refuses them.
    `check` now asks the fetcher's own question (``fetch.url_problem``), once."""
    cfg = write(
        tmp_path, f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n  - {{url: '{url}'}}\n"
    )
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2, (r.out, r.err)
    (line,) = r.err_lines
    assert line.startswith("pantau: config error: feeds[0].url: ") and reason in line, line
    assert "OK" not in r.out and not PYTHON_SPEAK.search(r.err)


LONG = "Kabar " + "x" * 150


@pytest.mark.parametrize(
    ("feeds", "says"),
    [
        ('  - {url: "https://a.example.id/rss", name: "Kabar\\nlevel=error"}\n',
         "feeds[0].name: must be one line, without control characters"),
        (f'  - {{url: "https://a.example.id/rss", name: "{LONG}"}}\n',
         "feeds[0].name: at most 100 characters, not 156"),
        ('  - {url: "https://a.example.id/rss", name: "   "}\n', "feeds[0].name: must not be blank"),
        (f'  - {{url: "https://a.example.id/rss?q={"x" * 2100}"}}\n',
         "feeds[0].url: at most 2048 characters, not 2127"),
        # one feed, written three ways: polled three times, its items stored three times
        ('  - {url: "https://a.example.id/rss"}\n  - {url: "https://A.EXAMPLE.ID/rss#top"}\n'
         '  - {url: "https://a.example.id/rss?utm_source=x"}\n',
         "feeds[1].url: duplicate of feeds[0].url\n"
         "pantau: config error: feeds[2].url: duplicate of feeds[0].url"),
    ],
)  # fmt: skip
def test_check_refuses_names_and_addresses_the_database_cannot_keep(
    tmp_path: Path, feeds: str, says: str
) -> None:
    """Each passed `check`; a long name or address then failed the first poll on PostgreSQL
    ("value too long for type character varying(200)"), a newline split log lines and
    alert headers, and one feed written twice was polled and stored twice."""
    cfg = write(tmp_path, f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n{feeds}")
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2, (r.out, r.err)
    assert r.err.strip() == f"pantau: config error: {says}", r.err


def test_a_notifiers_name_is_one_line_in_its_error(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds: [{{url: 'https://a.example.id/rss'}}]\n"
        'notifiers:\n  "meja\\nredaksi": {type: console}\n',
    )
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2
    assert r.err_lines == [
        "pantau: config error: notifiers.'meja\\nredaksi': must be one line, without control "
        "characters"
    ]


def test_the_longest_names_and_addresses_check_allows_fit_postgresql(
    pg_url: str, outlets: LoopbackServer, tmp_path: Path
) -> None:
    """The bounds `check` keeps are the ones the tables keep: a feed, topic and notifier
    name of 100 characters and a feed address of 2,048 run on PostgreSQL."""
    feed = outlets.static("/a.xml", rss("Kabar", entries(1, 3)))
    url = feed + "?q=" + "x" * (2048 - len(feed) - 3)
    name = "N" * 100
    cfg = write(
        tmp_path,
        f"database: '{pg_url}'\nfeeds:\n  - {{url: '{url}', name: '{name}'}}\n"
        f"topics:\n  - {{name: '{'T' * 100}', query: Lampung OR Jakarta OR di, notify: ['{name}']}}\n"
        f"notifiers:\n  '{name}': {{type: console}}\n",
    )
    assert len(url) == 2048
    assert pantau("--config", str(cfg), "check").rc == 0
    r = pantau("--config", str(cfg), "run", "--once")
    assert r.rc == 0, r.err
    listed = json.loads(pantau("--config", str(cfg), "feeds", "--json").out)
    assert [(f["name"], f["item_count"]) for f in listed] == [(name, 3)]


def test_a_database_in_the_home_directory_as_written_with_a_tilde(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    """`sqlite:///~/pantau.db`: `check` read the ~ as the home directory and said OK, then
    SQLite opened a directory named "~" and `run` failed. Every command now reads it the
    way `check` did."""
    home = tmp_path / "home"
    home.mkdir()
    url = outlets.static("/a.xml", rss("Kabar", entries(1, 3)))
    cfg = write(tmp_path, f"database: sqlite:///~/pantau.db\nfeeds:\n  - {{url: '{url}'}}\n")
    env = {"HOME": str(home)}
    assert pantau("--config", str(cfg), "check", env=env, cwd=tmp_path).rc == 0
    r = pantau("--config", str(cfg), "run", "--once", env=env, cwd=tmp_path)
    assert r.rc == 0, r.err
    assert (home / "pantau.db").is_file() and not (tmp_path / "~").exists()
    r = pantau("--config", str(cfg), "stories", "--json", env=env, cwd=tmp_path)
    assert len(json.loads(r.out)) == 3


def test_feeds_without_names_on_one_host_are_told_apart(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    """Detik's feeds all live on rss.detik.com: configured without names, `pantau feeds`
    and alerts named every one of them by that host alone. A feed without a name is named
    by its host while that is unique, else by its host and the last word of its path, else
    by its address."""
    finance = outlets.static("/index.php/finance", rss("Keuangan", entries(1, 2)))
    a = outlets.static("/a/rss.xml", rss("A", entries(2, 2)))
    b = outlets.static("/b/rss.xml", rss("B", entries(3, 2)))
    named = outlets.static("/named.xml", rss("Bernama", entries(4, 2)))
    cfg = write(
        tmp_path,
        f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n"
        + "".join(f"  - {{url: '{u}'}}\n" for u in (finance, a, b))
        + f"  - {{url: '{named}', name: Kabar}}\n",
    )
    host = a.split("://", 1)[1]
    want = {
        finance: "127.0.0.1 finance",
        a: host,  # both end in "rss.xml": the whole address
        b: b.split("://", 1)[1],
        named: "Kabar",
    }
    check = pantau("--config", str(cfg), "check")
    assert check.rc == 0, check.err
    for url, name in want.items():
        assert f"  {name:<24} every 10m   {url}" in check.out, check.out
    assert pantau("--config", str(cfg), "run", "--once").rc == 0
    listed = json.loads(pantau("--config", str(cfg), "feeds", "--json").out)
    assert {f["url"]: f["name"] for f in listed} == want


def test_a_feeds_zone_as_an_indonesian_operator_writes_it(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    """`timezone: WITA` (or `+08:00`, `asia/makassar`) is what a desk in Makassar writes;
    `check` called it an unknown time zone. It is read as the zone it names, for the dates
    a feed writes without one; a zone that names nothing, or several (`CST`), stays an
    error that says what to write."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Makassar</title>'
        b"<item><title>Pelabuhan Makassar Tambah Dermaga Baru untuk Kapal Penumpang</title>"
        b"<link>https://kabar.example.id/1</link><pubDate>2026-12-07 10:00</pubDate>"
        b"<description>Pelabuhan menambah dermaga baru bagi kapal penumpang antarpulau "
        b"menjelang libur akhir tahun.</description></item></channel></rss>"
    )
    zones = ("WITA", "+08:00", "asia/makassar")
    urls = [
        outlets.static(f"/mks{i}.xml", body.replace(b"/1<", f"/{i}<".encode())) for i in range(3)
    ]
    db = f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n"
    cfg = write(
        tmp_path,
        db + "".join(f"  - {{url: '{u}', timezone: '{z}'}}\n" for u, z in zip(urls, zones)),
    )
    assert pantau("--config", str(cfg), "check").rc == 0
    r = pantau("--config", str(cfg), "run", "--once")
    assert r.rc == 0, r.err
    stories = json.loads(pantau("--config", str(cfg), "stories", "--since", "3650d", "--json").out)
    dates = [i["published_at"] for s in stories for i in s["items"]]
    assert dates == ["2026-12-07T02:00:00Z"] * 3
    bad = write(
        tmp_path,
        db
        + "".join(
            f"  - {{url: '{u}', timezone: '{z}'}}\n" for u, z in zip(urls, ("CST", "Mars/Olympus"))
        ),
        "bad.yaml",
    )
    r = pantau("--config", str(bad), "check")
    assert r.rc == 2 and len(r.err_lines) == 2
    for i, zone in enumerate(("CST", "Mars/Olympus")):
        assert f"feeds[{i}].timezone: unknown time zone '{zone}': write an IANA name" in r.err


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    cfg = write(tmp_path, f"{FEED}topics: []\nfeeds: []\n")
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2
    assert "line 4" in r.err and "first on line 1" in r.err


def test_binary_config_is_not_utf8_text(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_bytes(b"feeds:\n  - \xd0\xff\xfe\x00\x01binary")
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2
    assert "not UTF-8 text" in r.err and len(r.err_lines) == 1
    assert not PYTHON_SPEAK.search(r.err), r.err


# -- run --once: an outage is exit 1 ---------------------------------------------------------


def test_run_once_exits_1_when_every_feed_failed(outlets: LoopbackServer, tmp_path: Path) -> None:
    good = outlets.static("/ok.xml", rss("Baik", entries(1, 3)))
    bad = [outlets.url(f"/missing{i}.xml") for i in range(2)]  # 404s
    db = f"database: sqlite:///{tmp_path / 'p.db'}\n"
    all_bad = write(
        tmp_path, db + "feeds:\n" + "".join(f"  - {{url: '{u}'}}\n" for u in bad), "bad.yaml"
    )
    r = pantau("--config", str(all_bad), "run", "--once")
    assert r.rc == 1, r.err
    assert "pantau: every feed failed (2 of 2)" in r.err
    some = write(
        tmp_path,
        db + "feeds:\n" + "".join(f"  - {{url: '{u}'}}\n" for u in [*bad, good]),
        "some.yaml",
    )
    r = pantau("--config", str(some), "run", "--once")
    assert r.rc == 0, r.err
    assert "every feed failed" not in r.err


# -- every fault in one run ------------------------------------------------------------------

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_all_errors_at_once_example_holds(tmp_path: Path) -> None:
    """README.md's example: a bad duration, a misspelt key and an unknown notifier, reported
    together (the notifier cross-check used to wait for the type errors to be fixed)."""
    block = README.split("$ pantau --config bad.yaml check\n", 1)[1].split("```", 1)[0]
    expected = block.strip().splitlines()
    write(
        tmp_path,
        "polling: {interval: 10x}\n"
        "feeds:\n  - {url: 'https://a.example/rss', name: A}\n"
        "  - {url: 'https://b.example/rss', name: B, intreval: 5m}\n"
        "topics:\n  - {name: Ukraina, query: Ukraina, notify: [log, nobody]}\n"
        "notifiers:\n  log: {type: console}\n",
        "bad.yaml",
    )
    r = pantau("--config", str(tmp_path / "bad.yaml"), "check")
    assert r.rc == 2
    assert r.err_lines == expected


def test_an_empty_query_hides_no_other_error(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        FEED + "topics:\n  - {name: Kosong, query: ''}\n  - {name: Perang, query: '(perang'}\n"
        "  - {name: Banjir, query: 'banjir AND rob OR genangan', notify: [nobody]}\n",
    )
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2
    assert "topics[0].query: empty" in r.err
    assert "topics[1].query: topic 'Perang': at position 0" in r.err
    assert "topics[2].query: topic 'Banjir'" in r.err
    assert "topics[2].notify[0]: no notifier named 'nobody'" in r.err
    assert len(r.err_lines) == 4, r.err


def test_no_follow_on_noise(tmp_path: Path) -> None:
    """One fault, one line: an unset variable is not also a bad URL; a duplicate topic name
    is one line, not also a query error."""
    env = {k: v for k, v in os.environ.items() if k != "PANTAU_NO_SUCH_HOOK"}
    cfg = write(
        tmp_path,
        FEED + "topics:\n  - {name: Banjir, query: banjir, notify: [desk]}\n"
        "  - {name: Banjir, query: rob}\n"
        "notifiers:\n  desk: {type: slack, webhook_url: '${PANTAU_NO_SUCH_HOOK}'}\n",
    )
    p = subprocess.run(
        [sys.executable, "-m", "daemon", "--config", str(cfg), "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 2
    assert p.stderr.splitlines() == [
        "pantau: config error: notifiers.desk.webhook_url: "
        "environment variable PANTAU_NO_SUCH_HOOK is not set",
        "pantau: config error: topics[1].name: duplicate of topics[0].name 'Banjir'",
    ]


def test_duplicate_feed_names_are_refused(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        "feeds:\n  - {url: 'https://a.example/rss', name: Antara}\n"
        "  - {url: 'https://b.example/rss', name: antara}\n",
    )
    r = pantau("--config", str(cfg), "check")
    assert r.rc == 2
    assert "feeds[1].name: 'antara' is already the name of feeds[0]" in r.err


# -- command-line friction -------------------------------------------------------------------


def test_global_options_after_the_command(tmp_path: Path) -> None:
    cfg = write(tmp_path, f"database: sqlite:///{tmp_path / 'p.db'}\n{FEED}")
    r = pantau("check", "--config", str(cfg))
    assert r.rc == 0, r.err
    r = pantau("check", "-c", str(cfg), "--log-level", "error")
    assert r.rc == 0, r.err
    r = pantau("db", "upgrade", "--config", str(cfg))
    assert r.rc == 0, r.err


def test_help_explains_the_options() -> None:
    for cmd in ("stories", "alerts"):
        r = pantau(cmd, "--help")
        assert r.rc == 0
        text = " ".join(r.out.split())
        assert "(default: 24h)" in text, r.out
        assert "JSON" in text
    assert "topic" in " ".join(pantau("alerts", "--help").out.split()).split("--topic", 1)[1]


@pytest.mark.parametrize(
    "args, says",
    [
        (["alerts", "--since", "-1h"], "negative"),
        (["alerts", "--since", "1x"], "expected a duration"),
        (["alerts", "--since", "2026-13-01"], "or a date such as 2026-12-01"),
        (["stories", "--since", "2999-01-01"], "is in the future"),
        (["stories", "--since"], "expected one argument"),
        (["nosuchcommand"], "invalid choice"),
        (["feeds", "--bogus"], "unrecognized arguments"),
        ([], "required"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], says: str) -> None:
    r = pantau(*args)
    assert r.rc == 2
    assert len(r.err_lines) == 1, r.err
    assert r.err.startswith("pantau: ") and says in r.err


def test_since_a_date_as_an_analyst_asks(outlets: LoopbackServer, tmp_path: Path) -> None:
    """ "Everything since 1 December": --since takes a date (midnight WIB) or a date and time
    (its own zone, else WIB), beside a duration; it was a usage error."""
    url = outlets.static("/a.xml", rss("Kabar", entries(1, 3)))
    cfg = write(
        tmp_path, f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n  - {{url: '{url}'}}\n"
    )
    assert pantau("--config", str(cfg), "run", "--once").rc == 0
    wib = timezone(timedelta(hours=7))
    yesterday = (datetime.now(wib) - timedelta(days=1)).date().isoformat()
    in_an_hour = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
    an_hour_ago = (datetime.now(wib) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    for since in (yesterday, an_hour_ago):
        r = pantau("--config", str(cfg), "stories", "--since", since, "--json")
        assert r.rc == 0, r.err
        assert len(json.loads(r.out)) == 3, since
    r = pantau("--config", str(cfg), "stories", "--since", in_an_hour)
    assert r.rc == 2 and "is in the future" in r.err
    r = pantau("--config", str(cfg), "alerts", "--since", yesterday)
    assert (r.rc, r.out.strip()) == (0, f"no alerts since {yesterday} WIB")


def test_alerts_topic_that_does_not_exist(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        f"database: sqlite:///{tmp_path / 'p.db'}\n{FEED}"
        "topics:\n  - {name: Perang, query: perang}\n  - {name: Pemilu, query: pemilu}\n",
    )
    assert pantau("--config", str(cfg), "db", "upgrade").rc == 0
    r = pantau("--config", str(cfg), "alerts", "--topic", "perang")
    assert r.rc == 2
    assert r.err_lines == ["pantau: no topic is named 'perang': did you mean 'Perang'?"]
    r = pantau("--config", str(cfg), "alerts", "--topic", "Nope")
    assert r.rc == 2
    assert r.err_lines == ["pantau: no topic is named 'Nope': topics: Pemilu, Perang"]
    r = pantau("--config", str(cfg), "alerts", "--topic", "Perang")
    assert r.rc == 0 and "no alerts" in r.out


def test_db_upgrade_says_it_created_a_database(tmp_path: Path) -> None:
    cfg = write(tmp_path, f"database: sqlite:///{tmp_path / 'p.db'}\n{FEED}")
    r = pantau("--config", str(cfg), "db", "upgrade")
    assert r.rc == 0
    assert r.err_lines == [f"created a new database at {tmp_path / 'p.db'}"]
    r = pantau("--config", str(cfg), "db", "upgrade")
    assert r.err_lines == [f"{tmp_path / 'p.db'} is up to date"]


def test_runtime_errors_say_what_is_wrong_without_class_names(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    db.write_bytes(b"this is not a database file, it was overwritten by mistake " * 100)
    cfg = write(tmp_path, f"database: sqlite:///{db}\n{FEED}")
    for cmd in (["run", "--once"], ["feeds"]):
        r = pantau("--config", str(cfg), *cmd)
        assert r.rc == 1, (cmd, r.err)
        assert len(r.err_lines) == 1, r.err
        assert "file is not a database" in r.err
        assert not PYTHON_SPEAK.search(r.err), r.err


def test_reading_commands_do_not_create_a_database(tmp_path: Path) -> None:
    cfg = write(tmp_path, f"database: sqlite:///{tmp_path / 'p.db'}\n{FEED}")
    r = pantau("--config", str(cfg), "feeds")
    assert r.rc == 2 and "no database at" in r.err and "run --once" in r.err
    assert not (tmp_path / "p.db").exists()


def test_tests_find_the_shared_corpus_by_one_rule() -> None:
    """The feed tests look for the shared corpus in one place, relative to the checkout, so
    in a clone elsewhere they run or skip together."""
    from tests import paths, test_parse, test_rss

    assert test_parse.CORPUS == test_rss.CORPUS == paths.REAL_FEEDS
    assert paths.REAL_FEEDS == ROOT.parent / "shared" / "corpus" / "real"
    for name in ("test_parse.py", "test_rss.py", "paths.py"):
        assert "/work/" + "shared" not in (ROOT / "tests" / name).read_text(encoding="utf-8")
