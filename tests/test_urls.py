"""Canonical URLs: the identity and dedup key of every item, so each rule is pinned here."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.feeds.urls import (
    TRACKING_PARAMS,
    article_identity,
    canonical_url,
    host_of,
    registrable_domain,
    unwrap_redirect,
)

CASES = [
    # (input, base, expected)
    ("https://www.kabarnusa.example/berita/1", None, "https://www.kabarnusa.example/berita/1"),
    ("  https://a.example/x  \n", None, "https://a.example/x"),
    ("https://a.example/x\n/y", None, "https://a.example/x/y"),
    ("HTTP://WWW.Kabar.EXAMPLE/Berita/Satu", None, "http://www.kabar.example/Berita/Satu"),
    ("http://a.example:80/p", None, "http://a.example/p"),
    ("https://a.example:443/p", None, "https://a.example/p"),
    ("https://a.example:8443/p", None, "https://a.example:8443/p"),
    ("http://a.example:443/p", None, "http://a.example:443/p"),
    ("https://a.example", None, "https://a.example/"),
    ("https://a.example./p", None, "https://a.example/p"),
    ("https://a.example/p#komentar", None, "https://a.example/p"),
    ("https://a.example/#!/berita/12", None, "https://a.example/#!/berita/12"),
    (
        "http://bola.liputan.example/read/1/x?utm_source=lpfeed&utm_medium=lpfeed&utm_campaign=rss",
        None,
        "http://bola.liputan.example/read/1/x",
    ),
    ("https://a.example/p?id=5&utm_source=x&page=2", None, "https://a.example/p?id=5&page=2"),
    ("https://a.example/p?b=2&a=1", None, "https://a.example/p?b=2&a=1"),  # order kept
    ("https://a.example/p?fbclid=AbC&gclid=1&x=1", None, "https://a.example/p?x=1"),
    (
        "https://a.example/p?UTM_Source=x&mc_cid=1&mc_eid=2&yclid=3&_ga=4",
        None,
        "https://a.example/p",
    ),
    ("https://a.example/p?ref_src=twsrc%5Etfw&q=banjir", None, "https://a.example/p?q=banjir"),
    ("https://a.example/p?ref=home", None, "https://a.example/p?ref=home"),  # not tracking
    ("https://a.example/p?&&x=1&", None, "https://a.example/p?x=1"),
    ("https://a.example/p?q=a+b&r=%2f", None, "https://a.example/p?q=a+b&r=%2F"),
    ("https://a.example/cari?q=kopi%20susu", None, "https://a.example/cari?q=kopi%20susu"),
    ("https://a.example/%7Euser/%41bc", None, "https://a.example/~user/Abc"),
    ("https://a.example/a%2fb", None, "https://a.example/a%2Fb"),  # reserved stays escaped
    ("https://a.example/kopi susu", None, "https://a.example/kopi%20susu"),
    ("https://a.example/kafé", None, "https://a.example/kaf%C3%A9"),
    ("https://a.example/diskon-100%", None, "https://a.example/diskon-100%"),
    ("https://a.example/p?a[]=1", None, "https://a.example/p?a[]=1"),
    ("https://bücher.example/buku", None, "https://xn--bcher-kva.example/buku"),
    ("https://user:rahasia@a.example/p", None, "https://a.example/p"),
    ("https://[2001:db8::1]:443/p", None, "https://[2001:db8::1]/p"),
    # relative links resolved against the feed
    ("/berita/2", "https://www.a.example/rss/terkini.xml", "https://www.a.example/berita/2"),
    ("berita/2", "https://www.a.example/rss/terkini.xml", "https://www.a.example/rss/berita/2"),
    ("//cdn.a.example/x", "https://www.a.example/rss", "https://cdn.a.example/x"),
    ("https://b.example/x", "https://www.a.example/rss", "https://b.example/x"),
    # not usable
    ("", None, None),
    ("   ", None, None),
    ("/berita/2", None, None),
    ("javascript:alert(1)", None, None),
    ("javascript:alert(1)", "https://a.example/", None),
    ("mailto:redaksi@a.example", None, None),
    ("ftp://a.example/file", None, None),
    ("file:///etc/passwd", None, None),
    ("data:text/html,<b>x</b>", None, None),
    ("https:///nohost", None, None),
    ("https://a.example:99999/p", None, None),
    ("https://a.example:port/p", None, None),
    ("https://a b.example/p", None, None),
    ("https://a.example/" + "x" * 5000, None, None),
]


@pytest.mark.parametrize(("raw", "base", "expected"), CASES)
def test_canonical_url(raw: str, base: str | None, expected: str | None) -> None:
    assert canonical_url(raw, base) == expected


@pytest.mark.parametrize("raw", [None, 12, b"https://a.example/", ["x"]])
def test_canonical_url_rejects_non_strings(raw: object) -> None:
    assert canonical_url(raw) is None  # type: ignore[arg-type]


def test_canonical_url_is_idempotent() -> None:
    for raw, _base, expected in CASES:
        if expected is not None:
            assert canonical_url(expected) == expected, raw


def test_spellings_of_one_article_meet() -> None:
    spellings = [
        "https://www.a.example/berita/9?utm_source=rss&utm_medium=feed",
        "HTTPS://WWW.A.EXAMPLE:443/berita/9#baca",
        " https://www.a.example/berita/9?fbclid=xyz ",
        "https://www.a.example/berita/%39",
    ]
    assert {canonical_url(s) for s in spellings} == {"https://www.a.example/berita/9"}


def test_tracking_set_is_documented_and_lower_case() -> None:
    assert {"fbclid", "gclid", "mc_cid", "mc_eid", "yclid", "_ga", "ref_src"} <= TRACKING_PARAMS
    assert all(p == p.lower() for p in TRACKING_PARAMS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://WWW.Antara.example:8080/x", "www.antara.example"),
        ("http://a.example./", "a.example"),
        ("/relative", ""),
        ("", ""),
        (None, ""),
        ("http://[::1", ""),
    ],
)
def test_host_of(raw: str | None, expected: str) -> None:
    assert host_of(raw) == expected


def test_urls_that_are_canonical_already_skip_the_work_and_come_out_the_same() -> None:
    """``canonical_url`` returns a URL that its fast check calls canonical already without
    splitting it: over thousands of generated URLs, each spelled many ways (case, ports,
    escapes, dot segments, queries, fragments, userinfo, IDN, whitespace), the answer is
    the full procedure's; the check took a good share of the already canonical ones."""
    import random

    from daemon.feeds import urls

    r = random.Random(4)
    hosts = ["www.antaranews.com", "a.example", "x-y.co.id", "b_c.example", "xn--bcher-kva.example",
             "WWW.Kabar.EXAMPLE", "a.example.", "a..example", "bücher.example", "127.0.0.1",
             "[::1]", "user:pw@a.example", "a.example:80", "a.example:443", "a.example:8080",
             "a.example:"]  # fmt: skip
    pieces = ["berita", "2025", "12", "judul-panjang", "a_b", "~user", "x.html", "%41", "%2f",
              "%zz", "é", " ", "..", ".", "", ":", "@", "!$&'()*+,;=", "[", "]", "|", "\\", "^",
              "\"", "<", ">", "{", "}", "`", "\t", "\n"]  # fmt: skip
    tails = ["", "", "", "?id=1", "?utm_source=rss", "#komentar", "#!/a", "?", "#", "?a=1#b"]
    fast = total = 0
    for _ in range(10_000):
        scheme = r.choice(["http", "https", "HTTPS", "ftp", "Http"])
        path = "/".join(r.choice(pieces) for _ in range(r.randrange(0, 5)))
        url = f"{scheme}://{r.choice(hosts)}/{path}{r.choice(tails)}"
        if r.random() < 0.1:
            url = url.replace("/", "//", 1 + r.randrange(3))
        try:
            expected = urls.canonicalize(url)
        except (ValueError, TypeError, UnicodeError):
            expected = None
        assert canonical_url(url) == expected, url
        if expected == url:
            total += 1
            fast += bool(urls.CANONICAL_ALREADY_RE.fullmatch(url))
    assert total > 300 and fast > 100, (total, fast)  # both paths well exercised


