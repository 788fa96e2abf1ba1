"""Storage on SQLite and PostgreSQL: migrations, feeds, items, tombstones, alerts, the outbox."""

from __future__ import annotations

import calendar
import dataclasses
import random
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from daemon.feeds.parse import ParsedItem
from daemon.pipeline.ingest import Rules, ingest_items
from daemon.storage import db
from daemon.storage.feeds import FeedSpec
from daemon.storage.outbox import AlertRecord
from daemon.storage.schema import items as items_table
from daemon.storage.schema import metadata, tombstones
from daemon.storage.store import Store
from daemon.storage.writer import SingleWriter
from daemon.topics.match import Matcher, TopicSpec

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)


_WORDS = (
    "warga petugas gempa longsor banjir sekolah jembatan pasar rumah jalan desa kota listrik "
    "air tenda bantuan relawan polisi bupati gubernur menteri rapat anggaran tol kereta bandara "
    "pelabuhan nelayan petani beras cabai harga minyak gula garam kopi teh hujan angin gelombang "
    "laut sungai gunung hutan kebakaran asap kabut sampah parkir ojek bus truk mobil motor"
).split()


def item(
    n: int, title: str | None = None, summary: str | None = None, *, age_h: float = 1
) -> ParsedItem:
    """A distinct Indonesian-looking report per ``n`` (its own words, not only its own numbers)."""
    rng = random.Random(n)
    words = [rng.choice(_WORDS) for _ in range(40)]
    url = f"https://www.antaranews.com/berita/{n}/judul"
    return ParsedItem(
        identity=f"guid:{url}",
        guid=url,
        url=url,
        title=title or f"Gempa: {' '.join(words[:8])}",
        summary=summary or "Laporan gempa " + " ".join(words[8:]) + ".",
        content="",
        title_html="",
        summary_html="",
        author="",
        published_at=NOW - timedelta(hours=age_h),
        published_raw=None,
        has_date=True,
        outlet="",
    )


def rules(*topics: tuple[str, str], notify: tuple[str, ...] = ("slack",)) -> Rules:
    return Rules(
        matcher=Matcher.compile([TopicSpec(n, q) for n, q in topics]),
        routes={n: notify for n, _ in topics},
        window=timedelta(hours=72),
        max_age=timedelta(hours=48),
    )


def feed_id(store: Store, url: str = "https://www.antaranews.com/rss/terkini.xml") -> int:
    return store.sync_feeds([FeedSpec(url, "Antara", 600)], NOW, {})[url]


def test_migrations_from_empty_match_the_schema(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert store.is_current()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        names = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert {
        "feeds",
        "items",
        "stories",
        "story_bands",
        "tombstones",
        "alerts",
        "deliveries",
    } <= names
    store.upgrade()  # idempotent
    assert store.is_current()


def test_head_constant_names_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head()
    assert db.HEAD == head


def test_band_times_survive_the_move_to_epoch_seconds(db_url: str) -> None:
    """Migration 0004 turns story_bands' timestamps into epoch seconds, row for row, and a
    story lookup after the upgrade still finds the items banded before it."""
    s = Store.open(db_url)
    try:
        db.upgrade(s.engine, "0003")
        fid = feed_id(s)
        published = datetime(2026, 11, 26, 23, 59, 58, 750000, tzinfo=timezone.utc)
        with s.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO stories (id, title, first_seen_at, published_at, item_count) "
                    "VALUES (1, 't', :p, :p, 1)"
                ),
                {"p": published if conn.dialect.name != "sqlite" else "2026-11-26 23:59:58.750000"},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO items (id, feed_id, identity, title, summary, published_at, "
                    "has_date, first_seen_at, content_hash, story_id) VALUES "
                    "(7, :f, 'x', 't', 's', :p, true, :p, 'h', 1)"
                ),
                {
                    "f": fid,
                    "p": published
                    if conn.dialect.name != "sqlite"
                    else "2026-11-26 23:59:58.750000",
                },
            )
            for band in (11, -12):
                conn.execute(
                    sa.text(
                        "INSERT INTO story_bands (band, item_id, story_id, published_at) "
                        "VALUES (:b, 7, 1, :p)"
                    ),
                    {
                        "b": band,
                        "p": published
                        if conn.dialect.name != "sqlite"
                        else "2026-11-26 23:59:58.750000",
                    },
                )
        db.upgrade(s.engine, "0007")  # 0008 recomputes keys from text
        assert db.current_revision(s.engine) == "0007"
        with s.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT band, published FROM story_bands ORDER BY band")
            ).all()
        epoch = calendar.timegm((2026, 11, 26, 23, 59, 58))  # whole seconds, UTC
        assert [tuple(r) for r in rows] == [(-12, epoch), (11, epoch)]
        with s.read() as tx:
            found = tx.band_rows([11], published - timedelta(hours=1), published)
        assert [(b, i) for b, i, _ in found] == [(11, 7)]
        assert found[0][2] == calendar.timegm(published.utctimetuple())  # whole seconds
        with s.read() as tx:
            assert (
                tx.band_rows([11], published + timedelta(seconds=2), published + timedelta(hours=1))
                == []
            )
    finally:
        s.close()


