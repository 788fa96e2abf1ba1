"""Full text: article pages in the layouts of Detik, Kompas, Republika and IHRAM, served on a
real loopback server, fetched and extracted through the real fetcher."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.demo.loopback import LoopbackServer, send
from daemon.feeds.fetch import Fetcher, FetchPolicy
from daemon.pipeline.fulltext import (
    RATE_LIMITED,
    ArticleFetcher,
    FulltextPolicy,
    decode_html,
    extract_text,
    filter_lines,
    home_redirect,
    host_is_private,
    html_problem,
    next_page_url,
)
from daemon.ratelimit import RateLimiter

ARTICLES = Path(__file__).parent / "fixtures" / "articles"
EXPECTED = json.loads((ARTICLES / "expected.json").read_text(encoding="utf-8"))
HTML = "text/html; charset=utf-8"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:  # one per module: each shutdown costs a 0.5 s poll
        yield srv


@pytest.fixture
def server(_shared_server: LoopbackServer) -> LoopbackServer:
    """The shared server with no routes and no recorded hits."""
    _shared_server.routes.clear()
    _shared_server.hits.clear()
    return _shared_server


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(FetchPolicy(timeout=5.0, max_bytes=2 * 1024 * 1024))
    yield f
    f.close()


def serve_article(server: LoopbackServer, name: str) -> str:
    """Serve every page of a fixture article; return the first page's URL."""
    pages = EXPECTED["articles"][name]["pages"]
    for path, file in pages.items():
        server.static(path, (ARTICLES / file).read_bytes(), HTML)
    return server.url(next(iter(pages)))


def paragraphs(body: str) -> list[str]:
    return [p for p in body.split("\n\n") if p]


def page(paras: list[str], extra: str = "") -> bytes:
    inner = "".join(f"<p>{p}</p>" for p in paras)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>'
        f'<div class="read__content">{inner}{extra}</div></body></html>'
    ).encode()


LEDE = (
    "Pemerintah daerah menyiapkan anggaran tambahan untuk memperbaiki jembatan yang rusak "
    "akibat banjir di tiga kecamatan, kata kepala dinas pekerjaan umum setempat."
)


# ---------------------------------------------------------------- layouts, end to end


@pytest.mark.parametrize("name", ["detik", "kompas", "republika", "ihram", "generic"])
def test_layout_yields_body_and_no_boilerplate(
    server: LoopbackServer, fetcher: Fetcher, name: str
) -> None:
    art = EXPECTED["articles"][name]
    url = serve_article(server, name)
    res = ArticleFetcher(fetcher, FulltextPolicy()).fetch_text(url, feed_is_private=True)
    assert res.text is not None, res.status
    assert res.status.startswith("ok")
    got = paragraphs(res.text)
    for para in art["body"]:
        assert got.count(para) == 1, para[:60]
    for junk in art["boilerplate"]:
        assert junk not in res.text, junk
    assert res.pages == len(art["pages"])
    assert res.bytes_fetched == sum((ARTICLES / f).stat().st_size for f in art["pages"].values())
    assert res.elapsed > 0


@pytest.mark.parametrize("name", ["detik", "kompas"])  # "/2" and "?page=2"
def test_two_page_article_is_followed_once(
    server: LoopbackServer, fetcher: Fetcher, name: str
) -> None:
    art = EXPECTED["articles"][name]
    url = serve_article(server, name)
    res = ArticleFetcher(fetcher, FulltextPolicy()).fetch_text(url, feed_is_private=True)
    assert res.status == "ok (2 pages)" and res.pages == 2
    assert paragraphs(res.text or "") == art["body"]  # both pages, in order, each once
    assert [h.path for h in server.hits] == list(art["pages"])


def numbered_pages(server: LoopbackServer, n: int) -> str:
    for i in range(1, n + 1):
        nxt = f'<a href="/seri/artikel?page={i + 1}">Selanjutnya</a>' if i < n else ""
        paras = [f"Bagian {i}: {LEDE}", f"Kalimat penutup bagian {i} dari laporan panjang ini."]
        server.static(
            f"/seri/artikel?page={i}" if i > 1 else "/seri/artikel", page(paras, nxt), HTML
        )
    return server.url("/seri/artikel")


