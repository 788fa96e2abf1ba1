"""Events in the database: the candidate index, the profiles, the term frequencies.

The statements run on the ingest transaction's connection (``Tx``), written once in ``?``
style like the rest of the ingest path (see ``daemon.storage.store.Tx``); what to do with
the rows is decided in ``daemon.grouping.events`` and ``daemon.pipeline.events``;
reading them for people is ``daemon.storage.views``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from daemon.grouping.events import PER_KEY, Profile
from daemon.storage.bands import unpack_bands  # one packing of int64 key lists
from daemon.storage.sql import chunks, epoch

if TYPE_CHECKING:
    from daemon.storage.store import Tx

EVENT_LOCK_CLASS = 0x7065  # advisory lock namespace for event assignment ("pe")
EVENT_LOCK_BUCKETS = 64
KEYS_PER_QUERY = 400  # SQLite allows 500 terms in a compound SELECT


def lock_event_keys(tx: Tx, keys: Iterable[int]) -> None:
    """Serialise event assignment across processes on PostgreSQL, as ``Tx.lock_story_keys``
    does for stories: two reports of one happening share index keys, hence lock buckets,
    so the second transaction waits for the first to commit and then finds its event.
    Taken after the story locks, in sorted order, by every writer: no deadlock. SQLite's
    single writer needs none."""
    if tx.sqlite:
        return
    buckets = sorted({k % EVENT_LOCK_BUCKETS for k in keys})
    if buckets:
        tx.conn.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(:cls, b) FROM "
                "(SELECT unnest(CAST(:buckets AS int[])) AS b ORDER BY 1) AS s"
            ),
            {"cls": EVENT_LOCK_CLASS, "buckets": buckets},
        )


def story_total(tx: Tx) -> int:
    """Stories stored (the corpus size for term rarity): the newest id, an index lookup."""
    rows = tx._fetch("SELECT coalesce(max(id), 0) FROM stories", [])
    return int(rows[0][0])


def term_frequencies(tx: Tx, keys: Iterable[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in chunks(list(dict.fromkeys(keys)), KEYS_PER_QUERY):
        rows = tx._fetch(
            f"SELECT key, n FROM term_df WHERE key IN ({', '.join('?' * len(chunk))})", chunk
        )
        out.update((int(k), int(n)) for k, n in rows)
    return out


def add_term_frequencies(tx: Tx, counts: Mapping[int, int]) -> None:
    """Add to the frequencies, in key order (concurrent writers then never deadlock)."""
    tx._many(
        "INSERT INTO term_df (key, n) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET n = term_df.n + excluded.n",
        sorted(counts.items()),
    )


def _key_rows_sql(n_keys: int) -> str:
    """(key, event_id, published): the newest ``PER_KEY`` rows of each of ``n_keys`` keys
    within [?, ?], one LIMITed index range scan per key. (A window function numbering the
    rows per key, as the band lookup does, reads every row of a hot key in the window:
    3.5x slower here, where most keys have rows.)"""
    one = (
        "SELECT * FROM (SELECT key, event_id, published FROM event_keys WHERE key = ? "
        f"AND published >= ? AND published <= ? ORDER BY published DESC LIMIT {int(PER_KEY)}) "
    )
    return " UNION ALL ".join(f"{one}AS s{i}" for i in range(n_keys))


def key_rows(
    tx: Tx, keys: Sequence[int], since: datetime, until: datetime
) -> list[tuple[int, int, int]]:
    """(key, event_id, published epoch) of the events filed under ``keys`` within [since,
    until], at most ``PER_KEY`` rows per key, the newest (a key many events share says
    little and must not flood the lookup)."""
    out: list[tuple[int, int, int]] = []
    a, b = epoch(since), epoch(until) + 1
    for chunk in chunks(list(dict.fromkeys(keys)), KEYS_PER_QUERY):
        params = [v for k in chunk for v in (k, a, b)]
        out += tx._fetch(_key_rows_sql(len(chunk)), params)
    return out


def profiles(tx: Tx, ids: Sequence[int]) -> dict[int, tuple[Profile | None, tuple[int, ...]]]:
    """Each event's profile (None: made before migration 0010, never joined) and keys."""
    out: dict[int, tuple[Profile | None, tuple[int, ...]]] = {}
    for chunk in chunks(list(dict.fromkeys(ids)), 500):
        rows = tx._fetch(
            f"SELECT id, profile, keys FROM events WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        for i, data, keys in rows:
            out[int(i)] = (Profile.decode(data) if data else None, unpack_bands(keys))
    return out


def new_events(
    tx: Tx, rows: Sequence[tuple[str, datetime, datetime, int, str, bytes]]
) -> list[int]:
    """Open events: (title, first_seen_at, published_at, story_count, profile, keys)."""
    cur = tx._cur()
    ts = tx._ts
    if tx.sqlite and rows:  # the only writer: the next ids, one executemany (as new_stories)
        cur.execute("SELECT coalesce(max(id), 0) FROM events")
        base = cur.fetchone()[0]
        cur.executemany(
            "INSERT INTO events (id, title, first_seen_at, published_at, story_count, "
            "profile, keys) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (base + k, t, ts(f), ts(p), n, pr, ks)
                for k, (t, f, p, n, pr, ks) in enumerate(rows, 1)
            ],
        )
        return list(range(base + 1, base + 1 + len(rows)))
    sql = tx._sql(
        "INSERT INTO events (title, first_seen_at, published_at, story_count, profile, keys) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
    )
    out = []
    for t, f, p, n, pr, ks in rows:
        cur.execute(sql, (t, ts(f), ts(p), n, pr, ks))
        out.append(cur.fetchone()[0])
    return out


