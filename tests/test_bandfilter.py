"""The band-key filter may only over-claim: a store that uses it must find exactly the band
rows a store without it finds, whatever was written, rolled back or deleted before."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from daemon.grouping.bandfilter import BandFilter, Policy
from daemon.storage.bands import pack_bands
from daemon.storage.feeds import FeedSpec
from daemon.storage.store import Store, Tx
from daemon.storage.writer import SingleWriter

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


def test_filter_keeps_every_key_and_rejects_most_others() -> None:
    r = random.Random(7)
    keys = [r.getrandbits(64) - 2**63 for _ in range(200_000)]
    f = BandFilter(len(keys))
    f.add(keys)
    assert f.may_contain(keys) == keys  # every stored key, in order
    absent = [r.getrandbits(64) - 2**63 for _ in range(200_000)]
    through = len(f.may_contain(absent)) / len(absent)
    assert through < 0.08  # ~1/16 at 16 bits per key
    assert not f.full
    f.add(absent * 10)  # past its capacity: it says so, so the store rebuilds it larger
    assert f.full


def bare_items(store: Store, published: dict[int, datetime]) -> None:
    """Bare items to hang band rows on: id -> published."""
    url = "https://www.contoh.co.id/rss"
    fid = store.sync_feeds([FeedSpec(url, "Contoh", 600)], NOW, {})[url]
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO items (id, feed_id, identity, title, summary, published_at, "
                "has_date, first_seen_at, content_hash) VALUES "
                "(:i, :f, :ident, 't', 's', :p, 1, :p, 'h')"
            ),
            [{"i": i, "f": fid, "ident": f"x{i}", "p": p} for i, p in published.items()],
        )


def _items(store: Store, n: int, start: int) -> list[int]:
    """Bare items (ids start..start+n-1)."""
    bare_items(store, {i: NOW for i in range(start, start + n)})
    return list(range(start, start + n))


def _band(tx: Tx, rows: list[tuple[int, list[int]]]) -> None:
    """Band rows as ingest writes them: the rows, and each item's keys on the item."""
    tx.insert_bands_many([(i, NOW, keys) for i, keys in rows])
    for i, keys in rows:
        tx.conn.execute(
            sa.text("UPDATE items SET bands = :b WHERE id = :i"), {"b": pack_bands(keys), "i": i}
        )


def _lookup(store: Store, keys: list[int]) -> list[tuple[int, int, int]]:
    with store.tx() as tx:
        return sorted(tx.band_rows(keys, NOW - timedelta(days=1), NOW + timedelta(days=1)))


def test_filtered_store_finds_what_an_unfiltered_one_finds(tmp_path: Path) -> None:
    """Keys written before the filtered store opened (another run), keys it wrote itself,
    keys of a rolled-back transaction and keys of deleted rows: every lookup answers the
    same with and without the filter."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    r = random.Random(11)
    earlier = Store.open(url)
    earlier.upgrade()
    ids = _items(earlier, 40, 1)
    old_keys = [r.getrandbits(64) - 2**63 for _ in range(300)]
    with earlier.tx() as tx:
        _band(tx, [(i, old_keys[k::40]) for k, i in enumerate(ids)])
    earlier.close()

    filtered = Store.open(url, single_writer=SingleWriter.daemon())
    plain = Store.open(url)
    try:
        new_keys = [r.getrandbits(64) - 2**63 for _ in range(300)]
        more = _items(filtered, 40, 100)
        with filtered.tx(group=True) as tx:  # inside a group, as ingest writes
            _band(tx, [(i, new_keys[k::40]) for k, i in enumerate(more)])
        lost = [r.getrandbits(64) - 2**63 for _ in range(50)]
        with pytest.raises(RuntimeError), filtered.tx() as tx:
            _band(tx, [(more[0], lost)])
            raise RuntimeError("roll back")
        with filtered.tx() as tx:
            assert tx.delete_bands([more[1]]) > 0
        absent = [r.getrandbits(64) - 2**63 for _ in range(500)]
        probes = old_keys + new_keys + lost + absent
        r.shuffle(probes)
        for k in range(0, len(probes), 97):
            chunk = probes[k : k + 97]
            assert _lookup(filtered, chunk) == _lookup(plain, chunk)
        found = _lookup(filtered, probes)
        assert {b for b, _, _ in found} >= set(old_keys)  # the load at first use took them
        assert filtered.writer.filter is not None  # and the filter was in use
        assert len(filtered.writer.filter.may_contain(absent)) < len(absent) // 4
    finally:
        filtered.close()
        plain.close()


def test_big_tables_are_not_loaded_by_a_one_shot_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    s = Store.open(url, single_writer=SingleWriter(Policy(max_keys=17 * 10)))
    s.upgrade()
    try:
        ids = _items(s, 11, 1)  # 11 items: an estimated 187 keys, over the limit
        with s.tx() as tx:
            _band(tx, [(i, [i]) for i in ids])
        assert _lookup(s, [3, 4, 99]) == [
            (3, 3, int(NOW.timestamp())),
            (4, 4, int(NOW.timestamp())),
        ]
        assert s.writer.filter is None and s.writer.filter_declined
    finally:
        s.close()


def test_postgresql_stores_never_filter(pg_url: str) -> None:
    s = Store.open(pg_url, single_writer=SingleWriter.daemon())
    try:
        assert s.writer is None  # several processes write there
    finally:
        s.close()


def test_a_full_filter_is_rebuilt_with_every_stored_key(tmp_path: Path) -> None:
    """Past its capacity the filter is rebuilt from the table: keys stored so far are
    still looked up afterwards."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    s = Store.open(url, single_writer=SingleWriter.daemon())
    s.upgrade()
    try:
        ids = _items(s, 5, 1)
        with s.tx() as tx:
            _band(tx, [(i, [i * 1000 + 7]) for i in ids])
        first = s.writer.filter
        assert first is not None
        first.added = first.capacity + 1  # as if it had taken more keys than it was sized for
        assert [b for b, _, _ in _lookup(s, [1007, 3007, 42])] == [1007, 3007]
        assert s.writer.filter is not first and not s.writer.filter.full
        assert s.writer.filter.may_contain([i * 1000 + 7 for i in ids]) == [
            i * 1000 + 7 for i in ids
        ]
    finally:
        s.close()