def test_max_pages_is_respected(server: LoopbackServer, fetcher: Fetcher) -> None:
    url = numbered_pages(server, 5)
    res = ArticleFetcher(fetcher, FulltextPolicy(max_pages=2)).fetch_text(url, feed_is_private=True)
    assert res.pages == 2 and res.status == "ok (2 pages)"
    assert "Bagian 2:" in (res.text or "") and "Bagian 3:" not in (res.text or "")
    assert server.count("/seri/artikel?page=3") == 0
    res = ArticleFetcher(fetcher, FulltextPolicy(max_pages=10)).fetch_text(
        url, feed_is_private=True
    )
    assert res.pages == 5 and all(f"Bagian {i}:" in (res.text or "") for i in range(1, 6))


def test_pager_that_loops_back_is_not_a_second_page(
    server: LoopbackServer, fetcher: Fetcher
) -> None:
    body = page(
        [LEDE, "Paragraf kedua yang cukup panjang untuk dihitung sebagai isi."],
        '<a href="/x?page=2">2</a>',
    )
    server.static("/x", body, HTML)
    server.static("/x?page=2", body, HTML)  # the site serves page 1 for any page number
    res = ArticleFetcher(fetcher).fetch_text(server.url("/x"), feed_is_private=True)
    assert res.status == "ok" and res.pages == 1
    assert (res.text or "").count(LEDE) == 1


def test_second_page_failure_keeps_the_first(server: LoopbackServer, fetcher: Fetcher) -> None:
    server.static("/y", page([LEDE, LEDE + " Lanjutan."], '<a href="/y/2">2</a>'), HTML)
    res = ArticleFetcher(fetcher).fetch_text(server.url("/y"), feed_is_private=True)
    assert res.text is not None and LEDE in res.text
    assert res.status == "ok; page 2 failed: HTTP 404 Not Found"


# ---------------------------------------------------------------- fallbacks with a reason


def test_paywall_stub_is_too_little_text(server: LoopbackServer, fetcher: Fetcher) -> None:
    pw = EXPECTED["paywall"]
    server.static(pw["path"], (ARTICLES / pw["file"]).read_bytes(), HTML)
    res = ArticleFetcher(fetcher).fetch_text(server.url(pw["path"]), feed_is_private=True)
    assert res.text is None
    assert res.status.startswith("too little text (") and res.status.endswith(": paywall?")
    shown = int(res.status.split("(")[1].split(" ")[0])
    assert 0 < shown < FulltextPolicy().min_chars


def test_short_page_without_paywall_words(server: LoopbackServer, fetcher: Fetcher) -> None:
    server.static("/pendek", page(["Hanya satu kalimat pendek."]), HTML)
    res = ArticleFetcher(fetcher).fetch_text(server.url("/pendek"), feed_is_private=True)
    assert res.text is None and res.status == "too little text (26 chars)"


def test_404_reason(server: LoopbackServer, fetcher: Fetcher) -> None:
    res = ArticleFetcher(fetcher).fetch_text(server.url("/hilang"), feed_is_private=True)
    assert res.text is None and res.status == "HTTP 404 Not Found" and res.pages == 0


def test_redirect_to_home_page(server: LoopbackServer, fetcher: Fetcher) -> None:
    home = page([LEDE] * 1 + [f"Berita utama nomor {i} hari ini di portal." for i in range(30)])
    server.static("/", home, HTML)
    server.route("/berita/dihapus", lambda r: send(r, 301, b"", {"Location": "/"}))
    res = ArticleFetcher(fetcher).fetch_text(server.url("/berita/dihapus"), feed_is_private=True)
    assert res.text is None and res.status == "redirected to the home page"
    assert server.count("/") == 1  # it was followed, then recognised


@pytest.mark.parametrize(
    ("ctype", "body", "reason"),
    [
        ("application/pdf", b"%PDF-1.7 ...", "not HTML (application/pdf)"),
        ("application/json", b'{"html": "<p>x</p>"}', "not HTML (application/json)"),
        ("text/plain", b"<html><p>teks</p></html>", "not HTML (text/plain)"),
    ],
)
def test_non_html_is_refused(
    server: LoopbackServer, fetcher: Fetcher, ctype: str, body: bytes, reason: str
) -> None:
    server.static("/berkas", body, ctype)
    res = ArticleFetcher(fetcher).fetch_text(server.url("/berkas"), feed_is_private=True)
    assert res.text is None and res.status == reason


def test_bad_link_is_refused_without_fetching(server: LoopbackServer, fetcher: Fetcher) -> None:
    af = ArticleFetcher(fetcher)
    for link in ("", "javascript:alert(1)", "/relative/path", "file:///etc/passwd"):
        res = af.fetch_text(link, feed_is_private=True)
        assert res.text is None and res.status.startswith("bad article link"), link
    assert server.hits == []