def test_band_rows_move_to_the_keyed_table_and_items_keep_their_keys(db_url: str) -> None:
    """Migration 0007 carries every band row of the old table (with its item index and
    story column) into the table keyed by (band, published, item_id), packs each item's keys
    into ``items.bands`` (a key listed twice counts once), and lookups and retention's
    deletes work on the result; downgrading gives the old rows back."""
    from daemon.storage.bands import unpack_bands

    s = Store.open(db_url)
    try:
        db.upgrade(s.engine, "0006")
        fid = feed_id(s)
        p = NOW - timedelta(hours=2)
        epoch = calendar.timegm(p.utctimetuple())
        old_rows = [(11, 7, 1), (-12, 7, 1), (11, 7, 1), (2**62, 8, 1), (11, 8, 1)]
        with s.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO stories (id, title, first_seen_at, published_at, item_count) "
                    "VALUES (1, 't', :p, :p, 2)"
                ),
                {"p": p},
            )
            for i in (7, 8, 9):
                conn.execute(
                    sa.text(
                        "INSERT INTO items (id, feed_id, identity, title, summary, published_at, "
                        "has_date, first_seen_at, content_hash, story_id) VALUES "
                        "(:i, :f, :ident, 't', 's', :p, true, :p, 'h', 1)"
                    ),
                    {"i": i, "f": fid, "ident": f"x{i}", "p": p},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO story_bands (band, item_id, story_id, published) "
                    "VALUES (:b, :i, :s, :e)"
                ),
                [{"b": b, "i": i, "s": st, "e": epoch} for b, i, st in old_rows],
            )
        db.upgrade(s.engine, "0007")  # 0008 recomputes keys from text
        with s.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT band, published, item_id FROM story_bands ORDER BY item_id, band")
            ).all()
            packed = dict(conn.execute(sa.text("SELECT id, bands FROM items")).all())
        assert [tuple(r) for r in rows] == [
            (-12, epoch, 7), (11, epoch, 7), (11, epoch, 8), (2**62, epoch, 8),
        ]  # fmt: skip
        assert sorted(unpack_bands(packed[7])) == [-12, 11]
        assert sorted(unpack_bands(packed[8])) == [11, 2**62]
        assert packed[9] is None  # an item without band rows has no keys
        with s.read() as tx:
            found = tx.band_rows([11, 2**62], p - timedelta(hours=1), p + timedelta(hours=1))
            assert sorted((b, i) for b, i, _ in found) == [(11, 7), (11, 8), (2**62, 8)]
        with s.tx() as tx:
            assert tx.item_bands(8) == {11, 2**62}
            assert tx.delete_bands([8]) == 2
        with s.read() as tx:
            found = tx.band_rows([11, 2**62], p - timedelta(hours=1), p + timedelta(hours=1))
            assert [(b, i) for b, i, _ in found] == [(11, 7)]
        from alembic import command

        with s.engine.connect().execution_options(pantau_write=True) as conn:
            cfg = db.alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006")
            conn.commit()
        with s.engine.connect() as conn:
            back = conn.execute(
                sa.text("SELECT band, item_id, story_id, published FROM story_bands ORDER BY band")
            ).all()
        assert [tuple(r) for r in back] == [(-12, 7, 1, epoch), (11, 7, 1, epoch)]
    finally:
        s.close()


