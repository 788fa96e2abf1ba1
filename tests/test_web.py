"""The dashboard over plain HTTP: pages, escaping, headers, read-only, auth, the commands.

A real ``WebServer`` (waitress threads) over a real SQLite file (tests/webdata.py), read
with ``requests``; the commands run as a user runs them, ``python -m daemon`` in a
subprocess. What a browser does with the pages is tests/test_web_browser.py.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from daemon.config import ConfigError, parse_config
from daemon.demo.loopback import LoopbackServer
from daemon.topics.match import Matcher, TopicSpec, prepare
from daemon.web.server import WebServer
from tests import webdata
from tests.feedgen import entries, rss
from tests.smtpstub import free_port
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["/", "/stories?multi=1", "/alerts", "/alerts?since=30d&topic=Banjir", "/topics",
         "/topics?range=30d", "/feeds", "/search?q=banjir", "/search?q=gempa~"]  # fmt: skip


# -- pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_security_headers(site: str, path: str) -> None:
    r = requests.get(site + path, timeout=10)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "script-src 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    assert "<script" not in r.text.lower()  # the pages need no script at all
    assert not re.search(
        r"""(src|href)=["']?(https?:)?//(?!kabar|suara|warta|127\.0\.0\.1)""", r.text
    )


def test_stories_newest_first_with_who_broke_it(site: str, fixture_db: webdata.Fixture) -> None:
    html = requests.get(site + "/", timeout=10).text
    assert html.index("&lt;img src=x onerror=alert(1)&gt;") < html.index(webdata.FLOOD)
    assert html.index(webdata.FLOOD) < html.index("Harga cabai rawit")
    row = html[html.index(webdata.FLOOD) :].split("</tr>")[0]
    order = re.findall(r'<span class="o">([^<]+)</span>', row)
    assert order == ["Kabar Nusantara", "Suara Pesisir", "Warta Timur"]
    assert "+14m" in row and "+2h 05m" in row
    multi = requests.get(site + "/stories?multi=1", timeout=10).text
    assert webdata.FLOOD in multi and "Harga cabai rawit" not in multi


def test_story_page_lists_every_item_with_link_time_outlet(
    site: str, fixture_db: webdata.Fixture
) -> None:
    html = requests.get(f"{site}/story/{fixture_db.flood_story}", timeout=10).text
    for url in ("https://kabar.example/banjir-rob", "https://suara.example/rob-semarang",
                "https://warta.example/dapur-umum"):  # fmt: skip
        assert f'href="{url}"' in html
    assert "Rob setinggi lutut" in html and "broke it" in html
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">', html)
    assert '<svg class="timeline"' in html
    assert requests.get(f"{site}/story/999999", timeout=10).status_code == 404


def test_an_aggregators_item_shows_its_publisher_escaped(
    site: str, fixture_db: webdata.Fixture
) -> None:
    """An item an aggregator's feed carried is shown under the publisher it named, a name
    written by feed text: escaped, never markup."""
    html = requests.get(f"{site}/story/{fixture_db.aggregated_story}", timeout=10).text
    assert "Pantura &lt;b&gt;Pos&lt;/b&gt;" in html and "<b>Pos</b>" not in html
    assert "Suara Pesisir" in html and "Kabar Nusantara" not in html


def test_hostile_feed_text_is_escaped_and_never_a_link(
    site: str, fixture_db: webdata.Fixture
) -> None:
    for path in (f"/story/{fixture_db.hostile_story}", "/", "/alerts", "/search?q=gempa~"):
        html = requests.get(site + path, timeout=10).text
        assert "<img src=x" not in html and "<script>" not in html, path
        assert "onerror=alert(1)" in html or "&lt;script&gt;alert" in html, path  # as text
        assert 'href="javascript:' not in html
    html = requests.get(f"{site}/story/{fixture_db.hostile_story}", timeout=10).text
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    alerts = requests.get(site + "/alerts", timeout=10).text
    assert "&lt;b onmouseover=&#34;alert(2)&#34;&gt;rejected&lt;/b&gt;" in alerts


