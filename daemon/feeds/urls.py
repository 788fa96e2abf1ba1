"""Canonical article URLs.

The canonical form is what item identity, story grouping and the stored ``url`` compare, so
two spellings of one article must map to the same string, and a real URL must never be broken
by the normalisation. The rules, in order:

* whitespace around the URL is stripped; CR/LF/TAB inside it are removed (wrapped feed text);
* a relative URL is resolved against ``base``; only ``http`` and ``https`` survive;
* scheme and host are lower-cased, an IDN host becomes punycode, a trailing dot on the host
  and the default port (80/443) are dropped, and so is any ``user:password@`` part (no
  secrets in stored URLs);
* the path keeps its case; characters that must be escaped (spaces, non-ASCII) are
  percent-encoded, existing escapes get upper-case hex, and escapes of unreserved characters
  (``%7E`` -> ``~``) are decoded; nothing else is re-encoded or decoded;
* query parameters named in :data:`TRACKING_PARAMS` or starting with ``utm_`` are removed,
  the others are kept verbatim, in their original order;
* the fragment is removed, except a ``#!`` "hash-bang" fragment, which addresses content.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit, urlunsplit

__all__ = [
    "TRACKING_PARAMS",
    "article_identity",
    "canonical_url",
    "feed_of_page",
    "host_of",
    "leads_nowhere",
    "registrable_domain",
    "unwrap_redirect",
]

#: Query parameters that only track the click (compared lower-case); plus every ``utm_*``.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "_ga",  # Google Analytics cross-domain
        "_gl",
        "msclkid",  # Microsoft Ads
        "yclid",  # Yandex
        "mc_cid",  # Mailchimp
        "mc_eid",
        "ref_src",  # Twitter/X embeds
        "ref_url",
        "igshid",  # Instagram
        "twclid",
        "ttclid",  # TikTok
        "_hsenc",  # HubSpot
        "_hsmi",
        "mkt_tok",  # Marketo
        "oly_anon_id",  # Omeda
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "s_cid",  # Adobe
    }
)

_MAX_URL = 4096
_DEFAULT_PORTS = {"http": 80, "https": 443}
_INNER_WS_RE = re.compile(r"[\r\n\t]+")
_PCT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_HOST_OK_RE = re.compile(r"^[a-z0-9.\-_]+$")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Everything legal in a path or query stays as written; "%" keeps existing escapes intact.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?%:@!$&'()*+,;=-._~[]"


def _fix_escape(m: re.Match[str]) -> str:
    ch = chr(int(m.group(1), 16))
    return ch if ch in _UNRESERVED else "%" + m.group(1).upper()


def _norm_component(s: str, safe: str) -> str:
    """Escape what must be escaped, tidy existing escapes, leave everything else alone."""
    if not s:
        return s
    s = quote(s, safe=safe)
    if "%" in s:
        s = _PCT_RE.sub(_fix_escape, s)
    return s


def _idna_host(host: str) -> str | None:
    host = host.rstrip(".")
    if not host:
        return None
    if host.isascii():
        return host if _HOST_OK_RE.match(host) else None
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except (UnicodeError, ValueError):
            return None
    out = ".".join(labels).lower()
    return out if _HOST_OK_RE.match(out) else None


def _clean_query(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name = unquote(pair.split("=", 1)[0]).strip().lower()
        if name.startswith("utm_") or name in TRACKING_PARAMS:
            continue
        kept.append(_norm_component(pair, _QUERY_SAFE))
    return "&".join(kept)


# A URL that is canonical already, as most feed links are: lower-case http(s) scheme and host,
# no port, userinfo, query, fragment or escape, nothing in the path that quoting would touch.
# ``canonicalize`` returns such a URL unchanged (tests/test_urls.py checks it on thousands);
# recognising it takes one regex match instead of 15 us of splitting and quoting per item.
CANONICAL_ALREADY_RE = re.compile(
    r"https?://[a-z0-9_-]+(?:\.[a-z0-9_-]+)*/[A-Za-z0-9/:@!$&'()*+,;=._~-]*"
)


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """The canonical form of ``url`` (see the module docstring), or None when it is not a
    usable http(s) URL. Never raises."""
    if isinstance(url, str) and len(url) <= _MAX_URL and CANONICAL_ALREADY_RE.fullmatch(url):
        return url
    try:
        return canonicalize(url, base)
    except (ValueError, TypeError, UnicodeError):
        return None


def canonicalize(url: str | None, base: str | None = None) -> str | None:
    """``canonical_url`` without its shortcut for URLs already canonical, and raising
    (ValueError, TypeError, UnicodeError) on what it cannot read."""
    if not isinstance(url, str):
        return None
    url = _INNER_WS_RE.sub("", url.strip())
    if not url or len(url) > _MAX_URL:
        return None
    if base and not url[:8].lower().startswith(("http://", "https://")):
        url = urljoin(_INNER_WS_RE.sub("", base.strip()), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    raw_host = parts.hostname  # lower-cased, brackets and userinfo removed
    if not raw_host:
        return None
    port = parts.port  # ValueError for a non-numeric or out-of-range port
    if ":" in raw_host:  # IPv6 literal
        host: str | None = f"[{raw_host}]"
    else:
        host = _idna_host(raw_host)
    if host is None:
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _norm_component(parts.path, _PATH_SAFE) or "/"
    query = _clean_query(parts.query) if parts.query else ""
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    if fragment:
        fragment = _norm_component(fragment, _QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, fragment))


# Redirectors that carry the page's address in a query parameter: host, path, parameters.
# Google Alerts' RSS links every result through google.<tld>/url?url=...; Facebook's
# outbound links go through l.facebook.com/l.php?u=...; Bing News' RSS links every result
# through bing.com/news/apiclick.aspx?...&url=...
_REDIRECTORS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    (re.compile(r"(?:www\.)?google\.[a-z]{2,3}(?:\.[a-z]{2})?"), "/url", ("url", "q")),
    (re.compile(r"l[m]?\.facebook\.com"), "/l.php", ("u",)),
    (re.compile(r"(?:www\.)?bing\.com"), "/news/apiclick.aspx", ("url",)),
)
# a substring test first: most links are none
_REDIRECT_PATHS = ("/url?", "/l.php?", "/apiclick.aspx?")


# Google News' links (news.google.com/rss/articles/<id>) name the article by an opaque id
# that only a script in Google's page resolves: no fetch leads from them to the article.
_OPAQUE_PATHS = ("/rss/articles/", "/articles/")


def feed_of_page(url: str) -> str | None:
    """The RSS feed of an aggregator's web page, when a configured URL is the page a browser
    showed (Google News' search or topics page, Bing News' search) rather than its feed."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return None
    if host == "news.google.com" and not parts.path.startswith("/rss"):
        return urlunsplit(("https", host, "/rss" + parts.path.rstrip("/"), parts.query, ""))
    if host in ("bing.com", "www.bing.com") and parts.path.rstrip("/") == "/news/search":
        if "format=rss" in parts.query.lower():
            return None
        query = f"{parts.query}&format=rss" if parts.query else "format=rss"
        return urlunsplit(("https", host, parts.path, query, ""))
    return None