# item(1)'s band keys as pantau computed them before migration 0008 (URL key first, then
# 16 SHAKE-128 MinHash bands), printed by that release's daemon.grouping.stories.fingerprint.
_ITEM1_V1_KEYS = [
    3679227042644988980, 4171298639769627783, -2080993360186078706, 8729591602324491241,
    -5574235317756818847, 5606577822575069733, 2583024755769617885, -1255035070467629104,
    1149919290518406266, -4846054927489111367, -1601318384979302963, -2150128381840144369,
    3906235413866160650, -8448088963687125204, -626708628813066861, -3105192286664344755,
    2931463879899176302,
]  # fmt: skip


def test_migration_0008_recomputes_every_items_band_keys(db_url: str) -> None:
    """Down to 0007 gives the old scheme's keys back (as that release computed them); up
    to 0008 gives the keys today's fingerprint computes, in the table and on the items, so
    a copy ingested after the upgrade joins a story stored before it."""
    from alembic import command

    from daemon.grouping.stories import Doc, fingerprint
    from daemon.storage.bands import unpack_bands

    s = Store.open(db_url)
    try:
        s.upgrade()
        fid = feed_id(s)
        first, other = item(1), item(2)
        with s.tx() as tx:
            ingest_items(
                tx, feed_id=fid, outlet="Antara", parsed=[first, other], rules=rules(), now=NOW
            )

        def keys() -> dict[int, tuple[set[tuple[int, int]], list[int]]]:
            with s.engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT band, published, item_id FROM story_bands"))
                by: dict[int, set[tuple[int, int]]] = {}
                for b, p, i in rows:
                    by.setdefault(i, set()).add((b, p))
                items = conn.execute(sa.text("SELECT id, url, bands FROM items")).all()
            return {url: (by.get(i, set()), list(unpack_bands(blob))) for i, url, blob in items}

        def expect(bands: list[int], it: ParsedItem) -> tuple[set[tuple[int, int]], list[int]]:
            epoch = calendar.timegm(it.published_at.utctimetuple())
            return {(b, epoch) for b in bands}, bands

        def fp(it: ParsedItem) -> list[int]:
            doc = Doc(title=it.title, summary=it.summary, url=it.url, published_at=it.published_at)
            return list(fingerprint(doc).bands)

        now_keys = keys()
        assert now_keys[first.url] == expect(fp(first), first)
        with s.engine.connect().execution_options(pantau_write=True) as conn:
            cfg = db.alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
            conn.commit()
        old_keys = keys()
        assert old_keys[first.url] == expect(_ITEM1_V1_KEYS, first)
        assert set(old_keys[other.url][1]) & set(fp(other)) == {fp(other)[0]}  # only the URL key
        s.upgrade()
        assert keys() == now_keys
        # a rewritten copy from another outlet finds the story stored before the upgrade
        copy = item(1, title="Judul lain untuk berita yang sama")
        url = "https://www.sindonews.com/berita/1/judul-lain"
        copy = dataclasses.replace(copy, identity=f"guid:{url}", guid=url, url=url)
        sindonews = feed_id(s, "https://www.sindonews.com/rss")
        with s.tx() as tx:
            st = ingest_items(
                tx, feed_id=sindonews, outlet="Sindonews", parsed=[copy], rules=rules(), now=NOW
            )
        assert st.new == 1 and st.new_stories == 0
    finally:
        s.close()


