"""Band rows of a group commit wait in memory until the group commits (store.PendingBands):
lookups inside the group must answer exactly as they will once the rows are in the table,
a failed member's rows must never reach it, and every other member's rows must."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from daemon.grouping.bandfilter import Policy
from daemon.storage.bands import PER_BAND, PendingBands, pack_bands
from daemon.storage.store import Store, Tx
from daemon.storage.writer import SingleWriter
from tests.test_bandfilter import bare_items

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def _band(tx: Tx, rows: list[tuple[int, datetime, list[int]]]) -> None:
    tx.insert_bands_many(rows)
    for i, _, keys in rows:
        tx.conn.execute(
            sa.text("UPDATE items SET bands = :b WHERE id = :i"), {"b": pack_bands(keys), "i": i}
        )


@contextmanager
def _open_group(store: Store) -> Iterator[None]:
    """Keep the group open across members, as it stays while pollers queue for the write
    lock (``Store.writers_queued``); then end it as the next non-group writer would."""
    store.writers_queued = lambda: 1  # type: ignore[method-assign]
    try:
        yield
    finally:
        del store.writers_queued
    with store.tx():
        pass


def _stored(store: Store) -> set[tuple[int, int, int]]:
    with store.engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT band, published, item_id FROM story_bands")))


def _lookup(
    tx: Tx, keys: list[int], since: datetime, until: datetime, links: int = 0
) -> list[tuple]:
    """``links``: the first keys are looked up as URL keys too (a wider window)."""
    return sorted(tx.band_rows(keys, since, until, url_keys=keys[:links]))


@pytest.mark.parametrize("exclusive", [None, Policy.daemon()], ids=["plain", "filtered"])
def test_lookups_in_a_group_answer_as_after_its_commit(
    tmp_path: Path, exclusive: Policy | None
) -> None:
    """Random rows in the table and in an open group, some keys shared by more than
    PER_BAND items, lookups over random windows: the same answers before and after the
    group's commit, and the table holds every row of the group afterwards."""
    r = random.Random(5)
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}", single_writer=SingleWriter(exclusive))
    store.upgrade()
    try:
        keys = [r.getrandbits(64) - 2**63 for _ in range(40)]
        hot = keys[:2]  # on far more items than PER_BAND
        published = {i: NOW - timedelta(hours=r.randrange(0, 200)) for i in range(1, 401)}
        bare_items(store, published)

        def bands_of(i: int) -> list[int]:
            return [*hot, *r.sample(keys[2:], 3)] if i % 3 else r.sample(keys, 4)

        with store.tx() as tx:  # committed earlier: items 1..200
            _band(tx, [(i, published[i], bands_of(i)) for i in range(1, 201)])
        queries = [
            (r.sample(keys, 12), NOW - timedelta(hours=r.randrange(0, 150))) for _ in range(30)
        ]
        before: list[list[tuple]] = []
        with _open_group(store):
            for start in range(201, 401, 25):  # eight members of one group
                with store.tx(group=True) as tx:
                    _band(tx, [(i, published[i], bands_of(i)) for i in range(start, start + 25)])
            with store.tx(group=True) as tx:
                assert tx.pending is not None and len(tx.pending) > 0
                n = tx.conn.execute(sa.text("SELECT count(*) FROM story_bands")).scalar()
                assert n == len(_stored(store))  # nothing of the group is in the table yet
                before = [_lookup(tx, q, since, since + 2 * DAY, 3) for q, since in queries]
        with store.tx() as tx:
            after = [_lookup(tx, q, since, since + 2 * DAY, 3) for q, since in queries]
        assert before == after
        assert any(len([x for x in a if x[0] == hot[0]]) == PER_BAND for a in after)
        with store.engine.connect() as conn:
            n_items = conn.execute(
                sa.text("SELECT count(DISTINCT item_id) FROM story_bands")
            ).scalar()
        assert n_items == 400
    finally:
        store.close()


def test_a_failed_member_leaves_no_band_rows_and_the_others_all_theirs(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}", single_writer=SingleWriter.daemon())
    store.upgrade()
    try:
        bare_items(store, {1: NOW, 2: NOW, 3: NOW})
        with _open_group(store):
            with store.tx(group=True) as tx:
                _band(tx, [(1, NOW, [11, 12])])
            with pytest.raises(RuntimeError), store.tx(group=True) as tx:
                _band(tx, [(2, NOW, [12, 21])])
                assert {i for _, i, _ in _lookup(tx, [12], NOW - DAY, NOW)} == {1, 2}
                raise RuntimeError("this poll fails after writing its bands")
            with store.tx(group=True) as tx:
                assert _lookup(tx, [12, 21], NOW - DAY, NOW) == [(12, 1, int(NOW.timestamp()))]
                _band(tx, [(3, NOW, [31])])
        t = int(NOW.timestamp())
        assert _stored(store) == {(11, t, 1), (12, t, 1), (31, t, 3)}
    finally:
        store.close()


def test_a_filter_rebuilt_inside_a_group_keeps_the_pending_keys(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}", single_writer=SingleWriter.daemon())
    store.upgrade()
    try:
        bare_items(store, {1: NOW, 2: NOW})
        with _open_group(store):
            with store.tx(group=True) as tx:
                _band(tx, [(1, NOW, [101, 102])])
            flt = store.writer.filter
            assert flt is not None
            flt.added = flt.capacity + 1  # full: the next lookup rebuilds it from the table
            with store.tx(group=True) as tx:
                _band(tx, [(2, NOW, [201])])
                assert store.writer.filter is not flt  # rebuilt while 101 and 102 were pending
        with store.tx() as tx:
            assert [b for b, _, _ in _lookup(tx, [101, 102, 201], NOW - DAY, NOW)] == [
                101,
                102,
                201,
            ]
    finally:
        store.close()


def test_pending_rows_keep_every_copy_of_a_key() -> None:
    p = PendingBands()
    p.add({(1, 10, 100), (2, 10, 100)})
    p.add({(1, 11, 101), (1, 12, 102), (3, 12, 102)})  # key 1 again, twice in one member
    assert sorted(p.get([1, 3, 9])[1]) == [(1, 10, 100), (1, 11, 101), (1, 12, 102)]
    p.add({(2, 14, 104), (4, 14, 104)})  # key 2 again, once in this batch
    assert sorted(p.get([2, 4])[2]) == [(2, 10, 100), (2, 14, 104)] and p.get([4])[4]
    p.drop_items({104})
    mark = p.mark()
    p.add({(1, 13, 103)})
    p.rollback_to(mark)
    assert len(p.get([1])[1]) == 3
    p.drop_items({101})
    assert sorted(p.get([1, 2, 3])) == [1, 2, 3] and len(p.get([1])[1]) == 2
    assert [r[0] for r in p.take()] == [1, 1, 2, 3] and len(p) == 0 and not p.get([1])
