"""Cost of assigning one new item to a story with N items already in a SQLite file.

    .venv/bin/python bench/bench_stories.py 10000 100000 1000000 [--new 1000] [--dir DIR]

For each N: builds (once, cached in --dir) a SQLite file holding N synthetic items and their
band rows in the table layout the store uses (story_bands(band, item_id, story_id,
published_at) indexed on (band, published_at)), arriving at 10,000 items a day. Then, in a
fresh process, assigns --new items (half of them copies of recent items, half new) and reports
ms per item for fingerprint + choose_story (the part inside the store transaction) and for
the band-row insert, and the peak RSS of that process.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.grouping.stories import Candidate, Doc, choose_story, fingerprint  # noqa: E402

WINDOW = timedelta(hours=72)
PER_DAY = 10_000
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
SCHEMA = """
CREATE TABLE items (id INTEGER PRIMARY KEY, story_id INTEGER NOT NULL, title TEXT NOT NULL,
    summary TEXT NOT NULL, content TEXT NOT NULL, url TEXT, published_at INTEGER NOT NULL);
CREATE TABLE story_bands (band INTEGER NOT NULL, item_id INTEGER NOT NULL,
    story_id INTEGER NOT NULL, published_at INTEGER NOT NULL);
"""
INDEX = "CREATE INDEX ix_story_bands ON story_bands (band, published_at)"


class SqliteSource:
    """CandidateSource over story_bands: one indexed query for the bands, one for the docs."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def candidates(
        self, bands: Sequence[int], since: datetime, until: datetime, limit: int
    ) -> list[Candidate]:
        marks = ",".join("?" * len(bands))
        rows = self.db.execute(
            f"SELECT item_id, story_id, count(*) AS n FROM story_bands WHERE band IN ({marks})"
            " AND published_at BETWEEN ? AND ? GROUP BY item_id ORDER BY n DESC, item_id"
            " LIMIT ?",
            [*bands, int(since.timestamp()), int(until.timestamp()), limit],
        ).fetchall()
        if not rows:
            return []
        ids = [r[0] for r in rows]
        docs = {
            r[0]: Doc(
                title=r[1],
                summary=r[2],
                content=r[3],
                url=r[4],
                published_at=datetime.fromtimestamp(r[5], timezone.utc),
            )
            for r in self.db.execute(
                "SELECT id, title, summary, content, url, published_at FROM items"
                f" WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            )
        }
        return [Candidate(i, s, docs[i]) for i, s, _ in rows]


# --- synthetic news ------------------------------------------------------------------------


def vocabulary(rng: random.Random, n: int = 20_000) -> tuple[list[str], list[float]]:
    syl = ["ba", "ka", "ra", "ta", "ma", "na", "pa", "sa", "la", "ga", "da", "ja", "ha",
           "be", "ke", "me", "ne", "pe", "se", "te", "bi", "ki", "mi", "ni", "pi", "si", "ti",
           "bu", "ku", "mu", "nu", "pu", "su", "tu", "ng", "an", "in", "un", "kan", "nya"]  # fmt: skip
    words = sorted({"".join(rng.choices(syl, k=rng.randint(2, 4))) for _ in range(n)})
    cum, total = [], 0.0
    for rank in range(len(words)):
        total += 1.0 / (rank + 1)  # Zipf: common words make common shingles collide
        cum.append(total)
    return words, cum


def synthetic(rng: random.Random, vocab: tuple[list[str], list[float]], i: int) -> Doc:
    words, cum = vocab
    body = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(35, 55)))
    return Doc(
        title=" ".join(rng.choices(words, cum_weights=cum, k=8)),
        summary=f"Jakarta (ANTARA) - {body}. Harga naik Rp{rng.randint(1, 999)}.000 per gram.",
        url=f"https://example.org/{i}",
        published_at=START + timedelta(seconds=i * 86_400 / PER_DAY),
    )


def generate(n: int, seed: int) -> Iterator[tuple[int, Doc]]:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    for i in range(1, n + 1):
        yield i, synthetic(rng, vocab, i)


