"""Events in the database: the candidate index, the profiles, the term frequencies.

The statements run on the ingest transaction's connection (``Tx``), written once in ``?``
style like the rest of the ingest path (see ``daemon.storage.store.Tx``); what to do with
the rows is decided in ``daemon.grouping.events`` and ``daemon.pipeline.events``;
reading them for people is ``daemon.storage.views``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from daemon.storage.bands import unpack_bands  # one packing of int64 key lists
from daemon.storage.lru import Lru
from daemon.storage.sql import chunks, epoch, lock_buckets, lookup_chunks

if TYPE_CHECKING:
    from daemon.grouping.events import Profile
    from daemon.storage.store import Tx

# (``daemon.grouping.events`` is imported where rows are read: the store is opened by every
# run, and one whose feeds all answer 304 decides no event; tests/test_run_once_startup.py)

INSERT_KEY = (
    "INSERT INTO event_keys (key, published, event_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)
ADD_TERMS = (
    "INSERT INTO term_df (key, n, seen) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET n = term_df.n + excluded.n, seen = excluded.seen"
)
PRUNE_BATCH = 5_000  # term_df rows read per retention transaction


def today(now: float | None = None) -> int:
    """The day ``term_df.seen`` records: UTC days since the epoch."""
    return int((time.time() if now is None else now) // 86400)


def term_rows(
    added: Iterable[tuple[int, int]], day: int | None = None
) -> list[tuple[int, int, int]]:
    """``ADD_TERMS``' parameters for (key, stories added) pairs counted on ``day``."""
    d = today() if day is None else day
    return [(k, n, d) for k, n in added]


TERM_CACHE_SIZE = 200_000  # term keys whose stored count the sole writer keeps (~20 MB)


