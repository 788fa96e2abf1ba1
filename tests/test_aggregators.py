"""Aggregators' entries (Google News): each names its publisher in RSS's <source>, appends
that name to the headline and writes links to the report in place of a summary. pantau
shows the publisher, reads the headline without its name and no summary, through both
parsers and through the CLI (docs/design.md, "Aggregators' entries")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from daemon.demo.loopback import LoopbackServer
from daemon.feeds import parse
from daemon.grouping import events as ev
from tests.feedgen import Entry, entries, rss
from tests.test_pipeline import pantau, write_config

ROOT = Path(__file__).resolve().parent.parent
GOOGLE = ROOT / "tests" / "fixtures" / "feeds" / "google_news.xml"
NOW = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "feedparser"])
def test_google_news_entries_name_their_publisher(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse, "FAST_RSS", fast)
    got = parse.parse_feed(GOOGLE.read_bytes(), url="https://news.google.com/rss/x", now=NOW)
    assert [(i.outlet, i.title, i.summary) for i in got.items] == [
        ("detikNews", "KPK Tahan Bupati Lampung Timur Terkait Suap Proyek Jalan", ""),
        # the related headline of another report (the chilli price) is not this one's text
        ("Kompas.id", "Bupati Lampung Timur Ditahan KPK, Diduga Terima Suap Rp 4,2 Miliar", ""),
        # a headline's own " - " stays; a description with text of its own stays
        (
            "Tempo.co",
            "Wawancara - Ketua KPK: Kami Tidak Tebang Pilih",
            "Ketua Komisi Pemberantasan Korupsi menjawab kritik soal penanganan perkara kepala "
            "daerah menjelang akhir tahun.",
        ),
        # a <source> without url; the headline's tail is not the publisher's name
        ("Media Indonesia", "Dewas KPK Periksa Penyidik - Sidang Etik Digelar Tertutup", ""),
    ]


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "feedparser"])
def test_bing_news_entries_name_their_publisher_and_link_to_the_article(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bing News' RSS names the publisher in <News:Source> and links every result through
    bing.com/news/apiclick.aspx: read as the article's own address, a result meets the
    outlet's own item by its link (story grouping's first rule)."""
    monkeypatch.setattr(parse, "FAST_RSS", fast)
    body = (ROOT / "tests" / "fixtures" / "feeds" / "bing_news.xml").read_bytes()
    got = parse.parse_feed(body, url="https://www.bing.com/news/search?q=KPK&format=rss", now=NOW)
    assert [(i.outlet, i.url, i.title) for i in got.items] == [
        (
            "detikNews",
            "https://news.detik.com/berita/d-8012345/kpk-tahan-bupati-lampung-timur-terkait-suap-proyek-jalan",
            "KPK Tahan Bupati Lampung Timur Terkait Suap Proyek Jalan",
        ),
        (
            "ANTARA News",
            "https://www.antaranews.com/berita/4890123/kantor-dinas-pupr-lampung-timur-digeledah",
            "Kantor Dinas PUPR Lampung Timur Digeledah Penyidik",
        ),
    ]
    assert all(i.summary for i in got.items)  # Bing's descriptions are the reports' text


