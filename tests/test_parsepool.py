"""Parse workers: the per-item work they take off the main process, and what they skip."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from daemon.pipeline import ingest
from daemon.pipeline.prepare import content_hash
from daemon.runtime import parsepool
from daemon.runtime.parsepool import INLINE_BELOW, WORKER_NICE, ParsePool
from daemon.storage.feeds import FeedSpec
from daemon.storage.store import Store
from daemon.topics.match import Matcher, TopicSpec
from tests.feedgen import entries, rss

URL = "https://outlet7.example/rss"


@pytest.fixture
def pool():  # type: ignore[no-untyped-def]
    p = ParsePool(1, topics=[("Pasar", "pasar")], timeout=60)
    yield p
    p.close()


def test_workers_skip_known_items_and_ingest_still_completes(
    pool: ParsePool, tmp_path: Path
) -> None:
    """A changed feed: the worker fingerprints and matches only items whose content hash is
    not among the feed's newest stored ones; ingest stores exactly the new items, with
    their features, and a new item that repeats a stored item's text (another guid) is
    fingerprinted by ingest itself and joins that item's story."""
    now = datetime.now(timezone.utc)
    first = entries(7, 40, start=5, now=now)
    body1 = rss("Outlet 7", first)
    assert len(body1) > INLINE_BELOW  # goes to the worker
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    store.upgrade()
    fid = store.sync_feeds([FeedSpec(URL, "Outlet 7", 600)], now, {})[URL]
    rules = ingest.Rules(
        matcher=Matcher.compile([TopicSpec("Pasar", "pasar")]),
        routes={"Pasar": ()},
        window=timedelta(hours=72),
        max_age=timedelta(hours=48),
    )

    def run(body: bytes) -> ingest.IngestStats:
        with store.read() as tx:
            known = tx.recent_hashes(fid)
        parsed = pool.parse(
            body, url=URL, headers={}, timezone="Asia/Jakarta", now=now, known=known,
            matcher=rules.matcher, max_age=rules.max_age,
        )  # fmt: skip
        assert parsed.feed.error is None
        with store.read() as tx:
            existing, dead = ingest.read_state(tx, fid, parsed.feed.items)
        pl = ingest.plan(existing, dead, feed_id=fid, prepared=parsed.items, rules=rules, now=now)
        run.parsed = parsed  # type: ignore[attr-defined]
        with store.tx() as tx:
            return ingest.apply(tx, pl, outlet="Outlet 7", rules=rules, now=now)

    st1 = run(body1)
    p1 = run.parsed  # type: ignore[attr-defined]
    assert st1.new == 40 and all(pi.fingerprint is not None for pi in p1.items)
    assert sum(bool(pi.matches) for pi in p1.items) > 0  # the topic matches some of them

    newer = entries(7, 5, start=0, now=now)
    twin = replace(first[10], guid="https://outlet7.example/berita/kembar", link=first[10].link)
    body2 = rss("Outlet 7", [*newer, twin, *first])
    st2 = run(body2)
    p2 = run.parsed  # type: ignore[attr-defined]
    skipped = [pi for pi in p2.items if pi.fingerprint is None]
    # the 40 stored items and the twin (same title, summary and link: same content hash)
    assert len(skipped) == 41
    assert all(not pi.matches and pi.features is None for pi in skipped)
    assert {pi.content_hash for pi in skipped} <= {content_hash(pi.item) for pi in p1.items}
    assert st2.new == 6 and st2.known == 40 and st2.updated == 0
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT guid, story_id, features FROM items WHERE feed_id = :f"), {"f": fid}
        ).all()
    assert len(rows) == 46 and all(r.features for r in rows)
    story = {r.guid: r.story_id for r in rows}
    assert story["https://outlet7.example/berita/kembar"] == story[first[10].guid]
    store.close()


