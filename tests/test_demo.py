"""`pantau demo`: bundled feeds render and parse, the loopback server, and the whole command.

The end-to-end test runs ``python -m daemon demo`` in a subprocess with proxies pointed at a
dead port and a private TMPDIR, then reads its printed stories and alerts. Titles are read
from the bundled feeds by item id, so rewording a headline does not break the test but
breaking the grouping or the matching does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from daemon.config import parse_config
from daemon.demo import DEMO_TOPICS, demo_config_text
from daemon.demo.server import (
    OUTLETS,
    format_date,
    load_templates,
    parse_offset,
    render,
    render_all,
    serve,
)
from daemon.feeds.parse import ParsedItem, parse_feed

REPO = Path(__file__).resolve().parent.parent
UTC = timezone.utc
NOW = datetime.now(UTC)
FILES = {o.name: o.file for o in OUTLETS}


def _parsed(outlet: str, now: datetime = NOW) -> list[ParsedItem]:
    body = render(load_templates()[FILES[outlet]], now).encode()
    feed = parse_feed(body, url=f"http://127.0.0.1/{FILES[outlet]}", now=now)
    assert feed.error is None, (outlet, feed.error)
    return feed.items


def _item(outlet: str, url_part: str) -> ParsedItem:
    found = [i for i in _parsed(outlet) if url_part in (i.url or "")]
    assert len(found) == 1, (outlet, url_part, [i.url for i in _parsed(outlet)])
    return found[0]


def _title(outlet: str, url_part: str) -> str:
    return _item(outlet, url_part).title


# -- templates --------------------------------------------------------------------------------


def test_date_formats_written_as_each_outlet_writes_them() -> None:
    instant = datetime(2026, 11, 26, 11, 20, 5, tzinfo=UTC)  # 18:20:05 WIB, a Thursday
    assert format_date("rfc822", instant) == "Thu, 26 Nov 2026 18:20:05 +0700"
    assert format_date("gmt", instant) == "Thu, 26 Nov 2026 11:20:05 GMT"
    assert format_date("tempo", instant) == "Thu, 26 Nov 2026 12:20:05 +0100"
    assert format_date("tempowall", instant) == "Thu, 26 Nov 2026 18:20:05 +0100"
    assert format_date("wib", instant) == "Kamis, 26 Nov 2026 18:20 WIB"
    assert format_date("hari", instant) == "Kamis"
    assert format_date("tgl", instant) == "26/11/2026"
    # WIB rolls over to the next day before UTC does.
    late = datetime(2026, 8, 16, 17, 30, tzinfo=UTC)
    assert format_date("wib", late) == "Senin, 17 Agu 2026 00:30 WIB"
    assert format_date("tgl", late) == "17/8/2026"


@pytest.mark.parametrize(
    ("spec", "seconds"),
    [("0", 0), ("-3h", -10800), ("-10d", -864000), ("-2h-15m", -8100), ("+90s", 90)],
)
def test_parse_offset(spec: str, seconds: int) -> None:
    assert parse_offset(spec) == timedelta(seconds=seconds)


@pytest.mark.parametrize("spec", ["", "3h", "-3x", "-3h junk", "yesterday", "-h", "--3h"])
def test_parse_offset_rejects_garbage(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_offset(spec)


@pytest.mark.parametrize(
    "template",
    ["{{rfc822:yesterday}}", "{{unknown:-1h}}", "<a>{{rfc822:-1h</a>", "{{ }}"],
)
def test_render_rejects_bad_placeholders(template: str) -> None:
    with pytest.raises(ValueError):
        render(template, NOW)


def test_render_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        render("{{rfc822:-1h}}", datetime(2026, 1, 1))


@pytest.mark.parametrize("outlet", [o.name for o in OUTLETS])
def test_every_bundled_feed_renders_and_parses(outlet: str) -> None:
    template = load_templates()[FILES[outlet]]
    assert "{{" in template, "feeds must be templates so the demo works on any day"
    items = _parsed(outlet)
    assert 8 <= len(items) <= 15
    assert len({i.identity for i in items}) == len(items)
    for it in items:
        assert it.title and it.url and it.has_date, it
        assert "{{" not in it.title + it.summary + it.content
        assert NOW - timedelta(days=11) <= it.published_at <= NOW, (it.title, it.published_raw)


def test_sample_feeds_are_indonesian_and_marked_as_made_up() -> None:
    for name, text in load_templates().items():
        assert "pantau demo" in text and "rekaan" in text, name
    words = " ".join(i.summary for o in OUTLETS for i in _parsed(o.name)).lower().split()
    common = sum(words.count(w) for w in ("yang", "dan", "di", "untuk", "dengan"))
    assert common > 100


def test_outlet_date_conventions_read_back_to_the_intended_instant() -> None:
    def close(a: datetime, b: datetime) -> bool:
        return abs(a - b) < timedelta(minutes=1)

    kyiv = _item("Detik", "d-7700503")
    assert re.fullmatch(
        r"Jumat|Kamis|Rabu|Selasa|Senin|Sabtu|Minggu", kyiv.published_raw.split(",")[0]
    )
    assert kyiv.published_raw.endswith(" WIB")
    assert close(kyiv.published_at, NOW - timedelta(hours=4))
    tempo = _parsed("Tempo")[0]
    assert tempo.published_raw and tempo.published_raw.endswith("+0100")
    assert close(tempo.published_at, NOW - timedelta(hours=2))
    bbc = _parsed("BBC Indonesia")[0]
    assert bbc.published_raw and bbc.published_raw.endswith("GMT")
    old = _item("Antara", "9000010")
    assert close(old.published_at, NOW - timedelta(days=10))


def test_gold_reports_state_their_own_day_and_never_say_AS() -> None:  # noqa: N802
    today, yesterday = _item("Okezone", "3000302"), _item("Okezone", "3000298")
    wib = timezone(timedelta(hours=7))
    for it, ago in ((today, 2), (yesterday, 26)):
        d = (NOW - timedelta(hours=ago)).astimezone(wib)
        assert f"{d.day}/{d.month}/{d.year}" in it.summary
        assert "emas" in (it.title + it.summary).lower()
        assert not re.search(r"\bAS\b", it.title + " " + it.summary)


def test_syndicated_copies_have_the_shapes_the_brief_asks_for() -> None:
    antara = _item("Antara", "9000104").summary
    sindo = _item("Sindonews", "5000402").summary
    okez = _item("Okezone", "3000303").summary
    assert antara.startswith("Jakarta (ANTARA) -")
    assert "(ANTARA)" not in sindo
    assert 1 <= okez.count(". ") + 1 <= 2 and len(okez) < len(antara) / 1.5
    ihram = _item("IHRAM", "demo-i0201")
    repub = _item("Republika", "demo-r0101")
    assert ihram.title != repub.title
    body = ihram.content.split("--", 1)[1].strip()
    assert body and body == repub.content.split("--", 1)[1].strip()


# -- config and server -------------------------------------------------------------------------


def test_demo_config_is_valid_and_survives_odd_paths_and_names() -> None:
    db = "sqlite:////tmp/we ird: #x'\"/${HOME}/demo.db"
    feeds = [("Antara", "http://127.0.0.1:1/a.xml"), ('Odd: "name" # x', "http://127.0.0.1:1/b")]
    # ${...} is expanded by the loader; the demo passes env={}, so only check structure here.
    loaded = parse_config(demo_config_text(feeds, db), env={"HOME": "h"}, path="<demo>")
    cfg = loaded.config
    assert cfg.database == "sqlite:////tmp/we ird: #x'\"/h/demo.db"
    assert [(f.name, f.url) for f in cfg.feeds] == feeds
    assert [(t.name, t.query) for t in cfg.topics] == list(DEMO_TOPICS)
    assert all(t.notify == ["log"] for t in cfg.topics)
    assert cfg.notifiers["log"].type == "console"
    assert cfg.polling.timeout == 5 and cfg.polling.concurrency == 1


def _get(url: str, method: str = "GET") -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_server_serves_the_rendered_feeds_and_nothing_else() -> None:
    bodies = render_all(NOW)
    with serve(bodies) as srv:
        assert srv.base.startswith("http://127.0.0.1:")
        for o in OUTLETS:
            status, body = _get(srv.url(o.path))
            assert (status, body) == (200, bodies[o.path])
        assert _get(srv.url("/antara.xml?x=1")) == (200, bodies["/antara.xml"])
        assert _get(srv.url("/antara.xml"), "HEAD") == (200, b"")
        for path in ("/", "/../../etc/passwd", "/feeds/antara.xml", "/%2e%2e/server.py"):
            assert _get(srv.url(path))[0] == 404, path
    with pytest.raises(OSError):
        _get(srv.url("/antara.xml"))


# -- the command -------------------------------------------------------------------------------


@dataclass
class Story:
    title: str
    outlets: list[str]
    copies: list[str] = field(default_factory=list)


@dataclass
class Alert:
    topic: str
    title: str
    line: str


def _section(out: str, start: str, end: str | None) -> list[str]:
    body = out.split(start, 1)[1]
    if end:
        body = body.split(end, 1)[0]
    return body.splitlines()


def _stories(out: str) -> list[Story]:
    stories: list[Story] = []
    for line in _section(out, "== Stories ==", "== Alerts =="):
        m = re.match(r"#\d+ \d{4}-\d\d-\d\d \d\d:\d\d UTC  (.*)  \[(.*)\]$", line)
        if m:
            stories.append(Story(m[1], m[2].split(", ")))
        elif stories and line.startswith("    ") and ": " in line:
            stories[-1].copies.append(line.strip().split(": ", 1)[1])
    return stories


def _alerts(out: str) -> list[Alert]:
    alerts = []
    for line in _section(out, "== Alerts ==", "Look for:"):
        m = re.match(r"#\d+ \d{4}-\d\d-\d\d \d\d:\d\d UTC \[(.+?)\] (.*) — ", line)
        if m:
            alerts.append(Alert(m[1], m[2], line))
    return alerts


def _story_with(stories: list[Story], title: str) -> Story:
    found = [s for s in stories if title == s.title or title in s.copies]
    assert len(found) == 1, (title, found)
    return found[0]


@pytest.fixture(scope="module")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    work = tmp_path_factory.mktemp("cwd")
    tmpdir = tmp_path_factory.mktemp("tmpdir")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PANTAU")}
    dead = "http://127.0.0.1:9"  # any use of a proxy, or of the network, fails
    env.update(
        HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead, http_proxy=dead, https_proxy=dead,
        TMPDIR=str(tmpdir), PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8",
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "daemon", "demo"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert list(work.iterdir()) == [], "the demo must not write into the working directory"
    return proc, tmpdir


def test_demo_exits_0_and_cleans_up(
    demo_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, tmpdir = demo_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmpdir.iterdir()) == [], "the temporary database must be removed"
    assert "pantau check" in proc.stdout and "pantau run --once" in proc.stdout
    assert "FAILED" not in proc.stdout


def test_demo_groups_syndicated_copies(
    demo_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    out = demo_run[0].stdout
    stories = _stories(out)
    assert len(stories) > 40
    rc = _story_with(stories, _title("IHRAM", "demo-i0201"))
    assert sorted(rc.outlets) == ["IHRAM", "Republika"]
    assert _title("Republika", "demo-r0101") in rc.copies + [rc.title]
    energy = _story_with(stories, _title("Antara", "9000104"))
    assert sorted(energy.outlets) == ["Antara", "Okezone", "Sindonews"]
    for outlet, part in (("Sindonews", "5000402"), ("Okezone", "3000303")):
        assert _title(outlet, part) in energy.copies + [energy.title]
    # Two editions of the templated gold report: two stories, one outlet each.
    gold = [_story_with(stories, _title("Okezone", p)) for p in ("3000302", "3000298")]
    assert gold[0] is not gold[1]
    assert all(g.outlets == ["Okezone"] and not g.copies for g in gold)


def test_demo_alerts_fire_where_they_should_and_only_there(
    demo_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    out = demo_run[0].stdout
    alerts = _alerts(out)
    by_topic: dict[str, list[str]] = {}
    for a in alerts:
        by_topic.setdefault(a.topic, []).append(a.title)
    # The alert carries the title of whichever copy pantau saw first (polls run in parallel).
    rc_titles = {_title("IHRAM", "demo-i0201"), _title("Republika", "demo-r0101")}
    assert set(by_topic) == {name for name, _ in DEMO_TOPICS}
    for topic in ("Ukraina", "NATO", "Rusia-China"):
        assert len(rc_titles & set(by_topic[topic])) == 1, (topic, by_topic[topic])
    assert len(by_topic["Rusia-China"]) == 1, "one alert per topic and story"
    rc_alert = next(a for a in alerts if a.topic == "Rusia-China")
    assert "Republika" in rc_alert.line and "IHRAM" in rc_alert.line
    # The syndicated energy story: one AS alert, carrying the other outlets as sources.
    energy_titles = {
        _title(o, p)
        for o, p in (("Antara", "9000104"), ("Sindonews", "5000402"), ("Okezone", "3000303"))
    }
    energy_alerts = [a for a in alerts if a.topic == "AS" and a.title in energy_titles]
    assert len(energy_alerts) == 1
    # Traps: "emas" is not AS, "Renato" is not NATO, old news never alerts.
    gold_titles = {_title("Okezone", p) for p in ("3000302", "3000298")}
    medal = _title("Sindonews", "5000405")
    assert not [t for t in by_topic["AS"] if t in gold_titles or t == medal or "emas" in t.lower()]
    assert sorted(by_topic["Harga Emas"]) == sorted(gold_titles)
    renato = _title("Detik", "7700502")
    assert "Renato" in renato and renato not in by_topic["NATO"]
    old = _title("Antara", "9000010")
    assert "NATO" in old
    assert old in [s.title for s in _stories(out)], "the old item is stored"
    assert all(old != a.title for a in alerts)
    # The console notifier delivered each alert once, and the delivery state says so.
    delivered = [ln for ln in out.splitlines() if ln.startswith("[pantau] ")]
    assert len(delivered) == len(alerts)
    assert not [ln for ln in delivered if ln.startswith("[pantau] AS |") and "Emas" in ln]
    assert all(a.line.endswith("log:sent") for a in alerts)
