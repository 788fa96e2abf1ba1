"""Full text: fetch an item's article page and keep only the story's own paragraphs.

Indonesian outlets' feed summaries are often one sentence or empty, so a topic named only in
the body is missed and two copies with different first sentences are not grouped. For feeds
with ``fulltext: true`` the article page is fetched (same HTTP rules as feeds, plus a per-host
rate limit) and its main text extracted.

Extraction is stdlib-only (``html.parser``): a small, depth-capped tree; the outlets' known
body containers first (Detik ``detail__body-text``, Kompas ``read__content``, Republika and
IHRAM ``article-content``), else the block with the densest paragraph text; subtrees whose
tag or class/id says boilerplate (ads, "Baca juga", related lists, captions, credits, pagers)
are dropped; link-dominated blocks are dropped; and every remaining line passes a filter for
the outlets' inline boilerplate ("Baca Juga: ...", "Simak juga", "ADVERTISEMENT", "(Foto:
...)", "Editor: ...", "(rdp/imk)", ...). trafilatura was measured against this and lost on
these pages (see bench/README_fulltext.md), so it is not a dependency.

Pure decisions (``extract_text``, ``next_page_url``, ``home_redirect``, ``html_problem``,
``filter_lines``) are separated from I/O (``ArticleFetcher``).
"""

from __future__ import annotations

import codecs
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from daemon.feeds.fetch import (
    PAGE_ACCEPT,
    Fetcher,
    FetchResult,
    Resolver,
    connect_target,
    default_resolve,
    is_private_address,
    url_problem,
)
from daemon.ratelimit import RateLimiter
from daemon.text import KICKERS, LABELS, cap, fold_ws, normalize, strip_control

__all__ = [
    "ArticleFetcher",
    "FulltextPolicy",
    "FulltextResult",
    "decode_html",
    "extract_text",
    "filter_lines",
    "home_redirect",
    "host_is_private",
    "html_problem",
    "next_page_url",
]

RATE_LIMITED = "rate limited: retry later"
DEFAULT_429_WAIT = 60.0
MAX_DEPTH = 200  # deeper elements are flattened into their ancestor: no recursion, no blow-up
MAX_NODES = 50_000  # real article pages have a few thousand elements; parsing stops here
_MAX_HTML_CHARS = 3_000_000  # never parse more than this (the fetcher caps bytes already)


@dataclass(frozen=True)
class FulltextPolicy:
    per_host_per_minute: int = 20
    max_pages: int = 3
    max_chars: int = 100_000
    min_chars: int = 200  # less than this: "too little text", the caller keeps the summary


@dataclass
class FulltextResult:
    text: str | None  # paragraphs separated by "\n\n", capped; None on failure
    status: str  # "ok", "ok (2 pages)", or a readable reason for the fallback
    pages: int = 0
    bytes_fetched: int = 0
    elapsed: float = 0.0
    retry_after: float | None = None  # set when the rate limit (or a 429) says wait

    @property
    def ok(self) -> bool:
        return self.text is not None


# ---------------------------------------------------------------- rate limit


# A token bucket per host (``daemon.ratelimit``; burst = the per-minute allowance), never
# waited for: the full-text queue reschedules the item after the returned delay.


# ---------------------------------------------------------------- pure: page checks


def host_is_private(url: str, resolve: Resolver = default_resolve) -> bool:
    """Whether a feed URL's host resolves to a non-public address: only then may its article
    links point into private space. The host is read by the parser that connects
    (``connect_target``); unresolvable or ambiguous counts as public (the stricter answer)."""
    try:
        host = connect_target(url.strip()).host
        addrs = resolve(host) if host else []
    except Exception:
        return False
    return any(is_private_address(a) for a in addrs)


_HOME_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.php", "/home", "/beranda"})


