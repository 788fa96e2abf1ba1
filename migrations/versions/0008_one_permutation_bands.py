"""band keys from one-permutation MinHash: every stored item's keys recomputed

pantau 0.1's story grouping hashed each lead shingle with SHAKE-128 into 16 MinHash values
and each value with BLAKE2b into a band key; it now hashes each shingle once and keeps the
smallest hash per bin (``daemon.grouping.stories.band_keys``). Keys of the two schemes never
match, so a story's earlier copies would be invisible to its later ones for a whole
``stories.window``: this recomputes every item's text keys (its URL key is unchanged) from
the text stored with it, rewriting ``items.bands`` and ``story_bands``. The keys are those
of the pantau that runs the migration, which are the ones it will look up. Downgrading
recomputes the old scheme's keys (kept here, frozen, for that).

Cost: one fingerprint per stored item plus its rows, measured 14.0 s for 50,000 items
(0.28 ms each, SQLite; the downgrade 13.8 s), once.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BATCH = 2000


def _pack(keys: list[int]) -> bytes:
    return struct.pack(f"<{len(keys)}q", *keys)


def _aware(v: Any) -> datetime:
    """A timestamp as the driver returns it: SQLite's stored text, PostgreSQL's datetime."""
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc) if v.tzinfo else v.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(v).replace(tzinfo=timezone.utc)


def _items(conn: sa.Connection) -> Iterator[list[Any]]:
    top = conn.execute(sa.text("SELECT max(id) FROM items")).scalar() or 0
    for lo in range(0, top + 1, _BATCH):
        rows = conn.execute(
            sa.text(
                "SELECT id, title, summary, content, fulltext, url, published_at FROM items "
                "WHERE id >= :lo AND id < :hi ORDER BY id"
            ),
            {"lo": lo, "hi": lo + _BATCH},
        ).all()
        if rows:
            yield rows


def _reband(keys_of: Callable[[Any], list[int]]) -> None:
    from daemon.grouping.stories import Doc

    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM story_bands"))
    update = sa.text("UPDATE items SET bands = :b WHERE id = :i")
    insert = sa.text("INSERT INTO story_bands (band, published, item_id) VALUES (:b, :p, :i)")
    for rows in _items(conn):
        packed, bands = [], []
        for item_id, title, summary, content, fulltext, url, published in rows:
            at = _aware(published)
            doc = Doc(
                title=title or "",
                summary=summary or "",
                content=fulltext or content or "",
                url=url,
                published_at=at,
            )
            keys = list(dict.fromkeys(keys_of(doc)))
            packed.append({"i": item_id, "b": _pack(keys) if keys else None})
            epoch = int(at.timestamp())
            bands += [{"b": k, "p": epoch, "i": item_id} for k in keys]
        conn.execute(update, packed)
        if bands:
            conn.execute(insert, bands)


def upgrade() -> None:
    from daemon.grouping.stories import fingerprint

    _reband(lambda doc: list(fingerprint(doc).bands))


# --- the keys of revision 0007, frozen for the downgrade ------------------------------------

_V1_HASHES = 16
_V1_SLOTS = struct.Struct(f"<{_V1_HASHES}I")
_V1_BAND = struct.Struct("<II")


def _v1_lead_keys(shingles: list[bytes]) -> list[int]:
    """16 MinHash values (4-byte slots of one SHAKE-128 digest per shingle), each band of
    one value keyed by BLAKE2b."""
    rows = [_V1_SLOTS.unpack(hashlib.shake_128(s).digest(_V1_SLOTS.size)) for s in shingles]
    sig = list(map(min, zip(*rows, strict=True)))
    return [
        int.from_bytes(
            hashlib.blake2b(_V1_BAND.pack(b, v), digest_size=8).digest(), "big", signed=True
        )
        for b, v in enumerate(sig)
    ]


def _v1_keys(doc: Any) -> list[int]:
    """The URL key, then each lead's keys, the leads chosen as revision 0007 chose them."""
    from daemon.grouping import stories as s

    keys = [s.url_key(doc.url)] if doc.url else []
    budget = s.CONFIRM_WORDS * 25
    summary = s.canonical_dates(s.clean_body(doc.summary[:budget]))
    content = s.canonical_dates(s.clean_body(doc.content[:budget]))
    if summary and len(summary) <= 2 * len(doc.title) + 16:
        title = s.canonical_dates(s.clean_body(doc.title))
        if s.text_words(summary, 64) == s.text_words(title, 64):
            summary = ""
    sw, cw = s.text_words(summary, s.CONFIRM_WORDS), s.text_words(content, s.CONFIRM_WORDS)
    body = cw if len(set(cw)) >= len(set(sw)) else sw
    if len(set(body)) < s.MIN_WORDS:
        return keys
    for w in (sw, cw):
        if len(set(w)) >= s.MIN_WORDS:
            keys += _v1_lead_keys(list(dict.fromkeys(s.word_shingles(w)[: s.LEAD_WORDS - 2])))
    return keys


def downgrade() -> None:
    _reband(_v1_keys)
