"""Feed parsing: the bytes of one fetched document in, clean typed items out.

feedparser does the RSS 0.9x/1.0/2.0 and Atom mapping, except for plain well-formed RSS 2.0,
which :mod:`daemon.feeds.rss` reads with the answer feedparser would give, for about a quarter
of the cost of a whole parse (per farm item 333 -> 85 µs, README.md "Where the time goes";
it declines anything else, and the tests compare the two on every fixture and on generated
documents). Everything around it is ours because the feeds we read are hostile or
sloppy in ways feedparser does not cover well:

* **Encoding** is decided here, not by feedparser (which trusts ``text/xml`` to mean ASCII and
  re-reads a whole UTF-8 feed as windows-1252 because of one stray byte). Valid UTF-8 wins over
  any declaration; otherwise the declared charset (HTTP, then the XML prolog; ISO-8859-1 and
  ASCII are read as windows-1252, as browsers do); otherwise UTF-8 with each invalid byte read
  as windows-1252. feedparser then gets clean UTF-8.
* **Controls**: C0 control characters (never legal in XML 1.0) are removed *first*, before
  any check, so none can hide a declaration (``<!\x01ENTITY``) from it.
* **Entity bombs**: a document with an ``<!ENTITY`` declaration anywhere is refused; every
  DOCTYPE is cut out, and one left or re-formed by the cut is refused too, so no parser
  ever sees a DTD and no entity can expand. HTML named entities (``&nbsp;``, ``&ndash;``)
  that XML does not know are rewritten as numeric references, which keeps the fast strict
  parser usable for the many feeds that use them outside CDATA.
* **Bad character references** (a surrogate, past U+10FFFF) become U+FFFD, and a surrogate
  pair written as two references (``&#55357;&#56833;``) becomes its character; an entry
  that still makes feedparser or our reading of it raise costs that entry only.
* **Cost** is linear in the document: every pass above is one scan, and a start tag past
  ``MAX_TAG_CHARS`` loses its attributes (feedparser is quadratic in them).
* **Dates** are read by :mod:`daemon.feeds.dates` from the raw strings (feedparser maps ``WIB`` to
  UTC). feedparser's own date handling still runs; it costs about 1-2 % of a parse, and
  switching it off would mean patching a module global.
* **Text**: title/summary/content become plain text with a linear-time regex stripper (no
  BeautifulSoup); descriptions that are HTML escaped twice (``&lt;img``) are stripped again.
  The ``*_html`` fields are the values as feedparser gave them, with sanitising turned off:
  they are NOT safe HTML and must be escaped or sanitised by whatever displays them.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import io
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from html.entities import html5 as _HTML5
from typing import Any

from daemon import text
from daemon.feeds import jsonfeed, rss
from daemon.feeds.dates import effective_published, parse_date
from daemon.feeds.item import ParsedItem
from daemon.feeds.urls import (
    canonical_url,
    feed_of_page,
    host_of,
    registrable_domain,
    unwrap_redirect,
)

__all__ = ["ParsedFeed", "ParsedItem", "identity_aliases", "parse_feed", "strip_html"]

TITLE_MAX = 1_000
SUMMARY_MAX = 5_000
CONTENT_MAX = 100_000
AUTHOR_MAX = 300
GUID_MAX = 1_000
TITLE_HTML_MAX = 4_000
SUMMARY_HTML_MAX = 20_000
FEED_TITLE_MAX = 500
RAW_DATE_MAX = 200
# Raw markup longer than this multiple of the plain-text cap is cut before stripping, which
# bounds the work per field whatever the feed sends.
_RAW_FACTOR = 8

#: Plain RSS 2.0 documents are read by :mod:`daemon.feeds.rss` (feedparser's answer; a parse
#: costs 85 instead of 333 µs per item); everything else by feedparser. False: feedparser for every document (the tests
#: compare the two).
FAST_RSS = True

#: Link hosts that are click redirectors; a URL in the guid is the real article then.
REDIRECT_HOSTS = ("feedsportal.com", "feedburner.com", "feedproxy.google.com")


@dataclass
class ParsedFeed:
    title: str
    link: str | None
    items: list[ParsedItem]
    warning: str | None
    error: str | None
    # Items that carry a date pantau cannot read (filed under the time first seen instead);
    # equal to ``dated`` when no date of the document could be read at all.
    dates_unreadable: int = 0
    dated: int = 0  # items that carry a date at all


# --------------------------------------------------------------------------- encoding

_CP1252_HIGH = [bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(0x80, 0x100)]


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read each undecodable byte as windows-1252."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(_CP1252_HIGH[b - 0x80] if b >= 0x80 else chr(b) for b in bad), exc.end


codecs.register_error("pantau_cp1252", _cp1252_fallback)

_XML_ENC_RE = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:\-]{1,40})")
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:\-]{1,40})", re.I)
_LATIN = {"ascii", "iso8859-1", "latin-1", "latin_1"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return "cp1252" if codec in _LATIN else codec


def decode_body(body: bytes, content_type: str | None) -> tuple[str, str | None]:
    """The document as text, and a note when the declared encoding was not the one used."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(enc, "replace"), None
    # Without a BOM, "<" and the zero bytes around it name the encoding (XML 1.0, F.1); read
    # as UTF-8, UTF-32 text would pass every check with a NUL between its letters.
    head = body[:4]
    if head in (b"<\x00\x00\x00", b"\x00\x00\x00<"):
        return body.decode("utf-32-le" if body[0] else "utf-32-be", "replace"), None
    if len(head) == 4 and (
        (head[0:2] == b"<\x00" and head[3] == 0 and 0 < head[2] < 0x80)
        or (head[0:3:2] == b"\x00\x00" and head[1] == 0x3C and 0 < head[3] < 0x80)
    ):
        return body.decode("utf-16-le" if body[0] else "utf-16-be", "replace"), None
    if body.isascii():
        return body.decode("ascii"), None
    m = _CHARSET_RE.search(content_type or "")
    x = _XML_ENC_RE.match(body)
    declared = [c for c in (_codec(m and m.group(1)), _codec(x and x.group(1).decode())) if c]
    try:
        s = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared and declared[0] != "utf-8":
            return s, f"declared {declared[0]} but the bytes are UTF-8; read as UTF-8"
        return s, None
    for enc in declared:
        if enc == "utf-8":
            break
        try:
            return body.decode(enc), None
        except (UnicodeDecodeError, LookupError):
            continue
    if declared and declared[0] != "utf-8":
        return body.decode(declared[0], "replace"), f"bytes invalid in {declared[0]} replaced"
    return body.decode("utf-8", "pantau_cp1252"), "invalid UTF-8 bytes read as windows-1252"