def test_an_entry_of_the_feeds_own_names_no_publisher() -> None:
    body = rss("Detik", entries(1, 3, now=NOW))
    got = parse.parse_feed(body, url="https://news.detik.com/rss", now=NOW)
    assert got.items and all(i.outlet == "" for i in got.items)


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "feedparser"])
def test_a_source_on_the_feeds_own_site_is_the_feeds_own_entry(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bookmarking service or an outlet's CMS may name its own feed in <source>: such an
    entry keeps the name the operator gave the feed (and its headline and description)."""
    monkeypatch.setattr(parse, "FAST_RSS", fast)
    body = GOOGLE.read_bytes().replace(b"https://news.detik.com", b"https://www.detik.com")
    got = parse.parse_feed(body, url="https://rss.detik.com/index.php/detikcom", now=NOW)
    first = got.items[0]
    assert (first.outlet, first.title.endswith(" - detikNews")) == ("", True)
    assert first.summary  # Google's pointer block is read as it comes, as before
    assert [i.outlet for i in got.items[1:]] == ["Kompas.id", "Tempo.co", "Media Indonesia"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('<a href="x">Judul</a>&nbsp;&nbsp;<font color="#6f6f6f">Antara</font>', True),
        (
            "&lt;a href='x'&gt;Judul&lt;/a&gt;&amp;nbsp;&lt;font color='#6f6f6f'&gt;Antara&lt;/font&gt;",
            True,
        ),
        (
            '<ol><li><a href="x">A</a> <font color="#6f6f6f">B</font></li><li><a href="y">C</a></li></ol>',
            True,
        ),
        ('<a href="x">A</a> <font>Polisi menutup jalan.</font>', False),  # no colour: text
        ('<a href="x"><img src="y"></a> Polisi menutup jalan menuju pelabuhan.', False),
        ("Polisi menutup jalan menuju pelabuhan.", False),
        ('<a href="x">Judul</a> <b>Eksklusif</b>', False),
        # Google's older block: the report's snippet in a <font> of no colour is text
        (
            '<table><tr><td><font size="-1"><b><font color="#6f6f6f">Antara</font></b></font>'
            '<br><font size="-1"><a href="x"><b>Judul</b></a></font><br>'
            '<font size="-1">Polisi menutup jalan menuju pelabuhan.</font></td></tr></table>',
            False,
        ),
        (
            '<table><tr><td><img src="y"></td><td><ol style="list-style: none"><strong><li>'
            '<a href="x">Judul</a>&nbsp;&nbsp;<font color="#6f6f6f">Antara</font></li></strong>'
            "</ol></td></tr></table>",
            True,
        ),
        ("<a href='x'>" * 5_000, False),  # over the size the test is run on
    ],
)
def test_links_only(raw: str, expected: bool) -> None:
    assert parse.links_only(raw) is expected


@settings(max_examples=300, deadline=None)
@given(hst.text(max_size=300), hst.text(min_size=1, max_size=40))
def test_without_publisher_removes_only_that_name(headline: str, name: str) -> None:
    got = parse.without_publisher(headline, name)
    if got != headline:
        assert got and any(headline.endswith(sep + name) for sep in parse._PUBLISHER_SEPARATORS)
        assert headline.startswith(got)
    appended = f"{headline} - {name}"
    assert parse.without_publisher(appended, name) == (headline.rstrip() or appended)


@settings(max_examples=300, deadline=None)
@given(hst.text(max_size=2_000))
def test_links_only_takes_any_text(raw: str) -> None:
    assert parse.links_only(raw) in (True, False)


def _google(reports: list[tuple[str, str, datetime]]) -> bytes:
    """A Google News search feed: headline, publisher and time per report, as Google writes
    them (the publisher after the headline, the description a link and the publisher)."""
    items = []
    for k, (headline, publisher, at) in enumerate(reports):
        link = f"https://news.google.com/rss/articles/CBMi{k:04d}?oc=5"
        block = (
            f'<a href="{link}" target="_blank">{headline}</a>&nbsp;&nbsp;'
            f'<font color="#6f6f6f">{publisher}</font>'
        )
        items.append(
            f"<item><title>{headline} - {publisher}</title><link>{link}</link>"
            f'<guid isPermaLink="false">CBMi{k:04d}</guid>'
            f"<pubDate>{format_datetime(at.astimezone(timezone.utc), usegmt=True)}</pubDate>"
            f"<description>{block.replace('&', '&amp;').replace('<', '&lt;')}</description>"
            f'<source url="https://{publisher.lower()}.example">{publisher}</source></item>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        '<title>"KPK" - Google Berita</title><link>https://news.google.com/</link>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _bing(article: str, headline: str, lead: str, publisher: str, at: datetime) -> bytes:
    """A Bing News search feed with one result, as Bing writes it (its snippet is the
    page's own description, not the outlet's RSS summary: only the link can tell)."""
    link = (
        "http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;aid=&amp;tid=1A2B&amp;url="
        + quote(article, safe="").lower()
        + "&amp;c=123&amp;mkt=id-id"
    )
    return (
        '<?xml version="1.0" encoding="utf-8" ?><rss version="2.0" '
        'xmlns:News="https://www.bing.com:443/news/search?q=KPK&amp;format=rss"><channel>'
        "<title>KPK - BingNews</title><link>https://www.bing.com/news/search?q=KPK</link>"
        f"<item><title>{headline}</title><link>{link}</link><description>{lead}</description>"
        f"<pubDate>{format_datetime(at.astimezone(timezone.utc), usegmt=True)}</pubDate>"
        f"<News:Source>{publisher}</News:Source></item></channel></rss>"
    ).encode()


def test_cli_google_news_copy_and_report_join_the_outlets_event(tmp_path: Path) -> None:
    """Detik's feed carries its report; a Google News search feed carries the same report
    (Detik's headline, Detik's time) and Kompas's own; a Bing News feed the same report
    again, linked through Bing. One alert, whose sources and event name the publishers, not
    "Google Berita: KPK"; headlines without the publisher's name; Bing's copy in Detik's
    own story, by the article's address."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    at = now - timedelta(minutes=40)
    headline = "KPK Tahan Bupati Lampung Timur Terkait Suap Proyek Jalan"
    detik = Entry(
        "https://news.detik.com/berita/d-1",
        headline,
        "Komisi Pemberantasan Korupsi (KPK) menahan Bupati Lampung Timur usai diperiksa "
        "sembilan jam di Gedung Merah Putih, Jakarta. Ia diduga menerima suap Rp 4,2 miliar "
        "dari kontraktor proyek peningkatan jalan kabupaten tahun anggaran 2025.",
        "https://news.detik.com/berita/d-1",
        at,
    )
    google = _google(
        [
            (headline, "detikNews", at),
            (
                "Bupati Lampung Timur Ditahan KPK, Diduga Terima Suap Rp 4,2 Miliar",
                "Kompas.id",
                at + timedelta(minutes=25),
            ),
        ]
    )
    topics = (
        "topics:\n  - {name: Lampung, query: Lampung, notify: [log]}\n"
        "notifiers:\n  log: {type: console}\n"
    )
    with LoopbackServer() as srv:
        feeds = [("Isi", srv.static("/isi.xml", rss("Isi", entries(5, ev.MIN_CORPUS + 20))))]
        # the corpus first (a new database merges nothing until it knows which words are rare)
        r = pantau("--config", str(write_config(tmp_path, feeds, topics)), "run", "--once")
        assert r.returncode == 0, r.stderr
        feeds += [
            ("Detik", srv.static("/detik.xml", rss("Detik", [detik]))),
            ("Google Berita: KPK", srv.static("/google.xml", google)),
            (
                "Bing: KPK",
                srv.static(
                    "/bing.xml",
                    _bing(
                        detik.link,
                        headline,
                        "Simak kronologi penahanan di Gedung Merah Putih.",
                        "detikNews",
                        at,
                    ),
                ),
            ),
        ]
        cfg = write_config(tmp_path, feeds, topics)
        r = pantau("--config", str(cfg), "run", "--once")
        assert r.returncode == 0, r.stderr
    alerts = json.loads(pantau("--config", str(cfg), "alerts", "--json").stdout)
    assert len(alerts) == 1, alerts
    a = alerts[0]
    assert sorted(s["outlet"] for s in a["sources"]) == [
        "Detik",
        "Kompas.id",
        "detikNews",
        "detikNews",
    ]
    assert all(" - " not in s["title"] for s in a["sources"])
    events = {
        e["id"]: e for e in json.loads(pantau("--config", str(cfg), "events", "--json").stdout)
    }
    # one outlet under the feed's name and Google's and Bing's: named once (daemon.outlets)
    detik_names = {"Detik", "detikNews"}
    outlets = events[a["event_id"]]["outlets"]
    assert len(outlets) == 2 and {outlets[0], "Kompas.id"} == {*outlets}, outlets
    assert outlets[0] in detik_names or outlets[1] in detik_names, outlets
    # the console notifier's line: the alert's outlet, then the others, Detik not again
    (line,) = [ln for ln in r.stdout.splitlines() if ln.startswith("[pantau] Lampung |")]
    assert a["outlet"] in detik_names
    assert line.endswith(" | juga: Kompas.id"), line
    stories = json.loads(pantau("--config", str(cfg), "stories", "--json").stdout)
    google_items = [i for s in stories for i in s["items"] if i["feed"] == "Google Berita: KPK"]
    assert sorted(i["outlet"] for i in google_items) == ["Kompas.id", "detikNews"]
    own = next(s for s in stories if any(i["feed"] == "Detik" for i in s["items"]))
    assert sorted((i["feed"], i["outlet"]) for i in own["items"]) == [
        ("Bing: KPK", "detikNews"),
        ("Detik", "Detik"),
    ]
    others = [
        i
        for s in stories
        for i in s["items"]
        if i["feed"] not in ("Google Berita: KPK", "Bing: KPK")
    ]
    assert all(i["outlet"] == i["feed"] for i in others)


def test_cli_full_text_is_not_fetched_through_google_news_links(tmp_path: Path) -> None:
    """A Google News link names the article by an opaque id that only Google's page
    resolves: with full text on, each item would be a request to Google for Google's page.
    Such items are not queued, and say why."""
    import sqlite3

    from daemon.pipeline.ingest import NO_ARTICLE_PAGE

    at = datetime.now(timezone.utc) - timedelta(minutes=30)
    google = _google(
        [("KPK Tahan Bupati Lampung Timur", "detikNews", at), ("Dewas KPK Periksa", "Tempo", at)]
    )
    with LoopbackServer() as srv:
        cfg = tmp_path / "config.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\n"
            "polling: {timeout: 3s}\n"
            "feeds:\n"
            f"  - {{url: '{srv.static('/google.xml', google)}', name: Google, fulltext: true}}\n"
        )
        r = pantau("--config", str(cfg), "run", "--once")
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(tmp_path / "p.db") as db:
        states = db.execute("SELECT fulltext_status FROM items").fetchall()
    assert states == [(NO_ARTICLE_PAGE,), (NO_ARTICLE_PAGE,)]
    assert "fulltext." not in r.stderr  # no fetch was tried, none fell back


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.google.com/rss/articles/CBMiqgFBVV95cUxN?oc=5", True),
        ("https://news.google.com/articles/CBMiqgFBVV95cUxN", True),
        ("https://news.google.com/search?q=KPK", False),
        ("https://news.google.com.evil.example/rss/articles/x", False),
        ("https://news.detik.com/berita/d-1/rss/articles/x", False),
        ("http://[::1", False),
    ],
)
def test_leads_nowhere(url: str, expected: bool) -> None:
    from daemon.feeds.urls import leads_nowhere

    assert leads_nowhere(url) is expected


