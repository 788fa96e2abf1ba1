"""Dashboard page times at 100,000 items (issue 27: each page <= 200 ms).

    .venv/bin/python bench/bench_web.py [--items 100000] [--db /tmp/pantau-web-bench.db]
                                        [--repeat 7] [--keep]

Builds (once; reused when the file exists with that many items) a SQLite database through
the real schema and migrations: 200 feeds, ``--items`` items over the last 30 days in
Indonesian-like words, a quarter of them copies grouped into multi-outlet stories, an alert
for 5 % of stories over 8 topics with one or two deliveries each. Then serves it with the
real ``WebServer`` (waitress, 4 threads) and times each page over HTTP from this process
(``requests``, keep-alive): the median and the worst of ``--repeat`` loads after one warm-up
load (the topic page's first load starts the 30-day match count in the background; the
warm-up waits for it to finish).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # daemon, bench, tests

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from daemon.config import parse_config  # noqa: E402
from daemon.storage.schema import alerts, deliveries, feeds, items, stories  # noqa: E402
from daemon.storage.store import Store  # noqa: E402
from daemon.web.server import WebServer  # noqa: E402

TOPICS = [
    ("Banjir", 'banjir OR "air pasang" OR rob'),
    ("Gempa", "gempa~ OR tsunami"),
    ("KPK", "KPK OR korupsi"),
    ("Ekonomi", '"suku bunga" OR inflasi OR rupiah'),
    ("Pemilu", "pemilu OR pilkada OR KPU"),
    ("Ukraina", "Ukraina OR Kyiv OR Zelensky*"),
    ("Harga Emas", '"harga emas" OR title:Antam'),
    ("Jakarta", "title:Jakarta NEAR/5 macet"),
]
WORDS = (
    "banjir rob gempa tsunami korupsi inflasi rupiah pemilu pilkada Jakarta macet harga emas "
    "Antam pasar warga pemerintah menteri presiden kota desa jalan sekolah rumah sakit polisi "
    "kebakaran hutan laut kapal nelayan petani beras cabai minyak listrik kereta bandara "
    "pesawat mudik libur sidang hakim jaksa tersangka saksi bupati gubernur DPR partai "
    "dukungan bantuan pengungsi relawan cuaca hujan angin kemarau air bersih sampah"
).split()
FILLER = [f"{a}{b}" for a in ("ka", "ma", "ta", "la", "sa", "pa", "ra", "ba") for b in
          ("rung", "lang", "tik", "wan", "sih", "dar", "nim", "pur", "jaya", "kota")]  # fmt: skip


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) if rng.random() < 0.3 else rng.choice(FILLER)
                    for _ in range(n))  # fmt: skip


def build(url: str, n_items: int, seed: int = 27) -> None:
    rng = random.Random(seed)
    store = Store.open(url)
    store.upgrade()
    store.close()
    engine = sa.create_engine(url)
    now = datetime.now(timezone.utc)
    with engine.begin() as c:
        c.execute(sa.insert(feeds), [
            {"url": f"https://outlet{i}.example/rss", "name": f"Outlet {i}",
             "added_at": now - timedelta(days=60), "last_polled_at": now,
             "last_status": 200 if i % 17 else 503,
             "last_error": None if i % 17 else "HTTP 503: Service Unavailable",
             "last_ok_at": now, "next_poll_at": now + timedelta(minutes=10), "health": "ok",
             "item_count": 0}
            for i in range(200)
        ])  # fmt: skip
        span = 30 * 86400
        n_stories = int(n_items * 0.75)
        story_rows, item_rows = [], []
        t = [now - timedelta(seconds=span * (1 - k / n_stories)) for k in range(n_stories)]
        for sid in range(1, n_stories + 1):
            title = _text(rng, 9).capitalize()
            story_rows.append({"id": sid, "title": title, "first_seen_at": t[sid - 1],
                               "published_at": t[sid - 1], "item_count": 1})  # fmt: skip
        copies = n_items - n_stories
        owner = list(range(1, n_stories + 1))
        extra: dict[int, int] = {}
        for _ in range(copies):
            sid = rng.choice(owner[-n_stories // 3 :]) if rng.random() < 0.5 else rng.choice(owner)
            extra[sid] = extra.get(sid, 0) + 1
        iid = 0
        for sid in range(1, n_stories + 1):
            base = story_rows[sid - 1]
            for k in range(1 + extra.get(sid, 0)):
                iid += 1
                pub = base["first_seen_at"] + timedelta(minutes=k * rng.randint(3, 90))
                item_rows.append({
                    "id": iid, "feed_id": rng.randint(1, 200), "identity": f"i{iid}",
                    "guid": f"i{iid}", "url": f"https://outlet.example/a/{iid}",
                    "title": base["title"] if k == 0 else _text(rng, 9).capitalize(),
                    "summary": _text(rng, 40), "published_at": pub, "has_date": True,
                    "first_seen_at": pub, "content_hash": f"{iid:032d}", "story_id": sid,
                })  # fmt: skip
            base["item_count"] = 1 + extra.get(sid, 0)
        item_rows.sort(key=lambda r: r["first_seen_at"])
        for new_id, r in enumerate(item_rows, 1):
            r["id"] = new_id
        for i in range(0, len(story_rows), 5000):
            c.execute(sa.insert(stories), story_rows[i : i + 5000])
        for i in range(0, len(item_rows), 5000):
            c.execute(sa.insert(items), item_rows[i : i + 5000])
        alert_rows, n = [], 0
        for sid in rng.sample(range(1, n_stories + 1), n_stories // 20):
            s = story_rows[sid - 1]
            n += 1
            alert_rows.append({
                "id": n, "topic": rng.choice(TOPICS)[0], "story_id": sid, "title": s["title"],
                "url": f"https://outlet.example/s/{sid}", "outlet": "Outlet 1",
                "published_at": s["published_at"], "matched": json.dumps(["banjir"]),
                "snippet": _text(rng, 25), "created_at": s["first_seen_at"] + timedelta(minutes=1),
            })  # fmt: skip
        c.execute(sa.insert(alerts), alert_rows)
        dl = []
        for a in alert_rows:
            dl.append({"alert_id": a["id"], "notifier": "desk", "status": "sent", "attempts": 1,
                       "next_attempt_at": now, "created_at": now, "sent_at": now,
                       "last_error": None})  # fmt: skip
            if a["id"] % 3 == 0:
                dl.append({"alert_id": a["id"], "notifier": "mail", "status": "failed",
                           "attempts": 7, "next_attempt_at": now, "created_at": now,
                           "sent_at": None, "last_error": "SMTP 451 try later"})  # fmt: skip
        c.execute(sa.insert(deliveries), dl)
        c.execute(sa.update(feeds).values(item_count=sa.select(sa.func.count()).where(
            items.c.feed_id == feeds.c.id).scalar_subquery()))  # fmt: skip
    engine.dispose()


def config_text(url: str) -> str:
    lines = [f"database: {json.dumps(url)}", "feeds: [{url: 'https://outlet0.example/rss'}]",
             "topics:"]  # fmt: skip
    lines += [f"  - {{name: {json.dumps(n)}, query: {json.dumps(q)}}}" for n, q in TOPICS]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--db", default="/tmp/pantau-web-bench.db")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="reuse the database file if present")
    ap.add_argument(
        "--memory",
        type=int,
        metavar="REPS",
        default=0,
        help="also: RSS of `pantau run` with and without web.listen, REPS pairs",
    )
    args = ap.parse_args()
    url = f"sqlite:///{args.db}"
    path = Path(args.db)
    if not (args.keep and path.exists()):
        for p in (path, Path(f"{args.db}-wal"), Path(f"{args.db}-shm")):
            p.unlink(missing_ok=True)
        t = time.monotonic()
        build(url, args.items)
        print(
            f"built {args.items} items in {time.monotonic() - t:.1f} s ({path.stat().st_size >> 20} MiB)"
        )
    cfg = parse_config(config_text(url), env={}, path="<bench>").config
    with WebServer("127.0.0.1:0", url, lambda: cfg) as srv:
        base = srv.url.rstrip("/")
        s = requests.Session()
        r = s.get(base + "/", timeout=60)
        story = int(r.text.split('href="/story/')[1].split('"')[0])
        pages = [
            ("stories, page 1", "/"),
            ("stories, page 100", "/stories?page=99"),
            ("stories, 2+ outlets", "/stories?multi=1"),
            ("story", f"/story/{story}"),
            ("alerts, 7 days", "/alerts"),
            ("alerts, one topic, 30 days", "/alerts?topic=Gempa&since=30d"),
            ("topics, 7 days hourly", "/topics"),
            ("topics, 30 days daily", "/topics?range=30d"),
            ("feeds (200)", "/feeds"),
            ("search: common word", "/search?q=banjir"),
            ("search: phrase", '/search?q="harga emas"'),
            ("search: rare (budget)", "/search?q=tidakada OR zzyzx"),
            ("search: query error", "/search?q=a AND b OR c"),
        ]
        t = time.monotonic()
        while "Still counting" in s.get(base + "/topics", timeout=120).text:
            time.sleep(0.5)
        print(f"topic counts over 30 days ready in {time.monotonic() - t:.1f} s")
        print("\n| page | median ms | worst ms | bytes |\n|---|---:|---:|---:|")
        for name, p in pages:
            s.get(base + p, timeout=60)
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                r = s.get(base + p, timeout=60)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (p, r.status_code)
            print(
                f"| {name} | {statistics.median(times):.0f} | {max(times):.0f} | {len(r.content)} |"
            )
    if args.memory:
        memory(path, args.memory)
    return 0


def memory(db: Path, reps: int) -> None:
    """Main-process VmRSS and PSS of `pantau run` over a copy of the database, polling the
    demo's 8 loopback feeds, 30 s after start; with web.listen, after every page was also
    loaded three times and the topic counts finished. Runs alternate; medians reported."""
    import shutil
    import signal
    import subprocess
    import tempfile

    from bench.common import pss_kb, rss_kb
    from daemon.demo.server import OUTLETS, render_all, serve
    from tests.smtpstub import free_port

    labels = ("without web", "with web, every page loaded")
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in labels}
    feeds_block = "feeds: [{url: 'https://outlet0.example/rss'}]"
    with serve(render_all(datetime.now(timezone.utc))) as farm, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        feeds = "feeds:\n" + "\n".join(
            f"  - {{url: '{farm.url(o.path)}', name: {o.name}}}" for o in OUTLETS
        )
        for _ in range(reps):
            for label in labels:
                copy = Path(tmp) / "m.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{copy}{suffix}").unlink(missing_ok=True)
                shutil.copy(db, copy)
                port = free_port()
                text = config_text(f"sqlite:///{copy}").replace(feeds_block, feeds)
                if label != labels[0]:
                    text += f"web: {{listen: '127.0.0.1:{port}'}}\n"
                cfg = Path(tmp) / "c.yaml"
                cfg.write_text(text)
                proc = subprocess.Popen(
                    [sys.executable, "-m", "daemon", "--config", str(cfg), "--log-level",
                     "warning", "run"], cwd=Path(__file__).resolve().parent.parent,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                try:
                    time.sleep(15)
                    if label != labels[0]:
                        base = f"http://127.0.0.1:{port}"
                        deadline = time.monotonic() + 300
                        while (
                            time.monotonic() < deadline
                            and "Still counting" in requests.get(base + "/topics", timeout=60).text
                        ):
                            time.sleep(1)
                        for _ in range(3):
                            for p in ("/", "/stories?page=50", "/alerts", "/alerts?since=30d",
                                      "/topics", "/topics?range=30d", "/feeds",
                                      "/search?q=banjir", "/story/1"):  # fmt: skip
                                requests.get(base + p, timeout=60)
                    time.sleep(15)
                    results[label].append((rss_kb(proc.pid) / 1024, pss_kb(proc.pid) / 1024))
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    print("\n| `pantau run` main process | VmRSS MB (median) | PSS MB (median) | runs |")
    print("|---|---:|---:|---:|")
    for label, vals in results.items():
        rss = statistics.median(v[0] for v in vals)
        pss = statistics.median(v[1] for v in vals)
        print(f"| {label} | {rss:.1f} | {pss:.1f} | {len(vals)} |")


if __name__ == "__main__":
    sys.exit(main())
