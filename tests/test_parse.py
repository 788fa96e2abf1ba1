"""parse_feed over hand-written Indonesian fixtures (tests/fixtures/feeds) modelled on the
quirks of real outlet feeds, plus hostile bodies. Expected values are worked out by hand from
the fixture text; dates: WIB = UTC+7, WITA = UTC+8, WIT = UTC+9."""

from __future__ import annotations

import hashlib
import random
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest

from daemon.feeds.parse import (
    CONTENT_MAX,
    SUMMARY_HTML_MAX,
    SUMMARY_MAX,
    TITLE_HTML_MAX,
    TITLE_MAX,
    ParsedFeed,
    Refused,
    decode_body,
    neutralise_dtd,
    parse_feed,
    strip_html,
)
from tests.conftest import HOSTILE_GUARD_S
from tests.paths import REAL_FEEDS

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
CORPUS = REAL_FEEDS
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[misc]


def parse(name: str, url: str = "https://feed.example/rss.xml", **kw: object) -> ParsedFeed:
    kw.setdefault("now", NOW)
    return parse_feed((FIXTURES / name).read_bytes(), url=url, **kw)  # type: ignore[arg-type]


def assert_clean(feed: ParsedFeed) -> None:
    """Invariants every parsed item must hold, whatever the input."""
    for it in feed.items:
        assert it.identity.startswith(("guid:", "link:", "hash:"))
        assert it.published_at.tzinfo is not None
        assert len(it.title) <= TITLE_MAX and len(it.summary) <= SUMMARY_MAX
        assert len(it.content) <= CONTENT_MAX
        assert len(it.title_html) <= TITLE_HTML_MAX and len(it.summary_html) <= SUMMARY_HTML_MAX
        for field in (it.title, it.summary, it.content, it.author):
            assert "\x00" not in field and "\n" not in field and "\t" not in field
            assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in field)
        for field in (it.title_html, it.summary_html):
            assert "\x00" not in field


# --------------------------------------------------------------------------- fixtures


def test_antara_like_escaped_html_and_carriage_returns() -> None:
    feed = parse("antara_like.xml")
    assert (feed.error, feed.warning) == (None, None)
    assert feed.title == "KABARNUSA - Berita Terkini"
    assert feed.link == "https://www.kabarnusa.example/"
    first, second = feed.items
    url = "https://www.kabarnusa.example/berita/100201/harga-cabai-rawit-turun"
    assert first.identity == "guid:" + url
    assert first.guid == url and first.url == url
    assert first.title == "Harga cabai rawit di Pasar Induk turun tajam"
    assert first.summary == (
        "Harga cabai rawit merah di Pasar Induk Kramat Jati turun menjadi Rp45.000 per "
        "kilogram. Pedagang berharap harga stabil hingga Idul Adha ..."
    )
    assert "<img" in first.summary_html  # raw value kept for display
    assert first.content == ""
    assert first.published_at == utc(2025, 5, 6, 14, 45, 10)
    assert first.published_raw == "Tue, 06 May 2025 21:45:10 +0700"
    assert first.has_date is True
    assert second.title == "Bank sentral & OJK sepakat perkuat pengawasan pinjol"
    assert (
        second.summary
        == "Kedua lembaga menandatangani nota kesepahaman tentang pertukaran data ..."
    )
    assert second.published_at == utc(2025, 5, 6, 23, 3)
    assert_clean(feed)


@pytest.mark.parametrize(
    "headers",
    [None, {"Content-Type": "text/xml"}, {"content-type": "application/rss+xml"}],
)
def test_rss10_iso_8859_1(headers: dict[str, str] | None) -> None:
    feed = parse("rss10_latin1.xml", headers=headers)
    assert (feed.error, feed.warning) == (None, None)
    assert feed.title == "SiaranBuana.example | Berita Dunia"
    festival, rupiah = feed.items
    base = "http://www.siaranbuana.example/go/rss/-/indonesia/berita/2024/10/"
    assert festival.identity == f"guid:{base}241002_festival.shtml"  # rdf:about
    assert festival.url == f"{base}241002_festival.shtml"
    assert festival.title == "Festival film Prancis hadirkan sutradara Am\u00e9lie Durand"
    assert (
        festival.summary
        == "Tiket pemutaran perdana dijual Rp50.000 di kaf\u00e9 dan bioskop mitra."
    )
    assert festival.published_at == utc(2024, 10, 2, 8, 30)  # dc:date
    assert rupiah.title == "Rupiah menguat \u00b1 0,4 persen"
    assert rupiah.published_at == utc(2024, 10, 1, 23, 5, 41)  # "+0000" without colon
    assert_clean(feed)


def test_windows_1252_curly_quotes() -> None:
    feed = parse("cp1252_quotes.xml")
    assert (feed.error, feed.warning) == (None, None)
    (item,) = feed.items
    assert item.title == (
        "\u201cKami tidak akan mundur,\u201d kata ketua serikat \u2013 ribuan buruh berkumpul"
    )
    assert item.summary.endswith("kata mereka \u2018lagi\u2019.")
    assert "\u20ac" in item.summary
    assert item.published_at == utc(2025, 5, 1, 2, 30)


def test_iso_8859_1_declared_only_in_header_is_read_as_windows_1252() -> None:
    body = (FIXTURES / "cp1252_quotes.xml").read_bytes().replace(b' encoding="windows-1252"', b"")
    feed = parse_feed(
        body,
        url="https://kutipan.example/rss",
        headers={"Content-Type": "text/xml; charset=ISO-8859-1"},
    )
    assert feed.items[0].title.startswith("\u201cKami tidak akan mundur,\u201d")