@pytest.mark.parametrize(
    ("url", "feed"),
    [
        (
            "https://news.google.com/search?q=KPK&hl=id&gl=ID&ceid=ID%3Aid",
            "https://news.google.com/rss/search?q=KPK&hl=id&gl=ID&ceid=ID%3Aid",
        ),
        (
            "https://news.google.com/topics/CAAqJggKIiBDQkFTRWdvSUwyMHZNRFZxYUdjU0FtbGtHZ0pKUkNnQVAB?hl=id",
            "https://news.google.com/rss/topics/CAAqJggKIiBDQkFTRWdvSUwyMHZNRFZxYUdjU0FtbGtHZ0pKUkNnQVAB?hl=id",
        ),
        ("https://news.google.com/rss/search?q=KPK", None),
        (
            "https://www.bing.com/news/search?q=KPK",
            "https://www.bing.com/news/search?q=KPK&format=rss",
        ),
        ("https://www.bing.com/news/search?q=KPK&format=RSS", None),
        ("https://www.antaranews.com/rss/terkini.xml", None),
        ("http://[::1", None),
    ],
)
def test_feed_of_page(url: str, feed: str | None) -> None:
    from daemon.feeds.urls import feed_of_page

    assert feed_of_page(url) == feed


def test_a_google_news_web_page_says_where_its_feed_is() -> None:
    """The URL a browser shows is Google News' page, not its feed: the poll's error says
    which URL to configure."""
    page = b"<!doctype html><html><head><title>Google Berita</title></head><body></body></html>"
    got = parse.parse_feed(page, url="https://news.google.com/search?q=KPK&hl=id", now=NOW)
    assert got.error == (
        "not a feed: HTML page (title: 'Google Berita'); this is the web page, its feed is "
        "https://news.google.com/rss/search?q=KPK&hl=id"
    )
