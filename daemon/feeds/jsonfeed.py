"""JSON Feed (https://jsonfeed.org, versions 1 and 1.1), read into the shape feedparser gives
RSS and Atom entries, so the rest of parsing (``daemon.feeds.parse``) treats its items as any
other: identity, links, text cleaning, dates, caps.

A site that publishes JSON Feed beside or instead of RSS (WordPress and Ghost plugins,
micro.blog) was refused as "not a feed: JSON or other non-XML text"; reader and Miniflux,
the models of this field, read it. feedparser 6.0 does not. The format needs no XML
defences: ``json`` expands nothing, the body is already capped at ``polling.max_bytes``,
and nesting too deep for the parser is a document refused, not a crash. Every field is
checked for its type: a value of another type is absent, so one odd item costs that item's
field, not the feed.
"""

from __future__ import annotations

import html
import json
from typing import Any

__all__ = ["read"]

_VERSION = "jsonfeed.org/version/"


def read(text: str) -> tuple[dict[str, str], list[dict[str, Any]]] | None:
    """(feed, entries) of a JSON Feed document, or None when ``text`` is not one."""
    s = text.lstrip("\ufeff \t\r\n")
    if not s.startswith("{"):
        return None
    try:
        doc = json.loads(s)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or _VERSION not in _str(doc.get("version")):
        return None
    feed = {"title": _str(doc.get("title")), "link": _str(doc.get("home_page_url"))}
    items = doc.get("items")
    entries = (
        [_entry(it) for it in items if isinstance(it, dict)] if isinstance(items, list) else []
    )
    if by := _author(doc):  # an item without its own author is the feed's (the spec)
        for e in entries:
            e.setdefault("author", by)
    return feed, entries


def _entry(it: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = {}
    ident = it.get("id")
    if isinstance(ident, (str, int)) and not isinstance(ident, bool):
        e["id"] = str(ident)  # 1.0 allowed a number
    link = _str(it.get("url")) or _str(it.get("external_url"))
    if link:
        e["link"] = link
    for key, field in (("title", "title"), ("summary", "summary")):
        if value := _str(it.get(field)):
            e[key] = value
    content = _str(it.get("content_html"))
    if not content and (plain := _str(it.get("content_text"))):
        content = html.escape(plain)  # plain text: "<" is a character, not a tag
    if content:
        e["content"] = [{"type": "text/html", "value": content}]
    for key, field in (("published", "date_published"), ("updated", "date_modified")):
        if value := _str(it.get(field)):
            e[key] = value
    author = _author(it)
    if author:
        e["author"] = author
    return e


def _author(it: dict[str, Any]) -> str:
    """1.1's ``authors`` list, else 1.0's ``author`` object: the first name (of an item, or
    of the feed)."""
    authors = it.get("authors")
    people = authors if isinstance(authors, list) else [it.get("author")]
    for p in people:
        if isinstance(p, dict) and (name := _str(p.get("name"))):
            return name
    return ""


def _str(v: object) -> str:
    return v if isinstance(v, str) else ""