def test_items_keep_their_grouping_features_and_candidates_use_them(store: Store) -> None:
    """items.features holds what confirming a candidate needs (kept up to date when an item
    changes); a later copy's candidate is judged on it, and joins the first item's story."""
    from daemon.grouping.stories import Doc, decode_features, fingerprint
    from daemon.pipeline.ingest import BandCandidates

    fid = feed_id(store)
    r = rules(("Gempa", "gempa"))
    first = item(1)
    with store.tx() as tx:
        ingest_items(tx, feed_id=fid, outlet="Antara", parsed=[first], rules=r, now=NOW)

    def stored() -> tuple[int, int, str | None]:
        with store.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT id, story_id, features FROM items")).one()
        return row[0], row[1], row[2]

    item_id, story_id, feats = stored()
    doc = Doc(
        title=first.title, summary=first.summary, url=first.url, published_at=first.published_at
    )
    dec = decode_features(feats, first.url)
    assert dec is not None and dec.shingles == fingerprint(doc).shingles
    changed = item(1, summary="Gempa susulan " + first.summary)
    with store.tx() as tx:
        st = ingest_items(tx, feed_id=fid, outlet="Antara", parsed=[changed], rules=r, now=NOW)
    assert st.updated == 1
    doc2 = Doc(
        title=changed.title,
        summary=changed.summary,
        url=changed.url,
        published_at=changed.published_at,
    )
    dec2 = decode_features(stored()[2], changed.url)
    assert dec2 is not None and dec2.shingles == fingerprint(doc2).shingles != dec.shingles
    with store.read() as tx:
        src = BandCandidates(tx)
        src.prefetch([fingerprint(doc2)], [doc2], timedelta(hours=72))
        cands = src.candidates(fingerprint(doc2).bands, NOW - timedelta(days=3), NOW, 50)
    assert [(c.item_id, c.story_id) for c in cands] == [(item_id, story_id)]
    assert frozenset(cands[0].stored_ids or ()) == dec2.shingles
    assert cands[0].stored_guards == decode_features(stored()[2], changed.url, shingles=False)
    assert cands[0].doc.summary == ""  # judged on its features: the text was not read
    # An item stored before features were kept (or by another version of them) is read
    # with its text, and a new copy still joins its story.
    for stale in (None, '{"v":0}'):
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE items SET features = :f"), {"f": stale})
        with store.read() as tx:
            src = BandCandidates(tx)
            src.prefetch([fingerprint(doc2)], [doc2], timedelta(hours=72))
            cands = src.candidates(fingerprint(doc2).bands, NOW - timedelta(days=3), NOW, 50)
            assert [(c.item_id, c.stored) for c in cands] == [(item_id, None)]
            assert cands[0].doc.summary == changed.summary
    copy = item(2, summary=changed.summary)
    with store.tx() as tx:
        st = ingest_items(tx, feed_id=fid, outlet="Antara", parsed=[copy], rules=r, now=NOW)
    assert st.new == 1 and st.new_stories == 0
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(DISTINCT story_id) FROM items")).scalar() == 1


def test_sync_feeds_adds_renames_and_deactivates(store: Store) -> None:
    a, b = "https://a.example/rss", "https://b.example/rss"
    ids = store.sync_feeds([FeedSpec(a, "A", 600), FeedSpec(b, "B", 600)], NOW, {})
    assert set(ids) == {a, b}
    ids2 = store.sync_feeds([FeedSpec(a, "A baru", 600)], NOW, {})
    assert ids2[a] == ids[a]
    rows = {f.url: f for f in store.feed_rows(active_only=False)}
    assert rows[a].name == "A baru" and rows[a].active and not rows[b].active
    assert [f.url for f in store.feed_rows()] == [a]
    assert {f.url for f in store.due_feeds(NOW + timedelta(seconds=1))} == {a}