# --------------------------------------------------------------------------- XML hygiene

_XML_BAD_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HTML_ENTITY_RE = re.compile(r"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]{1,31});")
_DOCTYPE_RE = re.compile(r"<!\s*DOCTYPE", re.I)
_DOCTYPE_OR_TEXT_RE = re.compile(r"<!(\s*DOCTYPE)|<!(\[CDATA\[|--)", re.I)
_ENTITY_DECL_RE = re.compile(r"<!\s*ENTITY", re.I)
_SUBSET_END_RE = re.compile(r"\]\s*>")
# A character reference, optionally followed by a second one (a surrogate pair).
_CHAR_REF_RE = re.compile(r"&#([xX][0-9a-fA-F]+|[0-9]+);(?:&#([xX][0-9a-fA-F]+|[0-9]+);)?")
# A start tag this long is a parser attack (feedparser's strict parser is quadratic in the
# number of attributes of one element: 100,000 took 66 s); real tags are a few hundred chars.
MAX_TAG_CHARS = 4096
_LONG_TAG_RE = re.compile(f"<[A-Za-z][^<>]{{{MAX_TAG_CHARS},}}(>?)")
_TAG_NAME_RE = re.compile(r"<([A-Za-z][-\w.:]{0,99})")


class Refused(ValueError):
    """A document pantau will not parse at all (the reason is recorded on the feed)."""


def _numeric_entity(m: re.Match[str]) -> str:
    value = _HTML5.get(m.group(1) + ";")
    if value is None:
        return m.group(0)
    return "".join(f"&#{ord(c)};" for c in value)


def _code_point(ref: str) -> int | None:
    digits = ref[1:] if ref[0] in "xX" else ref
    digits = digits.lstrip("0") or "0"
    if len(digits) > 8:  # past U+10FFFF in any base; int() of 5,000 digits is an error too
        return None
    return int(digits, 16 if ref[0] in "xX" else 10)


def _xml_char(cp: int | None) -> str | None:
    """The reference's character if XML 1.0 allows it, else None."""
    if cp is None or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF or cp in (0xFFFE, 0xFFFF):
        return None
    if cp < 0x20 and cp not in (0x9, 0xA, 0xD):
        return None
    return chr(cp)


def _ref_text(cp: int | None, original: str) -> str:
    if _xml_char(cp) is not None:
        return original
    if cp is not None and cp < 0x20:
        return ""  # a control character: removed, as raw ones are
    return "&#xFFFD;"


def _fix_char_ref(m: re.Match[str]) -> str:
    """A surrogate pair written as two references becomes the real character; any other
    reference XML does not allow (a lone surrogate, past U+10FFFF, a control) becomes
    U+FFFD or nothing, so one bad reference never costs the whole document (feedparser's
    loose parser raised on them)."""
    first = _code_point(m.group(1))
    if m.group(2) is None:
        return _ref_text(first, m.group(0))
    second = _code_point(m.group(2))
    if first is not None and second is not None:
        if 0xD800 <= first <= 0xDBFF and 0xDC00 <= second <= 0xDFFF:
            return f"&#x{0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00):X};"
    split = m.group(0).index(";") + 1
    return _ref_text(first, m.group(0)[:split]) + _ref_text(second, m.group(0)[split:])


def _short_tag(m: re.Match[str]) -> str:
    """A start tag past MAX_TAG_CHARS keeps its name and loses its attributes."""
    name = _TAG_NAME_RE.match(m.group(0))
    closed = "/>" if m.group(0).endswith("/>") else ">"
    return f"<{name.group(1)}{closed}" if name and m.group(1) else ""