def test_recent_hashes_are_the_feeds_newest(tmp_path: Path) -> None:
    from daemon.storage.items import RECENT_HASHES

    assert RECENT_HASHES >= 500  # a document holds up to max_items entries
    store = Store.open(f"sqlite:///{tmp_path / 'r.db'}")
    store.upgrade()
    now = datetime.now(timezone.utc)
    ids = store.sync_feeds([FeedSpec(URL, "A", 600), FeedSpec(URL + "2", "B", 600)], now, {})
    with store.engine.begin() as conn:
        for k in range(30):
            conn.execute(
                sa.text(
                    "INSERT INTO items (feed_id, identity, title, summary, published_at, "
                    "has_date, first_seen_at, content_hash) VALUES (:f, :i, 't', 's', :p, 1, :p, :h)"
                ),
                {
                    "f": ids[URL] if k % 3 else ids[URL + "2"],
                    "i": f"i{k}",
                    "p": "2026-11-27 00:00:00.000000",
                    "h": f"h{k}",
                },
            )
    with store.read() as tx:
        got = tx.recent_hashes(ids[URL], limit=5)
    assert got == {f"h{k}" for k in (29, 28, 26, 25, 23)}
    store.close()


RUNNER = """
from datetime import datetime, timedelta, timezone

from daemon.runtime.parsepool import INLINE_BELOW, ParsePool


def main() -> None:
    items = "".join(
        f"<item><title>Berita {i}</title><link>https://contoh.co.id/berita/{i}</link>"
        f"<description>{'Pemerintah Indonesia membahas anggaran daerah. ' * 12}</description>"
        f"<guid>https://contoh.co.id/berita/{i}</guid></item>"
        for i in range(60)
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Contoh</title>{items}</channel></rss>"
    ).encode()
    assert len(body) > INLINE_BELOW
    pool = ParsePool(workers=1, timeout=60)
    try:
        r = pool.parse(
            body, url="https://contoh.co.id/rss", headers={}, timezone="Asia/Jakarta",
            now=datetime.now(timezone.utc), matcher=None, max_age=timedelta(hours=48),
        )
    finally:
        pool.close()
    print(len(r.items), r.feed.error, all(pi.fingerprint is not None for pi in r.items))


if __name__ == "__main__":  # multiprocessing imports this file again in the worker
    main()
"""