def build(path: Path, n: int) -> None:
    tmp = path.with_suffix(".part")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
    t = time.perf_counter()
    items, bands = [], []
    for i, d in generate(n, seed=1):
        fp = fingerprint(d)
        ts = int(d.published_at.timestamp())
        items.append((i, i, d.title, d.summary, "", d.url, ts))
        bands += [(b, i, i, ts) for b in fp.bands]
        if len(items) >= 50_000:
            db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?,?)", items)
            db.executemany("INSERT INTO story_bands VALUES (?,?,?,?)", bands)
            db.commit()
            items, bands = [], []
    db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?,?)", items)
    db.executemany("INSERT INTO story_bands VALUES (?,?,?,?)", bands)
    db.execute(INDEX)
    db.commit()
    db.execute("ANALYZE")
    db.close()
    tmp.rename(path)
    print(f"  built {path.name}: {n} items in {time.perf_counter() - t:.0f} s, "
          f"{path.stat().st_size / 2**20:.0f} MiB", flush=True)  # fmt: skip


def measure(path: Path, n: int, new: int) -> None:
    """Runs in its own process so that ru_maxrss is the query side's peak."""
    db = sqlite3.connect(path)
    src = SqliteSource(db)
    rng = random.Random(2)
    vocab = vocabulary(random.Random(1))
    recent = [
        Doc(title=r[0], summary=r[1], published_at=datetime.fromtimestamp(r[2], timezone.utc))
        for r in db.execute(
            "SELECT title, summary, published_at FROM items WHERE id > ? ORDER BY id",
            (max(0, n - 5_000),),
        )
    ]
    t_assign = t_insert = 0.0
    joined = 0
    for k in range(new):
        i = n + 1 + k
        when = START + timedelta(seconds=i * 86_400 / PER_DAY)
        if k % 2:
            base = rng.choice(recent)  # a copy: other outlet, dateline and title
            d = Doc(title="Judul lain", summary=base.summary.replace("Jakarta (ANTARA) - ",
                    "REPUBLIKA.CO.ID, JAKARTA -- "), url=f"https://copy.example/{i}",
                    published_at=when)  # fmt: skip
        else:
            d = synthetic(rng, vocab, i)
            d = Doc(title=d.title, summary=d.summary, url=d.url, published_at=when)
        t = time.perf_counter()
        fp = fingerprint(d)
        story = choose_story(d, fp, src, WINDOW)
        t_assign += time.perf_counter() - t
        joined += story is not None
        t = time.perf_counter()
        ts = int(when.timestamp())
        db.execute("INSERT INTO items VALUES (?,?,?,?,?,?,?)",
                   (i, story or i, d.title, d.summary, "", d.url, ts))  # fmt: skip
        db.executemany(
            "INSERT INTO story_bands VALUES (?,?,?,?)", [(b, i, story or i, ts) for b in fp.bands]
        )
        db.commit()
        t_insert += time.perf_counter() - t
    db.rollback()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"N={n:>9,}: assign {t_assign / new * 1000:.3f} ms/item, store bands "
        f"{t_insert / new * 1000:.3f} ms/item (commit per item), joined {joined}/{new} "
        f"(expected {new // 2}), peak RSS {rss:.0f} MiB",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    ap.add_argument("--new", type=int, default=1_000, help="items to assign per size")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/pantau-bench-stories"))
    ap.add_argument("--measure-only", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.measure_only:
        work = args.dir / f"work-{args.measure_only}.db"
        measure(work, args.measure_only, args.new)
        return
    print(
        f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}"
    )
    for n in args.sizes:
        path = args.dir / f"bands-{n}.db"
        if not path.exists():
            build(path, n)
        work = args.dir / f"work-{n}.db"
        shutil.copyfile(path, work)  # measurements insert rows: keep the base clean
        subprocess.run(
            [sys.executable, __file__, "--measure-only", str(n), "--new", str(args.new),
             "--dir", str(args.dir)],
            check=True,
        )  # fmt: skip
        work.unlink()


if __name__ == "__main__":
    main()
