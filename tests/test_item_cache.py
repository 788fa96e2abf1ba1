"""The only writer's cache of story-grouping candidates (store.ItemCache): it must never
answer differently from the table. Every way an item's story, features or existence can
change (moved by full text, updated by its feed, pruned by retention, an insert rolled back,
its id given to a new item) is made to happen to a cached item here, and the next lookup
must see what the database holds."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from daemon.grouping.stories import decode_features
from daemon.pipeline import retention
from daemon.pipeline.ingest import BandCandidates, ingest_items
from daemon.storage.store import Store
from daemon.storage.writer import ItemCache, SingleWriter
from tests.test_store import _WORDS, NOW, feed_id, item, rules


def _open(tmp_path: Path, *, exclusive: bool = True, name: str = "c.db") -> Store:
    store = Store.open(
        f"sqlite:///{tmp_path / name}", single_writer=SingleWriter.daemon() if exclusive else None
    )
    store.upgrade()
    return store


def _ingest(store: Store, fid: int, parsed: list, *, group: bool = False) -> None:
    with store.tx(group=group) as tx:
        ingest_items(tx, feed_id=fid, outlet="Antara", parsed=parsed, rules=rules(), now=NOW)


def _ids(store: Store) -> dict[str, tuple[int, int]]:
    """url -> (item id, story id)."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT url, id, story_id FROM items")).all()
    return {u: (i, s) for u, i, s in rows}


def _held(c) -> tuple[frozenset[int], object]:  # type: ignore[no-untyped-def]
    """What a candidate holds of its item's stored features: shingles and guards."""
    return frozenset(c.stored_ids or ()), c.stored_guards


def _features_of(data: str, url: str | None) -> tuple[frozenset[int], object]:
    full = decode_features(data, url)
    assert full is not None
    return full.shingles, decode_features(data, url, shingles=False)


def _candidate(store: Store, item_id: int):  # type: ignore[no-untyped-def]
    """What grouping would use for ``item_id`` now (through the cache, if any)."""
    with store.tx() as tx:
        source = BandCandidates(tx)
        source.load([item_id])
        return source.docs.get(item_id)


def _copy(it, n: int, **changes):  # type: ignore[no-untyped-def]
    """Another outlet's copy of ``it``: its own link, the same text."""
    url = f"https://www.sindonews.com/read/{n}/salinan"
    return dataclasses.replace(it, identity=f"guid:{url}", guid=url, url=url, **changes)


def test_only_the_only_writer_has_a_cache(tmp_path: Path) -> None:
    assert isinstance(_open(tmp_path).item_cache, ItemCache)
    assert _open(tmp_path, exclusive=False, name="d.db").item_cache is None


def test_grouping_with_the_cache_equals_grouping_without(tmp_path: Path) -> None:
    """Polls of reports and copies of them (the same candidates met poll after poll): the
    same stories with and without the cache, and the cache was used."""
    r = random.Random(4)
    originals = [item(n) for n in range(1, 40)]
    polls = []
    for p in range(30):
        batch = []
        for k in range(6):
            src = r.choice(originals)
            if r.random() < 0.5:
                batch.append(_copy(src, p * 100 + k))
            else:
                words = [r.choice(_WORDS) for _ in range(40)]
                batch.append(item(1000 + p * 10 + k, summary="Kabar " + " ".join(words)))
        polls.append(batch)
    results = []
    for exclusive in (True, False):
        store = _open(tmp_path, exclusive=exclusive, name=f"g{exclusive}.db")
        fid = feed_id(store)
        _ingest(store, fid, originals)
        for batch in polls:
            _ingest(store, fid, batch, group=True)
        store.close()
        ids = _ids(store)
        by_story: dict[int, set[str]] = {}
        for url, (_, sid) in ids.items():
            by_story.setdefault(sid, set()).add(url)
        results.append(sorted(sorted(v) for v in by_story.values()))
        if exclusive:
            assert store.item_cache is not None and len(store.item_cache) > 10
    assert results[0] == results[1]
    assert sum(len(s) > 1 for s in results[0]) >= 10  # plenty of copies joined


def test_a_moved_item_is_met_in_its_new_story(tmp_path: Path) -> None:
    store = _open(tmp_path)
    fid = feed_id(store)
    a, x = item(1), item(2)
    _ingest(store, fid, [a, x])
    (ida, s1), (_, s2) = _ids(store)[a.url], _ids(store)[x.url]
    assert _candidate(store, ida).story_id == s1  # now cached
    assert store.item_cache is not None and store.item_cache.get(ida) is not None
    with store.tx() as tx:
        tx.move_item(ida, s1, s2)  # as full text does when it finds the item's story
    assert _candidate(store, ida).story_id == s2
    _ingest(store, fid, [_copy(a, 9)])
    assert _ids(store)["https://www.sindonews.com/read/9/salinan"][1] == s2


def test_an_updated_item_is_met_with_its_new_text(tmp_path: Path) -> None:
    store = _open(tmp_path)
    fid = feed_id(store)
    a = item(1)
    _ingest(store, fid, [a])
    ida = _ids(store)[a.url][0]
    before = _held(_candidate(store, ida))
    # the feed rewrites the item: ingest updates it in place
    rewritten = dataclasses.replace(a, summary="Laporan banjir " + " ".join(_WORDS[:40]) + ".")
    _ingest(store, fid, [rewritten])
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT features FROM items WHERE id = :i"), {"i": ida})
        now_stored = stored.scalar()
    now = _features_of(now_stored, a.url)
    assert now != before
    assert _held(_candidate(store, ida)) == now


