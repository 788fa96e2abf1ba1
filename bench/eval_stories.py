"""Story-grouping quality: pair-level precision/recall on the labelled corpus, and the merges
made on the real 2025 corpus (read them: the corpus has no labels for stories).

    .venv/bin/python bench/eval_stories.py                 # labelled corpus, lead-only + full
    .venv/bin/python bench/eval_stories.py --real          # also ../shared/corpus/news-2025.csv
    .venv/bin/python bench/eval_stories.py --sweep         # bands/rows/threshold grid
    .venv/bin/python bench/eval_stories.py --errors        # list wrong merges and misses

Grouping runs in arrival order (published_at) against an in-memory CandidateSource that
behaves like the store's story_bands table.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import time
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.grouping import candidates, stories  # noqa: E402
from daemon.grouping.stories import Candidate, Doc, choose_story, fingerprint  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "stories_labelled.jsonl"
REAL = ROOT.parent / "shared" / "corpus" / "news-2025.csv"
WINDOW = timedelta(hours=72)
WIB = timezone(timedelta(hours=7))


class MemorySource:
    """The story_bands table in memory: band -> [(published_at, item_id)], sorted by time."""

    def __init__(self, brute: bool = False) -> None:
        self.bands: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        self.items: dict[int, tuple[int, Doc]] = {}
        self.brute = brute  # every item in the window is a candidate: measures LSH loss
        self.order: list[tuple[datetime, int]] = []

    def add(
        self, item_id: int, story_id: int, doc: Doc, bands: Iterable[int], stop: set[int]
    ) -> None:
        """As ingest writes: no rows under the item's stop words (``candidates.stop_keys``)."""
        self.items[item_id] = (story_id, doc)
        key = (doc.published_at, item_id)
        for b in bands:
            if b in stop:
                continue
            rows = self.bands[b]
            rows.insert(bisect_left(rows, key), key)
        self.order.insert(bisect_left(self.order, key), key)

    def read(
        self, bands: Sequence[int], since: datetime, until: datetime
    ) -> dict[int, list[tuple[int, int]]]:
        """As ``Tx.band_rows`` reads: the newest ``rows_per_key`` rows per key in the window."""
        out = {}
        for b in set(bands):
            rows = self.bands.get(b, [])
            lo = bisect_left(rows, (since, -1))
            hi = bisect_right(rows, (until, 1 << 62))
            top = rows[max(lo, hi - candidates.BUDGET.rows_per_key) : hi][::-1]
            if top:
                out[b] = [(i, int(p.timestamp())) for p, i in top]
        return out

    def candidates(
        self, bands: Sequence[int], since: datetime, until: datetime, limit: int
    ) -> list[Candidate]:
        if self.brute:
            hits: Counter[int] = Counter()
            lo = bisect_left(self.order, (since, -1))
            hi = bisect_right(self.order, (until, 1 << 62))
            hits.update(i for _, i in self.order[lo:hi])
            best = [i for i, _ in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))]
        else:
            rows = self.read(bands, since, until)
            stop = candidates.stop_keys(rows, bands)
            best = candidates.rank(
                bands, rows, since.timestamp(), until.timestamp(), limit, stop=stop
            )
        return [Candidate(i, self.items[i][0], self.items[i][1]) for i in best]


@dataclass
class Row:
    id: int
    label: str
    outlet: str
    family: str | None
    doc: Doc


def group(rows: list[Row], brute: bool = False) -> dict[int, int]:
    """item id -> story id (the id of the story's first item), in arrival order."""
    src = MemorySource(brute=brute)
    assigned: dict[int, int] = {}
    for r in sorted(rows, key=lambda r: (r.doc.published_at, r.id)):
        fp = fingerprint(r.doc)
        sid = choose_story(r.doc, fp, src, WINDOW)
        assigned[r.id] = r.id if sid is None else sid
        t = r.doc.published_at
        stop = candidates.stop_keys(src.read(fp.bands, t - WINDOW, t + WINDOW), fp.bands)
        src.add(r.id, assigned[r.id], r.doc, fp.bands, stop)
    return assigned


def load_labelled(full: bool) -> list[Row]:
    rows = []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        doc = Doc(
            title=d["title"],
            summary=d["summary"],
            content=d.get("content") or "" if full else "",
            url=d["url"],
            published_at=datetime.fromisoformat(d["published_at"]),
        )
        rows.append(Row(d["id"], d["story"], d["outlet"], d.get("family"), doc))
    return rows


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    hard_pairs: int
    hard_false: int
    false_pairs: list[tuple[Row, Row]]
    missed_pairs: list[tuple[Row, Row]]


def score(rows: list[Row], assigned: dict[int, int]) -> Scores:
    tp = fp = fn = hard = hard_false = 0
    false_pairs, missed = [], []
    for a, b in itertools.combinations(rows, 2):
        same = a.label == b.label
        pred = assigned[a.id] == assigned[b.id]
        if a.family and a.family == b.family and not same:
            hard += 1
            hard_false += pred
        if same and pred:
            tp += 1
        elif pred:
            fp += 1
            false_pairs.append((a, b))
        elif same:
            fn += 1
            missed.append((a, b))
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Scores(p, r, f1, tp + fn, tp + fp, hard, hard_false, false_pairs, missed)