# ---------------------------------------------------------------- limits


def test_per_host_rate_limit_defers_without_fetching(
    server: LoopbackServer, fetcher: Fetcher
) -> None:
    clock = FakeClock()
    server.static("/a", page([LEDE, LEDE + " Dua."]), HTML)
    af = ArticleFetcher(fetcher, FulltextPolicy(per_host_per_minute=3), clock=clock)
    for _ in range(3):
        assert af.fetch_text(server.url("/a"), feed_is_private=True).status == "ok"
    res = af.fetch_text(server.url("/a"), feed_is_private=True)
    assert res.text is None and res.status == RATE_LIMITED
    assert res.retry_after == pytest.approx(20.0)  # one token per 60/3 s
    assert server.count("/a") == 3
    clock.now += 20.0
    assert af.fetch_text(server.url("/a"), feed_is_private=True).status == "ok"
    assert server.count("/a") == 4


def test_rate_limiter_is_per_host_and_thread_safe() -> None:
    clock = FakeClock()
    lim = RateLimiter.per_minute(20, clock=clock)
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            w = lim.reserve("news.detik.com")[1]
            with lock:
                granted.append(w)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(0.0) == 20 and len(granted) == 80
    assert lim.reserve("nasional.kompas.com") == (True, 0.0)  # another host, its own bucket
    assert lim.reserve("news.detik.com") == (False, pytest.approx(3.0))
    lim.defer("nasional.kompas.com", 90)
    assert lim.reserve("nasional.kompas.com") == (False, pytest.approx(90.0))
    assert RateLimiter.per_minute(0).reserve("x") == (True, 0.0)  # 0: no spacing


def test_rate_limiter_forgets_idle_hosts() -> None:
    clock = FakeClock()
    lim = RateLimiter.per_minute(60, clock=clock, max_keys=10)
    for i in range(50):
        lim.reserve(f"h{i}.example")
        clock.now += 5.0  # every earlier bucket refills
    assert len(lim) <= 11


def test_429_sets_retry_after_and_defers_the_host(server: LoopbackServer, fetcher: Fetcher) -> None:
    server.static("/sibuk", b"slow down", "text/plain", status=429, headers={"Retry-After": "120"})
    clock = FakeClock()
    af = ArticleFetcher(fetcher, clock=clock)
    res = af.fetch_text(server.url("/sibuk"), feed_is_private=True)
    assert res.status == "HTTP 429 Too Many Requests" and res.retry_after == pytest.approx(120)
    again = af.fetch_text(server.url("/lain"), feed_is_private=True)
    assert again.status == RATE_LIMITED and again.retry_after == pytest.approx(120)
    assert server.count("/lain") == 0


def test_loopback_article_refused_for_a_public_feed(
    server: LoopbackServer, fetcher: Fetcher
) -> None:
    url = serve_article(server, "republika")
    res = ArticleFetcher(fetcher).fetch_text(url, feed_is_private=False)
    assert res.text is None and "private address" in res.status
    assert server.hits == []
    assert host_is_private(server.url("/feed.xml"))
    assert not host_is_private("https://news.example/feed", resolve=lambda h: ["93.184.216.34"])
    assert not host_is_private(
        "https://x.invalid/", resolve=lambda h: (_ for _ in ()).throw(OSError())
    )


def test_huge_page_is_cut_by_the_fetcher(server: LoopbackServer) -> None:
    big = page([LEDE] + [f"Paragraf {i} " + "isi " * 200 for i in range(300)])
    server.static("/besar", big, HTML, gzip_body=True)
    with Fetcher(FetchPolicy(timeout=5.0, max_bytes=64 * 1024)) as f:
        res = ArticleFetcher(f).fetch_text(server.url("/besar"), feed_is_private=True)
    assert res.text is None and "exceeds 64 KB" in res.status


def test_text_is_capped_by_max_chars(server: LoopbackServer, fetcher: Fetcher) -> None:
    server.static("/panjang", page([f"Paragraf {i}. {LEDE}" for i in range(200)]), HTML)
    af = ArticleFetcher(fetcher, FulltextPolicy(max_chars=1000))
    res = af.fetch_text(server.url("/panjang"), feed_is_private=True)
    assert res.text is not None and len(res.text) <= 1000 and res.text.startswith("Paragraf 0.")