def test_atom() -> None:
    feed = parse("atom.xml", url="https://wartahujan.example/feed.atom")
    assert (feed.error, feed.warning) == (None, None)
    assert feed.title == "Warta Hujan"
    assert feed.link == "https://wartahujan.example/"
    rob, krl = feed.items
    assert rob.identity == "guid:tag:wartahujan.example,2025:1001"
    assert rob.url == "https://wartahujan.example/2025/06/01/banjir-rob"  # relative href
    assert rob.title == "Banjir rob genangi pesisir utara"
    assert rob.title_html == "Banjir rob <em>genangi</em> pesisir utara"
    assert rob.author == "Sri Wahyuni"
    assert rob.summary == "Air laut pasang merendam permukiman nelayan."
    assert rob.content == (
        "Air laut pasang merendam permukiman nelayan. Sebanyak 120 warga mengungsi ke balai desa."
    )
    assert rob.published_at == utc(2025, 6, 1, 2, 15)  # published wins over updated
    # no summary: the content becomes the summary and is not repeated as content
    assert krl.summary == "Perjalanan KRL kembali normal sejak pukul 08.00."
    assert krl.content == ""
    assert krl.published_at == utc(2025, 6, 1, 2, 0)  # updated only
    assert_clean(feed)


def test_tempo_like_rss091_offsets_kept_and_titles_stripped() -> None:
    feed = parse("tempo_091.xml")
    assert (feed.error, feed.warning) == (None, None)
    garam, timnas = feed.items
    assert garam.title == "Petani Garam Madura Mulai Panen Raya"
    assert timnas.title == "Timnas U-23 Tiba di Tashkent"
    # +0100 is what the feed says; it is not "fixed" to WIB
    assert garam.published_at == utc(2025, 7, 14, 0, 30)
    assert timnas.published_at == utc(2025, 7, 13, 22, 55, 10)
    # content:encoded identical to the description is not kept twice
    assert garam.content == ""
    assert (
        garam.summary == "Petani garam di Sumenep mulai memanen setelah kemarau datang lebih awal."
    )


def test_republika_like_wordpress() -> None:
    feed = parse("republika_wp.xml")
    (item,) = feed.items
    url = "https://www.suarapagi.example/berita/ekonomi/25/07/30/sp1001-impor-beras-dihentikan"
    assert item.identity == "guid:" + url  # isPermaLink="false" still identifies
    assert item.url == url
    assert item.author == "Dewi Lestari Anggraini"
    lede = (
        "SUARAPAGI.EXAMPLE, JAKARTA \u2013 Pemerintah menghentikan impor beras mulai Agustus "
        "karena stok Bulog dinilai cukup."
    )
    assert item.summary == lede  # &nbsp; became a plain space, &ndash; a dash
    assert item.content == (
        lede
        + " Stok cadangan beras pemerintah kini mencapai 4 juta ton, tertinggi dalam lima tahun."
    )
    assert item.published_at == utc(2025, 7, 30, 0, 8, 2)


def test_liputan6_like_tracking_links_and_full_html() -> None:
    feed = parse("liputan6_like.xml")
    persib, emas = feed.items
    assert persib.identity == "guid:7700123"
    assert persib.url == "http://bola.sorot6.example/read/7700123/persib-juara-liga"
    assert persib.summary == (
        "Sorot6.example, Bandung - Persib memastikan gelar juara. Persib 2 Bali United 0 "
        "Selamat Maung Bandung! Laga berakhir Sabtu malam."
    )
    assert "jangan tampil" not in persib.summary  # script content dropped
    assert persib.content == ""  # the media:description caption is not article content
    assert emas.url == "http://bisnis.sorot6.example/read/7700124/harga-emas-antam-naik?page=2"
    assert feed.link == "http://www.sorot6.example/"


def test_indonesian_named_dates() -> None:
    feed = parse("indonesian_dates.xml")
    got = {it.title: (it.published_at, it.has_date) for it in feed.items}
    assert got == {
        "Satu": (utc(2025, 4, 24, 11, 20), True),
        "Dua": (utc(2025, 12, 5, 1, 0), True),
        "Tiga": (utc(2025, 5, 11, 22, 15), True),
        "Empat": (utc(2025, 8, 16, 13, 5, 30), True),
        "Lima": (utc(2025, 9, 30, 23, 45), True),
        "Enam": (utc(2025, 5, 13, 8, 37), True),
        "Tujuh": (utc(2025, 11, 9, 3, 0), True),  # no zone: Asia/Jakarta
    }


def test_feed_timezone_applies_to_zoneless_dates_only() -> None:
    feed = parse("indonesian_dates.xml", timezone="Asia/Makassar")
    got = {it.title: it.published_at for it in feed.items}
    assert got["Tujuh"] == utc(2025, 11, 9, 2, 0)
    assert got["Satu"] == utc(2025, 4, 24, 11, 20)  # WIB written in the feed still wins


def test_blank_guids_fall_back_to_links_for_the_whole_document() -> None:
    feed = parse("blank_guids.xml")
    assert [it.identity for it in feed.items] == [
        "link:https://kosong.example/a/1",
        "link:https://kosong.example/a/2",
        "link:https://kosong.example/a/3",
    ]
    assert [it.guid for it in feed.items] == ["k-1", None, None]


