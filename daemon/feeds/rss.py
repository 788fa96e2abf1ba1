"""A fast reader for plain RSS 2.0 documents that yields what feedparser would.

feedparser is pantau's feed parser, and it is thorough: RSS 0.9x/1.0/2.0, Atom, a loose parser
for broken XML, a dozen namespaces, xml:base, content-type guessing. That generality costs
about 250 µs of Python per item (a SAX callback and several dictionary updates per element);
in a first cycle over 1,000 feeds it was a quarter of all of pantau's CPU time.

Most feeds pantau reads are the same plain shape: well-formed RSS 2.0, items made of
``title``, ``link``, ``description``, ``guid``, ``pubDate`` and a few extensions whose values
pantau ignores. For exactly that shape this module builds the entries feedparser would build
for the fields ``daemon.feeds.parse`` reads (``title``, ``link``, ``id``, ``summary``, ``content``,
``published``, ``updated``, ``author``; the channel's ``title`` and ``link``), from one
``xml.etree`` parse (expat, the same parser feedparser's strict mode uses): a whole
``parse_feed`` then costs 85 instead of 333 µs per farm item (README.md, bench/README.md). Anything else, however slight (an unknown element or namespace, an attribute that
feedparser interprets, a repeated field, markup that is not escaped, an XML declaration of
another encoding, a document that is not well-formed), makes :func:`read` return ``None``,
and the caller hands the document to feedparser as before. So feedparser stays the parser of
record: this module only answers where it can give feedparser's answer, which
``tests/test_rss.py`` checks field by field against feedparser itself on every fixture and on
generated documents.

The value rules copied in behaviour (not in code) from feedparser's strict mode:

* every text value is stripped of surrounding whitespace; text that is all Latin-1 and
  valid UTF-8 once encoded back is decoded again (feedparser's repair of double-encoded
  UTF-8); C1 control characters become their windows-1252 characters;
* ``link`` and ``guid`` values get feedparser's URI fix-up (extra slashes after ``scheme://``
  removed); ``link``: ``&amp;`` and ``&name;`` become ``&`` and ``&name``;
* a ``guid`` that is a permalink (``isPermaLink`` absent or exactly ``"true"``) is the
  item's link when the item has no ``link``;
* ``description`` is the summary; without it, ``content:encoded`` is; ``dc:date`` is the
  ``updated`` date; the last of ``author``/``dc:creator`` is the author.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

__all__ = ["read"]

_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_MEDIA = "{http://search.yahoo.com/mrss/}"
_ATOM = "{http://www.w3.org/2005/Atom}"
_SLASH = "{http://purl.org/rss/1.0/modules/slash/}"
_WFW = "{http://wellformedweb.org/CommentAPI/}"
_SY = "{http://purl.org/rss/1.0/modules/syndication/}"

# Item children whose text becomes a field: tag -> entry key.
_FIELDS = {
    "title": "title",
    "link": "link",
    "description": "summary",
    "guid": "id",
    "pubDate": "published",
    "author": "author",
    _DC + "creator": "author",
    _DC + "date": "updated",
    _CONTENT + "encoded": "content",
}
# Item children feedparser files under keys pantau never reads (tags, comments, enclosure
# links, media credits and thumbnails, an item's image URL): allowed without children, with
# any attribute but a base URI.
_IGNORED = frozenset(
    {
        "category", "comments", "enclosure", "url", _SLASH + "comments", _WFW + "commentRss",
        _MEDIA + "thumbnail", _MEDIA + "credit", _MEDIA + "copyright", _MEDIA + "text",
        _MEDIA + "keywords",
    }
)  # fmt: skip
# ... and the leaves allowed inside an item's media:content and image.
_MEDIA_CONTENT_CHILDREN = frozenset(
    {_MEDIA + "title", _MEDIA + "credit", _MEDIA + "copyright", _MEDIA + "text",
     _MEDIA + "thumbnail", _MEDIA + "keywords"}
)  # fmt: skip
_ITEM_IMAGE_CHILDREN = frozenset({"url", "width", "height"})
_MEDIA_TITLE = _MEDIA + "title"
_MEDIA_DESCRIPTION = _MEDIA + "description"
_FIELD_ATTRS = {"guid": frozenset({"isPermaLink"})}
_SOURCE_ATTRS = frozenset({"url"})
# Channel children that cannot change the channel's title or link or create entries.
_CHANNEL_OTHER = frozenset(
    {
        "description", "language", "copyright", "managingEditor", "webMaster", "pubDate",
        "lastBuildDate", "category", "generator", "docs", "ttl", "rating", "image",
        _SY + "updatePeriod", _SY + "updateFrequency", _SY + "updateBase",
    }
)  # fmt: skip
_IMAGE_CHILDREN = frozenset({"url", "title", "link", "width", "height", "description"})

_XML_DECL_RE = re.compile(r"<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
_URI_FIX_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*://)(/*)(.*?)")
_LINK_ENTITY_RE = re.compile(r"&([A-Za-z0-9_]+);")
_HTMLISH_RE = re.compile(r"</\w+>|&#?\w+;")  # what feedparser needs to take text for HTML
_C1 = {b: bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(0x80, 0xA0)}


def _value(e: ET.Element) -> str:
    s = (e.text or "").strip()
    if not s.isascii():
        try:
            s = s.encode("iso-8859-1").decode("utf-8")
        except UnicodeError:
            pass
        s = s.translate(_C1)
    return s


def _uri(s: str) -> str:
    """feedparser drops the slashes after "scheme://"; none there (the usual case), nothing
    to drop: the regex only ever matches at the first "://"."""
    k = s.find("://")
    if k < 0 or s[k + 3 : k + 4] != "/":
        return s
    return _URI_FIX_RE.sub(r"\1\3", s)


def _link(s: str) -> str:
    s = _uri(s)
    if "&" in s:
        s = _LINK_ENTITY_RE.sub(r"&\1", s.replace("&amp;", "&"))
    return s


def _utf8_declared(s: str) -> bool:
    head = s[:200]
    if not head.startswith("<?xml"):
        return True
    m = _XML_DECL_RE.match(head)
    return m is None or m.group(1).lower().replace("_", "-") in ("utf-8", "utf8")


class _Decline(Exception):
    """The document is outside the shape this module vouches for."""


def read(prepared: str) -> tuple[dict[str, str], list[dict[str, Any]]] | None:
    """(channel, entries) as feedparser would give them for the fields pantau reads, or
    ``None``: then feedparser must parse the document. ``prepared``: the output of
    ``daemon.feeds.parse.prepare_xml`` (no DOCTYPE, no entity declarations)."""
    if not prepared.startswith(("<?xml", "<rss")) or not _utf8_declared(prepared):
        return None
    try:
        root = ET.fromstring(prepared)
    except Exception:  # noqa: BLE001 - ParseError, or anything expat raises: feedparser's turn
        return None  # (its loose parser may still recover entries)
    try:
        return _read(root)
    except _Decline:
        return None


def _sets_base(e: ET.Element) -> bool:
    """feedparser takes ``xml:base`` and a bare ``base`` attribute, any case, as a base URI."""
    return any(k.rpartition("}")[2].lower() == "base" for k in e.attrib)


def _check_attrs(e: ET.Element, allowed: frozenset[str]) -> None:
    if e.attrib and not allowed.issuperset(e.attrib):
        raise _Decline


def _read(root: ET.Element) -> tuple[dict[str, str], list[dict[str, Any]]]:
    if root.tag != "rss" or len(root) != 1 or root[0].tag != "channel":
        raise _Decline
    _check_attrs(root, frozenset({"version"}))
    channel = root[0]
    if channel.attrib:
        raise _Decline
    feed: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    for e in channel:
        tag = e.tag
        if tag == "item":
            entries.append(_entry(e))
        elif tag == "title" or tag == "link":
            if tag in feed or len(e) or e.attrib:
                raise _Decline
            feed[tag] = (
                _value(e) if tag == "title" else _LINK_ENTITY_RE.sub(r"&\1", _uri(_value(e)))
            )
        elif tag == _ATOM + "link":
            if e.get("rel") != "self" or len(e):
                raise _Decline  # a rel="alternate" atom:link would be the channel's link
        elif tag in _CHANNEL_OTHER:
            if e.attrib and tag != "category":
                raise _Decline
            for c in e:
                if tag != "image" or c.tag not in _IMAGE_CHILDREN or len(c) or c.attrib:
                    raise _Decline
        else:
            raise _Decline
    return feed, entries


def _entry(item: ET.Element) -> dict[str, Any]:
    if item.attrib:
        raise _Decline
    entry: dict[str, Any] = {}
    seen: set[str] = set()
    permalink = False
    guid: str | None = None
    media_titles = 0
    for e in item:
        tag = e.tag
        key = _FIELDS.get(tag)
        if key is None:
            if tag == "source":  # the publisher an aggregator names (Google News)
                if tag in seen or len(e) or not _SOURCE_ATTRS.issuperset(e.attrib):
                    raise _Decline
                seen.add(tag)
                entry["source"] = {"title": _value(e)}
                if url := e.get("url"):
                    entry["source"]["href"] = url  # (as feedparser: only when there is one)
                continue
            if e.attrib and _sets_base(e):
                raise _Decline
            if tag == _MEDIA + "content" or tag == "image":
                allowed = _MEDIA_CONTENT_CHILDREN if tag != "image" else _ITEM_IMAGE_CHILDREN
                for c in e:
                    if tag != "image" and c.tag == _MEDIA_DESCRIPTION:
                        _media_description(c, entry, seen)
                        continue
                    if c.tag not in allowed or len(c) or (c.attrib and _sets_base(c)):
                        raise _Decline
                    media_titles += c.tag == _MEDIA_TITLE
                seen.add(tag)
            elif tag == _MEDIA_TITLE:
                media_titles += 1
            elif tag == _MEDIA_DESCRIPTION:
                _media_description(e, entry, seen)
            elif tag not in _IGNORED or len(e):
                raise _Decline
            continue
        if tag in seen or len(e):
            raise _Decline  # repeated fields and unescaped markup: feedparser's rules differ
        seen.add(tag)
        if e.attrib:
            _check_attrs(e, _FIELD_ATTRS.get(tag, frozenset()))
        value = _value(e)
        if key == "content":
            if _MEDIA_DESCRIPTION in seen:
                raise _Decline
            entry["content"] = [{"type": "text/html", "value": value}]
        elif key == "link":
            entry["link"] = _link(value)
        elif key == "id":
            permalink = e.get("isPermaLink", "true") == "true"
            guid = entry["id"] = _uri(value) if permalink else value
        else:
            entry[key] = value
    if "author" in seen and _DC + "creator" in seen:
        raise _Decline  # which one wins depends on their order: leave it to feedparser
    if media_titles and (not entry.get("title") or "image" in seen):
        # media:title is the item's title only where the item has none (or, after an
        # <image>, depending on the order): leave those to feedparser
        raise _Decline
    if "link" not in entry and permalink and guid is not None:
        entry["link"] = guid  # as the guid was read: the link fix-ups apply to <link> only
    if "summary" not in entry and "content" in entry:
        entry["summary"] = entry["content"][0]["value"]
    return entry


def _media_description(e: ET.Element, entry: dict[str, Any], seen: set[str]) -> None:
    """feedparser files a media:description that follows the item's description, in an item
    without content:encoded, as a text/plain content (which ``daemon.feeds.parse`` skips in RSS)
    unless it looks like HTML; every other arrangement is declined."""
    if len(e) or e.attrib or _MEDIA_DESCRIPTION in seen or "description" not in seen:
        raise _Decline
    if _CONTENT + "encoded" in seen:
        raise _Decline
    value = _value(e)
    if _HTMLISH_RE.search(value):
        raise _Decline
    seen.add(_MEDIA_DESCRIPTION)
    entry.setdefault("content", []).append({"type": "text/plain", "value": value})