def home_redirect(asked_url: str, final_url: str) -> bool:
    """An article link that lands on a site's front page: the article was removed or moved,
    and the front page's text is not this item's text."""
    try:
        asked, final = urlsplit(asked_url), urlsplit(final_url)
    except ValueError:
        return False
    asked_path = asked.path.rstrip("/").lower()
    return asked_path not in _HOME_PATHS and final.path.rstrip("/").lower() in _HOME_PATHS


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SNIFF_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "unknown/unknown"})


def html_problem(content_type: str | None, body: bytes) -> str | None:
    """Why this response is not an HTML page, or None. A missing or generic type is sniffed."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype in _HTML_TYPES:
        return None
    if ctype in _SNIFF_TYPES:
        head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
            return None
    shown = re.sub(r"[^a-z0-9.+/-]", "", ctype)[:60] or "no content type"
    return f"not HTML ({shown})"


_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.I
)
_LATIN1 = frozenset({"latin-1", "iso8859-1", "ascii"})


def _codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    # As browsers do: a page labelled latin-1 or ASCII is read as windows-1252.
    return "cp1252" if codec in _LATIN1 else codec


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Text of an HTML body: BOM, then the HTTP charset, then <meta charset>, then UTF-8 with
    a windows-1252 fallback. Never raises."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace")
    m = re.search(r"charset\s*=\s*([^\s;]+)", content_type or "", re.I)
    codec = _codec(m.group(1)) if m else None
    if codec is None:
        meta = _META_CHARSET.search(body[:4096])
        codec = _codec(meta.group(1)) if meta else None
    if codec in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        codec = None  # a meta tag that could be read as ASCII cannot be UTF-16
    if codec is None:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            codec = "cp1252"
    return body.decode(codec, "replace")


# ---------------------------------------------------------------- pure: the HTML tree

_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr keygen".split()
)
# Never text: dropped with everything inside.
_DROP_TAGS = frozenset(
    "script style noscript template svg math iframe object embed canvas video audio picture "
    "head title nav header footer aside figure figcaption button select textarea input label "
    "dialog menu".split()
)
_BLOCKS = frozenset(
    "address article aside blockquote body dd details div dl dt fieldset figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table tbody td tfoot "
    "th thead tr ul br caption center".split()
)
_CLOSES_P = _BLOCKS - {"br", "td", "th", "tr", "tbody", "thead", "tfoot", "li", "dd", "dt"}
_INLINE = frozenset(
    "a abbr b bdi bdo cite code data dfn em font i kbd mark q s samp small span strong sub sup "
    "time tt u var".split()
)
# Class or id words that mark boilerplate in Indonesian outlets' templates (and in general).
_BOILER_ATTR = re.compile(
    r"baca[-_]?juga|linksisip|lihatjg|lihat[-_]?juga|related|terkait|lainnya|sidebar|parallax"
    r"|scrollpage|advert|iklan|gpt-ad|(?:^|[\s_-])ads?(?:$|[\s_-])|banner|share|social|sosmed"
    r"|comment|komentar|breadcrumb|newsletter|promo|recommend|rekomendasi|populer|popular"
    r"|mostpop|most__|trending|widget|caption|credit|byline|author|penulis|paging|pagination"
    r"|anchor-numb|pager|(?:^|[\s_-])tags?(?:$|[\s_-])|tag__|footer|(?:^|[\s_-])nav(?:$|[\s_-])"
    r"|menu|paywall|subscribe|langganan|kompasidrec|sisip|embed|read__more|read__bottom"
    r"|(?:^|[\s_-])(?:date|time|meta)(?:$|[\s_-])"
    r"|(?:^|\s)(?:hidden|is-hidden|d-none|sr-only|visually-hidden)(?:$|\s)"
)
# Never dropped for their class: "<body class='has-sidebar'>" must not take the page with it.
_NEVER_DROPPED_BY_CLASS = frozenset({"html", "body", "main", "article"})
# The outlets' article-body containers, best first.
_CONTENT_CLASSES = (
    "detail__body-text",
    "itp_bodycontent",
    "read__content",
    "article-content",
    "article__body",
    "article-body",
    "entry-content",
    "post-content",
    "content-detail",
    "detail-text",
    "txt-article",
)
_PARA_TAGS = frozenset({"p", "pre", "blockquote", "td"})


# Marks of a region that is never the story, however much text it holds: a comment thread
# can outweigh the article it follows.
_NEVER_RESCUED = re.compile(r"comment|komentar|disqus|discussion|diskusi|reply|balasan")
# A region dropped for a word in its class or id that holds at least this share of the
# page's text (outside links and comment threads) is a layout wrapper ("has-sidebar",
# Blogger's "widget Blog"), not boilerplate: ``_rescue``.
RESCUE_SHARE = 0.5

NOT_MARKED, MARKED, MARKED_FOR_GOOD = 0, 1, 2


class _Node:
    __slots__ = (
        "tag", "parent", "children", "drop", "cls", "size", "links", "own", "score", "hard",
        "mark",
    )  # fmt: skip

    def __init__(
        self, tag: str, parent: _Node | None, drop: bool, cls: str, hard: bool = False,
        mark: int = NOT_MARKED,
    ) -> None:  # fmt: skip
        self.tag = tag
        self.parent = parent
        self.children: list[_Node | str] = []
        self.drop = drop
        self.hard = hard  # dropped for its tag or for being hidden: holds no text
        self.mark = mark  # dropped for a word in its own class or id (``_marked``)
        self.cls = cls
        self.size = 0  # characters of kept text below
        self.links = 0  # ... of which inside links
        self.own = 0  # characters of text directly in this node
        self.score = 0.0


def _hard_drops(tag: str, attrs: dict[str, str]) -> bool:
    """Never text to read: scripts, navigation elements, hidden elements."""
    if tag in _DROP_TAGS or "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style", "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _marked(tag: str, attrs: dict[str, str]) -> int:
    """Whether a word in the element's class or id says boilerplate (``MARKED``), and one
    that says a comment thread (``MARKED_FOR_GOOD``: never rescued)."""
    if tag in _NEVER_DROPPED_BY_CLASS:
        return NOT_MARKED
    cls = attrs.get("class", "")
    if cls and not set(_CONTENT_CLASSES).isdisjoint(cls.split()):
        return NOT_MARKED
    marks = (cls + " " + attrs.get("id", "")).lower()
    if not marks.strip() or _BOILER_ATTR.search(marks) is None:
        return NOT_MARKED
    return MARKED_FOR_GOOD if _NEVER_RESCUED.search(marks) else MARKED


class _TooManyNodes(Exception):
    """Ends parsing: the tree built so far is what is extracted."""


class _TreeBuilder(HTMLParser):
    """Forgiving HTML to a tree: implicit </p> and </li>, stray end tags ignored, depth capped
    (elements past MAX_DEPTH are flattened), every element kept in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", None, False, "")
        self.nodes: list[_Node] = [self.root]
        self.stack: list[_Node] = [self.root]
        self.overflow: dict[str, int] = {}
        self.links: list[tuple[str, str, str]] = []  # (href, rel, anchor text)
        self._anchor: list[str] | None = None
        self._anchor_attrs: tuple[str, str] = ("", "")
        self._anchor_len = 0

    def _pop_to(self, index: int) -> None:
        del self.stack[index:]

    def _implicit_close(self, tag: str) -> None:
        stack = self.stack
        if tag in _CLOSES_P:
            i = len(stack) - 1
            while i > 0 and stack[i].tag in _INLINE:
                i -= 1
            if i > 0 and stack[i].tag == "p":
                self._pop_to(i)
        elif tag in ("li", "dt", "dd", "td", "th", "tr"):
            stops = {"li": ("ul", "ol"), "dt": ("dl",), "dd": ("dl",), "tr": ("table",)}.get(
                tag, ("tr", "table")
            )
            same = (
                ("dt", "dd")
                if tag in ("dt", "dd")
                else ("td", "th")
                if tag in ("td", "th")
                else (tag,)
            )
            for i in range(len(stack) - 1, 0, -1):
                if stack[i].tag in stops:
                    break
                if stack[i].tag in same:
                    self._pop_to(i)
                    break

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {
            k: (v or "")
            for k, v in attrs
            if k in ("class", "id", "style", "hidden", "aria-hidden", "href", "rel", "itemprop")
        }
        if tag == "a":
            self._anchor = []
            self._anchor_len = 0
            self._anchor_attrs = (a.get("href", ""), a.get("rel", "").lower())
        self._implicit_close(tag)
        parent = self.stack[-1]
        cls = a.get("class", "")
        if a.get("itemprop", "").lower() == "articlebody":
            cls += " itemprop-articlebody"
        if len(self.nodes) >= MAX_NODES:
            raise _TooManyNodes
        hard = parent.hard or _hard_drops(tag, a)
        mark = NOT_MARKED if hard else _marked(tag, a)
        node = _Node(tag, parent, hard or parent.drop or mark != NOT_MARKED, cls, hard, mark)
        parent.children.append(node)
        self.nodes.append(node)
        if tag in _VOID:
            if tag == "br":
                self._data(" ")
            return
        if len(self.stack) >= MAX_DEPTH:
            self.overflow[tag] = self.overflow.get(tag, 0) + 1
            return
        self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._anchor is not None:
            href, rel = self._anchor_attrs
            if href and len(self.links) < 5000:
                self.links.append((href, rel, fold_ws("".join(self._anchor))[:80]))
            self._anchor = None
        if self.overflow.get(tag):
            self.overflow[tag] -= 1
            return
        stack = self.stack
        for i in range(len(stack) - 1, 0, -1):
            if stack[i].tag == tag:
                self._pop_to(i)
                return

    def handle_data(self, data: str) -> None:
        self._data(data)

    def _data(self, data: str) -> None:
        if self._anchor is not None and self._anchor_len < 400:
            self._anchor.append(data)
            self._anchor_len += len(data)
        top = self.stack[-1]
        if not top.hard:  # (a region dropped for its class may come back: ``_rescue``)
            top.children.append(data)  # never merged: "a<!---->b" x 1e5 must stay linear