# --- one article on several subdomains (story grouping's link identity) ----------------------

_LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
_WORD = st.from_regex(r"[a-z]{1,8}", fullmatch=True)  # (the article number: the only digits)


@settings(max_examples=300, deadline=None)
@given(
    sub=st.tuples(_LABEL, _LABEL).filter(lambda p: p[0] != p[1]),
    domain=st.sampled_from(["antaranews.com", "republika.co.id", "detik.com", "kontan.co.id"]),
    number=st.integers(10_000, 99_999_999).map(str).filter(lambda n: not n.startswith("20")),
    slug=st.lists(_WORD, min_size=4, max_size=9).map("-".join),
    section=_WORD,
    scheme=st.tuples(st.sampled_from(["http", "https"]), st.sampled_from(["http", "https"])),
)
def test_an_article_path_names_one_article_on_every_subdomain(
    sub: tuple[str, str], domain: str, number: str, slug: str, section: str,
    scheme: tuple[str, str],
) -> None:  # fmt: skip
    path = f"/{section}/{number}/{slug}"
    a, b = (f"{s}://{h}.{domain}{path}" for s, h in zip(scheme, sub, strict=True))
    assert article_identity(a) == article_identity(b) == f"//{domain}{path}"
    # without its number, or without a slug, a path is no article: each URL is itself
    for bare in (f"/{section}/{slug}", f"/{section}/{number}/{slug.split('-')[0]}"):
        c, d = (f"https://{h}.{domain}{bare}" for h in sub)
        assert (article_identity(c), article_identity(d)) == (c, d)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_article_identity_reads_any_text_without_failing(raw: str) -> None:
    out = article_identity(raw)
    assert out == raw or out.startswith("//")