def test_repeated_guids_fall_back_to_links_and_exact_duplicates_collapse() -> None:
    feed = parse("repeated_guids.xml")
    assert [it.identity for it in feed.items] == [
        "link:https://ulang.example/berita/501",
        "link:https://ulang.example/berita/502",
        "link:https://ulang.example/berita/503",
    ]


def test_repeated_guids_and_links_fall_back_to_hash() -> None:
    feed = parse("repeated_links.xml")

    def h(link: str, title: str) -> str:
        return "hash:" + hashlib.sha256(f"{link}\n{title}".encode()).hexdigest()

    assert [it.identity for it in feed.items] == [
        h("https://beranda.example/", "Harga BBM hari ini"),
        h("https://beranda.example/", "Kurs rupiah melemah"),
    ]
    assert feed.items[0].summary == "edisi pagi"  # the first copy is kept


def test_future_missing_and_unreadable_dates_take_first_seen_time() -> None:
    now = utc(2025, 6, 1, 5, 0)  # 12:00 WIB
    feed = parse("future_and_nodate.xml", now=now)
    got = {it.title: (it.published_at, it.has_date, it.published_raw) for it in feed.items}
    assert got == {
        "Masa depan": (now, False, "Fri, 01 Jan 2100 00:00:00 +0700"),
        "Tanpa tanggal": (now, False, None),
        "Jam server cepat": (utc(2025, 6, 1, 5, 3), True, "Sun, 01 Jun 2025 12:03:00 +0700"),
        "Tidak terbaca": (now, False, "kemarin sore"),
    }


def test_not_well_formed_feed_is_recovered_with_a_warning() -> None:
    feed = parse("not_wellformed.xml")
    assert feed.error is None
    assert feed.warning is not None
    assert feed.warning.startswith("not well-formed XML (line 8)")
    assert feed.warning.endswith("2 entries recovered")
    assert [it.title for it in feed.items] == [
        "Sinetron Tom & Jerry versi lokal tayang perdana",
        "Festival kuliner digelar di Medan",
    ]
    assert feed.items[1].published_at == utc(2025, 6, 3, 13, 0)


def test_feedsportal_link_gives_way_to_guid() -> None:
    feed = parse("feedsportal.xml")
    (item,) = feed.items
    real = "http://kilat.example/read/2014/04/29/080540/2568/10/warga-antre-minyak-goreng"
    assert item.url == real
    assert item.identity == "guid:" + real
    assert item.summary == "Antrean mengular sejak subuh."  # tracking pixel gone
    assert item.published_at == utc(2014, 4, 29, 1, 10, 40)