def labelled_report(errors: bool) -> None:
    for full in (False, True):
        rows = load_labelled(full)
        t = time.perf_counter()
        s = score(rows, group(rows))
        dt = (time.perf_counter() - t) / len(rows) * 1000
        mode = "title + summary + full text" if full else "title + lead-only summary"
        print(
            f"labelled corpus ({len(rows)} items, {len({r.label for r in rows})} stories), {mode}:"
        )
        print(
            f"  precision {s.precision:.4f}  recall {s.recall:.4f}  F1 {s.f1:.4f}"
            f"  (true pairs {s.true_pairs}, predicted {s.predicted_pairs}, {dt:.2f} ms/item)"
        )
        print(f"  hard-negative pairs {s.hard_pairs}, falsely merged {s.hard_false}")
        if errors:
            for a, b in s.false_pairs:
                print(f"    WRONG  {a.label} | {b.label}: {a.doc.title!r} ~ {b.doc.title!r}")
            for a, b in s.missed_pairs:
                print(
                    f"    MISSED {a.label}: {a.outlet} {a.doc.title!r} / {b.outlet} {b.doc.title!r}"
                )


def sweep() -> None:
    """Grid over LSH shape. LSH loss: same-story pairs that brute force (every item in the
    window is a candidate) confirms but the bands never bring together."""
    sets = {"labelled": load_labelled(False)}
    if REAL.exists():
        sets["news-2025"] = load_real(False)
    print("bins lead | corpus     brute-pairs  banded-pairs  LSH-loss  bands/item  ms/item")
    for bins, lead in itertools.product((8, 16, 32), (20, 30, 40)):
        configure(bins, lead, stories.THRESHOLD)
        for name, rows in sets.items():
            t = time.perf_counter()
            banded = _pairs(group(rows))
            dt = (time.perf_counter() - t) / len(rows) * 1000
            brute = _pairs(group(rows, brute=True))
            nb = sum(len(fingerprint(r.doc).bands) for r in rows) / len(rows)
            loss = len(brute - banded) / len(brute) if brute else 0.0
            print(
                f"{bins:4} {lead:4} | {name:10} {len(brute):11} "
                f"{len(banded):13} {loss:9.3f} {nb:11.1f} {dt:8.2f}"
            )


def _pairs(assigned: dict[int, int]) -> set[tuple[int, int]]:
    by: dict[int, list[int]] = defaultdict(list)
    for item, sid in assigned.items():
        by[sid].append(item)
    return {p for m in by.values() for p in itertools.combinations(sorted(m), 2)}


def configure(bins: int, lead: int, threshold: float) -> None:
    """One-permutation MinHash with ``bins`` bins (a power of two) over ``lead`` words."""
    stories.NUM_HASHES, stories.LEAD_WORDS = bins, lead
    stories._BIN_SHIFT = 64 - (bins - 1).bit_length()
    stories.THRESHOLD = threshold
    stories._features.cache_clear()


def load_real(full: bool) -> list[Row]:
    csv.field_size_limit(1 << 30)
    rows = []
    with REAL.open(encoding="utf-8", newline="") as f:
        for i, d in enumerate(csv.DictReader(f)):
            text = d["clean_text"]
            doc = Doc(
                title=d["title"],
                summary=text[:300],
                content=text if full else "",
                url=d["url"],
                # Dates only: noon WIB, so same-day copies are within any window.
                published_at=datetime.fromisoformat(d["date"]).replace(hour=12, tzinfo=WIB),
            )
            rows.append(Row(i, d["url"], d["domain"], None, doc))
    return rows


def real_report(show_all: bool) -> None:
    for full in (False, True):
        rows = load_real(full)
        t = time.perf_counter()
        assigned = group(rows)
        dt = (time.perf_counter() - t) / len(rows) * 1000
        groups: dict[int, list[Row]] = defaultdict(list)
        for r in rows:
            groups[assigned[r.id]].append(r)
        multi = [g for g in groups.values() if len(g) > 1]
        cross = [g for g in multi if len({_site(r.outlet) for r in g}) > 1]
        mode = "title + first 300 chars + full text" if full else "title + first 300 chars"
        print(f"\nnews-2025.csv ({len(rows)} items), {mode}: {dt:.2f} ms/item")
        print(
            f"  groups {len(groups)}, multi-item groups {len(multi)} "
            f"({sum(len(g) for g in multi)} items), cross-domain groups {len(cross)}"
        )
        shown = multi if show_all else sorted(multi, key=lambda g: -len(g))[:10]
        for g in shown:
            print(f"  - group of {len(g)}:")
            for r in g:
                print(f"      {r.doc.published_at:%m-%d} {r.outlet:28} {r.doc.title[:90]}")


def _site(domain: str) -> str:
    parts = domain.split(".")
    return ".".join(parts[-3:] if parts[-1] == "id" and parts[-2] == "co" else parts[-2:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", action="store_true", help="also run on news-2025.csv")
    ap.add_argument("--all", action="store_true", help="print every multi-item real group")
    ap.add_argument("--errors", action="store_true", help="list wrong merges and misses")
    ap.add_argument("--sweep", action="store_true", help="grid over bands/rows/threshold")
    args = ap.parse_args()
    if args.sweep:
        sweep()
        return
    labelled_report(args.errors)
    if args.real or args.all:
        if REAL.exists():
            real_report(args.all)
        else:
            print(f"\n{REAL} not found: skipped the real corpus")


if __name__ == "__main__":
    main()