def leads_nowhere(url: str) -> bool:
    """Whether an entry's link is an aggregator's that no fetch follows to the article (its
    full text would be the aggregator's page, and every item a request to it)."""
    if "news.google." not in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.hostname == "news.google.com" and parts.path.startswith(_OPAQUE_PATHS)


def unwrap_redirect(url: str) -> str | None:
    """The canonical address of the page a known redirector's link leads to, or None when
    ``url`` is no such link or what it leads to is no absolute http(s) URL. One layer only:
    a redirect inside a redirect stays the inner redirect's address."""
    if not any(p in url for p in _REDIRECT_PATHS):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return None
    for host_re, path, names in _REDIRECTORS:
        if parts.path != path or not host_re.fullmatch(host):
            continue
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        for name in names:
            target = params.get(name)
            if target and target[:8].lower().startswith(("http://", "https://")):
                return canonical_url(target)
        return None
    return None


def host_of(url: str | None) -> str:
    """Lower-case host name of ``url`` without port ("" when there is none). Never raises."""
    if not isinstance(url, str):
        return ""
    try:
        host = urlsplit(_INNER_WS_RE.sub("", url.strip())).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".")


# Second-level labels under which a country registers names ("republika.co.id",
# "example.com.au"): a host under one of them is registered at its third level from the end.
_SECOND_LEVEL = frozenset("ac biz co com desa edu go gov mil my net or org ponpes sch web".split())
_ARTICLE_NUMBER_RE = re.compile(r"[0-9]{5,}")  # (greedy from the left: whole runs of digits)
_COMPACT_DATE_RE = re.compile(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_SLUG_RE = re.compile(r"/[A-Za-z0-9]+(?:-[A-Za-z0-9]+){3,}")  # a path segment of 4+ words
# a canonical host name: no port, no IP literal
_HOST_NAME_RE = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")


def registrable_domain(host: str) -> str:
    """The name an outlet registered: "antaranews.com" of "ramadhan.antaranews.com",
    "republika.co.id" of "ihram.republika.co.id" (a short list of second-level labels, not
    the Public Suffix List: news outlets use few)."""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def article_identity(url: str) -> str:
    """What a canonical link names, for grouping copies. An outlet may serve one article on
    several of its subdomains under one path (Antara's www. and ramadhan. sites: 21 pairs in
    the 2025 corpus, 13 of them with texts that open differently): a path that names an
    article (an article number of five or more digits that is no date, and a slug of four
    or more words) is read on the registrable domain, whatever the subdomain and scheme.
    Any other URL is itself: two sites of one network may share a generic path
    ("/2025/04/03/jadwal-imsakiyah-hari-ini"), but not an article number with its slug."""
    start = url.find("://") + 3
    slash = url.find("/", start) if start > 2 else -1
    if slash < 0 or "-" not in url[slash:]:  # (no slug: most links fail here, unparsed)
        return url
    host, rest = url[start:slash], url[slash:]
    if (
        not host
        or not _HOST_NAME_RE.fullmatch(host)
        or _SLUG_RE.search(rest) is None
        or not any(
            _COMPACT_DATE_RE.fullmatch(m[0]) is None for m in _ARTICLE_NUMBER_RE.finditer(rest)
        )
    ):
        return url
    return f"//{registrable_domain(host)}{rest}"