def update_events(tx: Tx, rows: Sequence[tuple[int, int, str, bytes, datetime]]) -> None:
    """Events that stories joined: (id, stories added, profile, keys, earliest published)."""
    tx._many(
        "UPDATE events SET story_count = story_count + ?, profile = ?, keys = ?, "
        "published_at = CASE WHEN published_at > ? THEN ? ELSE published_at END WHERE id = ?",
        [(n, pr, ks, tx._ts(p), tx._ts(p), i) for i, n, pr, ks, p in rows],
    )


def insert_keys(tx: Tx, rows: Iterable[tuple[int, datetime, int]]) -> None:
    """Index rows (key, published, event_id), in key order; a repeated row is one row."""
    values = sorted({(k, epoch(p), e) for k, p, e in rows})
    tx._many(
        "INSERT INTO event_keys (key, published, event_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        values,
    )


def set_story_events(tx: Tx, pairs: Sequence[tuple[int, int]]) -> None:
    """(story_id, event_id) each."""
    tx._many("UPDATE stories SET event_id = ? WHERE id = ?", [(e, s) for s, e in pairs])


def story_events(tx: Tx, story_ids: Iterable[int]) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for chunk in chunks(list(dict.fromkeys(story_ids)), 500):
        rows = tx._fetch(
            f"SELECT id, event_id FROM stories WHERE id IN ({', '.join('?' * len(chunk))})", chunk
        )
        out.update((int(s), None if e is None else int(e)) for s, e in rows)
    return out


def alerted_event_topics(tx: Tx, event_id: int) -> set[str]:
    return {r[0] for r in tx._fetch("SELECT topic FROM alerts WHERE event_key = ?", [event_id])}


def drop_if_empty(tx: Tx, event_ids: Iterable[int]) -> int:
    """Delete events left without stories (retention, or a story merged away by its full
    text), with their index rows. Returns how many went."""
    gone = 0
    for chunk in chunks(list(dict.fromkeys(event_ids)), 500):
        marks = ", ".join("?" * len(chunk))
        rows = tx._fetch(
            f"SELECT id, keys FROM events WHERE id IN ({marks}) AND NOT EXISTS "
            "(SELECT 1 FROM stories WHERE stories.event_id = events.id) AND NOT EXISTS "
            "(SELECT 1 FROM alerts WHERE alerts.event_id = events.id)",
            chunk,
        )
        if not rows:
            continue
        tx._many(
            "DELETE FROM event_keys WHERE key = ? AND event_id = ?",
            [(k, i) for i, blob in rows for k in unpack_bands(blob)],
        )
        ids = [i for i, _ in rows]
        tx._many("DELETE FROM events WHERE id = ?", [(i,) for i in ids])
        gone += len(ids)
    return gone