class _Finder:
    """``str.find`` for ascending start positions that remembers its last answer, so many
    unterminated declarations cost one scan of the text, not one scan each."""

    def __init__(self, s: str, pattern: re.Pattern[str]) -> None:
        self._s, self._pattern = s, pattern
        self._from, self._at, self._end = -1, -1, -1

    def find(self, start: int) -> tuple[int, int]:
        """(start, end) of the first match at or after ``start``, or (-1, -1)."""
        if self._from != -1 and start >= self._from and (self._at == -1 or self._at >= start):
            return self._at, self._end
        m = self._pattern.search(self._s, start)
        self._from = start
        self._at, self._end = (m.start(), m.end()) if m else (-1, -1)
        return self._at, self._end


def remove_doctypes(s: str) -> str:
    """Every ``<!DOCTYPE`` declaration (with its internal subset) removed, wherever it is
    outside a (terminated) CDATA section or comment, in one linear pass. Inside those it is
    text (feedparser's own tests have ``<![CDATA[ <!DOCTYPE ]]>`` in a description and
    ``"<!DOCTYPE"`` in a comment); harmless text too, as any ``<!ENTITY`` is refused. A DOCTYPE
    re-formed by the removal (``<!<!DOCTYPE x>DOCTYPE ...``) is for the caller to refuse."""
    if "<!" not in s or not _DOCTYPE_RE.search(s):
        return s
    gt = _Finder(s, re.compile(">"))
    bracket = _Finder(s, re.compile(r"\["))
    subset_end = _Finder(s, _SUBSET_END_RE)
    text_end = {"--": _Finder(s, re.compile("-->")), "[CDATA[": _Finder(s, re.compile(r"\]\]>"))}
    pieces: list[str] = []
    pos = 0
    skip_to = 0
    for m in _DOCTYPE_OR_TEXT_RE.finditer(s):
        if m.start() < max(pos, skip_to):
            continue  # inside the declaration just removed, or inside CDATA or a comment
        if m.group(1) is None:  # CDATA or a comment: skip to its end (unterminated: not one)
            _, end = text_end[m.group(2).upper()].find(m.end())
            skip_to = end if end != -1 else skip_to
            continue
        pieces.append(s[pos : m.start()])
        close, _ = gt.find(m.end())
        open_, _ = bracket.find(m.end())
        if open_ != -1 and (close == -1 or open_ < close):
            _, end = subset_end.find(open_)
            pos = end if end != -1 else open_ + 1  # unterminated subset: up to the "["
        else:
            pos = close + 1 if close != -1 else len(s)
    if not pieces:
        return s
    return "".join(pieces) + s[pos:]


def neutralise_dtd(s: str) -> str:
    """The text without any DOCTYPE; raises :class:`Refused` when an entity declaration or
    a DOCTYPE is left (declared anywhere, or re-formed by the removal). No parser downstream
    (expat, or feedparser's loose parser, which re-declares "safe" entities and expands them
    without limit) ever sees a DTD."""
    if _ENTITY_DECL_RE.search(s):
        raise Refused("refused: the document declares XML entities (entity-expansion bomb?)")
    s = remove_doctypes(s)
    if _ENTITY_DECL_RE.search(s) or (_DOCTYPE_RE.search(s) and remove_doctypes(s) != s):
        raise Refused("refused: the document hides a DOCTYPE or entity declaration")
    return s


def prepare_xml(s: str, *, cut_long_tags: bool = True) -> str:
    """Text that is safe and as well-formed as cheaply possible for feedparser, in time
    linear in its length. The order matters: control characters go *first*, so that
    ``<!\x01ENTITY`` cannot pass the checks and become a declaration afterwards; the
    declaration checks come last among the removals. Raises :class:`Refused`.
    ``cut_long_tags``: a start tag past ``MAX_TAG_CHARS`` loses its attributes (feedparser
    is quadratic in them; expat alone, as for OPML, is not, and an outline's long
    description must not cost its feed URL)."""
    s = s.lstrip("\ufeff \t\r\n")
    if _XML_BAD_CHARS_RE.search(s):
        s = _XML_BAD_CHARS_RE.sub("", s)
    s = neutralise_dtd(s)
    if cut_long_tags and len(s) > MAX_TAG_CHARS and _LONG_TAG_RE.search(s):
        s = _LONG_TAG_RE.sub(_short_tag, s)
    if "&" in s:
        if "&#" in s:
            s = _CHAR_REF_RE.sub(_fix_char_ref, s)
        s = _HTML_ENTITY_RE.sub(_numeric_entity, s)
    return s


# An "&" that starts no reference XML knows (after ``prepare_xml``: the five named ones and
# numeric ones): a bare ampersand in a URL or name, or a name neither XML nor HTML defines
_STRAY_AMP_RE = re.compile(r"&(?!(?:amp|lt|gt|quot|apos);|#[0-9]+;|#[xX][0-9a-fA-F]+;)")


def escape_stray_ampersands(s: str) -> str:
    """``prepare_xml``'s text with every "&" that starts no reference written as ``&amp;``,
    so it reads as the character it was meant to be. For documents with no loose parser
    to fall back on (OPML: ``daemon.opml``); feeds keep feedparser's own recovery."""
    return _STRAY_AMP_RE.sub("&amp;", s) if "&" in s else s


