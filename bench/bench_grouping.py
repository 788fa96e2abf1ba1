"""The main process's CPU per new item as the database grows, on either farm, without HTTP.

    .venv/bin/python bench/bench_grouping.py --farm templated --feeds 300
    .venv/bin/python bench/bench_grouping.py --farm templated --feeds 1000 --buckets 10
    .venv/bin/python bench/bench_grouping.py --farm real-outlet     # the real 2025 articles

Renders the farm's feeds in this process (bench/farm.py, or the templated farm of
``common.TEMPLATED_FARM``), parses them all first (not measured), then ingests them feed by
feed into a fresh SQLite store as ``pantau run --once`` does (one write transaction per
poll, the store's only writer), timing each ingest with this thread's CPU clock. Reports the
CPU per new item for each stretch of the run: if grouping costs more as the database holds
more alike items, the later stretches show it (issue 29). CPU time, not wall: the machine is
shared. What is left out is fetching and parsing, and the group commit. The parse workers'
part of the pipeline (``prepare_item``: cleaning, fingerprint, signature, topic match) is
timed apart ("workers"), and what they ship is pickled and unpickled as they ship it: the
"main" column is the main process's share, which bounds a first cycle.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import pickle
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import TEMPLATED_FARM, machine_line, table  # noqa: E402

from daemon.feeds.parse import ParsedItem, parse_feed  # noqa: E402
from daemon.pipeline.ingest import apply, plan, read_state  # noqa: E402
from daemon.pipeline.prepare import prepare_item  # noqa: E402
from daemon.storage.feeds import FeedSpec  # noqa: E402
from daemon.storage.store import Store  # noqa: E402
from daemon.storage.writer import SingleWriter  # noqa: E402
from tests.test_store import rules  # noqa: E402


def bodies(kind: str, feeds: int, items: int) -> list[bytes]:
    if kind == "templated":
        spec = importlib.util.spec_from_file_location("feedfarm", TEMPLATED_FARM)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        farm = mod.Farm(feeds, items, 0)
        farm.build()
        return [s.body for s in farm.feeds]
    import farm as plain

    f = plain.Farm(feeds, items)
    return [s.body for s in f.feeds]


def real_polls(by: str, pack: float = 0) -> tuple[list[tuple[str, list[ParsedItem]]], datetime]:
    """The real 2025 articles (``eval_stories.REAL``: title and the first 300 characters, as
    eval_stories reads them), one poll per outlet (``by="outlet"``: one cycle over feeds
    that hold all of them, as issue 29 counted) or per outlet and day in date order
    (``by="day"``: a daemon that polled them as they came)."""
    from eval_stories import load_real

    rows = sorted(load_real(False), key=lambda r: (r.doc.published_at, r.id))
    t0 = rows[0].doc.published_at
    polls: dict[str, list[ParsedItem]] = {}
    for k, r in enumerate(rows):
        d = r.doc
        if pack:  # the year's articles in ``pack`` hours, in their order: news as dense as
            # a newsroom's 300 feeds bring it, in real text
            d = dataclasses.replace(d, published_at=t0 + timedelta(hours=pack) * k / len(rows))
        key = r.outlet if by == "outlet" else f"{d.published_at:%Y-%m-%d} {r.outlet}"
        polls.setdefault(key, []).append(
            ParsedItem(
                identity=f"guid:{d.url}",
                guid=d.url,
                url=d.url,
                title=d.title,
                summary=d.summary,
                content="",
                title_html="",
                summary_html="",
                author="",
                published_at=d.published_at,
                published_raw=None,
                has_date=True,
                outlet="",
            )  # fmt: skip
        )
    out = [(f"http://127.0.0.1/real/{k.replace(' ', '/')}.xml", v) for k, v in polls.items()]
    return out, t0 + timedelta(hours=pack) if pack else rows[-1].doc.published_at + timedelta(
        days=1
    )


def band_key_counts(db: Path) -> list[int]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT count(*) FROM story_bands GROUP BY band").fetchall()
    con.close()
    return sorted((n for (n,) in rows), reverse=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--farm", choices=("plain", "templated", "real-outlet", "real-day"), default="templated",
        help="real-*: ../shared/corpus/news-2025.csv, one poll per outlet or per outlet-day",
    )  # fmt: skip
    p.add_argument("--feeds", type=int, default=300)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--pack", type=float, default=0, help="real-*: the articles in this many hours")
    p.add_argument("--buckets", type=int, default=5, help="stretches of the run reported")
    p.add_argument("--policy", choices=("one_shot", "daemon"), default="one_shot")
    args = p.parse_args(argv)

    if args.farm.startswith("real"):
        polls, now = real_polls(args.farm.removeprefix("real-"), args.pack)
        urls, parsed = [u for u, _ in polls], [p for _, p in polls]
    else:
        now = datetime.now(timezone.utc)
        docs = bodies(args.farm, args.feeds, args.items)
        urls = [f"http://127.0.0.1/feed/{i}.xml" for i in range(len(docs))]
        parsed = [parse_feed(b, url=u, now=now).items for b, u in zip(docs, urls, strict=True)]
    work = Path(tempfile.mkdtemp(prefix="pantau-grouping-"))
    db = work / "g.db"
    store = Store.open(f"sqlite:///{db}", single_writer=getattr(SingleWriter, args.policy)())
    store.upgrade()
    ids = store.sync_feeds([FeedSpec(u, f"Media {i}", 600) for i, u in enumerate(urls)], now, {})
    rl = rules()
    per_poll: list[tuple[int, float, float]] = []  # (new items, CPU s: main, workers)
    new_total = stories = 0
    clock = time.thread_time
    wall0 = time.monotonic()
    for u, items in zip(urls, parsed, strict=True):
        with store.tx() as tx:  # as ``ingest.ingest_items``, the workers' part apart
            t0 = clock()
            existing, dead = read_state(tx, ids[u], items)
            t1 = clock()
            stored = frozenset(e.content_hash for e in existing.values())
            shipped = pickle.dumps(
                [prepare_item(p, rl.matcher, now, rl.max_age, stored) for p in items]
            )
            t2 = clock()
            prepared = pickle.loads(shipped)
            pl = plan(existing, dead, feed_id=ids[u], prepared=prepared, rules=rl, now=now)
            st = apply(tx, pl, outlet="x", rules=rl, now=now)
            t3 = clock()
        per_poll.append((st.new, (t1 - t0) + (t3 - t2), t2 - t1))
        new_total += st.new
        stories += st.new_stories
    wall = time.monotonic() - wall0
    store.close()

    rows = []
    size = len(per_poll) // args.buckets or 1
    seen = 0
    for k in range(0, len(per_poll), size):
        part = per_poll[k : k + size]
        n, cpu, work = (
            sum(x for x, _, _ in part),
            sum(c for _, c, _ in part),
            sum(w for *_, w in part),
        )
        rows.append([
            f"{seen:,}–{seen + n:,}", n, f"{cpu:.2f}", f"{1000 * cpu / max(n, 1):.3f}",
            f"{1000 * work / max(n, 1):.3f}",
        ])  # fmt: skip
        seen += n
    first, last = rows[0], rows[-1]
    counts = band_key_counts(db)
    hist = Counter(
        "1" if n == 1 else "2–8" if n <= 8 else "9–32" if n <= 32 else "33–64" if n <= 64
        else ">64" for n in counts
    )  # fmt: skip
    print(machine_line())
    what = (
        f"{len(urls)} polls"
        if args.farm.startswith("real")
        else f"{args.feeds} feeds × {args.items} items"
    )
    print(f"\n{args.farm} farm, {what}: {new_total} new items, "
          f"{stories} stories, {wall:.1f} s wall\n")  # fmt: skip
    total = sum(c for _, c, _ in per_poll), sum(w for *_, w in per_poll)
    print(table(
        ["items already stored", "new items", "main CPU s", "main ms per item", "workers ms per item"],
        rows,
    ))  # fmt: skip
    print(f"\nall: main {1000 * total[0] / max(new_total, 1):.3f} ms per new item, "
          f"workers {1000 * total[1] / max(new_total, 1):.3f}")  # fmt: skip
    print(f"\nlast/first stretch: {float(last[3]) / max(float(first[3]), 1e-9):.2f}×")
    print(f"story_bands: {sum(counts)} rows, {len(counts)} keys; largest: {counts[:8]}")
    print(
        "keys by rows: "
        + ", ".join(f"{k}: {hist[k]}" for k in ("1", "2–8", "9–32", "33–64", ">64"))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
