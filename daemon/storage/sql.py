"""What every storage module shares: the driver, the timestamp forms, chunking, claims.

The statements of the ingest path (run per poll, over up to hundreds of rows) go straight
to the DB-API driver with SQL written once, in ``?`` style (rewritten to ``%s`` for
psycopg): building, compiling and caching a SQLAlchemy statement and processing each bound
value in Python cost several times the SQLite work itself (bench/README.md, issue 9).
Timestamps are then passed as SQLAlchemy's SQLite DATETIME stores them (``sqlite_stamp``)
or as aware datetimes to PostgreSQL. Everything else uses SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from daemon.storage.bands import PendingBands
    from daemon.storage.writer import ItemCache, SingleWriter

ROWS_PER_INSERT = 400  # multi-row VALUES: 400 × 18 parameters, well under both drivers' caps


@lru_cache(maxsize=1024)
def sqlite_stamp(dt: datetime) -> str:
    """A UTC datetime as SQLAlchemy's SQLite DATETIME stores it (so comparisons line up).
    Cached: a poll stamps its ``now`` on every item, and a story's times are its first
    item's. (Equal aware datetimes are one instant, so one text, whatever their zone.)"""
    if dt.tzinfo is not timezone.utc:
        dt = dt.astimezone(timezone.utc)
    return dt.replace(tzinfo=None).isoformat(" ", "microseconds")  # strftime costs 4x as much


def epoch(dt: datetime) -> int:
    """Whole seconds since the epoch: the band index's time (see migration 0004)."""
    return int(dt.timestamp())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def values_sql(n_cols: int, n_rows: int) -> str:
    row = "(" + ", ".join("?" * n_cols) + ")"
    return ", ".join([row] * n_rows)


def from_db(v: Any) -> datetime | None:
    """A timestamp as the driver returns it: SQLite's stored text, PostgreSQL's datetime."""
    if v is None or isinstance(v, datetime):
        return v.astimezone(timezone.utc) if v is not None else None
    return datetime.fromisoformat(v).replace(tzinfo=timezone.utc)


class LockOrderError(RuntimeError):
    """A transaction asked for an advisory lock below one it already holds: two writers
    doing so in opposite orders deadlock, so it is refused before it can."""


def lock_buckets(tx: TxBase, lock_class: int, keys: Iterable[int], buckets: int) -> None:
    """Transaction-scoped PostgreSQL advisory locks on the buckets (``key % buckets``) of
    ``keys``, taken in ascending ``(class, bucket)`` order so that writers never deadlock;
    nothing elsewhere (SQLite serialises its writers). The story locks
    (``Tx.lock_story_keys``) and the event locks (``daemon.storage.events.lock_event_keys``)
    are two classes of them.

    The order holds across calls too: a transaction that wants a lock below the highest it
    holds raises ``LockOrderError`` (locks it holds already are free to ask again). One
    ingest per transaction, as every PostgreSQL writer does, never trips it; two in one
    transaction did, and deadlocked against a concurrent writer (CI, 2026-12-07)."""
    if tx.sqlite:
        return
    wanted = sorted({(lock_class, k % buckets) for k in keys} - tx.held_locks)
    if not wanted:
        return
    if tx.held_locks and wanted[0] < max(tx.held_locks):
        raise LockOrderError(
            f"advisory lock {wanted[0]} asked after {max(tx.held_locks)} in one transaction"
        )
    tx.conn.execute(
        sa.text(
            "SELECT pg_advisory_xact_lock(:cls, b) FROM "
            "(SELECT unnest(CAST(:buckets AS int[])) AS b ORDER BY 1) AS s"
        ),
        {"cls": lock_class, "buckets": [b for _, b in wanted]},
    )
    tx.held_locks.update(wanted)


def chunks(seq: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# The lengths a list of parameters is padded to (``padded``)
_LENGTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def padded(chunk: list[Any], most: int, fill: Any = None) -> list[Any]:
    """``chunk`` padded with ``fill`` (NULL: it matches no row, in ``IN`` or ``=``) to the
    next of a few lengths. A statement's text changes with its number of parameters, and
    the driver keeps the last 128 prepared statements per connection: lookups of every
    length from 1 to 500 kept ~10 MB of prepared statements in the sole writer (the
    candidate index's 400-way UNION ALL above all) and prepared most again anyway; padded,
    each kind of lookup has at most 18 texts (docs/design.md, "Prepared statements").
    ``most``: the chunk size, never exceeded (SQLite allows 500 terms in a compound
    SELECT)."""
    n = min(next((k for k in _LENGTHS if k >= len(chunk)), most), most)
    return chunk + [fill] * (n - len(chunk)) if n > len(chunk) else chunk


def lookup_chunks(keys: Sequence[Any], n: int) -> Iterator[list[Any]]:
    """The keys of a lookup by key list in chunks of at most ``n``, each ``padded``."""
    for i in range(0, len(keys), n):
        yield padded(list(keys[i : i + n]), n)


class TxBase:
    """One connection of a transaction, with the driver's cursor for the hot statements."""

    def __init__(self, conn: Connection, writer: SingleWriter | None = None) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._cursor: Any = None
        # The sole writer of a SQLite database (None elsewhere and in reads): its band
        # filter, its item cache and, inside a group commit, the group's pending band rows.
        self.writer = writer
        self.cache: ItemCache | None = writer.cache if writer is not None else None
        self.pending: PendingBands | None = writer.pending if writer is not None else None
        # PostgreSQL advisory locks this transaction holds, as (class, bucket) (``lock_buckets``)
        self.held_locks: set[tuple[int, int]] = set()

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def _cur(self) -> Any:
        if self._cursor is None:
            self._cursor = self.conn.connection.cursor()
        return self._cursor

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def _ts(self, dt: datetime | None) -> Any:
        if dt is None:
            return None
        if dt.tzinfo is None:
            raise ValueError("naive datetime stored")
        return sqlite_stamp(dt) if self.sqlite else dt

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cur = self._cur()
        cur.execute(self._sql(sql), tuple(params))
        return cur.fetchall()

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cur().executemany(self._sql(sql), rows)


def claim(tx: TxBase, q: sa.Select[Any], table: sa.Table, **values: Any) -> list[int]:
    """Ids that ``q`` selects, marked with ``values`` in the same transaction. On PostgreSQL
    the rows are locked with SKIP LOCKED, so concurrent claimers never take the same row."""
    if tx.conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    ids = [r[0] for r in tx.conn.execute(q)]
    if ids:
        tx.conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(**values))
    return ids