# --------------------------------------------------------------------------- plain text

_DROP_OPEN_RE = re.compile(r"<(?:(script|style|noscript|iframe|template|object)\b|!--)", re.I)
_BLOCK_TAG_RE = re.compile(
    r"</?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|thead|tbody|blockquote|figure|figcaption"
    r"|section|article|header|footer|aside|hr|img|dd|dt|dl|pre|caption)\b[^<>]*>",
    re.I,
)
_TAG_RE = re.compile(r"<[A-Za-z/!?][^<>]*>")
_LI_RE = re.compile(r"<li\b[^<>]*>", re.I)
# opens a list item's line: a control character that ``clean_text`` removes and that
# ``str.strip`` keeps (it takes "\x1c"-"\x1f" for whitespace)
_ITEM = "\x07"
# A line that points elsewhere ("Baca juga: <a>...</a>"), and a label that heads a list of
# such pointers ("Baca Juga" above three other articles' titles, as Liputan6 puts in 185 of
# its 200 descriptions in ../shared/corpus/real): the same vocabulary as full-text extraction.
_POINTER_LINE = re.compile(rf"(?:{text.KICKERS})", re.I)
_POINTER_LABEL = re.compile(rf"(?:{text.KICKERS}|{text.LABELS})\W*", re.I)
# "(Simak juga: ...)", "(Baca juga: ...)": a pointer set in the running text, in parentheses
# ("(baca: penghuni rumah susun)" is "that is", and stays)
_POINTER_ASIDE = re.compile(r"\((?:baca|simak|lihat|tonton|saksikan)\s+juga\b[^()]{0,200}\)", re.I)


def _drop_pointers(s: str) -> str:
    """``s`` without its lines that point to other articles: a line that opens with "Baca
    juga" and the like, and a bare label ("Baca Juga", "Berita Terkait") with the list items
    that follow it. Their titles are other stories: a topic that matched them alerted on
    this one (a Rooney story matched "Juventus"), and grouping read their figures and dates.
    Only between lines the HTML made (a text that would lose every line keeps them all),
    and a pointer in parentheses anywhere ("(Simak juga: Sulit Bujuk Anak Tidur? ...)")."""
    if "\n" not in s and "(" not in s:
        return s  # (no line to drop, no aside: most titles and one-paragraph descriptions)
    low = s.lower()
    if not any(w in low for w in text.POINTER_WORDS):
        return s
    if "(" in s:
        s = _POINTER_ASIDE.sub(" ", s)
    if "\n" not in s:
        return s
    kept: list[str] = []
    in_list = False
    for line in s.split("\n"):
        bare = line.strip().lstrip(_ITEM).strip()
        if not bare:
            continue
        if in_list and line.lstrip().startswith(_ITEM):
            continue  # an item of the list a label heads
        in_list = False
        if _POINTER_LABEL.fullmatch(bare):
            in_list = True
            continue
        if _POINTER_LINE.match(bare):
            continue
        kept.append(line)
    return "\n".join(kept) if kept else s


_ESCAPED_TAG_RE = re.compile(r"&lt;/?[A-Za-z][^<>&]*&gt;")
# what a text still holds after one decoding when its feed escaped an entity twice; named
# entities of text only (a decoded "<" or ">" could make a tag of the text, so not those)
_NAMED_ENTITY_RE = re.compile(
    r"&(?:quot|amp|apos|nbsp|#39|#34|rsquo|lsquo|rdquo|ldquo|ndash|mdash|hellip);"
)
_MOJIBAKE_CONT = "".join(
    re.escape(bytes([b]).decode("cp1252", "ignore") or chr(b)) for b in range(0x80, 0xC0)
)
_MOJIBAKE_RE = re.compile(f"\u00e2[\u20ac\u201a\u201e][{_MOJIBAKE_CONT}]")


def _drop_blocks(s: str) -> str:
    """Cut script/style/iframe elements and comments with their content, in linear time."""
    low = s.lower()
    if "<!--" not in low and not _DROP_OPEN_RE.search(low):
        return s
    out: list[str] = []
    pos = 0
    while True:
        m = _DROP_OPEN_RE.search(low, pos)
        if m is None:
            out.append(s[pos:])
            break
        out.append(s[pos : m.start()])
        out.append(" ")
        if m.group(1):
            close = low.find("</" + m.group(1), m.end())
            end = low.find(">", close) + 1 if close != -1 else 0
        else:
            close = low.find("-->", m.end())
            end = close + 3 if close != -1 else 0
        if end <= 0:
            break
        pos = end
    return "".join(out)


def _strip_once(s: str) -> str:
    s = _drop_blocks(s)
    # Blocks become lines, a list item's line opens with _ITEM, so that ``_drop_pointers``
    # can tell a "Baca juga" block from the story; ``text.clean_text`` folds the lines.
    if "<l" in s or "<L" in s:  # (a substring test before the case-blind regex)
        s = _LI_RE.sub("\n" + _ITEM, s)
    s = _BLOCK_TAG_RE.sub("\n", s)
    s = _TAG_RE.sub("", s)
    lt = s.rfind("<")
    if lt != -1 and ">" not in s[lt:] and s[lt + 1 : lt + 2].isalpha():
        s = s[:lt]  # a tag cut off at the end of a truncated excerpt
    return html.unescape(s) if "&" in s else s