def test_windows_1252_page_is_decoded(server: LoopbackServer, fetcher: Fetcher) -> None:
    text = f"\u201cKami siap,\u201d kata Andr\u00e9 di Jakarta. {LEDE} {LEDE}"
    body = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        f'</head><body><div class="article-content"><p>{text}</p></div></body></html>'
    ).encode("cp1252")
    server.static("/lama", body, "text/html")
    res = ArticleFetcher(fetcher).fetch_text(server.url("/lama"), feed_is_private=True)
    assert res.text == text


# ---------------------------------------------------------------- pure: extraction


def test_script_and_style_never_reach_the_text() -> None:
    html = (
        '<div class="detail__body-text"><p>' + LEDE + "</p>"
        "<script>var a = '</p><p>SKRIP1</p>'; document.write('<p>SKRIP2</p>');</script>"
        "<style>p:after{content:'GAYA'}</style><noscript><p>NOSKRIP</p></noscript>"
        "<template><p>TEMPLAT</p></template><svg><text>SVGTEKS</text></svg>"
        "<p style='display:none'>TERSEMBUNYI</p><p hidden>TERSEMBUNYI2</p><p>Akhir berita.</p></div>"
    )
    text = extract_text(html, "https://news.detik.com/x")
    assert LEDE in text and "Akhir berita." in text
    for junk in ("SKRIP", "GAYA", "NOSKRIP", "TEMPLAT", "SVGTEKS", "TERSEMBUNYI", "document"):
        assert junk not in text


def test_hostile_html_does_not_blow_up() -> None:
    deep = "<div>" * 10_000 + f"<p>{LEDE}</p>" + "</div>" * 10_000
    started = time.monotonic()
    assert LEDE in extract_text(deep)
    cases = [
        "<p><b><i>" * 5_000 + LEDE,  # unclosed everything
        "</div></p></span>" * 5_000 + f"<p>{LEDE}",  # stray end tags
        "<table><tr><td>" * 3_000 + LEDE,
        "<" * 50_000,
        # html.parser rescans to the end for each unfinished construct: quadratic unless
        # defused (each of these took tens of seconds to minutes on Python 3.11).
        "<a" * 100_000,
        "</" * 100_000,
        "<?" * 100_000,
        "<a x='" * 50_000,
        "<!--" * 50_000,
        "<!--" + "x" * 100_000,  # unterminated comment
        "<![CDATA[" + "<p>" * 1000,
        '<a href="' + "x" * 100_000,
        "\x00\x01<p>\ud800" + LEDE,
        "<p>" + "kata<!---->" * 100_000,  # text in 100k pieces: must stay linear
        "<a href='/x'>" + "&amp;<b></b>" * 50_000,  # NUL, controls and a lone surrogate
        "",
    ]
    for html in cases:
        text = extract_text(html)
        assert "\x00" not in text and "\x01" not in text
    assert extract_text(b"\xff\xfe\x00<\x00p\x00>\x00") is not None  # bytes, UTF-16 BOM
    assert LEDE in extract_text(cases[0]) and LEDE in extract_text(cases[1])
    assert time.monotonic() - started < 10


def test_density_fallback_without_known_containers() -> None:
    body = "".join(f"<p>{LEDE} Kalimat {i}.</p>" for i in range(4))
    html = (
        '<div id="menu-utama"><a href="/a">Beranda</a> <a href="/b">Kabar</a></div>'
        f'<div id="isi">{body}</div>'
        '<div id="kanan"><ul>'
        + "<li><a href='/z'>Judul berita lain yang cukup panjang</a></li>" * 20
        + "</ul></div>"
    )
    text = extract_text(html)
    assert paragraphs(text) == [f"{LEDE} Kalimat {i}." for i in range(4)]


def test_page_wide_classes_do_not_drop_the_page() -> None:
    body = "".join(f"<p>{LEDE} Kalimat {i}.</p>" for i in range(3))
    for html in (
        f'<body class="single has-sidebar with-ads"><main class="menu-open"><div>{body}</div></main></body>',
        f'<div class="overflow-hidden relative"><div class="article-content ads-wrap">{body}</div></div>',
        f'<article class="post tag-politik"><div class="d-none">TERSEMBUNYI</div>{body}</article>',
    ):
        text = extract_text(html)
        assert paragraphs(text) == [f"{LEDE} Kalimat {i}." for i in range(3)], html[:40]