def test_feed_rows_read_with_the_cursor_as_sqlalchemy_reads_them(store: Store) -> None:
    """``feed_rows`` skips SQLAlchemy's row processing (a run reads every feed first): its
    times, flags, numbers and NULLs are what the typed columns give, on both databases."""
    from daemon.storage.feeds import FeedRow
    from daemon.storage.schema import feeds

    urls = [f"https://o{k}.example/rss" for k in range(4)]
    ids = store.sync_feeds([FeedSpec(u, f"O{k}", 600) for k, u in enumerate(urls)], NOW, {})
    with store.tx() as tx:
        tx.update_feed(
            ids[urls[0]],
            etag='"x"',
            last_polled_at=NOW,
            last_ok_at=NOW,
            next_poll_at=NOW + timedelta(seconds=90.5),
            last_status=304,
            interval=123.25,
            health_since=NOW - timedelta(days=3),
            gone=True,
        )
        tx.update_feed(ids[urls[1]], last_error="boom", error_count=2, last_status=None)
        tx.add_feed_stats(ids[urls[1]], polls=3, failed=2)
    store.sync_feeds([FeedSpec(u, f"O{k}", 600) for k, u in enumerate(urls[:3])], NOW, {})
    with store.engine.connect() as conn:
        want = [FeedRow.from_row(r) for r in conn.execute(sa.select(feeds).order_by(feeds.c.id))]
    for active_only in (False, True):
        got = store.feed_rows(active_only=active_only)
        expected = [r for r in want if r.active or not active_only]
        assert got == expected and len(got) == (3 if active_only else 4)
        for g in got:  # (1 == True and an aware time == its naive twin would not show)
            assert type(g.active) is bool and type(g.gone) is bool
            assert all(
                v is None or v.tzinfo is timezone.utc
                for v in (g.next_poll_at, g.last_polled_at, g.added_at, g.health_since)
            )
    assert got[0].gone is True and got[0].next_poll_at == NOW + timedelta(seconds=90.5)


def test_new_known_updated_items(store: Store) -> None:
    fid = feed_id(store)
    r = rules(("Gempa", "gempa"))
    with store.tx() as tx:
        s1 = ingest_items(
            tx, feed_id=fid, outlet="Antara", parsed=[item(1), item(2)], rules=r, now=NOW
        )
    assert (s1.new, s1.known, s1.updated) == (2, 0, 0)
    changed = item(
        2, title="Gempa magnitudo 2 guncang wilayah selatan, BMKG: tidak berpotensi tsunami"
    )
    with store.tx() as tx:
        s2 = ingest_items(
            tx, feed_id=fid, outlet="Antara", parsed=[item(1), changed, item(3)], rules=r, now=NOW
        )
    assert (s2.new, s2.known, s2.updated) == (1, 2, 1)
    stories = store.stories_since(NOW - timedelta(days=1))
    titles = {i.title for s in stories for i in s.items}
    assert changed.title in titles and len(titles) == 3
    # one alert per story, never a second one for the updated item
    assert len(store.alerts_since(NOW - timedelta(days=1))) == 3


def test_every_field_of_an_item_reaches_its_row_and_a_change_rewrites_its_text(
    store: Store,
) -> None:
    """The row is derived from the item's fields (daemon/feeds/item.py): each one, set to a
    value of its own, must come back from the database as it went in; a later poll with
    other content rewrites its text (title, summary, content and their HTML) and nothing
    else: the link, author and dates stay as first stored."""
    fid = feed_id(store)
    url = "https://www.antaranews.com/berita/77/banjir-rob"
    first = ParsedItem(
        identity=f"guid:{url}", guid=url + "#g", url=url, title="Banjir rob di pesisir utara",
        summary="Air laut pasang merendam permukiman nelayan.", content="Isi lengkap berita.",
        title_html="<b>Banjir rob</b> di pesisir utara", summary_html="<p>Air laut pasang</p>",
        author="Pewarta Satu", published_at=NOW - timedelta(hours=3, seconds=7),
        published_raw="Fri, 27 Nov 2026 07:59:53 +0700", has_date=False, outlet="",
    )  # fmt: skip
    later = dataclasses.replace(
        first, title="Banjir rob meluas", summary="Tiga desa terendam.", content="Isi baru.",
        title_html="<i>Banjir rob meluas</i>", summary_html="<p>Tiga desa</p>",
        author="Pewarta Dua", published_raw="Fri, 27 Nov 2026 09:00:00 +0700",
    )  # fmt: skip

    def stored() -> dict[str, object]:
        with store.engine.connect() as conn:
            table = items_table
            row = conn.execute(sa.select(table).where(table.c.identity == first.identity)).one()
        return dict(row._mapping)

    r = rules(("Banjir", "banjir"))
    with store.tx() as tx:
        ingest_items(tx, feed_id=fid, outlet="Antara", parsed=[first], rules=r, now=NOW)
    row = stored()
    for f in dataclasses.fields(ParsedItem):
        assert row[f.name] == getattr(first, f.name), f.name
    assert (row["feed_id"], row["first_seen_at"], row["updated_at"]) == (fid, NOW, None)
    with store.tx() as tx:
        ingest_items(tx, feed_id=fid, outlet="Antara", parsed=[later], rules=r, now=NOW)
    row = stored()
    rewritten = {"title", "summary", "content", "title_html", "summary_html"}
    for f in dataclasses.fields(ParsedItem):
        want = later if f.name in rewritten else first
        assert row[f.name] == getattr(want, f.name), f.name
    assert row["updated_at"] == NOW