def test_alerts_show_delivery_state_per_notifier_and_filter(site: str) -> None:
    html = requests.get(site + "/alerts?topic=Banjir&since=30d", timeout=10).text
    assert webdata.FLOOD in html and "pwned" not in html
    row = html[html.index(webdata.FLOOD) :]
    assert re.search(r'class="d-sent"><span class="st">sent</span> desk', row)
    assert re.search(r'class="d-failed"><span class="st">failed</span> mail', row)
    assert "×7" in row
    assert "/story/" in row
    gempa = requests.get(site + "/alerts?topic=Gempa", timeout=10).text
    assert "pending" in gempa and "HTTP 429: rate limited" in gempa and webdata.FLOOD not in gempa
    none = requests.get(site + "/alerts?topic=Banjir&since=24h", timeout=10).text
    assert webdata.FLOOD in none  # raised 5 h ago
    assert "No alerts" in requests.get(site + "/alerts?topic=Nope", timeout=10).text


def test_topics_draw_alerts_and_matching_items(site: str) -> None:
    def charted() -> str | None:
        html = requests.get(site + "/topics", timeout=10).text
        return html if "Still counting" not in html else None

    html = wait_until(charted, what="topic counts")
    section = html[html.index(">Banjir<") :].split("</section>")[0]
    assert "banjir OR &#34;air pasang&#34;" in section  # the query, escaped
    assert "1 alert " in section and "3 matching items" in section
    assert section.count("<rect") == 2 * 7 * 24
    assert re.search(r"<title>[^<]+WIB: 1</title>", section)
    daily = requests.get(site + "/topics?range=30d", timeout=10).text
    assert daily.count("<rect") == 2 * 2 * 30


def test_feeds_show_health_error_sparkline_next_poll(site: str) -> None:
    html = requests.get(site + "/feeds", timeout=10).text
    row = html[html.index("Warta Timur") :].split("</tr>")[0]
    assert "HTTP 503: Service Unavailable" in row and "HTTP 503" in row
    assert re.search(r'class="st">(error|failing)<', row)
    assert row.count("<path") == 2 and row.count("<title>") == 1
    assert "1 need attention" in html


def test_search_finds_highlights_and_reports_errors(site: str) -> None:
    html = requests.get(site + "/search", params={"q": '"air pasang" OR rob'}, timeout=10).text
    assert "<mark>Rob</mark> setinggi lutut" in html and "<mark>Air pasang</mark>" in html
    assert "Harga cabai" not in html
    bad = requests.get(site + "/search", params={"q": "banjir AND rob OR gempa"}, timeout=10).text
    assert "Query error at position" in bad
    m = re.search(r"Query error at position (\d+)", bad)
    assert m and "banjir AND rob OR gempa"[int(m.group(1)) :].startswith("OR")
    neg = requests.get(site + "/search", params={"q": "-banjir"}, timeout=10).text
    assert "Query error" in neg
    hostile = requests.get(site + "/search", params={"q": '"<script>x"'}, timeout=10).text
    assert "<script>x" not in hostile


def test_search_pages_through_older_items(fixture_db: webdata.Fixture) -> None:
    from daemon.web.queries import Reader

    reader = Reader.open(fixture_db.url)
    try:
        m = Matcher.compile([TopicSpec("s", "banjir OR rob OR gempa OR cabai")])
        first = reader.search(m, want=2)
        assert len(first.hits) == 2 and first.older is not None
        rest = reader.search(m, before=first.older, want=10)
        ids = [h.item.id for h in first.hits + rest.hits]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids) == 6
        assert rest.older is None
    finally:
        reader.close()