def _fix_mojibake_match(m: re.Match[str]) -> str:
    raw = m.group(0)
    try:
        return bytes(_CP1252_HIGH.index(c) + 0x80 for c in raw).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return raw


def strip_html(value: str | None, max_len: int) -> str:
    """Plain text of an HTML (or plain) value: tags and scripts gone, entities decoded (also
    when escaped twice), UTF-8 read twice (``â€™``) repaired, cleaned and capped."""
    if not value:
        return ""
    s = value[: max_len * _RAW_FACTOR + 1000]
    for _ in range(3):
        if "<" not in s and "&" not in s:
            break
        s = _strip_once(s)
        if not _TAG_RE.search(s) and not _ESCAPED_TAG_RE.search(s):
            if "&" in s and _NAMED_ENTITY_RE.search(s):
                s = html.unescape(s)  # an entity escaped twice: Tempo's "&amp;quot;"
            break
    if "\u00e2" in s:
        s = _MOJIBAKE_RE.sub(_fix_mojibake_match, s)
    return text.clean_text(_drop_pointers(s), max_len)


def _raw_value(value: str | None, max_len: int) -> str:
    if not value:
        return ""
    return text.strip_control(value[:max_len]).strip()


# --------------------------------------------------------------------------- entries


@dataclass
class _Candidate:
    guid: str | None
    url: str | None
    title: str
    item: dict[str, Any]


