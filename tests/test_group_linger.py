"""``run --once``'s group commit lingers (``SingleWriter.linger``): with no writer queued, a
young group stays open for the polls still in flight, and is committed by a timer, by
``Store.flush`` or when the store closes; the daemon's commits at once as before."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from daemon.storage.store import Store
from daemon.storage.writer import GROUP_LINGER, SingleWriter


def _store(tmp_path: Path, writer: SingleWriter) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}", single_writer=writer)
    store.upgrade()
    return store


def _write(store: Store, key: int) -> None:
    """One poll's ingest, as ``poll_feed`` writes it: a member of the group."""
    with store.tx(group=True) as tx:
        tx.conn.execute(sa.text("INSERT INTO term_df (key, n, seen) VALUES (:k, 1, 0)"), {"k": key})


def _visible(store: Store) -> set[int]:
    """What another connection (the dispatcher, `pantau alerts`) sees: committed rows."""
    with store.engine.connect() as conn:
        return {r[0] for r in conn.execute(sa.text("SELECT key FROM term_df"))}


def test_one_shot_lingers_half_a_second() -> None:
    assert SingleWriter.one_shot().linger == GROUP_LINGER == 0.5
    assert SingleWriter.daemon().linger == 0.0


def test_a_lingering_group_takes_the_next_poll_and_flush_commits_it(tmp_path: Path) -> None:
    store = _store(tmp_path, SingleWriter(linger=3600.0))
    try:
        _write(store, 1)  # nobody queued: the group stays open
        group = store.writer.group  # type: ignore[union-attr]
        assert group is not None and group.members == 1
        assert _visible(store) == set()
        _write(store, 2)
        assert store.writer.group is group and group.members == 2  # type: ignore[union-attr]
        store.flush()
        assert store.writer.group is None  # type: ignore[union-attr]
        assert _visible(store) == {1, 2}
    finally:
        store.close()


def test_a_lingering_group_is_committed_by_its_timer(tmp_path: Path) -> None:
    store = _store(tmp_path, SingleWriter(linger=0.05))
    try:
        _write(store, 7)
        deadline = time.monotonic() + 10
        while _visible(store) != {7}:  # the timer's commit, however slow the machine
            assert time.monotonic() < deadline, "the lingering group was never committed"
            threading.Event().wait(0.01)
        assert store.writer.group is None  # type: ignore[union-attr]
    finally:
        store.close()


def test_a_store_closing_commits_its_lingering_group(tmp_path: Path) -> None:
    store = _store(tmp_path, SingleWriter(linger=3600.0))
    _write(store, 3)
    store.close()
    again = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        assert _visible(again) == {3}
    finally:
        again.close()


def test_without_linger_a_poll_is_committed_when_nobody_queues(tmp_path: Path) -> None:
    store = _store(tmp_path, SingleWriter.daemon())
    try:
        _write(store, 4)
        assert store.writer.group is None  # type: ignore[union-attr]
        assert _visible(store) == {4}
    finally:
        store.close()


def test_a_cycle_leaves_nothing_lingering(tmp_path: Path, server) -> None:  # type: ignore[no-untyped-def]
    """``poll_all`` (``run --once``) commits its last group before it returns: the alerts
    are there for the dispatcher, `pantau alerts` and the dashboard, whatever reads them."""
    from daemon.config import parse_config
    from daemon.runtime.service import build_runtime, poll_all, sync_feeds
    from tests.test_dispatch import ukraine_feed

    url = server.static("/ukr.xml", ukraine_feed(3))
    loaded = parse_config(
        f"database: sqlite:///{tmp_path / 'p.db'}\n"
        f"feeds: [{{url: '{url}', name: Outlet}}]\n"
        "topics: [{name: Ukraina, query: Ukraina, notify: []}]\n",
        env={},
    )
    store = Store.open(loaded.config.database, single_writer=SingleWriter(linger=3600.0))
    store.upgrade()
    try:
        rt = build_runtime(loaded, store, threading.Event())
        sync_feeds(store, rt)
        (out,) = poll_all(store, rt)
        assert len(out.stats.alerts) == 3
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar() == 3
    finally:
        store.close()