def test_workers_use_the_daemons_own_code_not_a_daemon_package_in_the_cwd(
    tmp_path: Path,
) -> None:
    """Started from a directory that holds some other ``daemon/`` package, the parse
    workers still run pantau's parser (multiprocessing's forkserver puts the current
    directory first on its import path and would preload the stranger)."""
    import subprocess
    import sys

    cwd = tmp_path / "elsewhere"
    (cwd / "daemon").mkdir(parents=True)
    marker = tmp_path / "foreign-daemon-imported"
    (cwd / "daemon" / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8"
    )
    script = tmp_path / "runner" / "run.py"
    script.parent.mkdir()
    script.write_text(RUNNER, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["60", "None", "True"], out.stdout + out.stderr[-2000:]
    assert not marker.exists(), "a worker imported the daemon package of the current directory"


def test_what_workers_ship_survives_pickling_field_for_field() -> None:
    """ParsedItem, Fingerprint and TopicMatch pickle through their own __reduce__: every
    field (each set to a value of its own here) must come back equal, and a field added to
    one of them without its __reduce__ knowing fails this."""
    import dataclasses
    import pickle
    import random

    from daemon.feeds.parse import ParsedItem
    from daemon.grouping.stories import Doc, Fingerprint, fingerprint
    from daemon.topics.match import TopicMatch

    def distinct(cls):  # type: ignore[no-untyped-def]
        values: dict[str, object] = {}
        for k, f in enumerate(dataclasses.fields(cls)):
            if not f.init:  # a cache (Fingerprint's shingle set), rebuilt on arrival
                continue
            t = str(f.type)
            if "datetime" in t:
                values[f.name] = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(hours=k)
            elif t == "bool":
                values[f.name] = True
            elif "tuple[int" in t:
                values[f.name] = (k, -(2**63), 2**63 - 1)
            elif "tuple[str" in t:
                values[f.name] = (f"t{k}", "é")
            elif "frozenset" in t:
                values[f.name] = frozenset({f"s{k}", "x"})
            elif "bytes" in t:
                values[f.name] = bytes([k, 1, 2, 3])
            else:
                values[f.name] = f"v{k}-ü"
        return cls(**values)

    for obj in (distinct(ParsedItem), distinct(Fingerprint), distinct(TopicMatch)):
        back = pickle.loads(pickle.dumps(obj))
        assert type(back) is type(obj) and back == obj
        assert all(
            getattr(back, f.name) == getattr(obj, f.name)
            for f in dataclasses.fields(obj)
            if f.compare
        )
    from daemon.pipeline.prepare import prepare_item

    prepared = prepare_item(distinct(ParsedItem), None, datetime.now(timezone.utc), timedelta(0))
    assert prepared.complete and pickle.loads(pickle.dumps(prepared)) == prepared
    r = random.Random(2)
    now = datetime(2026, 11, 27, tzinfo=timezone.utc)
    for n in range(50):
        words = " ".join(
            r.choice(["naik", "Rp1.500", "12/6", "Senin", "harga", "beras"]) for _ in range(30)
        )
        fp = fingerprint(
            Doc(title="t", summary=words, url=f"https://x.example/{n}", published_at=now)
        )
        back = pickle.loads(pickle.dumps(fp))
        assert back == fp and isinstance(back.bands, tuple) and back.shingles == fp.shingles
        assert isinstance(back.dates, frozenset) and isinstance(back.figures, frozenset)
    assert isinstance(pickle.loads(pickle.dumps(Fingerprint((), False))).dates, frozenset)


def test_the_early_forkserver_is_the_one_the_pool_forks_from() -> None:
    """``pantau run`` starts the forkserver before its own imports (daemon.runtime.workers); the
    pool must then fork its workers from that server, not start another."""
    from multiprocessing import forkserver

    from daemon.runtime import workers

    workers.start_early()
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert server is not None
    p = ParsePool(workers=1, timeout=60)
    try:
        now = datetime.now(timezone.utc)
        body = rss("Outlet 3", entries(3, 60, now=now))
        assert len(body) >= INLINE_BELOW  # big enough to go to a worker
        feed = p.parse(
            body, url=URL, headers={}, timezone="Asia/Jakarta", now=now, matcher=None,
            max_age=timedelta(hours=48),
        )  # fmt: skip
        assert feed.feed.error is None and len(feed.items) == 60 and feed.items[0].complete
    finally:
        p.close()
    assert forkserver._forkserver._forkserver_pid == server  # type: ignore[attr-defined]


_WARM_CLOSE_EXIT = """
import atexit, os, sys, time
from daemon.runtime.parsepool import ParsePool
p = ParsePool(2, timeout=30)
p.warm()
time.sleep(float(sys.argv[1]))
p.close()
atexit._run_exitfuncs()  # what cli.entry does before os._exit
os._exit(0)
"""


def test_a_run_that_warmed_its_workers_exits_after_closing_them() -> None:
    """Warm the workers, close the pool, run the exit handlers as ``pantau`` does: the
    process must exit. (Before ParsePool.close waited for its workers, 14 of 20 such runs
    hung for good in multiprocessing's exit handler, joining workers that never got their
    stop sentinel.)"""
    for delay in ("0", "0.05", "0.2", "0.5", "0", "0.2"):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WARM_CLOSE_EXIT, delay],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the workers too
            proc.wait()
            pytest.fail(f"hung at exit after warm/close (delay {delay} s)")
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]


_WARM_AND_WAIT = """
import sys, time
from daemon.runtime.parsepool import ParsePool, ping
p = ParsePool(2, timeout=30)
p.warm()
p.submit(ping).result(30)
print("READY", flush=True)
time.sleep(600)
"""


def _descendants(pid: int) -> set[int]:
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    kids = {int(x) for x in fh.read().split()}
                todo.extend(kids - out)
                out |= kids
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_and_forkserver_end_when_the_daemon_is_killed() -> None:
    """``kill -9`` of the process that owns the pool (the OOM killer, an operator) must not
    leave its parse workers and forkserver running: they held ~43 MB each time, for good."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _WARM_AND_WAIT],
        start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    left: set[int] = set()
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        deadline = time.monotonic() + 30
        while len(_descendants(proc.pid)) < 4 and time.monotonic() < deadline:  # server,
            time.sleep(0.05)  # resource tracker, two workers
        family = _descendants(proc.pid)
        assert len(family) >= 4, f"expected forkserver, tracker and two workers: {family}"
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 20
        while (left := {p for p in family if _alive(p)}) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left, f"still running 20 s after the owner was killed: {sorted(left)}"
    finally:
        for p in left | _descendants(proc.pid):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_workers_run_nicer_than_the_daemon(pool: ParsePool) -> None:
    """The daemon's threads must win a core from a parsing worker (daemon.runtime.parsepool's
    ``yield_cpu``): a worker's niceness is the daemon's plus WORKER_NICE, capped at 19."""
    ours = os.nice(0)
    theirs = pool.submit(os.nice, 0).result(timeout=60)
    assert theirs == min(19, ours + WORKER_NICE)
    assert os.nice(0) == ours  # the daemon itself is left as it was


def test_a_worker_that_may_not_renice_carries_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a seccomp filter that blocks setpriority (a unit with ``~@resources`` and no
    exception for it) ``nice()`` fails with EPERM: the worker must carry on at the
    daemon's priority, not die in its initializer (which would break the pool)."""
    calls: list[int] = []

    def refused(increment: int) -> int:
        calls.append(increment)
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(parsepool.os, "nice", refused)
    parsepool.yield_cpu()  # must not raise
    assert calls == [WORKER_NICE]  # it did try