def _defuse(html: str) -> str:
    """``html.parser`` rescans to the end of the document for every "<" that opens a tag or
    comment it cannot finish ("<a" * 200_000 took 228 s on Python 3.11). Every "<" that does
    not open a complete construct before the next "<" becomes "&lt;" (text, as browsers read
    it), so parsing stays linear. Each search below resumes where the last one ended."""
    out: list[str] = []
    n = len(html)
    pos = 0  # copied up to here
    gt = -1  # the first ">" at or after the current "<" (n: none left)
    no_comment_end = n + 1  # from here on no "-->" exists
    i = html.find("<")
    while i != -1:
        nxt = html.find("<", i + 1)
        if html.startswith("<!--", i):
            end = html.find("-->", i + 4) if i < no_comment_end else -1
            if end != -1:
                i = html.find("<", end + 3)
                continue
            no_comment_end = min(no_comment_end, i)
            ok = False
        elif i + 1 < n and (
            html[i + 1].isascii() and html[i + 1].isalpha() or html[i + 1] in "/!?"
        ):
            if gt < i:
                gt = html.find(">", i + 1)
                gt = n if gt == -1 else gt
            ok = gt < n and (nxt == -1 or gt < nxt)
            if ok:
                inner = html[i:gt]
                ok = inner.count('"') % 2 == 0 and inner.count("'") % 2 == 0
        else:
            ok = False
        if not ok:
            out.append(html[pos:i])
            out.append("&lt;")
            pos = i + 1
        i = nxt
    out.append(html[pos:])
    return "".join(out)