def _feedparser_calls(doc: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    from daemon.feeds import parse as parse_module

    calls = []
    real = parse_module.run_feedparser

    def counting(prepared: str) -> object:
        calls.append(len(prepared))
        return real(prepared)

    monkeypatch.setattr(parse_module, "run_feedparser", counting)
    items = parse_feed(doc, url="https://kabar.example/rss", now=NOW).items
    return len(calls), len(items)


def test_reading_entry_by_entry_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flagged document is read again entry by entry only when entries look lost, and
    then in a bounded number of feedparser calls: "<item>" written 5,000 times inside one
    description's CDATA announces 5,000 entries (each chunk costs a call, however short);
    a feed whose entries have no link at all is not read again."""
    cdata = "<![CDATA[" + "<item> x " * 5000 + "]]>"
    items = "".join(
        f"<item><title>Judul {i}</title><link>https://kabar.example/{i}</link>"
        f"<description>{cdata if i == 0 else 'isi'}</description></item>"
        for i in range(20)
    )
    flagged = f"<rss version='2.0'><channel><title>x &</title>{items}</channel></rss>"
    calls, n = _feedparser_calls(flagged.encode(), monkeypatch)
    assert n == 20 and calls <= 1 + 251, calls
    linkless = "".join(
        f"<item><title>Judul {i}</title><description>isi {i} &</description></item>"
        for i in range(300)
    )
    calls, n = _feedparser_calls(
        f"<rss version='2.0'><channel>{linkless}<b></channel></rss>".encode(), monkeypatch
    )
    assert (calls, n) == (1, 300)


def test_a_google_alerts_feed_links_to_the_articles_themselves() -> None:
    """Google Alerts' RSS (Atom) sends every result through google.com/url: stored as is,
    that link was unique per alert, so a result never met the outlet's own copy by its
    URL, and full text fetched Google's redirect page. The article's address is read from
    it; the entry's id, Google's own, stays its identity."""
    doc = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<id>tag:google.com,2005:reader/user/1/state/com.google/alerts/2</id>"
        b"<title>Google Alert - KPK</title><updated>2025-11-24T03:00:00Z</updated>"
        b"<entry><id>tag:google.com,2013:googlealerts/feed:123</id>"
        b'<title type="html">&lt;b&gt;KPK&lt;/b&gt; tahan tersangka suap proyek jalan</title>'
        b'<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://www.antaranews.com'
        b'/berita/4567890/kpk-tahan-tersangka-suap&amp;ct=ga&amp;cd=CAIyHDk&amp;usg=AOvVaw2"/>'
        b"<published>2025-11-24T03:00:00Z</published><updated>2025-11-24T03:00:00Z</updated>"
        b'<content type="html">Komisi Pemberantasan Korupsi menahan tersangka suap</content>'
        b"</entry></feed>"
    )
    (item,) = parse_feed(doc, url="https://www.google.com/alerts/feeds/1/2", now=NOW).items
    assert item.url == "https://www.antaranews.com/berita/4567890/kpk-tahan-tersangka-suap"
    assert item.identity == "guid:tag:google.com,2013:googlealerts/feed:123"
    assert item.title == "KPK tahan tersangka suap proyek jalan"


@pytest.mark.parametrize(
    ("link", "redirector"),
    [
        ("http://Feeds.FeedBurner.com/~r/kilat/~3/abc/warga", True),
        ("https://FEEDPROXY.GOOGLE.COM:443/~r/kilat/~3/xyz", True),
        ("http://da.feedsportal.com/c/33/f/1/s/2/l/0L0S/story01.htm", True),
        ("https://kilat.example/read/feedburner.com-bukan-host", False),
        ("https://feedburner.com.kilat.example/read/1", False),
    ],
)
def test_only_a_redirector_host_gives_way_to_the_guid(link: str, redirector: bool) -> None:
    guid = "https://kilat.example/read/2025/06/03/warga-antre"
    doc = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>K</title><item>'
        f"<title>Warga antre</title><link>{link}</link><guid>{guid}</guid>"
        "<pubDate>Tue, 03 Jun 2025 08:00:00 +0700</pubDate></item></channel></rss>"
    ).encode()
    (item,) = parse_feed(doc, url="https://kilat.example/rss", now=NOW).items
    assert (item.url == guid) is redirector
    if not redirector:
        assert item.url is not None and "kilat.example" in item.url


def test_control_characters_and_invisible_characters() -> None:
    feed = parse("control_chars.xml")
    assert (feed.error, feed.warning) == (None, None)  # controls removed before XML parsing
    (item,) = feed.items
    assert item.title == "Gempa M5,2 guncang Cianjur, warga Ukraina dan Zelensky ikut berduka"
    assert item.summary == "Getaran terasa hingga Bandung."
    assert_clean(feed)


def test_html_error_page_is_not_a_feed() -> None:
    feed = parse("html_error.html")
    assert feed.items == []
    assert feed.error == "not a feed: HTML page (title: '502 Bad Gateway')"


# --------------------------------------------------------------------------- hostile input


def test_entity_bomb_is_defused_fast() -> None:
    body = (FIXTURES / "entity_bomb.xml").read_bytes()
    assert 100_000 < len(body) < 200_000
    start = time.perf_counter()
    feed = parse_feed(body, url="https://bom.example/rss", now=NOW)
    assert time.perf_counter() - start < HOSTILE_GUARD_S
    # refused as a whole and recorded on the feed (README.md, "Deviations"), nothing expanded or stored
    assert feed.items == [] and "declares XML entities" in (feed.error or "")
    tracemalloc.start()
    try:
        parse_feed(body, url="https://bom.example/rss", now=NOW)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40_000_000


def test_entity_declarations_hidden_behind_a_long_prolog_comment() -> None:
    body = (
        '<?xml version="1.0"?><!--' + "x" * 100_000 + "-->"
        '<!DOCTYPE rss [<!ENTITY besar "' + "a" * 10_000 + '">]>'
        "<rss version='2.0'><channel><title>t</title><item><title>"
        + "&besar;" * 2_000
        + "</title><link>https://a.example/1</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert feed.items == [] and "declares XML entities" in (feed.error or "")


def test_entity_declarations_past_any_prolog_scan_are_refused() -> None:
    """There is no scan window any more: a declaration anywhere refuses the document."""
    body = (
        '<?xml version="1.0"?><!--' + "x" * 300_000 + "-->"
        '<!DOCTYPE rss [<!ENTITY besar "' + "a" * 10_000 + '">]>'
        "<rss version='2.0'><channel><title>t</title><item><title>"
        + "&besar;" * 2_000
        + "</title><link>https://a.example/1</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert feed.items == [] and "declares XML entities" in (feed.error or "")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("<!DOCTYPE rss SYSTEM 'http://x/rss.dtd'>\n<rss/>", "\n<rss/>"),
        ("<!-- <rss> --><!DOCTYPE rss [<!ELEMENT a ANY>]><rss/>", "<!-- <rss> --><rss/>"),
        # inside CDATA it is text (found by feedparser's own test documents)
        ("<rss><![CDATA[<!DOCTYPE html>x]]></rss>", "<rss><![CDATA[<!DOCTYPE html>x]]></rss>"),
        ("<d><![CDATA[ <!DOCTYPE ]]></d>", "<d><![CDATA[ <!DOCTYPE ]]></d>"),
        ("<![CDATA[ unterminated <!DOCTYPE x>", "<![CDATA[ unterminated "),
        ("<!DOCTYPE rss [ unterminated", " unterminated"),
        ('<?pi <a?><!DOCTYPE rss SYSTEM "x"><rss/>', "<?pi <a?><rss/>"),
    ],
)
def test_neutralise_dtd(doc: str, expected: str) -> None:
    assert neutralise_dtd(doc) == expected


@pytest.mark.parametrize(
    "doc",
    [
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x">]><rss/>',
        '<!ENTITY a "x"><rss/>',
        '<rss><!entity a "x"></rss>',
        # re-formed by a single-pass removal
        '<!<!DOCTYPE z>DOCTYPE rss [<!<!DOCTYPE y>ENTITY a "x">]><rss/>',
        '<!<!DOCTYPE z>ENTITY a "x"><rss/>',
    ],
)
def test_neutralise_dtd_refuses_declarations(doc: str) -> None:
    with pytest.raises(Refused):
        neutralise_dtd(doc)


def _one_item_feed(title: bytes, extra: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
        b"<link>https://a.example/</link><item><title>" + title + b"</title>"
        b"<link>https://a.example/1</link><guid>g</guid>" + extra + b"</item></channel></rss>"
    )


def test_one_megabyte_title_is_capped_quickly() -> None:
    body = _one_item_feed(b"Banjir bandang " * 70_000)
    assert len(body) > 1_000_000
    start = time.perf_counter()
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert time.perf_counter() - start < HOSTILE_GUARD_S
    item = feed.items[0]
    assert len(item.title) <= TITLE_MAX and item.title.startswith("Banjir bandang Banjir")
    assert len(item.title_html) == TITLE_HTML_MAX


def test_windows_1252_bytes_inside_utf8_feed() -> None:
    body = _one_item_feed(b"Caf\xe9 \xe2\x80\x9cbaru\xe2\x80\x9d \x93lama\x94")
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert feed.items[0].title == "Caf\u00e9 \u201cbaru\u201d \u201clama\u201d"
    assert feed.warning == "invalid UTF-8 bytes read as windows-1252"


def test_utf8_wins_over_a_wrong_latin1_declaration() -> None:
    body = _one_item_feed("Kafé “x”".encode()).replace(b"UTF-8", b"ISO-8859-1")
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert feed.items[0].title == "Kafé “x”"
    assert feed.warning is not None and "read as UTF-8" in feed.warning


def test_double_encoded_utf8_is_repaired() -> None:
    # "L’Oreal “hebat”" encoded as UTF-8, read as windows-1252, encoded as UTF-8 again
    mojibake = "L\u00e2\u20ac\u2122Oreal \u00e2\u20ac\u0153hebat\u00e2\u20ac\u009d"
    body = _one_item_feed(mojibake.encode())
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert feed.items[0].title == "L’Oreal “hebat”"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \r\n ", "empty body"),
        (b'{"status": "error", "items": []}', "JSON or other non-XML text"),
        (
            b"<html><head><title>Akses &amp; Ditolak</title></head></html>",
            "HTML page (title: 'Akses & Ditolak')",
        ),
        (
            b"<?xml version='1.0'?><catatan><isi>bukan feed</isi></catatan>",
            "no RSS or Atom elements",
        ),
    ],
)
def test_not_a_feed(body: bytes, reason: str) -> None:
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert feed.items == []
    assert feed.error == "not a feed: " + reason


def test_random_bytes_never_raise() -> None:
    rng = random.Random(20250601)
    for size in (1, 10, 1000, 50_000):
        feed = parse_feed(rng.randbytes(size), url="https://a.example/rss", now=NOW)
        assert feed.items == [] and feed.error is not None and feed.error.startswith("not a feed")


def test_truncated_feed_keeps_whole_items() -> None:
    body = (FIXTURES / "antara_like.xml").read_bytes()
    cut = body[: body.index(b"<title>Bank sentral")]
    feed = parse_feed(cut, url="https://a.example/rss", now=NOW)
    assert feed.error is None
    assert feed.items[0].title == "Harga cabai rawit di Pasar Induk turun tajam"
    assert feed.warning is not None and "not well-formed" in feed.warning


def test_empty_but_valid_channel_is_not_an_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Sepi</title></channel></rss>'
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert (feed.items, feed.error, feed.title) == ([], None, "Sepi")


def test_max_items() -> None:
    items = b"".join(
        b"<item><title>Berita %d</title><link>https://a.example/%d</link></item>" % (i, i)
        for i in range(30)
    )
    body = b'<rss version="2.0"><channel><title>T</title>' + items + b"</channel></rss>"
    feed = parse_feed(body, url="https://a.example/rss", now=NOW, max_items=10)
    assert [it.title for it in feed.items] == [f"Berita {i}" for i in range(10)]
    assert feed.warning == "20 entries beyond the first 10 ignored"


def test_body_is_never_taken_for_a_path_or_url(tmp_path: Path) -> None:
    secret = tmp_path / "rahasia.xml"
    secret.write_bytes(_one_item_feed(b"RAHASIA"))
    for body in (str(secret).encode(), secret.as_uri().encode()):
        feed = parse_feed(body, url="https://a.example/rss", now=NOW)
        assert feed.items == [] and feed.error is not None


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Harga <b>naik</b> lagi", "Harga naik lagi"),
        ("<p>Satu</p><p>Dua</p>", "Satu Dua"),
        ("Ukra<i>ina</i>", "Ukraina"),
        ("&lt;img src=&quot;x.jpg&quot;&gt;Teks", "Teks"),
        ("&amp;lt;img src=x&amp;gt;Teks", "Teks"),  # escaped twice
        ("A &amp; B", "A & B"),
        ("harga &lt; Rp5.000", "harga < Rp5.000"),
        ("baris&#13;\nbaru", "baris baru"),
        ("<script>alert(1)</script>Aman", "Aman"),
        ("<style>p{}</style><!-- catatan -->Aman", "Aman"),
        ('Potongan ringkas <img src="https://a.example/x.jpg', "Potongan ringkas"),
        ("<!-- komentar tanpa penutup", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_strip_html(value: str | None, expected: str) -> None:
    assert strip_html(value, 1000) == expected


def test_strip_html_is_linear_on_hostile_markup() -> None:
    for hostile in ("<a" * 200_000, "<script>" * 100_000, "<!--" * 100_000, "&lt;" * 200_000):
        start = time.perf_counter()
        out = strip_html(hostile, 1000)
        assert time.perf_counter() - start < HOSTILE_GUARD_S
        assert len(out) <= 1000


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Kafé".encode(), None, "Kafé"),
        ("Kafé".encode("cp1252"), "text/xml; charset=windows-1252", "Kafé"),
        ("\ufeffKafé".encode("utf-16-le"), None, "Kafé"),
        (b"\xef\xbb\xbfKaf\xc3\xa9", None, "Kafé"),
        (b"Kaf\xe9", None, "Kafé"),
        (b"\x93kutip\x94", 'text/xml; charset="iso-8859-1"', "“kutip”"),
        (b"Kaf\xe9", "text/xml; charset=bogus-charset", "Kafé"),
    ],
)
def test_decode_body(body: bytes, content_type: str | None, expected: str) -> None:
    assert decode_body(body, content_type)[0] == expected


# --------------------------------------------------------------------------- real corpus


@pytest.mark.skipif(not CORPUS.is_dir(), reason="reference corpus not present")
def test_real_corpus_parses(capsys: pytest.CaptureFixture[str]) -> None:
    """A measure over real outlet feeds: every file yields items, no error, and every item has
    an identity, a title and an aware date. No corpus text is asserted."""
    files = sorted(CORPUS.glob("*.xml"))
    assert files
    total_items = 0
    start = time.perf_counter()
    for path in files:
        feed = parse_feed(path.read_bytes(), url="https://corpus.example/rss", now=NOW)
        assert feed.error is None, path.name
        assert feed.items, path.name
        assert feed.warning is None, (path.name, feed.warning)
        for it in feed.items:
            assert it.identity and it.title, path.name
            assert it.published_at.tzinfo is not None and it.has_date, path.name
        assert_clean(feed)
        total_items += len(feed.items)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(
            f"\n[corpus] {len(files)} files, {total_items} items, {total_items / elapsed:.0f} items/s"
        )
    assert total_items > 800


def test_first_seen_time_defaults_to_the_clock_in_utc() -> None:
    body = (FIXTURES / "future_and_nodate.xml").read_bytes()
    before = datetime.now(timezone.utc)
    feed = parse_feed(body, url="https://aneh.example/rss")
    after = datetime.now(timezone.utc)
    undated = next(it for it in feed.items if it.title == "Tanpa tanggal")
    assert before <= undated.published_at <= after and not undated.has_date
    assert undated.published_at.utcoffset() is not None
    assert undated.published_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


# ---------------------------------------------------------------- issue 24: hostile shapes

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
_CHANNEL = "<rss version='2.0'><channel><title>Kabar</title>"
_TAIL = "</channel></rss>"


def _item(n: int, title: str) -> str:
    return f"<item><title>{title}</title><link>https://a.example/{n}</link><guid>g{n}</guid></item>"


def _bomb_title() -> str:
    return "<item><title>" + "&a;" * 500 + "</title><link>https://a.example/b</link></item>"


@pytest.mark.parametrize(
    "prolog",
    [
        # a control character between "<!" and the keyword, removed after the checks used to be
        '<!\x01DOCTYPE rss [<!\x01ENTITY a "' + "A" * 5000 + '">]>',
        '<!\x0bENTITY a "' + "A" * 5000 + '">',
        # after a processing instruction that looks like the root element
        '<?pantau <a?><!DOCTYPE rss [<!ENTITY a "' + "A" * 5000 + '">]>',
        # re-formed after a single-pass removal
        '<!<!ENTITY z ">ENTITY a "' + "A" * 5000 + '">',
        '<!<!DOCTYPE z>DOCTYPE rss [<!<!DOCTYPE y>ENTITY a "' + "A" * 5000 + '">]>',
        # beyond any prolog scan window
        "<!--" + "x" * 300_000 + '--><!DOCTYPE rss [<!ENTITY a "' + "A" * 5000 + '">]>',
    ],
    ids=["ctrl-doctype", "ctrl-entity", "after-pi", "reformed-entity", "reformed-doctype", "far"],
)
def test_entity_declarations_are_refused_however_hidden(prolog: str) -> None:
    body = (_HEAD + prolog + _CHANNEL + _item(1, "Banjir") + _bomb_title() + _TAIL).encode()
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert feed.items == [] and (feed.error or "").startswith("refused"), feed.error


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"])
def test_utf32_and_utf16_without_bom(codec: str) -> None:
    """Read as UTF-8, these left a NUL between the letters of ``<!ENTITY``, which the
    checks did not see and the control-character removal then joined up."""
    ok = _HEAD.replace("UTF-8", codec[:6].upper()) + _CHANNEL + _item(1, "Banjir rob") + _TAIL
    feed = parse_feed(ok.encode(codec), url="https://a.example/rss", now=NOW)
    assert [it.title for it in feed.items] == ["Banjir rob"], feed.error
    bomb = '<!DOCTYPE rss [<!ENTITY a "' + "A" * 5000 + '">]>' + _CHANNEL + _bomb_title() + _TAIL
    feed = parse_feed(bomb.encode(codec), url="https://a.example/rss", now=NOW)
    assert feed.items == [] and (feed.error or "").startswith("refused")


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("&#55357;&#56833;", "Gempa \U0001f601"),  # an emoji as a surrogate pair: repaired
        ("&#xD83D;&#xDE01;", "Gempa \U0001f601"),
        ("&#xD800;", "Gempa \ufffd"),
        ("&#xDE01;&#xD83D;", "Gempa \ufffd\ufffd"),  # the wrong order is no pair
        ("&#x110000;", "Gempa \ufffd"),
        ("&#99999999999;", "Gempa \ufffd"),
        ("&#" + "9" * 5000 + ";", "Gempa \ufffd"),
        ("&#1;", "Gempa"),  # a control character, as a raw one: removed
        ("&#8217;", "Gempa \u2019"),  # a good one is untouched
    ],
)
def test_bad_character_references_cost_nothing(
    ref: str, expected: str, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import daemon.feeds.parse as parse_module

    monkeypatch.setattr(parse_module, "FAST_RSS", fast)
    body = (_HEAD + _CHANNEL + _item(1, "Gempa " + ref) + _item(2, "Banjir") + _TAIL).encode()
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert feed.error is None
    assert [it.title for it in feed.items] == [expected, "Banjir"]


def test_an_entry_feedparser_raises_on_costs_that_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """feedparser raising on the whole document (a field it chokes on): the document is read
    entry by entry and only the bad one is lost."""
    import daemon.feeds.parse as parse_module

    real = parse_module.run_feedparser

    def choking(prepared: str) -> object:
        if "Racun" in prepared:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(prepared)

    monkeypatch.setattr(parse_module, "run_feedparser", choking)
    monkeypatch.setattr(parse_module, "FAST_RSS", False)
    body = _HEAD + _CHANNEL + _item(1, "Satu") + _item(2, "Racun") + _item(3, "Tiga") + _TAIL
    feed = parse_feed(body.encode(), url="https://a.example/rss", now=NOW)
    assert feed.error is None and feed.title == "Kabar"
    assert [it.title for it in feed.items] == ["Satu", "Tiga"]


def test_an_entry_our_reading_raises_on_costs_that_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    import daemon.feeds.parse as parse_module

    real = parse_module.parse_date

    def choking(raw: str | None, tz: str) -> object:
        if raw and "1999" in raw:
            raise OverflowError("date value out of range")
        return real(raw, tz)

    monkeypatch.setattr(parse_module, "parse_date", choking)
    dated = "<item><title>Lama</title><link>https://a.example/9</link><pubDate>Fri, 31 Dec 1999 10:00:00 +0700</pubDate></item>"
    body = (_HEAD + _CHANNEL + _item(1, "Satu") + dated + _item(3, "Tiga") + _TAIL).encode()
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert [it.title for it in feed.items] == ["Satu", "Tiga"]
    assert "1 unreadable entries skipped" in (feed.warning or "")


def test_a_start_tag_with_100000_attributes_loses_its_attributes() -> None:
    attrs = " ".join(f'a{i}="1"' for i in range(100_000))
    body = (_HEAD + _CHANNEL + f"<item {attrs}>" + "<title>Banyak</title>"
            "<link>https://a.example/1</link></item>" + _item(2, "Dua") + _TAIL).encode()  # fmt: skip
    assert len(body) > 1_000_000
    start = time.perf_counter()
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert time.perf_counter() - start < HOSTILE_GUARD_S  # was 66 s: quadratic in attributes
    assert [it.title for it in feed.items] == ["Banyak", "Dua"]


def test_many_unterminated_doctypes_are_removed_in_one_pass() -> None:
    prolog = "<!DOCTYPE x [" * 200_000
    body = (_HEAD + prolog + _CHANNEL + _item(1, "Satu") + _TAIL).encode()
    start = time.perf_counter()
    feed = parse_feed(body, url="https://a.example/rss", now=NOW)
    assert time.perf_counter() - start < HOSTILE_GUARD_S  # was a rescan per declaration
    assert [it.title for it in feed.items] == ["Satu"], feed.error


def test_a_title_made_from_a_long_link_is_capped() -> None:
    """Found by the long fuzz run (seed 2024): an entry without title or summary takes its
    link as title, and a 4,000-character link made a title past TITLE_MAX."""
    link = "https://a.example/" + "panjang/" * 480
    body = (_HEAD + _CHANNEL + f"<item><link>{link}</link><guid>g</guid></item>" + _TAIL).encode()
    [item] = parse_feed(body, url="https://a.example/rss", now=NOW).items
    assert 0 < len(item.title) <= TITLE_MAX and item.url == link


def test_entry_by_entry_fallback_stays_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback parses each entry inside the document's opening tags: with a long head
    and many entries, what it hands feedparser stays within a few times the document."""
    import daemon.feeds.parse as parse_module

    real = parse_module.run_feedparser
    handed: list[int] = []

    def choking(prepared: str) -> object:
        handed.append(len(prepared))
        if "Racun" in prepared:
            raise ValueError("a field feedparser chokes on")
        return real(prepared)

    monkeypatch.setattr(parse_module, "run_feedparser", choking)
    monkeypatch.setattr(parse_module, "FAST_RSS", False)
    head = "<description>" + "Kabar panjang. " * 4_000 + "</description>"
    items = "".join(_item(i, "Racun" if i == 3 else f"Berita {i}") for i in range(900))
    body = _HEAD + _CHANNEL + head + items + _TAIL
    feed = parse_feed(body.encode(), url="https://a.example/rss", now=NOW)
    assert sum(handed) <= 5 * len(body) + 65_536, (sum(handed), len(body))
    assert len(feed.items) == 899 and "Racun" not in {it.title for it in feed.items}


# --- pointers to other articles inside a description ----------------------------------------

_STORY = (
    "<p>Penyerang tim tamu menegaskan dirinya masih layak bermain di level tertinggi meski "
    "jarang dimainkan sejak awal musim.</p>"
)
_RELATED = (
    '<div class="baca-juga"><p class="baca-juga__header">Baca Juga</p>'
    '<ul class="baca-juga__list">'
    '<li><a href="https://bola.example/1" title="x">Pelatih Juventus Puji Lini Tengah Muda</a></li>'
    '<li><a href="https://bola.example/2">Harga Tiket Final Naik Jadi Rp1.500.000</a></li>'
    "</ul></div>"
)
_AFTER = "<p>&quot;Saya masih bisa memberi gol untuk tim,&quot; ujarnya kepada wartawan.</p>"


@pytest.mark.parametrize(
    "block",
    [
        _RELATED,  # a label above a list of other articles (Liputan6)
        '<p><strong>Baca juga: <a href="https://bola.example/1">Pelatih Juventus Puji Lini '
        "Tengah Muda</a></strong></p>",  # one pointer as its own paragraph
        "<p>Berita Terkait :</p><ul><li>Pelatih Juventus Puji Lini Tengah Muda</li></ul>",
        "<br>Simak juga: Pelatih Juventus Puji Lini Tengah Muda<br>",
        # a pointer in parentheses inside a paragraph (Liputan6, 7 of 200)
        "<p>(Simak juga: Pelatih Juventus Puji Lini Tengah Muda? Ini Kata Dia!)</p>",
    ],
)
def test_a_description_loses_the_titles_it_points_to(block: str) -> None:
    """Another article's title in a description is not this story: a topic on "Juventus"
    alerted on a striker's interview, and grouping read the ticket price."""
    text = strip_html(_STORY + block + _AFTER, SUMMARY_MAX)
    assert "Juventus" not in text and "Rp1.500.000" not in text and "Baca" not in text
    assert text.startswith("Penyerang tim tamu") and text.endswith("kepada wartawan.")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (  # one line, no HTML: nothing tells a pointer from the story
            "Baca juga keterangan resmi di laman BMKG sebelum bepergian.",
            "Baca juga keterangan resmi di laman BMKG sebelum bepergian.",
        ),
        (  # a pointer and nothing else: kept rather than leave an empty description
            "<p>Baca juga: Pelatih Juventus Puji Lini Tengah Muda</p>",
            "Baca juga: Pelatih Juventus Puji Lini Tengah Muda",
        ),
        (  # "Berita terkait" opening a sentence is news, not a label
            "<p>Warga diminta membaca juga peringatan dini.</p><p>Berita terkait banjir ini "
            "terus diperbarui.</p>",
            "Warga diminta membaca juga peringatan dini. Berita terkait banjir ini terus "
            "diperbarui.",
        ),
        (  # a parenthesis that points nowhere stays
            "<p>Warga (baca: penghuni rumah susun) menolak relokasi.</p>",
            "Warga (baca: penghuni rumah susun) menolak relokasi.",
        ),
        (  # a list under no label is the story's
            "<p>Bantuan:</p><ul><li>Beras 10 ton</li><li>Posko kesehatan</li></ul>",
            "Bantuan: Beras 10 ton Posko kesehatan",
        ),
    ],
)
def test_text_that_only_looks_like_a_pointer_is_kept(value: str, expected: str) -> None:
    assert strip_html(value, SUMMARY_MAX) == expected