# Layout wrappers whose class names a boilerplate word: found by running Mozilla
# Readability's 130 test pages through extract_text (bench/README.md, "Full text against
# readability's test pages"): 7 came out empty, the article inside "widget Blog" (every
# Blogger page), "panel-two-col-sidebar-right-mix", "is-showingReadNextSidebar",
# "l-sidebar-fixed l-article-body-segment" or "nav_drawer_slide" dropped with its wrapper.
SIDEBAR = (
    '<div class="sidebar"><h3>Terpopuler</h3><ul>'
    + "<li><a href='/z'>Judul berita lain yang cukup panjang di samping</a></li>" * 12
    + "</ul><p>Langganan buletin kami untuk kabar terbaru setiap pagi dan sore.</p></div>"
)
COMMENTS = (
    '<div class="comments"><h3>Komentar</h3>'
    + "<p>Pembaca menulis tanggapan panjang yang tidak termasuk berita ini sama sekali.</p>" * 12
    + "</div>"
)


@pytest.mark.parametrize(
    "wrap",
    [
        '<div class="widget Blog"><div class="post-outer"><div class="post-body">{}</div></div></div>',
        '<div class="panel-two-col-sidebar-right-mix"><div class="kolom-utama">{}</div>'
        + SIDEBAR
        + "</div>",
        '<div class="screenContent is-showingReadNextSidebar"><section>{}</section></div>',
        '<div class="l-sidebar-fixed l-segment"><div class="isi">{}</div>' + SIDEBAR + "</div>",
        '<div class="i-nav_drawer_slide"><div class="wrap"><div>{}</div></div></div>',
    ],
)
def test_a_layout_wrapper_named_like_boilerplate_keeps_the_article(wrap: str) -> None:
    body = "".join(f"<p>{LEDE} Kalimat {i}.</p>" for i in range(5))
    html = f"<body><div class='page'>{wrap.format(body)}</div>{COMMENTS}</body>"
    assert paragraphs(extract_text(html)) == [f"{LEDE} Kalimat {i}." for i in range(5)]


def test_boilerplate_that_outweighs_the_article_is_still_dropped() -> None:
    """A comment thread longer than the story, and a sidebar inside the story's own
    wrapper, stay out even when the rescue of a wrapper applies."""
    body = "".join(f"<p>{LEDE} Kalimat {i}.</p>" for i in range(2))
    html = f'<div class="has-sidebar"><div class="isi">{body}</div>{SIDEBAR}</div>' + COMMENTS * 3
    text = extract_text(html)
    assert paragraphs(text) == [f"{LEDE} Kalimat {i}." for i in range(2)]


@pytest.mark.parametrize(
    "line",
    [
        "Baca juga: Harga Cabai Naik Lagi",
        "BACA JUGA Harga Cabai Naik Lagi",
        "Baca Juga",
        "Simak juga Video: Detik-detik Banjir",
        "Simak breaking news dan berita pilihan kami langsung di ponselmu.",
        "Berita terkait",
        "Berita Lainnya",
        "Berita Lainnya:",
        "Simak Video: Banjir di Jakarta",
        "Baca: Harga Emas Hari Ini",
        "Terpopuler",
        "ADVERTISEMENT",
        "SCROLL TO CONTINUE WITH CONTENT",
        "Halaman selanjutnya",
        "Halaman 1 2 3 Selanjutnya »",
        "Sidebar",
        "(Foto: Rina/detikcom)",
        "Foto: ANTARA/Aditya Pradana Putra",
        "Petugas memeriksa jamaah di asrama haji. (Foto: Republika/Putra)",
        "Petani menabur pupuk di sawah, Rabu (11/12/2024). KOMPAS.com/AHMAD FAUZI",
        "Editor: Muhammad Hafil",
        "Pewarta: Ahmad Rizki",
        "Reporter: Fulan",
        "Rep: Ahmad Rizki Hidayat Red: Muhammad Hafil",
        "(ant)",
        "(rhs)",
        "(rdp/imk)",
        "Copyright © 2024 Republika Online",
        "Dapatkan update berita pilihan dan breaking news setiap hari dari Kompas.com.",
        "»",
    ],
)
def test_boilerplate_lines_are_dropped(line: str) -> None:
    assert filter_lines([line]) == []