def _clean_guid(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    guid = text.strip_control(value).strip()[:GUID_MAX]
    return guid or None


def _pick_url(link: Any, guid: str | None, base: str) -> str | None:
    """The entry's link (the page it leads to when it is a redirector's link that names it,
    as Google Alerts' do: ``urls.unwrap_redirect``); the guid instead when the link is a
    feed redirector (feedsportal, FeedBurner) or missing and the guid is an http(s) URL."""
    url = canonical_url(link, base) if isinstance(link, str) else None
    if url is not None:
        url = unwrap_redirect(url) or url
    if guid and guid[:4].lower() == "http":
        # a host that ends with a redirector's name has that name in the link: the substring
        # test (C) spares nearly every item the URL split (5 us)
        low = url.lower() if url is not None else ""
        redirected = any(h in low for h in REDIRECT_HOSTS) and host_of(url).endswith(REDIRECT_HOSTS)
        if url is None or redirected:
            return canonical_url(guid) or url
    return url


def _raw_date(entry: Mapping[str, Any]) -> str | None:
    for key in ("published", "updated", "created"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return text.clean_line(value, RAW_DATE_MAX)
    return None


def _content_value(entry: Mapping[str, Any], atom: bool) -> str:
    """``content:encoded`` or Atom ``content``. In RSS, feedparser also files Media RSS
    captions (``media:description``) as text/plain content; those are not the article."""
    for c in entry.get("content") or ():
        if not isinstance(c, Mapping) or (not atom and c.get("type") == "text/plain"):
            continue
        value = c.get("value")
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _candidate(
    entry: Mapping[str, Any], base: str, tz: str, now: datetime, atom: bool
) -> _Candidate | None:
    guid = _clean_guid(entry.get("id"))
    url = _pick_url(entry.get("link"), guid, base)
    raw_title = entry.get("title") or ""
    raw_summary = entry.get("summary") or ""
    title = strip_html(raw_title, TITLE_MAX)
    summary = strip_html(raw_summary, SUMMARY_MAX)
    outlet = aggregated_outlet(entry, base)
    if outlet:
        title = without_publisher(title, outlet)
        if links_only(raw_summary):
            summary = ""  # the aggregator's links to the report, not a summary of it
    content = strip_html(_content_value(entry, atom), CONTENT_MAX)
    if not summary and content:
        summary = text.cap(content, SUMMARY_MAX)
    if content == summary:
        content = ""
    if not title:
        title = text.cap(summary, 200) or text.cap(url or "", TITLE_MAX)
    if not title and not guid:
        return None
    published_raw = _raw_date(entry)
    published_at, has_date = effective_published(parse_date(published_raw, tz), now)
    item = {
        "guid": guid,
        "url": url,
        "title": title,
        "summary": summary,
        "content": content,
        "title_html": _raw_value(raw_title, TITLE_HTML_MAX),
        "summary_html": _raw_value(raw_summary, SUMMARY_HTML_MAX),
        "author": text.clean_text(entry.get("author") or "", AUTHOR_MAX),
        "published_at": published_at,
        "published_raw": published_raw,
        "has_date": has_date,
        "outlet": outlet,
    }
    return _Candidate(guid=guid, url=url, title=title, item=item)


# An aggregator's entry: Google News carries many publishers' reports, each entry naming its
# publisher in RSS's <source> (feedparser's ``source.title``), appending it to the headline
# ("KPK Tahan Bupati ... - detikNews") and writing, in place of a summary, links to the
# report (its headline again, the publisher in a <font>), sometimes with related headlines of
# other publishers. Read as they come, the headline carries a word the publisher's own feed
# does not write, the "summary" is the headline plus other reports' headlines, and the
# entry is shown under the aggregator's name: the same report alerts twice, under a name
# that is not the outlet's (docs/design.md, "Aggregators' entries").
OUTLET_MAX = 200  # (``alerts.outlet``)
_PUBLISHER_SEPARATORS = (" - ", " – ", " — ", " | ")
_LINKS_MAX = 20_000  # Google's blocks are a few KB; the test below is not run on more
# an <a> element, and a <font> that colours a publisher's name (Google's grey "#6f6f6f"); a
# <font> without a colour held text of the report in Google's older blocks
_LINK_RE = re.compile(r"<a\b[^>]*>[^<]*(?:<(?!/?a\b)[^<]*)*</a\s*>", re.I)
_NAME_RE = re.compile(r"<font\b[^>]*\bcolor=[^>]*>[^<]*(?:<(?!/?font\b)[^<]*)*</font\s*>", re.I)


def aggregated_outlet(entry: Mapping[str, Any], feed_url: str | None = None) -> str:
    """The publisher an entry names as its source; "" for an entry of the feed's own, also
    one whose source is the feed's own site (a bookmarking service names its own feed):
    that entry keeps the name the operator gave the feed."""
    source = entry.get("source")
    if not isinstance(source, Mapping):
        # Bing News writes the publisher in <News:Source> (feedparser's "news_source")
        bing = entry.get("news_source")
        return text.clean_text(bing, OUTLET_MAX) if isinstance(bing, str) else ""
    name = source.get("title")
    if not isinstance(name, str):
        return ""
    href = source.get("href")
    if isinstance(href, str) and feed_url:
        here, there = host_of(feed_url), host_of(href)
        if here and there and registrable_domain(here) == registrable_domain(there):
            return ""
    return text.clean_text(name, OUTLET_MAX)


def without_publisher(title: str, outlet: str) -> str:
    """The headline without the publisher's name appended to it ("Judul - detikNews"), only
    when it is that name: a headline may hold " - " of its own."""
    for sep in _PUBLISHER_SEPARATORS:
        tail = sep + outlet
        if title.endswith(tail) and (headline := title[: -len(tail)].rstrip()):
            return headline
    return title


def links_only(raw: str) -> bool:
    """Whether a description is nothing but links and publishers' names (<a> elements,
    coloured <font> elements, list or table markup, spaces): an aggregator's pointers, not
    text of the report."""
    if not raw or len(raw) > _LINKS_MAX:
        return False
    if "<" not in raw and "&lt;" in raw:
        raw = html.unescape(raw)  # escaped once more than feedparser undid
    if not re.search(r"<a\b", raw, re.I):
        return False
    return not strip_html(_NAME_RE.sub(" ", _LINK_RE.sub(" ", raw)), 200)


def _all_unique(values: list[str | None]) -> bool:
    return all(values) and len(set(values)) == len(values)


def hash_identity(url: str | None, title: str) -> str:
    digest = hashlib.sha256(f"{url or ''}\n{title}".encode()).hexdigest()
    return "hash:" + digest


def identity_aliases(item: ParsedItem) -> list[str]:
    """The identities ``item`` has under the schemes its document did not use
    (``assign_identities``), most trusted first. The scheme is the document's: one item
    that loses its guid, or a stray end tag that splits one item in two, moves every item
    of the feed to links or hashes; the store then knows an item by any of them, so the
    others do not come back as new (``pipeline.ingest.read_state``)."""
    out = []
    if item.guid:
        out.append(f"guid:{item.guid}")
    if item.url:
        out.append(f"link:{item.url}")
    out.append(hash_identity(item.url, item.title))
    return [a for a in out if a != item.identity]


def assign_identities(cands: list[_Candidate]) -> list[tuple[str, _Candidate]]:
    """Identity per item, decided for the whole document: guids if every item has one and none
    repeats, else canonical links under the same condition, else a hash of link and title.
    Exact duplicate entries (same guid, link and title) count once; later items whose identity
    was already taken are dropped."""
    seen_exact: set[tuple[str | None, str | None, str]] = set()
    unique: list[_Candidate] = []
    for c in cands:
        key = (c.guid, c.url, c.title)
        if key not in seen_exact:
            seen_exact.add(key)
            unique.append(c)
    if _all_unique([c.guid for c in unique]):
        ids = [f"guid:{c.guid}" for c in unique]
    elif _all_unique([c.url for c in unique]):
        ids = [f"link:{c.url}" for c in unique]
    else:
        ids = [hash_identity(c.url, c.title) for c in unique]
    out: list[tuple[str, _Candidate]] = []
    taken: set[str] = set()
    for ident, c in zip(ids, unique):
        if ident not in taken:
            taken.add(ident)
            out.append((ident, c))
    return out


# --------------------------------------------------------------------------- feed

_UTC = timezone.utc


_JSON_START = re.compile(r"[\ufeff\s]*\{")  # (a match, not a copy of the body: lstrip)


def _not_a_feed_reason(s: str, bozo_exc: BaseException | None) -> str:
    head = s[:2048].lstrip().lower()
    if not head:
        return "empty body"
    if head.startswith(("<!doctype html", "<html")) or ("<html" in head and "<rss" not in head):
        m = re.search(r"<title[^<>]*>([^<]{0,300})", s[:65536], re.I)
        title = text.clean_line(html.unescape(m.group(1)), 120) if m else ""
        return f"HTML page (title: {title!r})" if title else "HTML page"
    if head[:1] in "{[":
        return "JSON or other non-XML text"
    if bozo_exc is not None:
        return _bozo_text(bozo_exc)
    return "no RSS or Atom elements"


def _bozo_text(exc: BaseException) -> str:
    line = getattr(exc, "getLineNumber", None)
    where = f" (line {line()})" if callable(line) else ""
    msg = text.clean_line(getattr(exc, "getMessage", lambda: str(exc))(), 200)
    return f"not well-formed XML{where}: {msg}"


def parse_feed(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    timezone: str = "Asia/Jakarta",
    now: datetime | None = None,
    max_items: int = 1000,
) -> ParsedFeed:
    """Parse one fetched feed document. Never raises for any ``body``: a document that is not
    a feed comes back with ``error`` set and no items."""
    now = datetime.now(_UTC) if now is None else now
    now = now.replace(tzinfo=_UTC) if now.tzinfo is None else now.astimezone(_UTC)
    lower_headers = {k.lower(): v for k, v in (headers or {}).items()}
    try:
        return _parse(body, url, lower_headers, timezone, now, max_items)
    except Exception as exc:  # noqa: BLE001 - a hostile body must never take the poller down
        reason = text.clean_line(f"{type(exc).__name__}: {exc}", 300)
        return ParsedFeed(
            title="", link=None, items=[], warning=None, error=f"parser failure: {reason}"
        )


def run_feedparser(prepared: str) -> Any:
    """feedparser over a prepared (clean UTF-8) document, with its sanitising and URI
    resolution off: every call into feedparser goes through here (tests make it raise)."""
    import feedparser  # here: a daemon whose feeds all answer 304 never needs it (~30 ms)

    return feedparser.parse(
        io.BytesIO(prepared.encode("utf-8")),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )


_ENTRY_OPEN_RE = re.compile(r"<(?:item|entry)(?=[\s>/])", re.I)
_LINK_TAG_RE = re.compile(r"<(?:link|guid|id)(?=[\s>/])", re.I)  # what makes an entry linked
_HEAD_TAG_RE = re.compile(r"<(/?)([A-Za-z_][\w:.-]*)[^<>]*?(/?)>")


def _open_tags(head: str) -> str:
    """The start tags still open where the first entry begins (``<rss ...><channel>``),
    without the text and closed elements between them: a short wrapper for one entry."""
    stack: list[tuple[str, str]] = []
    for m in _HEAD_TAG_RE.finditer(head):
        closing, name, empty = m.groups()
        if empty:
            continue
        if not closing:
            if len(stack) < 64:  # deeper is no feed; the bound keeps this linear
                stack.append((name, m.group(0)[:1024]))
            continue
        for j in range(len(stack) - 1, -1, -1):
            if stack[j][0] == name:
                del stack[j:]
                break
    return "".join(tag for _, tag in stack)


def _feedparser_per_entry(
    prepared: str, tags_only: bool = False, max_entries: int = 1000
) -> dict[str, Any]:
    """feedparser's answer, entry by entry, for a document it raises on as a whole: each
    ``<item>``/``<entry>`` is parsed alone inside the document's opening tags, so the entry
    it chokes on is the only one lost. Linear: the wrapper is the head when short, else only
    the start tags still open, and the entries parsed in all stay within a few times the document
    (the rest are left out, as a document past ``max_items`` would be). ``tags_only``: the
    start tags even for a short head (one a broken first entry runs into). ``max_entries``:
    chunks read at most (each costs a feedparser call however short it is)."""
    found = itertools.islice(_ENTRY_OPEN_RE.finditer(prepared), max_entries + 1)
    starts = [m.start() for m in found]
    if not starts:
        raise ValueError("feedparser failed and the document has no entries")
    head = prepared[: starts[0]]
    wrapper = head if len(head) <= 2048 and not tags_only else _open_tags(head)
    budget = 4 * len(prepared) + 65536  # characters handed to feedparser in all
    entries: list[Any] = []
    feed: Any = {}
    version = ""
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(prepared)
        doc = wrapper + prepared[start:end]
        budget -= len(doc)
        if budget < 0:
            break
        try:
            d = run_feedparser(doc)
        except Exception:  # noqa: BLE001 - this entry is the one it chokes on
            continue
        entries.extend(d.get("entries") or [])
        feed = feed or d.get("feed") or {}
        version = version or d.get("version") or ""
    return {"entries": entries, "feed": feed, "version": version, "bozo": 0}


def _linked(entries: list[Any]) -> int:
    """Entries with a link or an id: what a reading that went wrong leaves out."""
    return sum(1 for e in entries if e.get("link") or e.get("id"))


def _recover_entries(prepared: str, d: Any) -> Any:
    """feedparser's answer, or the entry-by-entry one when that holds more entries with a
    link or an id. A document that is not well-formed goes to feedparser's loose parser,
    which reads an unterminated comment, CDATA section or attribute quote in one item as
    running to the end of the document: every later item was lost, silently (one comment
    opener in one of Liputan6's 200 items cost 120), or merged into a fragment without a
    link (docs/design.md, "One bad entry costs one entry"). Parsed entry by entry, the
    broken item is the only one lost. Only for a document feedparser flagged that
    announces more entries than it read, or that writes links or ids for its entries and
    was read with one without: the well-formed pay nothing, and no real outlet feed in
    ../shared/corpus/real is flagged. Bounded in feedparser calls (docs/design.md)."""
    if not d.get("bozo"):
        return d
    entries = d.get("entries") or []
    announced = sum(1 for _ in itertools.islice(_ENTRY_OPEN_RE.finditer(prepared), 1001))
    score = _linked(entries)
    if announced <= len(entries) and (
        score == len(entries)
        # entries without link or id in a feed that writes none are the feed's, not a sign
        # of a broken reading (and reading 1,000 of them one by one costs ten times more)
        or sum(1 for _ in itertools.islice(_LINK_TAG_RE.finditer(prepared), announced)) < announced
    ):
        return d
    best = d
    for tags_only in (False, True):
        try:
            # "<item" in a CDATA section makes a chunk too: at most four times what the
            # whole-document reading found, or 250 (Liputan6 writes 200 items)
            alone = _feedparser_per_entry(prepared, tags_only, max(4 * len(entries), 250))
        except Exception:  # noqa: BLE001 - no better answer: keep feedparser's
            alone = {"entries": []}
        if (found := _linked(alone["entries"])) > score:
            best, score = {**alone, "bozo": 1, "bozo_exception": d.get("bozo_exception")}, found
        if score >= announced or alone["entries"]:
            # (once more with the head's start tags alone only when every entry failed:
            # a broken first entry that ran into the head spoils each wrapped one)
            break
    return best


def _parse(
    body: bytes, url: str, headers: dict[str, str], tz: str, now: datetime, max_items: int
) -> ParsedFeed:
    if not body or not body.strip():
        return ParsedFeed("", None, [], None, "not a feed: empty body")
    decoded, note = decode_body(body, headers.get("content-type"))
    json_feed = jsonfeed.read(decoded) if _JSON_START.match(decoded) else None
    try:
        prepared = prepare_xml(decoded) if json_feed is None else ""
    except Refused as refused:
        # Declared entities are never expanded; a document that declares them is refused as
        # a whole and recorded on the feed (README.md, "Deviations").
        return ParsedFeed("", None, [], None, str(refused))
    fast = rss.read(prepared) if FAST_RSS and json_feed is None else None
    if json_feed is not None:
        feed, entries = json_feed
        bozo_exc, atom = None, False
    elif fast is not None:
        feed, entries = fast
        bozo_exc, atom = None, False
    else:
        try:
            d = run_feedparser(prepared)
        except Exception:  # noqa: BLE001 - one entry it chokes on must not cost the feed
            d = _feedparser_per_entry(prepared)
        else:
            d = _recover_entries(prepared, d)
        bozo_exc = d.get("bozo_exception") if d.get("bozo") else None
        entries = d.get("entries") or []
        if not entries and (bozo_exc is not None or not d.get("version")):
            reason = "not a feed: " + _not_a_feed_reason(decoded, bozo_exc)
            if (feed_url := feed_of_page(url)) is not None:
                reason += f"; this is the web page, its feed is {feed_url}"
            return ParsedFeed("", None, [], None, reason)
        feed = d.get("feed") or {}
        atom = str(d.get("version") or "").startswith("atom")
    warnings = [note] if note else []
    if bozo_exc is not None:
        warnings.append(f"{_bozo_text(bozo_exc)}; {len(entries)} entries recovered")
    if len(entries) > max_items:
        warnings.append(f"{len(entries) - max_items} entries beyond the first {max_items} ignored")
        entries = entries[:max_items]
    cands: list[_Candidate] = []
    dropped = 0
    for e in entries:
        try:
            c = _candidate(e, url, tz, now, atom)
        except Exception:  # noqa: BLE001 - a field we choke on costs its entry only
            dropped += 1
            continue
        if c is not None:
            cands.append(c)
    if dropped:
        warnings.append(f"{dropped} unreadable entries skipped")
    items = [ParsedItem(identity=ident, **c.item) for ident, c in assign_identities(cands)]
    dated = [it for it in items if it.published_raw]
    return ParsedFeed(
        title=strip_html(feed.get("title"), FEED_TITLE_MAX),
        link=canonical_url(feed.get("link"), url) if isinstance(feed.get("link"), str) else None,
        items=items,
        warning="; ".join(warnings) or None,
        error=None,
        # an unused date is re-read only to tell "unreadable" from "in the future": rare
        dates_unreadable=sum(
            1 for it in dated if not it.has_date and parse_date(it.published_raw, tz) is None
        ),
        dated=len(dated),
    )
