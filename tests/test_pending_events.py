"""The event index rows and term counts of a group commit wait in memory until the group
commits (``daemon.storage.events.GroupEventWrites``), and the sole writer keeps the stored
term counts and the event profiles it has read (``TermCounts``, ``ProfileCache``): events
assigned poll by poll inside one open group, with a member that fails half way, must come
out exactly as when every poll commits on its own without any of them, in the events
chosen, the profiles stored and the rows of both tables."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from daemon.grouping.stories import Doc
from daemon.pipeline import events as eventing
from daemon.storage.store import Store
from daemon.storage.writer import SingleWriter
from tests.test_pending_bands import _open_group

NOW = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
WINDOW = timedelta(hours=36)
SYLLABLES = "ka lo ri me su ta ngi ba ra de wu pa so li ne mo".split()
COMMON = (
    "pemerintah daerah warga kegiatan program pembangunan pelayanan masyarakat anggaran "
    "kabupaten provinsi pejabat laporan rencana bantuan sekolah jalan pasar kantor desa"
).split()


def _word(r: random.Random, n: int = 3) -> str:
    return "".join(r.choice(SYLLABLES) for _ in range(n))


def _matter(r: random.Random) -> tuple[str, str]:
    """A made-up thing and its sum."""
    return _word(r, 4), f"Rp{r.randrange(100, 999)}.{r.randrange(100, 999)}.000"


def _report(r: random.Random, who: tuple[str, str], matter: tuple[str, str], k: int, e: int,
            at: datetime) -> Doc:  # fmt: skip
    """Outlet ``k``'s report of happening ``e``: an official (``who``: place, person)
    opening a thing worth a sum, in that outlet's word order, common words around them."""
    (place, person), (thing, sum_) = who, matter
    lead = f"Bupati {place} {person} meresmikan {thing} senilai {sum_} " + " ".join(
        r.sample(COMMON, 12)
    )
    return Doc(
        title=f"{person} resmikan {thing} {sum_} di {place}"
        if k % 2 == 0
        else f"{thing} senilai {sum_} diresmikan di {place}",
        summary=lead + f" kata {person} di {place}.",
        url=f"https://outlet{k}.example/{e}",
        published_at=at,
    )


def reports(n_events: int, seed: int = 7) -> list[Doc]:
    """Invented happenings, each told by one to three outlets in their own word order: a
    place and an official with made-up names, a sum, and common words around them."""
    r = random.Random(seed)
    docs: list[Doc] = []
    for e in range(n_events):
        who, matter = (_word(r).title(), _word(r).title()), _matter(r)
        for k in range(r.choice((1, 1, 2, 3))):
            docs.append(_report(r, who, matter, k, e, NOW + timedelta(minutes=7 * len(docs))))
    r.shuffle(docs)
    return docs


def _assign(store: Store, batch: list[Doc], group: bool, fail: bool = False) -> dict[int, int]:
    with store.tx(group=group) as tx:
        ids = tx.new_stories([(d.title, d.published_at, d.published_at, 1) for d in batch])
        opened = [eventing.Opened(sid, d, d.title, d.published_at) for sid, d in zip(ids, batch)]
        got = eventing.assign_events(tx, opened, WINDOW)
        eventing.count_terms(tx, got)
        if fail:
            raise RuntimeError("this poll fails after assigning its events")
        return {sid: got.events[sid] for sid in ids}


def _tables(store: Store) -> tuple[set, set]:
    with store.engine.connect() as conn:
        terms = set(conn.execute(sa.text("SELECT key, n FROM term_df")))
        keys = set(conn.execute(sa.text("SELECT key, published, event_id FROM event_keys")))
    return terms, keys


def _run(store: Store, docs: list[Doc], group: bool) -> list[int]:
    """Batches of 9 stories; grouped: two groups, the second with a member that fails
    (the second group's lookups read the first's rows from the table and its own from
    memory)."""
    events: list[int] = []
    batches = [docs[i : i + 9] for i in range(0, len(docs), 9)]
    if not group:
        for batch in batches:
            events += _assign(store, batch, group).values()
        return events
    half = len(batches) // 2
    for part in (batches[:half], batches[half:]):
        with _open_group(store):
            for n, batch in enumerate(part):
                if part[0] is not batches[0] and n == len(part) // 2:
                    with pytest.raises(RuntimeError):
                        _assign(store, batch, group, fail=True)
                events += _assign(store, batch, group).values()
    return events


