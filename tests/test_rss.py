"""daemon.feeds.rss must give feedparser's answer or none: every document is parsed both ways
(``parse.FAST_RSS`` on and off) and the results compared field by field."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from html import escape
from pathlib import Path

import pytest

from daemon.feeds import parse, rss
from tests.paths import REAL_FEEDS

pytestmark = pytest.mark.filterwarnings(
    "ignore:To avoid breaking existing software:DeprecationWarning"
)

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "feeds").iterdir())
DEMO = sorted((ROOT / "daemon" / "demo" / "feeds").glob("*.xml"))
CORPUS = REAL_FEEDS  # the shared corpus beside the checkout, if there (tests/paths.py)
URL = "https://www.contoh.co.id/rss"


def both(body: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[parse.ParsedFeed, ...]:
    monkeypatch.setattr(parse, "FAST_RSS", True)
    fast = parse.parse_feed(body, url=URL, now=NOW)
    monkeypatch.setattr(parse, "FAST_RSS", False)
    slow = parse.parse_feed(body, url=URL, now=NOW)
    return fast, slow


def takes_fast_path(body: bytes) -> bool:
    try:
        prepared = parse.prepare_xml(parse.decode_body(body, None)[0])
    except parse.Refused:
        return False
    return rss.read(prepared) is not None


@pytest.mark.parametrize("path", FIXTURES + DEMO, ids=lambda p: p.name)
def test_fixture_same_as_feedparser(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both(path.read_bytes(), monkeypatch)
    assert fast == slow


def test_common_shapes_take_the_fast_path() -> None:
    """The plain RSS 2.0 fixtures (WordPress with content:encoded and dc:creator, Media RSS
    like Liputan6, RSS 0.91 with an item image like Tempo, Antara's plain items) are read
    without feedparser; Atom, RSS 1.0, a windows-1252 declaration and broken XML are not."""
    fast = {p.name for p in FIXTURES + DEMO if takes_fast_path(p.read_bytes())}
    assert {
        "antara_like.xml", "republika_wp.xml", "liputan6_like.xml", "indonesian_dates.xml",
        "feedsportal.xml", "repeated_guids.xml", "control_chars.xml", "tempo.xml",
        "republika.xml", "ihram.xml", "detik.xml", "google_news.xml",
    } <= fast  # fmt: skip
    assert not fast & {
        "atom.xml", "rss10_latin1.xml", "cp1252_quotes.xml", "not_wellformed.xml",
        "entity_bomb.xml", "html_error.html",
    }  # fmt: skip


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus of real feeds is not here")
def test_real_feeds_same_as_feedparser(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sorted(CORPUS.glob("*.xml"))
    fast_count = 0
    for path in paths:
        body = path.read_bytes()
        fast, slow = both(body, monkeypatch)
        assert fast == slow, path.name
        fast_count += takes_fast_path(body)
    assert fast_count >= len(paths) // 2


# --------------------------------------------------------------------------- generated

TEXTS = [
    "Harga emas Antam naik Rp 5.000 per gram",
    "  spasi di depan dan di belakang \n\t ",
    "Kata &amp; tanda &lt;b&gt;tebal&lt;/b&gt; di judul",
    "<![CDATA[<p>Paragraf <b>HTML</b> &amp; entitas</p>]]>",
    "<![CDATA[Teks biasa dalam CDATA]]>",
    "Mojibake: Ã© dan Ã¢â‚¬â„¢",
    "KafÃ© dan rÃ©sumÃ© (UTF-8 dibaca sebagai Latin-1)",
    "Kontrol C1: \u0085 \u0096 \u0092 akhir",
    "Spasi\u00a0tak\u00a0putus dan &nbsp; entitas HTML",
    "",
    "   ",
    "Ada <!-- komentar --> di tengah",
    "Emoji 🇮🇩 dan é à ü",
    "&#8220;Kutipan&#8221; &#x2014; panjang",
    "Nilai 10 &lt; 20 &amp;&amp; benar",
    "Teks &amp;lt;img src=x&amp;gt; ganda",
    "Teks dengan &lt;/b&gt; tutup dan &amp;copy;",
    "Tanda &amp; saja",
    "Deskripsi media biasa tanpa tag",
]
LINKS = [
    "https://www.contoh.co.id/berita/1",
    "http:///www.contoh.co.id//berita/2",
    "https://www.contoh.co.id/a?x=1&amp;utm_source=rss&amp;y=2",
    "https://www.contoh.co.id/a?x=1&amp;amp;y=2",
    "/berita/relatif-3",
    "javascript:alert(1)",
    "  https://www.contoh.co.id/berita/spasi  ",
    "",
    "https://feeds.feedburner.com/~r/contoh/~3/abc/",
    "https://www.contoh.co.id/berita/é-unicode",
    "HTTPS://WWW.Contoh.CO.ID/Berita/5#frag",
]
DATES = [
    "Fri, 28 Apr 2017 07:08:02 +0700",
    "Kamis, 16 Des 2021 20:20 WIB",
    "2025-03-01T10:00:00+07:00",
    "  Mon, 01 Jan 2024 00:00:00 GMT  ",
    "bukan tanggal",
    "",
]
NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "media": "http://search.yahoo.com/mrss/",
    "atom": "http://www.w3.org/2005/Atom",
    "slash": "http://purl.org/rss/1.0/modules/slash/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
    "x": "http://contoh.example/ns/",
}


def _el(tag: str, value: str, attrs: str = "") -> str:
    return f"<{tag}{attrs}>{value}</{tag}>"


def _item(r: random.Random, rare: float) -> str:
    parts: list[str] = []
    k = r.random
    if k() < 0.9:
        parts.append(_el("title", r.choice(TEXTS)))
    if k() < 0.85:
        parts.append(_el("link", r.choice(LINKS)))
    if k() < 0.8:
        attr = r.choice(["", "", ' isPermaLink="false"', ' isPermaLink="true"',
                         ' isPermaLink="True"', ' ISPERMALINK="false"'])  # fmt: skip
        parts.append(_el("guid", r.choice(LINKS + ["id-123", "  id-spasi "]), attr))
    if k() < 0.8:
        parts.append(_el("description", r.choice(TEXTS)))
    if k() < 0.7:
        parts.append(_el("pubDate", r.choice(DATES)))
    if k() < 0.2:
        parts.append(_el("dc:date", r.choice(DATES)))
    if k() < 0.3:
        parts.append(_el("author", r.choice(["redaksi@contoh.co.id (Budi)", "Ani", " ", ""])))
    if k() < 0.3:
        parts.append(_el("dc:creator", r.choice(["Nidia Zuraya", "Tim Redaksi", ""])))
    if k() < 0.3:
        parts.append(_el("content:encoded", r.choice(TEXTS)))
    if k() < 0.3:
        parts.append(_el("category", r.choice(TEXTS[:3]), r.choice(["", ' domain="x"'])))
    if k() < 0.2:
        parts.append(
            '<enclosure url="https://img.contoh.co.id/a.jpg" length="1" type="image/jpeg"/>'
        )
    if k() < 0.2:
        parts.append(_el("comments", r.choice(LINKS)))
    if k() < 0.25:
        inner = "".join(
            r.sample(
                [
                    _el("media:title", r.choice(TEXTS)),
                    _el("media:credit", "Foto"),
                    _el("media:description", r.choice(TEXTS)),
                    '<media:thumbnail url="https://img.contoh.co.id/t.jpg"/>',
                ],
                r.randint(0, 3),
            )
        )
        parts.append(f'<media:content url="https://img.contoh.co.id/b.jpg">{inner}</media:content>')
    if k() < 0.15:
        parts.append(_el("media:title", r.choice(TEXTS)))
    if k() < 0.15:
        parts.append(_el("media:description", r.choice(TEXTS)))
    if k() < 0.1:
        parts.append(_el("media:copyright", "Hak cipta"))
    if k() < 0.1:
        parts.append(_el("image", "<url>https://img.contoh.co.id/c.jpg</url>"))
    if k() < 0.08:
        parts.append(_el("url", "https://img.contoh.co.id/d.jpg"))
    # rarer shapes the fast path must decline or get right
    if k() < rare * 0.05:
        parts.append(_el("title", r.choice(TEXTS)))  # a second title
    if k() < rare * 0.05:
        parts.append(_el("description", "teks <b>tidak</b> di-escape"))  # raw markup
    if k() < rare * 0.04:
        parts.append(_el("link", r.choice(LINKS), ' xml:base="https://lain.example/"'))
    if k() < rare * 0.04:
        parts.append(_el("x:title", r.choice(TEXTS)))
    if k() < rare * 0.04:
        parts.append('<atom:link href="https://www.contoh.co.id/atom" rel="alternate"/>')
    if k() < rare * 0.04:
        parts.append(_el("title", r.choice(TEXTS), ' type="html"'))
    if k() < 0.15:  # an aggregator's publisher (Google News), in its shapes
        parts.append(
            _el(
                "source",
                r.choice(["Sumber", "detikNews", " Kompas &amp; Co ", "", "<![CDATA[Tempo]]>"]),
                r.choice(["", ' url="https://sumber.example/rss"', ' url=""', ' URL="x"']),
            )
        )
        if k() < 0.5:
            parts.append(_el("title", r.choice(TEXTS) + " - Sumber"))
        if k() < 0.5:
            block = '<a href="https://news.google.com/a">Judul</a>&nbsp;<font>Sumber</font>'
            parts.append(_el("description", escape(block)))
    if k() < rare * 0.04:
        parts.append(_el("source", "Lagi", ' url="https://lain.example/rss"'))  # a second one
    if k() < rare * 0.03:
        parts.append(_el("source", "<b>Sumber</b>"))  # markup inside: feedparser's to read
    if k() < rare * 0.03:
        parts.append(_el("dc:title", r.choice(TEXTS)))
    if k() < rare * 0.03:
        parts.append(_el("summary", r.choice(TEXTS)))
    r.shuffle(parts) if k() < 0.5 else None
    attrs = ' xml:base="https://basis.example/"' if k() < rare * 0.03 else ""
    return f"<item{attrs}>" + "\n".join(parts) + "</item>\n"


def _document(r: random.Random) -> bytes:
    decl = r.choice(
        [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            "<?xml version='1.0' encoding='utf-8'?>",
            '<?xml version="1.0"?>\n',
            "",
            '<?xml version="1.0" encoding="ISO-8859-1"?>',
            '<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/css" href="a.css"?>',
        ]
    )
    ns = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items())
    version = r.choice(
        ['version="2.0"'] * 4 + ['version="0.91"', "", 'version="2.0" xml:lang="id"']
    )
    chan = []
    if r.random() < 0.95:
        chan.append(_el("title", r.choice(TEXTS)))
    if r.random() < 0.9:
        chan.append(_el("link", r.choice(LINKS)))
    chan.append(_el("description", "Berita terkini"))
    if r.random() < 0.3:
        rel = r.choice(["self", "self", "alternate", ""])
        rel_attr = f' rel="{rel}"' if rel else ""
        chan.append(
            f'<atom:link href="https://www.contoh.co.id/rss"{rel_attr} type="application/rss+xml"/>'
        )
    if r.random() < 0.3:
        chan.append("<image><url>https://img.contoh.co.id/logo.png</url><title>Logo</title>"
                    "<link>https://www.contoh.co.id/</link></image>")  # fmt: skip
    if r.random() < 0.2:
        chan.append(_el("lastBuildDate", r.choice(DATES)) + _el("language", "id"))
    if r.random() < 0.05:
        chan.append(_el("dc:title", "Judul lain"))
    r.shuffle(chan)
    rare = r.choice([0.0, 1.0])
    items = "".join(_item(r, rare) for _ in range(r.randint(0, 6)))
    at = r.randint(0, len(chan))
    body = "".join(chan[:at]) + items + "".join(chan[at:])
    doc = f"{decl}<rss {version} {ns}><channel>{body}</channel></rss>"
    return doc.encode("utf-8")


def test_generated_documents_same_as_feedparser(monkeypatch: pytest.MonkeyPatch) -> None:
    r = random.Random(20261127)
    fast_docs = fast_items = 0
    for n in range(1500):
        body = _document(r)
        fast, slow = both(body, monkeypatch)
        assert fast == slow, f"document {n}:\n{body.decode()}"
        if takes_fast_path(body):
            fast_docs += 1
            fast_items += len(slow.items)
    # the fast path must actually be exercised, not decline everything
    assert fast_docs > 200 and fast_items > 200, (fast_docs, fast_items)