def _parse(html: str) -> _TreeBuilder:
    builder = _TreeBuilder()
    try:
        builder.feed(_defuse(html[:_MAX_HTML_CHARS]))
        builder.close()
    except Exception:  # too many elements, or html.parser giving up: keep what was built
        pass
    _rescue(builder.nodes)
    return builder


def _rescue(nodes: list[_Node]) -> None:
    """Regions dropped for a word in their class or id that hold at least ``RESCUE_SHARE``
    of the page's text (outside links, scripts and comment threads) are layout wrappers,
    not boilerplate: "panel-two-col-sidebar-right-mix", "is-showingReadNextSidebar",
    Blogger's "widget Blog" around every post. They come back with what they dropped only
    by inheritance; their own marked parts (the sidebar inside the wrapper) stay out.
    ``nodes`` in document order, parents first."""
    if not any(n.mark == MARKED for n in nodes):
        return
    text: dict[int, int] = {}  # id -> characters outside links and comment threads
    for n in reversed(nodes):
        if n.hard or n.tag == "a" or n.mark == MARKED_FOR_GOOD:
            continue
        t = text.get(id(n), 0) + sum(len(c.strip()) for c in n.children if isinstance(c, str))
        text[id(n)] = t
        if n.parent is not None:
            text[id(n.parent)] = text.get(id(n.parent), 0) + t
    total = text.get(id(nodes[0]), 0)
    rescued = {
        id(n) for n in nodes if n.mark == MARKED and text.get(id(n), 0) >= RESCUE_SHARE * total
    }
    if not rescued or total == 0:
        return
    for n in nodes[1:]:
        back = id(n) in rescued
        n.drop = n.hard or (n.mark != NOT_MARKED and not back) or (n.parent.drop and not back)  # type: ignore[union-attr]