def test_a_group_assigns_and_stores_events_as_polls_committed_one_by_one(
    tmp_path: Path,
) -> None:
    docs = reports(160)
    plain = Store.open(f"sqlite:///{tmp_path / 'plain.db'}")
    grouped = Store.open(f"sqlite:///{tmp_path / 'group.db'}", single_writer=SingleWriter.daemon())
    try:
        for s in (plain, grouped):
            s.upgrade()
        a = _run(plain, docs, group=False)
        b = _run(grouped, docs, group=True)
        assert len(set(a)) < len(a)  # reports of one happening were grouped
        assert a == b
        assert _tables(plain) == _tables(grouped)
        assert _profiles(plain) == _profiles(grouped)
        assert grouped.writer is not None and grouped.writer.terms.counts  # it was used
        assert len(grouped.writer.profiles)  # and so was the profile cache
    finally:
        plain.close()
        grouped.close()


def test_the_stored_counts_the_writer_keeps_follow_its_commits(tmp_path: Path) -> None:
    """Counts read in one group and added to by later ones read as the table holds them;
    a failed member's additions are never counted."""
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}", single_writer=SingleWriter.daemon())
    store.upgrade()
    try:
        docs = reports(40, seed=3)
        for part in (docs[:15], docs[15:30], docs[30:]):  # one group each
            with _open_group(store):
                _assign(store, part, group=True)
        assert store.writer is not None
        keys = list(store.writer.terms.counts)
        with store.tx() as tx:
            cached = eventing.store.term_frequencies(tx, keys)
        stored = dict(_tables(store)[0])
        assert cached == {k: stored[k] for k in keys if k in stored}
        with _open_group(store):
            with pytest.raises(RuntimeError), store.tx(group=True) as tx:
                eventing.count_terms(tx, eventing.Assigned(terms={k: 5 for k in keys}))
                raise RuntimeError("this poll fails")
            with store.tx(group=True) as tx:
                assert eventing.store.term_frequencies(tx, keys) == cached
        assert dict(_tables(store)[0]) == stored
    finally:
        store.close()


def _profiles(store: Store) -> set:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, title, published_at, story_count, profile, keys FROM events")
        )
        return set(rows)


def test_events_decided_on_a_read_only_connection_and_written_by_the_writer_are_the_same(
    tmp_path: Path,
) -> None:
    """The seam for taking events off the ingest path (docs/design.md, "The seventh pass"):
    ``decide_events`` only reads, so each batch's events decided on a read-only connection
    of their own, once the batch's stories and every earlier batch are committed, then
    written by the writer (``write_events``), are the events, profiles, index rows and
    frequencies that ``assign_events`` stores on the write transaction."""
    from daemon.storage.store import Tx

    docs = reports(160)
    inline = Store.open(f"sqlite:///{tmp_path / 'inline.db'}")
    split = Store.open(f"sqlite:///{tmp_path / 'split.db'}")
    reader = sa.create_engine(f"sqlite:///file:{tmp_path / 'split.db'}?mode=ro&uri=true")
    try:
        for s in (inline, split):
            s.upgrade()
        expected = _run(inline, docs, group=False)
        got: list[int] = []
        for i in range(0, len(docs), 9):
            batch = docs[i : i + 9]
            with split.tx() as tx:
                ids = tx.new_stories([(d.title, d.published_at, d.published_at, 1) for d in batch])
            opened = [eventing.Opened(s, d, d.title, d.published_at) for s, d in zip(ids, batch)]
            with reader.connect() as conn, conn.begin():  # a write here would raise
                decided = eventing.decide_events(Tx(conn), opened, WINDOW)
            with split.tx() as tx:
                assigned = eventing.write_events(tx, decided)
                eventing.count_terms(tx, assigned)
            got += [assigned.events[s] for s in ids]
        assert len(set(got)) < len(got)  # reports of one happening were grouped
        assert got == expected
        assert _tables(split) == _tables(inline)
        assert _profiles(split) == _profiles(inline)
    finally:
        reader.dispose()
        inline.close()
        split.close()


def _pairs(n: int, seed: int, other: bool = False) -> list[tuple[Doc, Doc]]:
    """``n`` invented happenings, each as two reports in their own words (see ``reports``)."""
    r = random.Random(seed)
    return [_two(r, e, other) for e in range(n)]


def _two(r: random.Random, e: int, other: bool = False) -> tuple[Doc, Doc]:
    """``other``: the second report is the same official's another matter (another thing,
    another sum): an event it shares names with and must not join."""
    who, matter = (_word(r).title(), _word(r).title()), _matter(r)
    first = _report(r, who, matter, 0, e, NOW + timedelta(minutes=10 * e))
    if other:
        matter = _matter(r)
    return first, _report(r, who, matter, 1, e, NOW + timedelta(minutes=10 * e + 1))