def test_a_topic_on_a_pointed_to_title_raises_no_alert_through_the_cli(tmp_path: Path) -> None:
    """As a desk meets it: a feed whose descriptions end in a "Baca Juga" list (Liputan6's
    shape); a topic on a title in that list must not alert on the story that carries it,
    and a topic on the story still does."""
    import json

    from daemon.demo.loopback import LoopbackServer
    from tests.feedgen import Entry, rss
    from tests.test_pipeline import pantau, write_config

    now = datetime.now(timezone.utc)
    link = "https://bola.example/read/1"
    entry = Entry(link, "Penyerang tim tamu tetap percaya diri", _STORY + _RELATED + _AFTER,
                  link, now)  # fmt: skip
    with LoopbackServer() as srv:
        url = srv.static("/bola.xml", rss("Bola", [entry]))
        topics = (
            "topics:\n  - {name: Juventus, query: 'Juventus', notify: [log]}\n"
            "  - {name: Penyerang, query: 'penyerang', notify: [log]}\n"
            "notifiers:\n  log: {type: console}\n"
        )
        cfg = write_config(tmp_path, [("Bola", url)], topics)
        run = pantau("--config", str(cfg), "run", "--once")
        assert run.returncode == 0, run.stderr
    alerts = json.loads(pantau("--config", str(cfg), "alerts", "--json").stdout)
    assert [a["topic"] for a in alerts] == ["Penyerang"]


def test_an_entity_escaped_twice_is_read_once_more() -> None:
    """Tempo's feed writes a closing quote as "&amp;quot;" inside CDATA: decoded once it
    was "&quot;" in the stored summary, in alerts and on the dashboard."""
    value = "“Kalau dirugikan pasti melapor. Itu saja indikasinya.&amp;quot; Sejauh ini aman."
    assert strip_html(value, SUMMARY_MAX) == (
        '“Kalau dirugikan pasti melapor. Itu saja indikasinya." Sejauh ini aman.'
    )
    # a "<" decoded twice is text, never a tag: "&amp;lt;" stays "&lt;" after the first pass
    assert strip_html("nilai &amp;lt; 5 persen", SUMMARY_MAX) == "nilai &lt; 5 persen"