def _measure(nodes: list[_Node]) -> None:
    """Text sizes bottom-up without recursion: children always follow their parent."""
    for node in reversed(nodes):
        if node.drop:
            continue
        direct = sum(len(c.strip()) for c in node.children if isinstance(c, str))
        # its own text for the density score: with its inline children's ("<span>" runs
        # under a "<div>", no "<p>"), measured already (children follow their parent)
        node.own = direct + sum(
            c.size for c in node.children
            if not isinstance(c, str) and c.tag in _INLINE and c.tag != "a" and not c.drop
        )  # fmt: skip
        node.size += direct
        if node.tag == "a":
            node.links = node.size
        parent = node.parent
        if parent is not None:
            parent.size += node.size
            parent.links += node.links


def _main_node(builder: _TreeBuilder) -> _Node:
    """The outlets' body container when present, else the densest paragraph block."""
    nodes = [n for n in builder.nodes if not n.drop]
    _measure(builder.nodes)
    for name in (*_CONTENT_CLASSES, "itemprop-articlebody"):
        known = [n for n in nodes if name in n.cls.split() and n.size > 0]
        if known:
            return max(known, key=lambda n: n.size)
    best = builder.root
    for node in nodes:
        para = node.tag in _PARA_TAGS or (
            node.tag in ("div", "section", "article") and node.own >= 25
        )
        if not para or node.size < 25:
            continue
        text = node.own if node.tag not in _PARA_TAGS else node.size
        score = (1.0 + min(text / 100.0, 3.0)) * (1.0 - node.links / max(node.size, 1))
        if node.tag not in _PARA_TAGS:
            node.score += score  # text written straight into a div counts for the div
        parent = node.parent
        if parent is not None:
            parent.score += score
            if parent.parent is not None:
                parent.parent.score += score / 2
    for node in nodes:
        if node.score > best.score:
            best = node
    return best


@dataclass
class _Block:
    text: str
    links: int


def _render(root: _Node) -> list[_Block]:
    """The text blocks under ``root`` in order; a block element or <br> ends a block."""
    blocks: list[_Block] = []
    buf: list[str] = []
    counts = [0, 0]  # link depth, link characters in the current block

    def flush() -> None:
        text = fold_ws(strip_control(normalize("".join(buf))))
        if text:
            blocks.append(_Block(text, counts[1]))
        buf.clear()
        counts[1] = 0

    end_block, end_link = object(), object()
    stack: list[object] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            buf.append(item)
            if counts[0]:
                counts[1] += len(item.strip())
        elif item is end_block:
            flush()
        elif item is end_link:
            counts[0] -= 1
        elif isinstance(item, _Node) and not item.drop:
            if item.tag == "br":
                flush()
                continue
            if item.tag in _BLOCKS:
                flush()
                stack.append(end_block)
            elif item.tag == "a":
                counts[0] += 1
                stack.append(end_link)
            stack.extend(reversed(item.children))
    flush()
    return blocks