def test_tombstone_keeps_pruned_item_from_returning(store: Store) -> None:
    fid = feed_id(store)
    r = rules(("Gempa", "gempa"))
    with store.tx() as tx:
        tx.conn.execute(
            sa.insert(tombstones).values(feed_id=fid, identity=item(7).identity, pruned_at=NOW)
        )
        s = ingest_items(tx, feed_id=fid, outlet="Antara", parsed=[item(7)], rules=r, now=NOW)
    assert s.new == 0 and s.known == 1
    assert store.counts()["items"] == 0


def test_old_item_never_alerts(store: Store) -> None:
    fid = feed_id(store)
    with store.tx() as tx:
        s = ingest_items(
            tx,
            feed_id=fid,
            outlet="Antara",
            parsed=[item(1, age_h=24 * 10)],
            rules=rules(("Gempa", "gempa")),
            now=NOW,
        )
    assert s.new == 1 and s.alerts == []


def test_alert_unique_per_topic_and_story_with_outbox_rows(store: Store) -> None:
    fid = feed_id(store)
    with store.tx() as tx:
        ingest_items(tx, feed_id=fid, outlet="Antara", parsed=[item(1)], rules=rules(), now=NOW)
    (story,) = store.stories_since(NOW - timedelta(days=1))
    rec = AlertRecord(
        "Gempa", story.id, 1, "t", None, "Antara", NOW, ["gempa"], "", ["slack", "mail"]
    )
    with store.tx() as tx:
        first = tx.insert_alert(rec, NOW)
        second = tx.insert_alert(rec, NOW)
    assert first is not None and second is None
    (alert,) = store.alerts_since(NOW - timedelta(days=1))
    assert sorted(d.notifier for d in alert.deliveries) == ["mail", "slack"]
    assert all(d.status == "pending" for d in alert.deliveries)


def test_claims_never_hand_one_row_to_two_dispatchers(store: Store) -> None:
    fid = feed_id(store)
    with store.tx() as tx:
        ingest_items(
            tx, feed_id=fid, outlet="Antara", parsed=[item(i) for i in range(1, 21)],
            rules=rules(("Gempa", "gempa")), now=NOW,
        )  # fmt: skip
    got: list[list[int]] = []
    lock = threading.Lock()

    def claim(owner: str) -> None:
        rows = store.claim_deliveries(NOW, owner, 300, notifiers=["slack"], limit=7)
        with lock:
            got.append([r.id for r in rows])

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for g in got for i in g]
    assert len(ids) == len(set(ids)) == 20
    # an expired claim is taken over
    later = store.claim_deliveries(
        NOW + timedelta(seconds=301), "w9", 300, notifiers=["slack"], limit=50
    )
    assert len(later) == 20


def test_concurrent_writers_wait_instead_of_failing(store: Store) -> None:
    """BEGIN IMMEDIATE + busy timeout: read-then-write transactions from many threads all land."""
    fid = feed_id(store)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for j in range(5):
                with store.tx() as tx:
                    tx.existing_items(fid, ["x"])
                    ingest_items(
                        tx,
                        feed_id=fid,
                        outlet="A",
                        parsed=[item(k * 100 + j)],
                        rules=rules(),
                        now=NOW,
                    )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.counts()["items"] == 40


def test_sqlite_pragmas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = db.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS
        assert c.exec_driver_sql("PRAGMA page_size").scalar() == db.PAGE_SIZE == 8192