def test_a_failed_member_leaves_no_cached_profile_behind(tmp_path: Path) -> None:
    """A member that opens events and reads them back (its second batch compares with
    them: the same officials on other matters), then fails: SQLite gives the next member's
    new events the same ids, so a profile it cached would stand for another happening.
    Later reports must join as on a store that never saw the failed member."""
    background = [d for pair in _pairs(40, seed=5) for d in pair]  # the corpus: >= MIN_CORPUS
    lost, kept = _pairs(12, seed=6, other=True), _pairs(12, seed=8)
    plain = Store.open(f"sqlite:///{tmp_path / 'plain.db'}")
    grouped = Store.open(f"sqlite:///{tmp_path / 'group.db'}", single_writer=SingleWriter.daemon())
    try:
        for s in (plain, grouped):
            s.upgrade()
        firsts, seconds = [a for a, _ in kept], [b for _, b in kept]
        expected = [_assign(plain, background[i : i + 20], group=False) for i in range(0, 80, 20)]
        expected += [_assign(plain, firsts, group=False), _assign(plain, seconds, group=False)]
        got = []
        with _open_group(grouped):
            got += [_assign(grouped, background[i : i + 20], group=True) for i in range(0, 80, 20)]
            with pytest.raises(RuntimeError), grouped.tx(group=True) as tx:
                for batch in ([a for a, _ in lost], [b for _, b in lost]):
                    ids = tx.new_stories(
                        [(d.title, d.published_at, d.published_at, 1) for d in batch]
                    )
                    opened = [
                        eventing.Opened(i, d, d.title, d.published_at) for i, d in zip(ids, batch)
                    ]
                    eventing.count_terms(tx, eventing.assign_events(tx, opened, WINDOW))
                raise RuntimeError("this poll fails after reading back the events it opened")
            got += [_assign(grouped, firsts, group=True), _assign(grouped, seconds, group=True)]
        joined = set(got[-1].values()) & set(got[-2].values())
        assert len(joined) >= 6  # the second reports joined the first ones' events
        assert got == expected
        assert _profiles(grouped) == _profiles(plain)
    finally:
        plain.close()
        grouped.close()


def test_a_decision_that_is_not_written_leaves_the_cached_profiles_as_stored(
    tmp_path: Path,
) -> None:
    """``decide_events`` joins stories to cached profiles in memory; a decision that is not
    written (the seam of docs/design.md, "The seventh pass", may discard one) must leave
    the cached profiles as the table holds them."""
    from daemon.grouping.events import Profile

    pairs = _pairs(60, seed=9)
    store = Store.open(f"sqlite:///{tmp_path / 'd.db'}", single_writer=SingleWriter.daemon())
    try:
        store.upgrade()
        _assign(store, [a for a, _ in pairs], group=False)
        with store.tx() as tx:
            batch = [b for _, b in pairs]
            ids = tx.new_stories([(d.title, d.published_at, d.published_at, 1) for d in batch])
            opened = [eventing.Opened(i, d, d.title, d.published_at) for i, d in zip(ids, batch)]
            decided = eventing.decide_events(tx, opened, WINDOW)
        assert store.writer is not None
        joined = {e for e in decided.events.values() if e < eventing.PROVISIONAL}
        assert len(joined) >= 30
        with store.engine.connect() as conn:
            stored = dict(conn.execute(sa.text("SELECT id, profile FROM events")).all())
        cached = {e: store.writer.profiles.get(e) for e in joined}
        assert all(v is not None for v in cached.values())
        assert {e: v[0] for e, v in cached.items()} == {  # type: ignore[index]
            e: Profile.decode(stored[e]) for e in joined
        }
    finally:
        store.close()


def test_an_event_dropped_is_forgotten(tmp_path: Path) -> None:
    """Retention drops an event left without stories (``drop_if_empty``); the next event
    SQLite opens takes its id, and must not be read as the dropped one."""
    from daemon.grouping.events import Profile

    store = Store.open(f"sqlite:///{tmp_path / 'r.db'}", single_writer=SingleWriter.daemon())
    try:
        store.upgrade()
        events = _assign(store, [a for a, _ in _pairs(30, seed=12)], group=False)
        last_story, last = max(events.items(), key=lambda kv: kv[1])
        with store.tx() as tx:
            assert eventing.store.profiles(tx, [last])[last][0] is not None  # now cached
            tx._many("DELETE FROM stories WHERE id = ?", [(last_story,)])
            assert eventing.store.drop_if_empty(tx, [last]) == 1
        (_, fresh), *_ = _pairs(1, seed=13)
        assert last in _assign(store, [fresh], group=False).values()  # the id again
        with store.tx() as tx:
            got = eventing.store.profiles(tx, [last])[last][0]
        with store.engine.connect() as conn:
            stored = conn.execute(sa.text(f"SELECT profile FROM events WHERE id = {last}")).one()
        assert got == Profile.decode(stored[0])
    finally:
        store.close()