# ---------------------------------------------------------------- pure: line filter

_CREDITS = (
    r"rep|red|reporter|editor|pewarta|penulis|redaktur|penyunting|fotografer|kontributor"
    r"|sumber|foto|video|ilustrasi|dok|dokumentasi|editor\s+foto|tags?|topik|keywords?|kata\s+kunci"
    r"|laporan\s+wartawan|wartawan"
)
_DROP_LINE = [
    re.compile(rf"^(?:{KICKERS})", re.I),  # "Baca juga: ...", "Simak juga Video ..."
    re.compile(rf"^(?:{LABELS})\s*(?::.*)?$", re.I),  # "Berita terkait", "Berita Lainnya:"
    re.compile(rf"^\(?\s*(?:{_CREDITS})\s*:", re.I),  # "Editor: ...", "(Foto: ...)"
    re.compile(
        r"^(?:halaman|hal\.?)(?:\s*:?\s*\d+)*(?:\s+(?:selanjutnya|berikutnya|sebelumnya))?\W*$"
        r"|^(?:selanjutnya|sebelumnya|berikutnya|next|prev(?:ious)?|lanjut)\W*$",
        re.I,
    ),
    re.compile(r"^\(\s*[a-z]{2,5}(?:\s*/\s*[a-z]{2,5})*\s*\)$|^\(\*\)$"),  # "(rhs)", "(rdp/imk)"
    re.compile(r"^(?:copyright|hak\s+cipta)\b|^©|^\(c\)\s*\d{4}", re.I),
    re.compile(r"^[\W_]*$"),  # nothing to read
]
# Short lines that are captions, credits or promotion wherever the phrase sits.
_DROP_SHORT = re.compile(
    r"\(\s*foto\s*:|\bfoto\s*:\s*\S+\s*/|\b(?:antara\s+foto|dok\.)\s*/"
    r"|all\s+rights?\s+reserved|google\s+news|whatsapp\s+channel|saluran\s+whatsapp"
    r"|grup\s+telegram|dapatkan\s+update|download\s+aplikasi|unduh\s+aplikasi"
    r"|ikuti\s+kami|klik\s+(?:di\s+sini|link)",
    re.I,
)
# A caption ending in the photographer's credit in capitals: "... KOMPAS.com/AHMAD FAUZI".
_CAPS_CREDIT = re.compile(r"\b(?:[A-Z][A-Za-z]*\.com|ANTARA|REPUBLIKA|DOK)\s*/\s*[A-Z][A-Z .'-]+$")
_TRAILING_INITIALS = re.compile(r"\s*\(\s*[a-z]{2,5}(?:\s*/\s*[a-z]{2,5})*\s*\)\s*$|\s*\(\*\)\s*$")
_SHORT = 300