def test_registrable_domain() -> None:
    assert registrable_domain("ramadhan.antaranews.com") == "antaranews.com"
    assert registrable_domain("ihram.republika.co.id") == "republika.co.id"
    assert registrable_domain("republika.co.id") == "republika.co.id"
    assert registrable_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registrable_domain("localhost") == "localhost"


# Google Alerts' RSS links every result through google.com/url (the article's address in
# its "url" parameter): newsrooms moving from Google Alerts bring those feeds along, and
# the wrapped link is unique per alert, so a copy of an outlet's article never met its URL.
@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://www.antaranews.com/berita/4567890/"
            "kpk-tahan-tersangka&ct=ga&cd=CAIyHDk&usg=AOvVaw2",
            "https://www.antaranews.com/berita/4567890/kpk-tahan-tersangka",
        ),
        (
            "https://www.google.co.id/url?q=https%3A%2F%2Fnasional.kompas.com%2Fread%2F2025%2F"
            "11%2F24%2Fbanjir%3Fpage%3D2&sa=U",
            "https://nasional.kompas.com/read/2025/11/24/banjir?page=2",
        ),
        (
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.tempo.co%2Fhukum%2F1&h=AT0",
            "https://www.tempo.co/hukum/1",
        ),
        (  # Bing News' RSS: lower-case escapes, the address amid Bing's own parameters
            "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=6A1B&url=https%3a%2f%2f"
            "news.detik.com%2fberita%2fd-8012345%2fkpk-tahan-bupati%3futm_source%3dbing&c=91"
            "&mkt=id-id",
            "https://news.detik.com/berita/d-8012345/kpk-tahan-bupati",
        ),
        # not a redirect to an http(s) page: left as it is
        ("https://www.bing.com/news/apiclick.aspx?url=javascript%3aalert(1)", None),
        ("https://www.bing.com/news/search?q=KPK&url=https://www.antaranews.com/", None),
        ("https://www.google.com/url?url=javascript:alert(1)", None),
        ("https://www.google.com/url?url=/relative/path", None),
        ("https://www.google.com/search?q=https://www.antaranews.com/", None),
        ("https://evil.example/url?url=https://www.antaranews.com/", None),
        ("https://google.com.evil.example/url?url=https://www.antaranews.com/", None),
        # one layer only: a redirect inside a redirect stays the inner redirect's address
        (
            "https://www.google.com/url?url=https%3A%2F%2Fl.facebook.com%2Fl.php%3Fu%3Dhttps%253A%252F%252Fx.example%252F",
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fx.example%2F",
        ),
    ],
)
def test_unwrap_redirect(raw: str, want: str | None) -> None:
    assert unwrap_redirect(raw) == want


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_unwrap_redirect_reads_any_text(raw: str) -> None:
    got = unwrap_redirect("https://www.google.com/url?url=" + raw)
    assert got is None or canonical_url(got) == got
