"""Items and the stories they form: what ingest reads and writes per poll, and the
full-text queue (items waiting for their article page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from daemon.feeds.item import ParsedItem, field_values
from daemon.storage import db
from daemon.storage.bands import pack_bands
from daemon.storage.schema import UTCDateTime, feeds, item_outlet, items, stories
from daemon.storage.sql import ROWS_PER_INSERT, TxBase, chunks, from_db, lookup_chunks, values_sql

RECENT_HASHES = 1000  # a feed's newest items whose content hashes go to the parse worker


@dataclass
class ExistingItem:
    id: int
    identity: str
    content_hash: str
    story_id: int | None


@dataclass
class NewItem(ParsedItem):
    """A new item's row: the feed's item (daemon/feeds/item.py) plus what ingest adds. Every
    field is a column of ``items``: the INSERT below is derived from these fields."""

    feed_id: int
    first_seen_at: datetime
    content_hash: str
    fulltext_status: str | None = None  # "pending" queues the item for full text
    fulltext_after: datetime | None = None
    story_id: int | None = None  # set by ingest.assign_stories before the INSERT
    features: str | None = None  # stories.encode_features of the item
    bands: tuple[int, ...] = field(default=(), repr=False)  # LSH keys, stored packed

    @classmethod
    def of(cls, item: ParsedItem, **added: Any) -> NewItem:
        """``item``'s fields, whatever they are, plus ``added`` (this class's own)."""
        return cls(*_PARSED_VALUES(item), **added)


@dataclass
class PendingText:
    """An item whose article page is to be fetched."""

    id: int
    feed_id: int
    url: str | None
    attempts: int


@dataclass
class CandidateRow:
    id: int
    story_id: int | None
    title: str
    summary: str
    content: str
    fulltext: str | None
    url: str | None
    published_at: datetime
    features: str | None = None


_PARSED_VALUES = field_values(ParsedItem)
ITEM_COLUMNS = tuple(f.name for f in fields(NewItem))
_ITEM_ROW = field_values(NewItem)
_STAMPED = tuple(  # datetimes: stored as the driver wants them (TxBase._ts)
    k for k, c in enumerate(ITEM_COLUMNS) if isinstance(items.c[c].type, UTCDateTime)
)
_BANDS = ITEM_COLUMNS.index("bands")


class ItemsTx(TxBase):
    """Items and stories inside a write transaction."""

    def existing_items(self, feed_id: int, identities: Sequence[str]) -> dict[str, ExistingItem]:
        out: dict[str, ExistingItem] = {}
        for chunk in chunks(list(identities), 500):
            rows = self._fetch(
                "SELECT id, identity, content_hash, story_id FROM items "
                f"WHERE feed_id = ? AND identity IN ({', '.join('?' * len(chunk))})",
                [feed_id, *chunk],
            )
            for r in rows:
                out[r[1]] = ExistingItem(*r)
        return out

    def feed_has_items(self, feed_id: int) -> bool:
        """Any item stored for the feed (an index probe)."""
        return bool(self._fetch("SELECT 1 FROM items WHERE feed_id = ? LIMIT 1", [feed_id]))

    def tombstoned(self, feed_id: int, identities: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for chunk in chunks(list(identities), 500):
            rows = self._fetch(
                "SELECT identity FROM tombstones "
                f"WHERE feed_id = ? AND identity IN ({', '.join('?' * len(chunk))})",
                [feed_id, *chunk],
            )
            out.update(r[0] for r in rows)
        return out

    def recent_hashes(self, feed_id: int, limit: int = RECENT_HASHES) -> frozenset[str]:
        """Content hashes of the feed's newest items: what a parse worker may skip."""
        rows = self._fetch(
            "SELECT content_hash FROM items WHERE feed_id = ? ORDER BY id DESC LIMIT ?",
            [feed_id, limit],
        )
        return frozenset(r[0] for r in rows)

    def insert_items(self, new: Sequence[NewItem]) -> list[int]:
        """Multi-row INSERTs; ids come back with their identity (unique within the feed), as
        neither SQLite nor PostgreSQL promises RETURNING rows in VALUES order."""
        if not new:
            return []
        ts = self._ts
        ids: dict[tuple[int, str], int] = {}
        for chunk in chunks(list(new), ROWS_PER_INSERT):
            params: list[Any] = []
            for n in chunk:
                row = list(_ITEM_ROW(n))
                for k in _STAMPED:
                    row[k] = ts(row[k])
                row[_BANDS] = pack_bands(n.bands) if n.bands else None
                params += row
            rows = self._fetch(
                f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) VALUES "
                f"{values_sql(len(ITEM_COLUMNS), len(chunk))} RETURNING id, feed_id, identity",
                params,
            )
            for item_id, feed_id, identity in rows:
                ids[(feed_id, identity)] = item_id
        return [ids[(n.feed_id, n.identity)] for n in new]

    def update_item(self, item_id: int, values: dict[str, Any]) -> None:
        if self.cache is not None:
            self.cache.forget([item_id])
        self.conn.execute(sa.update(items).where(items.c.id == item_id).values(**values))

    def item_row(self, item_id: int) -> Any:
        return self.conn.execute(
            sa.select(items, item_outlet().label("published_by"))
            .join(feeds, feeds.c.id == items.c.feed_id)
            .where(items.c.id == item_id)
        ).one()

    def story_size(self, story_id: int) -> int:
        return self.conn.execute(
            sa.select(sa.func.count()).select_from(items).where(items.c.story_id == story_id)
        ).scalar_one()

    def move_item(self, item_id: int, old_story: int, new_story: int) -> None:
        """Move a lone item into another story and drop its old, now empty, story."""
        if self.cache is not None:
            self.cache.forget([item_id])
        self.conn.execute(sa.update(items).where(items.c.id == item_id).values(story_id=new_story))
        self.join_story(new_story)
        self.conn.execute(sa.delete(stories).where(stories.c.id == old_story))

    def new_stories(self, rows: Sequence[tuple[str, datetime, datetime, int]]) -> list[int]:
        """Open stories: (title, first_seen_at, published_at, item_count) each. On SQLite the
        write transaction holds the only write lock of the only process (service.lock_database),
        so the ids are the next ones, as SQLite would choose them, and one executemany writes
        them all (46,000 stories in a 1,000-feed first cycle: ~4 % of the main process's
        non-idle samples before, ~2 % after). Elsewhere one statement per story: stories have
        no natural key to match RETURNING rows of a multi-row INSERT to their VALUES."""
        cur = self._cur()
        if self.sqlite and rows:
            cur.execute("SELECT coalesce(max(id), 0) FROM stories")
            base = cur.fetchone()[0]
            ts = self._ts
            cur.executemany(
                "INSERT INTO stories (id, title, first_seen_at, published_at, item_count) "
                "VALUES (?, ?, ?, ?, ?)",
                [(base + k, t, ts(f), ts(p), n) for k, (t, f, p, n) in enumerate(rows, 1)],
            )
            return list(range(base + 1, base + 1 + len(rows)))
        sql = self._sql(
            "INSERT INTO stories (title, first_seen_at, published_at, item_count) "
            "VALUES (?, ?, ?, ?) RETURNING id"
        )
        out = []
        for t, f, p, n in rows:
            cur.execute(sql, (t, self._ts(f), self._ts(p), n))
            out.append(cur.fetchone()[0])
        return out

    def join_story(self, story_id: int, n: int = 1) -> None:
        self._cur().execute(
            self._sql("UPDATE stories SET item_count = item_count + ? WHERE id = ?"),
            (n, story_id),
        )

    def candidate_items(self, ids: Sequence[int], *, text: bool = True) -> list[CandidateRow]:
        """``text=False``: the texts are left empty (read them only for an item whose
        stored features cannot be used)."""
        cols = "title, summary, content, fulltext" if text else "'', '', '', NULL"
        out: list[CandidateRow] = []
        for chunk in lookup_chunks(list(ids), 500):
            rows = self._fetch(
                f"SELECT id, story_id, {cols}, url, published_at, features "
                f"FROM items WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.extend(CandidateRow(*r[:7], from_db(r[7]), r[8]) for r in rows)
        return out


class ItemsStore:
    """The full-text queue (mixed into ``Store``)."""

    engine: Any

    # -- the full-text queue -------------------------------------------------------------
    def claim_fulltext(self, now: datetime, lease: float, *, limit: int) -> list[PendingText]:
        """Claim pending items due for their article page; a claim pushes ``fulltext_after``
        past the lease, so a crashed fetcher's items come back by themselves."""
        q = (
            sa.select(items.c.id, items.c.feed_id, items.c.url, items.c.fulltext_attempts)
            .where(items.c.fulltext_status == "pending", items.c.fulltext_after <= now)
            .order_by(items.c.fulltext_after, items.c.id)
            .limit(limit)
        )
        with self.tx() as tx:
            if tx.conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = list(tx.conn.execute(q))
            if rows:
                tx.conn.execute(
                    sa.update(items)
                    .where(items.c.id.in_([r.id for r in rows]))
                    .values(
                        fulltext_after=now + timedelta(seconds=lease),
                        fulltext_attempts=items.c.fulltext_attempts + 1,
                    )
                )
        return [PendingText(r.id, r.feed_id, r.url, r.fulltext_attempts + 1) for r in rows]

    def defer_fulltext(self, item_id: int, until: datetime, *, uncount: bool = False) -> None:
        """Put an item back in the queue (a rate limit said wait)."""
        values: dict[str, Any] = {"fulltext_after": until}
        if uncount:
            values["fulltext_attempts"] = items.c.fulltext_attempts - 1
        with self.tx() as tx:
            tx.conn.execute(sa.update(items).where(items.c.id == item_id).values(**values))

    def next_fulltext_at(self) -> datetime | None:
        with db.read_tx(self.engine) as conn:
            return conn.execute(
                sa.select(sa.func.min(items.c.fulltext_after, type_=UTCDateTime())).where(
                    items.c.fulltext_status == "pending"
                )
            ).scalar()