def filter_lines(lines: Iterable[str]) -> list[str]:
    """Drop outlet boilerplate lines and trailing editor initials; keep order, drop repeats."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in lines:
        line = _TRAILING_INITIALS.sub("", fold_ws(raw))
        if not line or line in seen or any(p.search(line) for p in _DROP_LINE):
            continue
        if len(line) < _SHORT and (_DROP_SHORT.search(line) or _CAPS_CREDIT.search(line)):
            continue
        seen.add(line)
        out.append(line)
    return out


def _blocks_text(blocks: list[_Block]) -> list[str]:
    """Blocks that are mostly link text are related-article lists, not the story."""
    return [b.text for b in blocks if b.links * 2 <= len(b.text)]


def _extract(builder: _TreeBuilder) -> list[str]:
    return filter_lines(_blocks_text(_render(_main_node(builder))))


def extract_text(html: bytes | str, url: str = "") -> str:
    """The article's own paragraphs, joined by blank lines; boilerplate removed. ``url`` is
    the page address (for the caller's messages; extraction does not depend on it)."""
    if isinstance(html, bytes):
        html = decode_html(html)
    return "\n\n".join(_extract(_parse(html)))


# ---------------------------------------------------------------- pure: pagination

_PAGE_KEYS = ("page", "halaman", "hal")
_NEXT_WORDS = frozenset({"selanjutnya", "halaman selanjutnya", "berikutnya", "next", "»", "›", ">"})


def _base_path(path: str, page_no: int) -> str:
    """The article path without a "/<page_no>" suffix."""
    base = path.rstrip("/")
    suffix = f"/{page_no}"
    if page_no > 1 and base.endswith(suffix):
        base = base[: -len(suffix)]
    return base


def _is_page(cand: str, current: str, page_no: int) -> bool:
    """``cand`` is page ``page_no + 1`` of the article at ``current`` (page ``page_no``)."""
    c, u = urlsplit(cand), urlsplit(current)
    if c.scheme not in ("http", "https") or (c.hostname, c.port) != (u.hostname, u.port):
        return False
    want = str(page_no + 1)
    base = _base_path(u.path, page_no)
    cpath = c.path.rstrip("/")
    if cpath == base + "/" + want:
        return True
    if cpath == u.path.rstrip("/") or cpath == base:
        query = dict(parse_qsl(c.query, keep_blank_values=True))
        return any(query.get(k) == want for k in _PAGE_KEYS)
    return False


def _next_from_links(links: list[tuple[str, str, str]], url: str, page_no: int) -> str | None:
    fallback = None
    for href, rel, text in links:
        try:
            parts = urlsplit(urljoin(url, href.strip()))
            cand = urlunsplit(parts._replace(fragment=""))
        except ValueError:
            continue
        if cand == url or url_problem(cand):
            continue
        if _is_page(cand, url, page_no):
            return cand
        nextish = "next" in rel.split() or text.strip().lower() in _NEXT_WORDS
        if fallback is None and nextish and _continues(cand, url, page_no):
            fallback = cand
    return fallback


def _continues(cand: str, url: str, page_no: int) -> bool:
    """A "next" link to another address of the same article naming the next page number
    (``/page/2``, ``?p=2``): same host, same article path prefix."""
    c, u = urlsplit(cand), urlsplit(url)
    if (c.scheme, c.hostname, c.port) != (u.scheme, u.hostname, u.port):
        return False
    base = _base_path(u.path, page_no)
    if not base or not (c.path.rstrip("/") == base or c.path.startswith(base + "/")):
        return False
    tail = c.path[len(base) :] + "?" + c.query
    return re.search(rf"(?<!\d){page_no + 1}(?!\d)", tail) is not None


def next_page_url(html: bytes | str, url: str, page_no: int) -> str | None:
    """The address of page ``page_no + 1`` when this page (page ``page_no`` at ``url``) links
    to it: ``?page=N``/``?halaman=N``, a ``/N`` path suffix, or a "Selanjutnya"/rel=next link
    into the same article. Never guessed: the link must be on the page."""
    if isinstance(html, bytes):
        html = decode_html(html)
    return _next_from_links(_parse(html).links, url, page_no)


# ---------------------------------------------------------------- I/O: fetching

_PAYWALL = re.compile(
    r"paywall|berlangganan|khusus\s+(?:untuk\s+)?pelanggan|konten\s+premium|subscribe", re.I
)


@dataclass
class _Page:
    blocks: list[str]
    next_url: str | None
    paywall: bool


def _read_page(result: FetchResult, asked: str, page_no: int) -> _Page | str:
    """A page's blocks and next link, or the reason it is unusable."""
    if result.error is not None:
        return result.error
    if result.body is None:
        return f"no body (HTTP {result.status})"
    if home_redirect(asked, result.final_url):
        return "redirected to the home page"
    problem = html_problem(result.headers.get("content-type"), result.body)
    if problem:
        return problem
    html = decode_html(result.body, result.headers.get("content-type"))
    builder = _parse(html)
    blocks = _extract(builder)
    return _Page(
        blocks=blocks,
        next_url=_next_from_links(builder.links, result.final_url or asked, page_no),
        paywall=_PAYWALL.search(html) is not None,
    )


class ArticleFetcher:
    """Fetches and extracts one item's article text; meant to run on a background worker.
    Never sleeps and never raises: a wait is returned as ``retry_after``."""

    def __init__(
        self,
        fetcher: Fetcher,
        policy: FulltextPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetcher = fetcher
        self.policy = policy or FulltextPolicy()
        self.limiter = RateLimiter.per_minute(self.policy.per_host_per_minute, clock=clock)

    def fetch_text(self, url: str, *, feed_is_private: bool = False) -> FulltextResult:
        """``feed_is_private``: the item's feed is itself on a private address, so its
        article links may be too (see ``host_is_private``)."""
        started = time.monotonic()
        try:
            result = self._fetch_text(url, feed_is_private, started)
        except Exception as exc:  # the contract is: never raise
            result = FulltextResult(None, f"full text failed ({type(exc).__name__})")
        result.elapsed = time.monotonic() - started
        return result

    def _fetch_text(self, url: str, allow_private: bool, started: float) -> FulltextResult:
        problem = url_problem(url)
        if problem:
            return FulltextResult(None, f"bad article link: {problem}")
        host = connect_target(url.strip()).host  # url_problem above: it parses
        granted, wait = self.limiter.reserve(host)
        if not granted:
            return FulltextResult(None, RATE_LIMITED, retry_after=wait)
        texts: list[str] = []
        seen: set[str] = set()
        pages = fetched = 0
        note = ""
        paywall = False
        page_url: str | None = url.strip()
        visited: set[str] = set()
        for page_no in range(1, self.policy.max_pages + 1):
            if page_url is None:
                break
            if page_no > 1:
                if time.monotonic() - started > self.fetcher.policy.timeout:
                    note = f"page {page_no} skipped: time limit"
                    break
                if not self.limiter.reserve(host)[0]:
                    note = f"page {page_no} skipped: rate limited"
                    break
            visited.add(page_url)
            res = self.fetcher.fetch(page_url, accept=PAGE_ACCEPT, allow_private=allow_private)
            fetched += len(res.body or b"")
            page = _read_page(res, page_url, page_no)
            if isinstance(page, str):
                if page_no == 1:
                    return self._failure(host, page, res, fetched)
                note = f"page {page_no} failed: {page}"
                break
            pages += 1
            paywall = paywall or page.paywall
            new = [b for b in page.blocks if b not in seen]
            if page_no > 1 and not new:
                pages -= 1  # the same page again (a pager that loops back): not a page
                break
            seen.update(new)
            texts.extend(new)
            page_url = page.next_url if page.next_url not in visited else None
        return self._success(texts, pages, fetched, note, paywall)

    def _failure(self, host: str, reason: str, res: FetchResult, fetched: int) -> FulltextResult:
        retry_after = res.retry_after
        if res.status == 429 and retry_after is None:
            retry_after = DEFAULT_429_WAIT
        if retry_after is not None:
            self.limiter.defer(host, retry_after)
        return FulltextResult(None, reason, 0, fetched, retry_after=retry_after)

    def _success(
        self, texts: list[str], pages: int, fetched: int, note: str, paywall: bool
    ) -> FulltextResult:
        text = "\n\n".join(texts)
        if len(text) < self.policy.min_chars:
            reason = f"too little text ({len(text)} chars)" + (": paywall?" if paywall else "")
            return FulltextResult(None, reason, pages, fetched)
        status = "ok" if pages == 1 else f"ok ({pages} pages)"
        if note:
            status += f"; {note}"
        return FulltextResult(cap(text, self.policy.max_chars), status, pages, fetched)