@pytest.mark.parametrize(
    "line",
    [
        "Ia gemar membaca juga menulis puisi sejak kecil di kampungnya.",
        "Sumber daya air di kawasan itu semakin menipis, kata peneliti.",
        "Halaman sekolah itu terendam air setinggi 40 sentimeter pada Kamis pagi.",
        "Editor senior itu menyebut redaksi akan memperbaiki kesalahan tersebut.",
        "Foto-foto kejadian beredar luas di media sosial sejak Rabu malam.",
        "Pemerintah Amerika Serikat (AS) belum memberikan tanggapan resmi.",
        "Rekomendasi Komnas HAM itu diserahkan kepada Presiden pada Senin.",
        "Berita terkait penangkapan itu beredar luas di media sosial sejak pagi.",
        "Simaklah penjelasan petugas sebelum memasuki area bandara, kata dia.",
        "Warga diminta ikuti berita resmi dari BMKG.",
        "Iklan rokok dilarang tayang di televisi pada jam anak-anak.",
    ],
)
def test_body_lines_are_kept(line: str) -> None:
    assert filter_lines([line]) == [line]


def test_trailing_initials_are_cut_and_repeats_dropped() -> None:
    lines = [LEDE + " (rdp/imk)", LEDE, "Kalimat lain. (ant)"]
    assert filter_lines(lines) == [LEDE, "Kalimat lain."]


# ---------------------------------------------------------------- pure: pages, redirects, types


BASE = "https://news.detik.com/berita/d-7000001/banjir-rob"


@pytest.mark.parametrize(
    ("html", "url", "page_no", "want"),
    [
        ('<a href="/berita/d-7000001/banjir-rob/2">2</a>', BASE, 1, BASE + "/2"),
        ('<a href="/berita/d-7000001/banjir-rob/3">3</a>', BASE + "/2", 2, BASE + "/3"),
        ('<a href="?page=2">2</a>', BASE, 1, BASE + "?page=2"),
        ('<a href="?page=3#top">Next</a>', BASE + "?page=2", 2, BASE + "?page=3"),
        ('<a href="?halaman=2">2</a>', BASE, 1, BASE + "?halaman=2"),
        (
            '<a rel="next" href="/berita/d-7000001/banjir-rob/page/2">»</a>',
            BASE,
            1,
            BASE + "/page/2",
        ),
        ("<p>tanpa halaman</p>", BASE, 1, None),
        ('<a href="/berita/d-7000002/lain/2">2</a>', BASE, 1, None),  # another article
        ('<a href="https://evil.example/berita/d-7000001/banjir-rob/2">2</a>', BASE, 1, None),
        ('<a href="?page=3">3</a>', BASE, 1, None),  # skips a page
        ('<a href="javascript:go(2)">Selanjutnya</a>', BASE, 1, None),
    ],
)
def test_next_page_url(html: str, url: str, page_no: int, want: str | None) -> None:
    assert next_page_url(html, url, page_no) == want


@pytest.mark.parametrize(
    ("asked", "final", "home"),
    [
        ("https://x.id/berita/123/judul", "https://x.id/", True),
        ("https://x.id/berita/123/judul", "https://x.id", True),
        ("https://x.id/berita/123/judul", "https://www.x.id/index.php", True),
        ("https://x.id/berita/123/judul", "https://x.id/berita/123/judul-baru", False),
        ("https://x.id/", "https://x.id/", False),  # a link to the front page itself
    ],
)
def test_home_redirect(asked: str, final: str, home: bool) -> None:
    assert home_redirect(asked, final) is home


def test_html_problem_sniffs_untyped_bodies() -> None:
    assert html_problem("text/html; charset=utf-8", b"") is None
    assert html_problem("application/xhtml+xml", b"") is None
    assert html_problem(None, b"\n  <!DOCTYPE html><html>") is None
    assert (
        html_problem("application/octet-stream", b"\x89PNG")
        == "not HTML (application/octet-stream)"
    )
    assert html_problem(None, b"%PDF") == "not HTML (no content type)"
    assert html_problem("text/\r\nevil", b"") == "not HTML (text/evil)"


def test_decode_html_charsets() -> None:
    assert decode_html("é".encode("cp1252"), "text/html; charset=ISO-8859-1") == "é"
    assert decode_html(b'<meta charset="windows-1252">\x93', None).endswith("\u201c")
    assert decode_html("é".encode(), "text/html; charset=bogus-9") == "é"  # unknown: sniff
    assert decode_html(b"caf\xe9", None) == "café"  # not UTF-8: windows-1252
    assert decode_html(b'<meta charset="utf-16">ok', None).endswith("ok")