def test_a_pruned_items_id_given_to_a_new_item_is_the_new_item(tmp_path: Path) -> None:
    """SQLite gives the highest id again once its row is gone."""
    store = _open(tmp_path)
    fid = feed_id(store)
    old = item(1)
    _ingest(store, fid, [old])
    ido, so = _ids(store)[old.url]
    _old_stored = _held(_candidate(store, ido))
    # first seen more than 30 days before this prune
    stats = retention.prune(store, NOW + timedelta(days=31), timedelta(days=30))
    assert stats.items == 1
    fresh = item(2)
    _ingest(store, fid, [fresh])
    idf, sf = _ids(store)[fresh.url]
    assert idf == ido
    got = _candidate(store, idf)
    assert got.story_id == sf and got.doc.url == fresh.url != old.url
    assert _held(got) != _old_stored


@pytest.mark.parametrize("group", [False, True], ids=["own", "group"])
def test_a_rolled_back_insert_leaves_nothing_cached(tmp_path: Path, group: bool) -> None:
    store = _open(tmp_path)
    fid = feed_id(store)
    _ingest(store, fid, [item(1)])
    doomed = item(2)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.tx(group=group) as tx:
        ingest_items(tx, feed_id=fid, outlet="Antara", parsed=[doomed], rules=rules(), now=NOW)
        (idd,) = [
            i for (i,) in tx.conn.execute(sa.text("SELECT id FROM items WHERE url = :u"), {"u": doomed.url})
        ]  # fmt: skip
        source = BandCandidates(tx)
        source.load([idd])
        assert store.item_cache is not None and store.item_cache.get(idd) is not None
        raise Boom
    assert store.item_cache is not None and store.item_cache.get(idd) is None
    other = item(3)
    _ingest(store, fid, [other])
    ido, so = _ids(store)[other.url]
    assert ido == idd  # the rolled-back id, given again
    got = _candidate(store, ido)
    assert got.doc.url == other.url and got.story_id == so


def test_the_cache_keeps_at_most_its_capacity_dropping_the_oldest() -> None:
    cache = ItemCache(capacity=3)
    for i in range(1, 6):
        cache.put(i, f"v{i}")
    assert len(cache) == 3
    assert [cache.get(i) for i in range(1, 6)] == [None, None, "v3", "v4", "v5"]
    cache.put(4, "v4b")  # replacing keeps the size
    assert len(cache) == 3 and cache.get(4) == "v4b"
    cache.forget([3, 99])
    assert cache.get(3) is None and len(cache) == 2


def test_the_cache_drops_the_least_recently_used() -> None:
    cache = ItemCache(capacity=3)
    for i in (1, 2, 3):
        cache.put(i, f"v{i}")
    assert cache.get(1) == "v1"  # used: now the most recent
    cache.put(4, "v4")
    assert [cache.get(i) for i in (1, 2, 3, 4)] == ["v1", None, "v3", "v4"]


# --- what one kept candidate costs ----------------------------------------------------------


def _stored_features(figures: list[str], url: str) -> str:
    from datetime import datetime, timezone

    from daemon.grouping.stories import Doc, encode_features, fingerprint

    lead = " ".join(_WORDS[:40])
    doc = Doc(
        "Harga emas naik", f"Harga emas {' '.join(figures)} {lead}.", url=url,
        published_at=datetime(2026, 11, 27, tzinfo=timezone.utc),
    )  # fmt: skip
    return encode_features(fingerprint(doc))


def test_a_kept_candidate_holds_its_decoded_forms_not_its_text() -> None:
    """The only writer keeps 32,768 candidates. Each holds its shingle ids and guards once
    decoded, not the stored text they came from too; its Doc and Fingerprint have slots, not
    a ``__dict__``; and equal guard sets of different items are one set. What it answers
    stays what the stored features say."""
    from datetime import datetime, timezone

    from daemon.grouping.stories import Candidate, Doc

    url = "https://a.example/1"
    data = _stored_features(["Rp1.524.000", "naik 2,5 persen"], url)
    doc = Doc("", "", url=url, published_at=datetime(2026, 11, 27, tzinfo=timezone.utc))
    c = Candidate.from_store(1, 10, doc, data)
    want = _features_of(data, url)
    assert c.stored and _held(c) == want  # decoded on first use ...
    assert c.stored == "" and c.stored is not None  # ... and the text let go
    assert _held(c) == want  # the same answers after
    assert not hasattr(doc, "__dict__") and not hasattr(c.stored_guards, "__dict__")
    other = Candidate.from_store(2, 11, doc, _stored_features(["Rp1.524.000", "naik 2,5 persen"],
                                                               "https://b.example/2"))  # fmt: skip
    assert other.stored_guards is not None and c.stored_guards is not None
    assert other.stored_guards.figures == c.stored_guards.figures != frozenset()
    assert other.stored_guards.figures is c.stored_guards.figures  # one set, shared


def test_the_shared_guard_sets_are_bounded() -> None:
    from daemon.grouping import stories as s

    s._GUARD_SETS.clear()
    for k in range(s._GUARD_SETS_MAX + 10):
        assert s._guard_set([f"idr:{k}"]) == frozenset({f"idr:{k}"})
        assert len(s._GUARD_SETS) <= s._GUARD_SETS_MAX
    assert s._guard_set([]) is s._NO_STRINGS