_FORKSERVER_MASK = """
import signal
from multiprocessing import forkserver
from daemon.runtime import workers
workers.start_early()
pid = forkserver._forkserver._forkserver_pid
status = open(f"/proc/{pid}/status").read()
blocked = int(next(ln for ln in status.splitlines() if ln.startswith("SigBlk")).split()[1], 16)
print(all(blocked & (1 << (s - 1)) for s in (signal.SIGINT, signal.SIGTERM)))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_forkserver_starts_with_the_stop_signals_blocked() -> None:
    """CPython's resource tracker start unblocks SIGINT/SIGTERM in the starting thread; the
    forkserver spawned after it must still be blocked, or a Ctrl-C during start-up kills it
    in its imports with a traceback (seen in tests/test_stop.py's startup case)."""
    out = subprocess.run(
        [sys.executable, "-c", _FORKSERVER_MASK], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert out.stdout.strip() == "True", out.stderr


def test_workers_are_forked_with_the_pipeline_already_imported() -> None:
    """The forkserver imports what the workers run (``workers.PRELOAD``), once, and every
    worker is forked with it: parsing, grouping and matching code imported after the fork
    would cost each worker its imports and its own copy of them. (The parse pool imports
    the pipeline only where it parses, so that a cycle of 304s imports none of it: the
    forkserver has to be told.)"""
    from daemon.runtime import workers

    workers.start_early()
    p = ParsePool(workers=1, timeout=60)
    try:
        probe = "[m for m in ('daemon.pipeline.prepare', 'daemon.grouping.events') if m not in __import__('sys').modules]"
        missing = p._executor().submit(eval, probe).result(timeout=60)  # the worker's first task
    finally:
        p.close()
    assert missing == []


def _parse_in_worker(stand_in: str, deadline: float) -> tuple[str | None, int]:
    """Run in a parse worker: ``parse_prepared`` with the parser replaced by ``stand_in``;
    the feed's error and how many items came out."""
    from daemon.pipeline import prepare

    real = prepare.parse_and_prepare

    def burn(*args: object, **kwargs: object) -> object:
        while True:  # a document that keeps the parser busy past any deadline
            pass

    def starve(*args: object, **kwargs: object) -> object:
        # Three deadlines of wall time without a CPU cycle, as a worker at nice 10 spends
        # them on a machine whose cores are busy with other work, then the real parse.
        time.sleep(3 * deadline)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    prepare.parse_and_prepare = {"burn": burn, "starve": starve}[stand_in]  # type: ignore[assignment]
    try:
        out = parsepool.parse_prepared(
            rss("Kabar", entries(7, 3)), url=URL, headers={}, timezone="Asia/Jakarta",
            now=datetime.now(timezone.utc), deadline=deadline,
        )  # fmt: skip
    finally:
        prepare.parse_and_prepare = real
    return out.feed.error, len(out.items)


def test_a_document_that_keeps_the_parser_busy_is_cut_at_the_deadline(pool: ParsePool) -> None:
    error, n = pool.submit(_parse_in_worker, "burn", 0.3).result(timeout=60)
    assert error == "parse took longer than 0.3 s (the feed's timeout)" and n == 0


def test_the_deadline_counts_the_parsers_cpu_not_the_wait_for_a_core(pool: ParsePool) -> None:
    """The workers run at nice 10: on a machine busy with other work, a document that needs
    little CPU can wait longer than ``polling.timeout`` for it. Cut by the wall clock, such a
    feed failed at every busy poll (under a loaded test run, the hostile-input test's honest
    2 MB feed did); the deadline bounds what a document costs, which is CPU."""
    error, n = pool.submit(_parse_in_worker, "starve", 0.3).result(timeout=60)
    assert error is None and n == 3
