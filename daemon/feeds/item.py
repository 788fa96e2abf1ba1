"""The item's shape, stated once.

``ParsedItem`` is what a feed says about one entry. Everything else that carries an item's
fields derives them from this class: the stored row (``daemon.storage.items.NewItem``
extends it with what ingest adds), the INSERT's columns and values, the pickling that ships
items from the parse workers, ingest's copy of a parsed item into a new row, and what a
changed item rewrites (``TEXT_FIELDS``). Adding a field therefore means editing this class,
plus the schema and a migration (``daemon/storage/schema.py``); docs/design.md, "The data
model", says what an item is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any

__all__ = ["TEXT_FIELDS", "ParsedItem", "field_values"]


@cache
def field_values(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a dataclass instance's field values in declaration order, the
    order ``cls(*values)`` takes them: one C call instead of an attribute read per field
    (this runs for every item shipped by a worker and every row inserted)."""
    return attrgetter(*(f.name for f in fields(cls)))


@dataclass
class ParsedItem:
    identity: str
    guid: str | None
    url: str | None
    title: str
    summary: str
    content: str
    title_html: str
    summary_html: str
    author: str
    published_at: datetime
    published_raw: str | None
    has_date: bool
    # The outlet an aggregator names for this entry (RSS ``<source>``: Google News writes the
    # publisher there); "" for an entry of the feed's own, which is shown under the feed's name.
    outlet: str

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Workers ship every item of a parsed document: a tuple of the fields pickles and
        # unpickles faster than the default (a dict of them); tests/test_parsepool.py
        # checks that every field survives. type(self): a subclass pickles as itself.
        return (type(self), field_values(type(self))(self))


#: What a later poll rewrites in a known item whose content changed (``pipeline/ingest``);
#: the link, author and dates stay as first stored.
TEXT_FIELDS = ("title", "summary", "content", "title_html", "summary_html")