# -- read-only, host and auth --------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_is_answered(site: str, method: str) -> None:
    r = requests.request(method, site + "/alerts", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"


def test_loopback_without_auth_refuses_other_host_names(site: str) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 gets nothing."""
    r = requests.get(site + "/", headers={"Host": "evil.example:8080"}, timeout=10)
    assert r.status_code == 421 and webdata.FLOOD not in r.text
    for host in ("localhost:8080", "[::1]:8080", "127.0.0.2", "LOCALHOST"):
        assert requests.get(site + "/", headers={"Host": host}, timeout=10).status_code == 200
    for host in ("localhost.evil.example", "[::ffff:10.0.0.1]:80", "10.0.0.1", "127.0.0.1.nip.io"):
        assert requests.get(site + "/", headers={"Host": host}, timeout=10).status_code == 421


@pytest.fixture(scope="module")
def open_site(fixture_db: webdata.Fixture) -> Iterator[str]:
    """Bound off loopback (every address) with a secret, as web.auth requires."""
    cfg = webdata.loaded(fixture_db.url).config
    with WebServer("0.0.0.0:0", fixture_db.url, lambda: cfg, auth=webdata.SECRET) as srv:
        yield f"http://127.0.0.1:{srv.port}"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token-wrong-token-00", "Bearer " + webdata.SECRET[:-1],
     _basic("desk", "nope"), "Basic %%%", "Token " + webdata.SECRET, _basic(webdata.SECRET, "")],
)  # fmt: skip
def test_auth_is_enforced_off_loopback(open_site: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for path in ("/", "/alerts", "/static/style.css", "/nope"):
        r = requests.get(open_site + path, headers=headers, timeout=10)
        assert r.status_code == 401, (path, header)
        assert r.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert webdata.FLOOD not in r.text


@pytest.mark.parametrize("header", ["Bearer " + webdata.SECRET, _basic("desk", webdata.SECRET)])
def test_the_secret_opens_every_page_uncached(open_site: str, header: str) -> None:
    for path in ("/", "/alerts", "/static/style.css"):
        r = requests.get(open_site + path, headers={"Authorization": header}, timeout=10)
        assert r.status_code == 200, path
        assert r.headers["Cache-Control"] == "no-store"
    r = requests.get(open_site + "/", headers={"Authorization": header, "Host": "news.example"})
    assert r.status_code == 200 and webdata.FLOOD in r.text  # any host name, with the secret


# -- config and commands ------------------------------------------------------------------


def _pantau(*args: str, cfg: Path, env: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "daemon", "--config", str(cfg), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}, **kw,
    )  # fmt: skip


def test_config_requires_auth_off_loopback(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    feed = "feeds: [{url: 'http://127.0.0.1:9/a.xml'}]\n"
    cfg.write_text(feed + "web: {listen: '0.0.0.0:8080'}\n")
    r = _pantau("check", cfg=cfg)  # as an operator meets it
    assert r.returncode == 2
    assert "web.auth: required when web.listen is not a loopback address" in r.stderr

    def errors(web: str, env: dict[str, str] | None = None) -> list[str]:
        try:
            parse_config(feed + f"web: {web}\n", env=env or {})
        except ConfigError as exc:
            return exc.errors
        return []

    assert errors("{listen: 'example.org:8080', auth: short}") == [
        "web.auth: must be at least 16 characters (a random token)"
    ]
    assert errors("{listen: '8080'}") == []  # a bare port binds loopback
    assert errors("{listen: 'localhost:8080'}") == errors("{listen: '[::1]:80'}") == []
    assert errors("{listen: '[::]:8080', auth: '${TOKEN}'}", {"TOKEN": webdata.SECRET}) == []
    assert errors("{listen: '10.0.0.5:80'}") == [
        "web.auth: required when web.listen is not a loopback address (10.0.0.5:80)"
    ]
    got = errors("{listen: 'nowhere', lisen: 1}")
    assert any(e.startswith("web.listen: expected host:port") for e in got)
    assert "web.lisen: unknown key" in got
    loaded = parse_config(
        feed + "web: {listen: '[::]:8080', auth: '${T}'}\n", env={"T": webdata.SECRET}
    )
    assert webdata.SECRET in loaded.secrets  # masked in every log line


def _serve(args: list[str], cfg: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--config", str(cfg), *args], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return proc


def _url_from(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"dashboard: (http://\S+)", line)
        if m:
            return m.group(1)
    err = proc.stderr_text
    raise AssertionError(f"no dashboard URL printed: {err[-2000:]}")


def test_pantau_web_serves_read_only_and_stops_on_sigterm(
    fixture_db: webdata.Fixture, tmp_path: Path
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(webdata.config_text(fixture_db.url))
    db_file = Path(fixture_db.url.removeprefix("sqlite:///"))
    before = db_file.stat().st_mtime_ns
    with webdata.running(_serve(["web", "--listen", "127.0.0.1:0"], cfg)) as proc:
        url = _url_from(proc)
        assert webdata.FLOOD in requests.get(url, timeout=10).text
        assert requests.get(url + "feeds", timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert "Traceback" not in proc.stderr_text
    assert db_file.stat().st_mtime_ns == before  # nothing written
    r = _pantau("web", "--listen", "0.0.0.0:0", cfg=cfg)
    assert r.returncode == 2 and "web.auth: required" in r.stderr
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(webdata.config_text(f"sqlite:///{tmp_path / 'empty.db'}"))
    r = _pantau("web", cfg=fresh)
    assert r.returncode == 2 and "pantau db upgrade" in r.stderr


def test_pantau_run_serves_the_dashboard_while_polling(tmp_path: Path) -> None:
    port = free_port()
    with LoopbackServer() as outlets:
        feed = outlets.static("/a.xml", rss("Kabar", entries(1, 3)))
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\n"
            f"web: {{listen: '127.0.0.1:{port}'}}\n"
            f"feeds:\n  - {{url: '{feed}', name: Kabar}}\n"
        )
        with webdata.running(_serve(["run"], cfg)) as proc:

            def listed() -> bool:
                try:
                    html = requests.get(f"http://127.0.0.1:{port}/feeds", timeout=5).text
                except requests.ConnectionError:
                    return False
                return "Kabar" in html and '<span class="st">ok</span>' in html

            wait_until(listed, what="the feed polled and shown")
            stories = requests.get(f"http://127.0.0.1:{port}/", timeout=5).text
            assert stories.count('<td class="tm">') == 3
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
    err = proc.stderr_text
    assert "event=web.listening" in err and "Traceback" not in err


def test_pantau_run_keeps_polling_when_the_dashboard_port_is_taken(tmp_path: Path) -> None:
    import socket

    with LoopbackServer() as outlets, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        feed = outlets.static("/a.xml", rss("Kabar", entries(1, 2)))
        cfg = tmp_path / "c.yaml"
        port = taken.getsockname()[1]
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\n"
            f"web: {{listen: '127.0.0.1:{port}'}}\n"
            f"feeds:\n  - {{url: '{feed}', name: Kabar}}\n"
        )
        with webdata.running(_serve(["run"], cfg)) as proc:
            wait_until(lambda: outlets.count("/a.xml"), what="the feed polled")
            assert proc.poll() is None
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
    err = proc.stderr_text
    assert "event=web.listen_failed" in err and "polling=continues" in err


def test_demo_web_prints_the_dashboard_and_serves_until_interrupted(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "http_proxy": "http://127.0.0.1:9"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "daemon", "demo", "--web"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with webdata.running(demo) as proc:
        url = _url_from(proc)
        assert url.startswith("http://127.0.0.1:")
        assert "IHRAM" in requests.get(url + "feeds", timeout=10).text
        assert "<mark>" in requests.get(url + "search", params={"q": "NATO"}, timeout=10).text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    assert not list(tmp_path.glob("pantau-demo-*"))  # the temporary database is gone


# -- events, once the database has them ----------------------------------------------------


def test_events_are_shown_when_the_database_has_them(tmp_path: Path) -> None:
    fx = webdata.build(f"sqlite:///{tmp_path / 'ev.db'}")
    webdata.add_events(fx)
    cfg = webdata.loaded(fx.url).config
    with WebServer("127.0.0.1:0", fx.url, lambda: cfg) as srv:
        index = requests.get(srv.url, timeout=10).text
        assert "<h1>Events</h1>" in index and webdata.EVENT in index
        assert "&lt;img src=x onerror=alert(1)&gt;" in index and "<img" not in index
        event = requests.get(srv.url + "event/7", timeout=10).text
        assert webdata.FLOOD in event and "Harga cabai rawit" in event
        assert event.count('rel="noopener') >= 4  # every item of both stories, linked
        alerts = requests.get(srv.url + "alerts", timeout=10).text
        assert 'href="/event/7"' in alerts
        stories = requests.get(srv.url + "stories", timeout=10).text
        assert webdata.FLOOD in stories and 'href="/event/7"' in stories


def test_one_polls_events_are_listed_newest_published_first(tmp_path: Path) -> None:
    """A first poll sees a feed's reports at once: one `first seen` for all. The dashboard
    and `pantau events` then list them as news, newest first (they listed the feed's oldest
    report first, in the order the rows went in)."""
    with LoopbackServer() as outlets:
        feed = outlets.static("/a.xml", rss("Kabar", entries(1, 3)))  # newest first
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n  - {{url: '{feed}', name: Kabar}}\n"
        )
        assert _pantau("run", "--once", cfg=cfg).returncode == 0
    newest_first = ["(1-0)", "(1-1)", "(1-2)"]
    listed = json.loads(_pantau("events", "--json", cfg=cfg).stdout)
    assert [e["title"][-5:] for e in listed] == newest_first
    loaded = parse_config(cfg.read_text(), env={}, path=str(cfg)).config
    with WebServer("127.0.0.1:0", f"sqlite:///{tmp_path / 'p.db'}", lambda: loaded) as srv:
        index = requests.get(srv.url, timeout=10).text
    assert "<h1>Events</h1>" in index
    shown = re.findall(r"\((1-\d)\)</a>", index)
    assert [f"({t})" for t in shown] == newest_first, shown


def test_a_private_feeds_credentials_are_never_shown(tmp_path: Path) -> None:
    """A private feed's address holds its credential: a key from the environment, or a
    password written in the URL. `check`, `feeds --json` and the dashboard's Feeds page show
    the address with it masked (the dashboard showed it whole, and linked it: anyone who
    could read the page had the key); a public feed keeps its link."""
    key, password = "k9x8c7v6b5n4", "s3cretpw42"
    with LoopbackServer() as outlets:
        public = outlets.static("/a.xml", rss("Kabar", entries(1, 2)))
        keyed = outlets.static("/b.xml", rss("Suara", entries(2, 2)))
        locked = outlets.static("/c.xml", rss("Warta", entries(3, 2)))
        locked = locked.replace("http://", f"http://desk:{password}@")
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n"
            f"  - {{url: '{public}', name: Kabar}}\n"
            f"  - {{url: '{keyed}?key=${{FEED_KEY}}', name: Suara}}\n"
            f"  - {{url: '{locked}', name: Warta}}\n"
        )
        env = {"FEED_KEY": key}
        assert _pantau("run", "--once", cfg=cfg, env=env).returncode == 0
        # the feeds were read, with their credentials
        assert outlets.count(f"/b.xml?key={key}") and outlets.count("/c.xml")
        (c,) = [h for h in outlets.hits if h.path == "/c.xml"]
        assert c.headers["Authorization"].startswith("Basic ")
    check = _pantau("check", cfg=cfg, env=env)
    listed = _pantau("feeds", "--json", cfg=cfg, env=env)
    assert check.returncode == 0 and listed.returncode == 0
    urls = {f["name"]: f["url"] for f in json.loads(listed.stdout)}
    assert urls["Kabar"] == public
    assert urls["Suara"].endswith("/b.xml?key=***") and urls["Warta"].startswith("http://desk:***@")
    with webdata.running(_serve(["web", "--listen", "127.0.0.1:0"], cfg, env)) as proc:
        page = requests.get(_url_from(proc) + "feeds", timeout=10).text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    for out in (check.stdout, listed.stdout, page, proc.stderr_text):
        assert key not in out and password not in out
    assert f'href="{public}"' in page and "/b.xml?key=***" in page
    assert ">Suara<" in page and 'href="http://127.0.0.1' in page
    assert page.count('href="http://') == 1  # the private feeds are named, not linked


# -- highlighting (the matcher's explanation of a match) ----------------------------------


@pytest.mark.parametrize(
    ("query", "title", "marked"),
    [
        ("Prabowo NEAR/3 Xi", "Prabowo temui Xi; kelak Xi ke Jakarta jauh sekali dari sini", ["Prabowo", "Xi"]),
        ("banjir -gempa", "Banjir dan banjir lagi", ["Banjir", "banjir"]),
        ("AS", "AS naikkan tarif, harga emas as", ["AS"]),
        ('"harga emas" OR title:Antam', "Harga emas Antam", ["Harga emas", "Antam"]),
        ("serang~", "Diserang lalu menyerang", ["Diserang", "menyerang"]),
        ("NATO", "NATO-Rusia", ["NATO"]),
    ],
)  # fmt: skip
def test_highlights_mark_what_made_the_query_match(
    query: str, title: str, marked: list[str]
) -> None:
    m = Matcher.compile([TopicSpec("q", query)])
    spans = m.highlights(title)
    assert [prepare(title)[a:b] for _, a, b in spans] == marked


def test_highlights_are_empty_when_nothing_matches() -> None:
    m = Matcher.compile([TopicSpec("q", "banjir -rob")])
    assert m.highlights("Banjir rob di pesisir") == []
    assert m.highlights("Harga cabai") == []


@pytest.mark.postgres
def test_every_page_on_postgresql(pg_url: str) -> None:
    """The same pages over PostgreSQL (`pantau web` beside a scaled-out deployment)."""
    fx = webdata.build(pg_url)
    cfg = webdata.loaded(fx.url).config
    with WebServer("127.0.0.1:0", fx.url, lambda: cfg) as srv:
        base = srv.url.rstrip("/")
        for path in [*PAGES, f"/story/{fx.flood_story}"]:
            r = requests.get(base + path, timeout=10)
            assert r.status_code == 200, (path, r.text[:300])
        assert webdata.FLOOD in requests.get(base + "/", timeout=10).text
        feeds = requests.get(base + "/feeds", timeout=10).text
        assert feeds.count("<path") >= 3  # a sparkline per feed with items
        topics = wait_until(
            lambda: (
                (h := requests.get(base + "/topics", timeout=10).text)
                and "Still counting" not in h
                and h
            ),
            what="topic counts",
        )
        assert "1 alert " in topics and "3 matching items" in topics
        hits = requests.get(base + "/search", params={"q": "rob"}, timeout=10).text
        assert "<mark>Rob</mark>" in hits


def test_match_counts_match_each_item_once_and_restart_on_a_new_matcher() -> None:
    from datetime import datetime, timedelta, timezone

    from daemon.web.charts import HOUR, MatchCounts

    now = datetime(2026, 12, 6, 10, 30, tzinfo=timezone.utc)
    rows = [(i, now - timedelta(hours=i % 3), f"banjir nomor {i}", "", "") for i in range(1, 6)]
    reads: list[int] = []

    def scan(after: int, since: datetime, limit: int):  # type: ignore[no-untyped-def]
        reads.append(after)
        return [r for r in rows if r[0] > after][:limit]

    counts = MatchCounts(scan)
    m = Matcher.compile([TopicSpec("Banjir", "banjir"), TopicSpec("Gempa", "gempa")])
    assert counts.catch_up(m, now) is False  # the first count runs in the background
    assert wait_until(lambda: counts.catch_up(m, now), what="background count")
    start = now.replace(minute=0) - timedelta(hours=2)
    assert counts.buckets("Banjir", start, HOUR) == {0: 2, 1: 2, 2: 1}  # 8, 9, 10 h
    assert counts.buckets("Gempa", start, HOUR) == {}
    rows.append((6, now, "banjir lagi", "", ""))
    reads.clear()
    assert counts.catch_up(m, now) is True
    assert reads == [5]  # only what came after the last item matched
    assert sum(counts.buckets("Banjir", start, HOUR).values()) == 6
    m2 = Matcher.compile([TopicSpec("Banjir", "lagi")])
    assert wait_until(lambda: counts.catch_up(m2, now), what="recount")
    assert sum(counts.buckets("Banjir", start, HOUR).values()) == 1


def test_stalled_browsers_hold_no_page_thread(site: str) -> None:
    """Twenty clients that send half a request and stall (a slow phone link, or a slowloris)
    occupy waitress's I/O thread's buffers, not its four page threads: a reader still gets
    every page at once."""
    import socket

    host, port = site.removeprefix("http://").rsplit(":", 1)
    stalled = []
    try:
        for _ in range(20):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET /alerts HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            stalled.append(s)
        for path in ("/", "/alerts", "/feeds", "/topics"):
            r = requests.get(site + path, timeout=5)
            assert r.status_code == 200
    finally:
        for s in stalled:
            s.close()


@pytest.mark.slow
def test_stopping_the_dashboard_raises_nothing_in_its_server_thread(tmp_path: Path) -> None:
    """``WebServer.stop`` closes the listening socket from another thread while the server
    loop may sit in select() on it: that must end the loop quietly. Before the fix about one
    stop in ten printed the thread's OSError traceback (EBADF), which `pantau run` with
    ``web.listen`` showed on SIGTERM."""
    import threading

    fx = webdata.build(f"sqlite:///{tmp_path / 'stop.db'}")
    cfg = webdata.loaded(fx.url).config
    raised: list[BaseException | None] = []
    before = threading.excepthook
    threading.excepthook = lambda a: raised.append(a.exc_value)
    try:
        for _ in range(60):
            with WebServer("127.0.0.1:0", fx.url, lambda: cfg) as srv:
                assert requests.get(srv.url, timeout=10).status_code == 200
    finally:
        threading.excepthook = before
    assert raised == []
