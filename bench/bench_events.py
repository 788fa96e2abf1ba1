"""CPU that event assignment adds per new story, with N stories already in the database.

    .venv/bin/python bench/bench_events.py [--stories 100000] [--batch 40] [--measure 2000]

Fills a SQLite database through ``daemon.pipeline.events.assign_events`` itself (stories of
synthetic reports: Zipf-distributed words from a 20,000-word vocabulary, two capitalised
names from a Zipf-distributed pool of 100,000, a money figure, one poll-sized batch per transaction, publication times spread so that
``events.window`` holds ~1/20 of them), then times the next ``--measure`` stories: process
CPU time of ``assign_events`` (frequencies, index lookup, decision, writes: the part the
ingest transaction holds the write lock for) divided by the stories assigned, and apart
from it the signatures' (computed by the parse workers, ``daemon.pipeline.prepare``, from the
texts and story fingerprint they compute for story grouping anyway; before 2026-12-07 those
were timed with the signature). One core; the result goes to bench/README.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.grouping.events import signature  # noqa: E402
from daemon.grouping.stories import Doc, fingerprint, texts_of  # noqa: E402
from daemon.pipeline import events as eventing  # noqa: E402
from daemon.storage.store import Store  # noqa: E402
from daemon.storage.writer import SingleWriter  # noqa: E402

WINDOW = timedelta(hours=36)
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def vocabulary(rng: random.Random, n: int = 20_000) -> list[str]:
    syll = [
        "ba",
        "ka",
        "ta",
        "ra",
        "ma",
        "na",
        "sa",
        "la",
        "pe",
        "ni",
        "ku",
        "si",
        "tu",
        "ran",
        "kan",
        "ng",
    ]
    return ["".join(rng.choice(syll) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def report(rng: random.Random, vocab: list[str], names: list[str], k: int, at: datetime) -> Doc:
    def words(n: int) -> list[str]:
        return [vocab[min(int(rng.paretovariate(1.1)) - 1, len(vocab) - 1)] for _ in range(n)]

    who = [names[min(int(rng.paretovariate(0.8)) - 1, len(names) - 1)] for _ in range(2)]
    title = " ".join(words(8))
    body = " ".join(words(20)) + f" {who[0]} {who[1]} " + " ".join(words(20))
    body += f" senilai Rp{rng.randint(1, 999)},{rng.randint(1, 9)} miliar."
    return Doc(title=title, summary=body, url=f"https://x.example/{k}", published_at=at)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stories", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--measure", type=int, default=2_000)
    ap.add_argument(
        "--daemon",
        action="store_true",
        help="as the daemon writes SQLite: the sole writer's caches, one group per poll",
    )
    args = ap.parse_args()
    rng = random.Random(26)
    vocab = vocabulary(rng)
    # people, places and institutions: a long tail (news names many more than it has words)
    names = [w.capitalize() for w in vocabulary(rng, 100_000)]
    per_hour = args.stories / (20 * 72)  # the 72 h around a story hold ~1/20 of the corpus
    with tempfile.TemporaryDirectory() as tmp:
        writer = SingleWriter.daemon() if args.daemon else None
        store = Store.open(f"sqlite:///{tmp}/bench.db", single_writer=writer)
        store.upgrade()
        done, spent, timed, worker = 0, 0.0, 0, 0.0
        t0 = time.perf_counter()
        while done < args.stories + args.measure:
            n = min(args.batch, args.stories + args.measure - done)
            at = [START + timedelta(hours=(done + i) / per_hour) for i in range(n)]
            docs = [report(rng, vocab, names, done + i, at[i]) for i in range(n)]
            # A parse worker's part. It reads the texts and the story fingerprint for story
            # grouping anyway, and the signature reuses both (``prepare.prepare_item``): what
            # events add is the signature given them, which alone is timed.
            both = [(t, fingerprint(d, t)) for d in docs for t in (texts_of(d),)]
            w = time.process_time()
            sigs = [signature(d, t, fp) for d, (t, fp) in zip(docs, both, strict=True)]
            w = time.process_time() - w
            with store.tx(group=args.daemon) as tx:
                ids = tx.new_stories([(d.title, d.published_at, d.published_at, 1) for d in docs])
                opened = [
                    eventing.Opened(s, d, d.title, d.published_at, g)
                    for s, d, g in zip(ids, docs, sigs, strict=True)
                ]
                c = time.process_time()
                eventing.count_terms(tx, eventing.assign_events(tx, opened, WINDOW))
            c = time.process_time() - c  # with the commit: a group writes its rows then
            if done >= args.stories:
                spent += c
                worker += w
                timed += n
            done += n
            if done % 10_000 < args.batch:
                print(f"  {done} stories, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        with store.read() as tx:
            events = tx._fetch("SELECT count(*) FROM events", [])[0][0]
        store.close()
    print(
        f"{args.stories} stories stored ({events} events); next {timed}: "
        f"{spent / timed * 1000:.3f} ms CPU per new story in assign_events and the commit "
        f"({'sole writer, a group per poll' if args.daemon else 'plain transactions'}), plus {worker / timed * 1000:.3f} ms for its signature (parse worker)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