class GroupEventWrites:
    """Candidate-index rows and term counts written inside a group commit (see
    ``Store.tx``) but not inserted yet, as ``daemon.storage.bands.PendingBands`` keeps band
    rows: a poll's ~400 index rows and ~1,500 term upserts land on random pages of two
    indexes, which each member's savepoint would journal first. They go in just before the
    group commits (``SingleWriter.end_group``); a failed member's are dropped with its
    savepoint (``rollback_to``); lookups before the commit read them from here."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int]] = []  # (key, published epoch, event_id)
        self.by_key: dict[int, list[tuple[int, int]]] = {}  # key -> [(event_id, published)]
        self.terms: dict[int, int] = {}  # key -> stories added by the group
        self._term_log: list[dict[int, int]] = []  # each member's additions, for rollback

    def __bool__(self) -> bool:
        return bool(self.rows or self.terms)

    def mark(self) -> tuple[int, int]:
        return len(self.rows), len(self._term_log)

    def rollback_to(self, mark: tuple[int, int]) -> None:
        r, t = mark
        for k, _p, _e in reversed(self.rows[r:]):  # each key's rows were appended in order
            rows = self.by_key[k]
            rows.pop()
            if not rows:
                del self.by_key[k]
        del self.rows[r:]
        for added in self._term_log[t:]:
            for k, n in added.items():
                left = self.terms[k] - n
                if left:
                    self.terms[k] = left
                else:
                    del self.terms[k]
        del self._term_log[t:]

    def add_rows(self, rows: Iterable[tuple[int, int, int]]) -> None:
        by_key = self.by_key
        for k, p, e in rows:
            have = by_key.setdefault(k, [])
            if (e, p) not in have:  # a repeated row is one row, as in the table
                have.append((e, p))
                self.rows.append((k, p, e))

    def add_terms(self, counts: Mapping[int, int]) -> None:
        self._term_log.append(dict(counts))
        terms = self.terms
        for k, n in counts.items():
            terms[k] = terms.get(k, 0) + n

    def take(self) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
        """The rows and the term additions, in key order (the order every writer takes)."""
        out = sorted(self.rows), sorted(self.terms.items())
        self.__init__()  # type: ignore[misc]
        return out


class TermCounts:
    """The stored (committed) count of each term key the sole SQLite writer has read: the
    batch's frequencies are then read from the table only for terms not met before. Exact
    as ``ItemCache`` is: only the group commit adds to it, after the commit; anything rolled
    back empties it. At most ``capacity`` keys (then it starts again)."""

    def __init__(self, capacity: int = TERM_CACHE_SIZE) -> None:
        self.capacity = capacity
        self.counts: dict[int, int] = {}

    def committed(self, added: Iterable[tuple[int, int]]) -> None:
        counts = self.counts
        if len(counts) > self.capacity:
            counts.clear()
            return
        for k, n in added:
            if k in counts:
                counts[k] += n

    def clear(self) -> None:
        self.counts.clear()


PROFILE_CACHE_SIZE = 512  # decoded event profiles the sole writer keeps (~5 KB each)


class ProfileCache(Lru[int, "tuple[Profile, tuple[int, ...]]"]):
    """Stored event profiles as ``profiles`` decoded them, kept by the sole SQLite writer:
    the candidate events of templated news come up poll after poll. In a 1,000-feed
    templated first cycle, 37,446 profile reads were of 5,163 distinct events, a few
    hundred of them again and again: in process, ``decide_events`` took 3.81-3.93 s
    without the cache and 3.37-3.42 s with 512 or 2,048 entries, the main process's peak
    RSS 158-160, 162-163 and 169-171 MB (bench/README.md, "Ninth session").

    Exact as ``writer.ItemCache`` is: ``update_events`` and ``drop_if_empty``, the only
    statements that change or remove a profile, forget it; a rolled-back transaction or
    group empties the cache (``SingleWriter.rolled_back``). The profiles are shared, so
    whoever changes one works on a copy (``Profile.copy``; ``pipeline.events`` copies an
    event a story joins). A profile stored without its norm is not kept: ``_cosine`` sets
    the norm on the object it compares with, from that batch's rarity, which a later
    batch must not inherit."""

    def __init__(self, capacity: int = PROFILE_CACHE_SIZE) -> None:
        super().__init__(capacity)

    def put(self, key: int, value: tuple[Profile, tuple[int, ...]]) -> None:
        if value[0].norm is not None:
            super().put(key, value)


def _profile_cache(tx: Tx) -> ProfileCache | None:
    return tx.writer.profiles if tx.writer is not None else None


EVENT_LOCK_CLASS = 0x7065  # advisory lock namespace for event assignment ("pe")
EVENT_LOCK_BUCKETS = 64
KEYS_PER_QUERY = 400  # SQLite allows 500 terms in a compound SELECT


def lock_event_keys(tx: Tx, keys: Iterable[int]) -> None:
    """Serialise event assignment across processes on PostgreSQL, as ``Tx.lock_story_keys``
    does for stories: two reports of one happening share index keys, hence lock buckets,
    so the second transaction waits for the first to commit and then finds its event.
    Taken after the story locks, in sorted order, by every writer: no deadlock. SQLite's
    single writer needs none."""
    lock_buckets(tx, EVENT_LOCK_CLASS, keys, EVENT_LOCK_BUCKETS)


def story_total(tx: Tx) -> int:
    """Stories stored (the corpus size for term rarity): the newest id, an index lookup."""
    rows = tx._fetch("SELECT coalesce(max(id), 0) FROM stories", [])
    return int(rows[0][0])


def _group(tx: Tx) -> GroupEventWrites | None:
    w = tx.writer
    return w.group.events if w is not None and w.group is not None else None


def _stored_frequencies(tx: Tx, keys: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in lookup_chunks(keys, KEYS_PER_QUERY):
        rows = tx._fetch(
            f"SELECT key, n FROM term_df WHERE key IN ({', '.join('?' * len(chunk))})", chunk
        )
        out.update((int(k), int(n)) for k, n in rows)
    return out


def term_frequencies(tx: Tx, keys: Iterable[int]) -> dict[int, int]:
    """Stories that used each term (keys never counted are left out)."""
    wanted = list(dict.fromkeys(keys))
    w = tx.writer
    if w is None:
        return _stored_frequencies(tx, wanted)
    known = w.terms.counts
    missing = [k for k in wanted if k not in known]
    if missing:
        found = _stored_frequencies(tx, missing)
        for k in missing:
            known[k] = found.get(k, 0)
    group = _group(tx)
    extra = group.terms if group is not None else {}
    out = {}
    for k in wanted:
        n = known[k] + extra.get(k, 0)
        if n:
            out[k] = n
    return out


def add_term_frequencies(tx: Tx, counts: Mapping[int, int]) -> None:
    """Add to the frequencies, in key order (concurrent writers then never deadlock); inside
    a SQLite group commit, when the group commits."""
    group = _group(tx)
    if group is not None:
        group.add_terms(counts)
        return
    if tx.writer is not None:  # a transaction of its own: forget what it changes
        for k in counts:
            tx.writer.terms.counts.pop(k, None)
    tx._many(ADD_TERMS, term_rows(sorted(counts.items())))


def prune_terms(tx: Tx, before_day: int, after_key: int | None) -> tuple[int, int | None]:
    """Delete the term rows last counted before ``before_day`` among the next
    ``PRUNE_BATCH`` keys after ``after_key`` (None: from the first). Returns how many went
    and the last key read (None: the table is done). Batches by key range: short
    transactions, and no index on ``seen`` for every upsert to maintain."""
    lo = -(2**63) if after_key is None else after_key
    op = ">=" if after_key is None else ">"
    rows = tx._fetch(
        f"SELECT key, seen FROM term_df WHERE key {op} ? ORDER BY key LIMIT {PRUNE_BATCH}",
        [lo],
    )
    if not rows:
        return 0, None
    stale = [(int(k),) for k, seen in rows if int(seen) < before_day]
    if stale:
        tx._many("DELETE FROM term_df WHERE key = ?", stale)
    if tx.writer is not None:
        for (k,) in stale:
            tx.writer.terms.counts.pop(k, None)
    return len(stale), int(rows[-1][0]) if len(rows) == PRUNE_BATCH else None


def _key_rows_sql(n_keys: int) -> str:
    """(key, event_id, published): the newest ``PER_KEY`` rows of each of ``n_keys`` keys
    within [?, ?], one LIMITed index range scan per key. (A window function numbering the
    rows per key, as the band lookup does, reads every row of a hot key in the window:
    3.5x slower here, where most keys have rows.)"""
    from daemon.grouping.events import PER_KEY

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
    from daemon.grouping.events import PER_KEY

    out: list[tuple[int, int, int]] = []
    a, b = epoch(since), epoch(until) + 1
    wanted = list(dict.fromkeys(keys))
    for chunk in lookup_chunks(wanted, KEYS_PER_QUERY):
        params = [v for k in chunk for v in (k, a, b)]
        out += tx._fetch(_key_rows_sql(len(chunk)), params)
    group = _group(tx)
    if group is None or not group.by_key:
        return out
    mine = {k: rows for k in wanted if (rows := group.by_key.get(k))}
    if not mine:
        return out
    # the group's rows of those keys join the stored ones; the newest PER_KEY of each stay
    merged: dict[int, set[tuple[int, int]]] = {}
    for k, e, p in out:
        if k in mine:
            merged.setdefault(k, set()).add((int(p), int(e)))
    for k, rows in mine.items():
        merged.setdefault(k, set()).update((p, e) for e, p in rows if a <= p <= b)
    out = [r for r in out if r[0] not in mine]
    for k, rows in merged.items():
        out += [(k, e, p) for p, e in sorted(rows, reverse=True)[:PER_KEY]]
    return out


def profiles(tx: Tx, ids: Sequence[int]) -> dict[int, tuple[Profile | None, tuple[int, ...]]]:
    """Each event's profile (None: made before migration 0010, never joined) and keys."""
    from daemon.grouping.events import Profile

    out: dict[int, tuple[Profile | None, tuple[int, ...]]] = {}
    wanted = list(dict.fromkeys(ids))
    cache = _profile_cache(tx)
    if cache is not None:
        missing = []
        for i in wanted:
            if (hit := cache.get(i)) is not None:
                out[i] = hit
            else:
                missing.append(i)
        wanted = missing
    for chunk in lookup_chunks(wanted, 500):
        rows = tx._fetch(
            f"SELECT id, profile, keys FROM events WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        for i, data, keys in rows:
            prof, ks = Profile.decode(data) if data else None, unpack_bands(keys)
            out[int(i)] = (prof, ks)
            if cache is not None and prof is not None:
                cache.put(int(i), (prof, ks))
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
    if (cache := _profile_cache(tx)) is not None:
        cache.forget(r[0] for r in rows)
    tx._many(
        "UPDATE events SET story_count = story_count + ?, profile = ?, keys = ?, "
        "published_at = CASE WHEN published_at > ? THEN ? ELSE published_at END WHERE id = ?",
        [(n, pr, ks, tx._ts(p), tx._ts(p), i) for i, n, pr, ks, p in rows],
    )


def insert_keys(tx: Tx, rows: Iterable[tuple[int, datetime, int]]) -> None:
    """Index rows (key, published, event_id), in key order; a repeated row is one row.
    Inside a SQLite group commit, when the group commits."""
    values = sorted({(k, epoch(p), e) for k, p, e in rows})
    group = _group(tx)
    if group is not None:
        group.add_rows(values)
        return
    tx._many(INSERT_KEY, values)


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
        if (cache := _profile_cache(tx)) is not None:
            cache.forget(ids)
        tx._many("DELETE FROM events WHERE id = ?", [(i,) for i in ids])
        gone += len(ids)
    return gone