def test_an_existing_database_keeps_its_page_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file made by an earlier release (4 KiB pages) opens, upgrades and takes writes as
    it is: SQLite changes a page size only on VACUUM outside WAL, which pantau never runs."""
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size=4096")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    store = Store.open(f"sqlite:///{path}")
    store.upgrade()
    fid = feed_id(store)
    with store.tx() as tx:
        tx.update_feed(fid, title="masih jalan")
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA page_size").scalar() == 4096
        assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    store.close()


def test_failed_ingest_rolls_back_the_whole_poll(store: Store) -> None:
    fid = feed_id(store)

    class Boom(Exception):
        pass

    class BadMatcher:
        def match(self, *a: object) -> list[object]:
            raise Boom

    bad = Rules(BadMatcher(), {}, timedelta(hours=72), timedelta(hours=48))  # type: ignore[arg-type]
    with pytest.raises(Boom), store.tx() as tx:
        ingest_items(tx, feed_id=fid, outlet="A", parsed=[item(1), item(2)], rules=bad, now=NOW)
    assert store.counts()["items"] == 0 and store.counts()["stories"] == 0


def test_a_later_copy_alerts_only_for_topics_not_yet_alerted(store: Store) -> None:
    """Copy 1 matches Ukraina; copy 2 of the same story (another outlet, another title)
    matches Ukraina and NATO: one Ukraina alert (with both sources) and one NATO alert."""
    lead = (
        "Pemerintah Ukraina mengizinkan pasukan dari sejumlah negara sahabat mengikuti latihan "
        "gabungan di wilayah barat negara itu selama dua pekan, termasuk simulasi evakuasi warga "
        "sipil dan pengamanan jalur logistik kereta api menuju perbatasan."
    )
    a_url, b_url = "https://a.example/rss", "https://b.example/rss"
    ids = store.sync_feeds([FeedSpec(a_url, "A", 600), FeedSpec(b_url, "B", 600)], NOW, {})
    r = rules(("Ukraina", "Ukraina"), ("NATO", "NATO"))
    first = item(1, title="Ukraina izinkan latihan militer asing", summary=lead)
    second = item(
        2, title="NATO sambut latihan gabungan", summary=lead + " Juru bicara NATO menyambutnya."
    )
    with store.tx() as tx:
        s1 = ingest_items(tx, feed_id=ids[a_url], outlet="A", parsed=[first], rules=r, now=NOW)
    with store.tx() as tx:
        s2 = ingest_items(tx, feed_id=ids[b_url], outlet="B", parsed=[second], rules=r, now=NOW)
    assert s1.alerts_by_topic == {"Ukraina": 1} and s2.alerts_by_topic == {"NATO": 1}
    alerts = {a.topic: a for a in store.alerts_since(NOW - timedelta(days=1))}
    assert set(alerts) == {"Ukraina", "NATO"}
    assert alerts["Ukraina"].story_id == alerts["NATO"].story_id
    assert {s.outlet for s in alerts["Ukraina"].sources} == {"A", "B"}


def test_group_commit_shares_commits_between_queued_pollers_and_isolates_failures(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """SQLite: queued ingest writers share commits; a failing member loses only its own
    writes; a writer outside the group (a delivery mark) commits the group first, so what
    it wrote is durable when its block ends."""
    from sqlalchemy import event

    s = Store.open(f"sqlite:///{tmp_path / 'g.db'}", single_writer=SingleWriter())
    s.upgrade()
    fid = feed_id(s)
    commits: list[int] = []
    event.listen(s.engine, "commit", lambda conn: commits.append(1))
    gate = threading.Barrier(8)
    errors: list[BaseException] = []
    held: list[int] = []

    def writer(n: int) -> None:
        try:
            gate.wait(timeout=10)
            for k in range(10):
                try:
                    with s.tx(group=True) as tx:
                        tx.add_feed_stats(fid, polls=1)
                        if not held:  # the first member of all (one at a time in here)
                            # holds the lock until the others queue, so the group forms
                            # whatever the machine's load (it failed once at 81 commits)
                            held.append(n)
                            deadline = time.monotonic() + 10
                            while s.writers_queued() < 7 and time.monotonic() < deadline:
                                time.sleep(0.001)
                        if (n, k) == (3, 5):
                            raise RuntimeError("this poll fails")
                except RuntimeError:
                    pass
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert s.writers_queued() == 0
    assert s.writer.group is None  # the last member committed
    polls = {f.id: f.polls for f in s.feed_rows()}[fid]
    assert polls == 79  # 80 members, the failed one rolled back alone
    assert 0 < len(commits) < 80, len(commits)

    # a group left open while a writer queues is committed by that (plain) writer first
    def plain_writer() -> None:
        with s.tx() as tx:  # queued behind the member below
            tx.add_feed_stats(fid, failed=1)

    queued = threading.Thread(target=plain_writer)
    with s.tx(group=True) as tx:
        tx.add_feed_stats(fid, polls=1)
        queued.start()
        deadline = time.monotonic() + 10
        while s.writers_queued() == 0 and time.monotonic() < deadline:
            time.sleep(0.001)  # waiting on a condition: the writer has queued for the lock
        assert s.writers_queued() == 1
    queued.join(timeout=10)
    assert s.writer.group is None
    other = sa.create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with other.connect() as conn:
        row = conn.execute(sa.text("SELECT polls, polls_failed FROM feeds")).one()
    other.dispose()
    assert tuple(row) == (80, 1)
    s.close()


def test_new_stories_get_their_own_ids_back_in_order(store: Store) -> None:
    """Every id ``new_stories`` returns carries the title, times (in any zone) and size it
    was asked for, in the order asked, identical rows included. (A multi-row INSERT matched
    back by value was tried: 11-12 µs per story against 8 for one statement each.)"""
    from daemon.storage import sql as store_sql

    t0 = datetime(2026, 11, 27, 8, 0, 0, 123456, tzinfo=timezone.utc)
    wita = timezone(timedelta(hours=8))
    rows = [
        (f"Berita {i % 7}", t0, (t0 - timedelta(minutes=i % 5)).astimezone(wita), 1 + i % 3)
        for i in range(store_sql.ROWS_PER_INSERT + 37)
    ]
    rows.append(rows[0])  # an identical row: same values, a story of its own
    with store.tx() as tx:
        ids = tx.new_stories(rows)
    assert len(set(ids)) == len(rows)
    with store.engine.connect() as conn:
        got = {
            r.id: r
            for r in conn.execute(
                sa.text("SELECT id, title, first_seen_at, published_at, item_count FROM stories")
            )
        }
    for sid, (title, first, published, n) in zip(ids, rows, strict=True):
        r = got[sid]
        assert (r.title, r.item_count) == (title, n)
        assert store_sql.from_db(r.first_seen_at) == first
        assert store_sql.from_db(r.published_at) == published


def test_padded_key_lists_have_few_lengths_and_stay_within_the_chunk() -> None:
    """Every list of 1 to ``most`` keys is padded to one of a few lengths (so a lookup's
    statement text repeats and its prepared statement is kept), never past ``most``
    (SQLite allows 500 terms in a compound SELECT), and keeps its keys first."""
    from daemon.storage.sql import padded  # noqa: PLC0415

    for most in (400, 500):
        lengths = set()
        for n in range(1, most + 1):
            keys = list(range(n))
            out = padded(keys, most)
            assert out[:n] == keys and set(out[n:]) <= {None}
            assert n <= len(out) <= most
            lengths.add(len(out))
        assert len(lengths) <= 19


def test_padding_matches_no_row(store: Store) -> None:
    """NULL, the padding, matches nothing in ``IN`` (SQLite and PostgreSQL alike)."""
    from daemon.storage.sql import padded  # noqa: PLC0415

    with store.tx() as tx:
        ids = tx.new_stories([("Satu", NOW, NOW, 1), ("Dua", NOW, NOW, 1)])
        chunk = padded([ids[0]], 500) + [None]
        marks = ", ".join("?" * len(chunk))
        rows = tx._fetch(f"SELECT id FROM stories WHERE id IN ({marks})", chunk)
    assert [r[0] for r in rows] == [ids[0]]
