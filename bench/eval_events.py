"""Event grouping quality on hand-labelled pairs of real 2025 articles (issue 26).

    .venv/bin/python bench/eval_events.py                          # built-in baselines
    .venv/bin/python bench/eval_events.py --grouper pkg.mod:func   # your grouping function
    .venv/bin/python bench/eval_events.py --grouper title_words --errors 20 --split dev

The pairs live in tests/data/events_labelled.jsonl (titles, URLs, a kind and a reason; no
article text). The articles themselves come from ../shared/corpus/news-2025.csv, which is
not part of the repository: without it the script says so and exits 0.

A grouping function receives every article of the corpus (a list of ``Article``) and returns
a mapping url -> event label; urls it leaves out count as events of their own. A pair is
"grouped" when both urls carry the same label. Reported per split and per kind:

- copy            fraction of copy pairs (syndicated or rewritten text) grouped
- same_happening  fraction of independent reports of one happening grouped
- different       precision = 1 - fraction of hard negatives (same topic, other happening)
                  wrongly merged

Tune thresholds on ``dev`` only; report ``test`` (see bench/README.md, "Event pairs").
"""

from __future__ import annotations

import argparse
import csv
import importlib
import itertools
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "events_labelled.jsonl"
# One rule for data outside the checkout (tests/paths.py): ../shared beside it.
CORPUS_CANDIDATES = (ROOT.parent / "shared" / "corpus" / "news-2025.csv",)
KINDS = ("copy", "same_happening", "different")
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class Article:
    url: str
    domain: str
    title: str
    date: date
    text: str


@dataclass(frozen=True)
class Pair:
    a_url: str
    b_url: str
    a_title: str
    b_title: str
    kind: str
    split: str
    why: str


Grouper = Callable[[Sequence[Article]], Mapping[str, Hashable]]


def corpus_path() -> Path | None:
    return next((p for p in CORPUS_CANDIDATES if p.exists()), None)


def load_corpus(path: Path) -> list[Article]:
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Article(
                url=d["url"],
                domain=d["domain"],
                title=d["title"],
                date=date.fromisoformat(d["date"][:10]),
                text=d["clean_text"],
            )
            for d in csv.DictReader(f)
        ]


def load_pairs(path: Path = LABELLED) -> list[Pair]:
    return [Pair(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------------------------------------
# Scoring


@dataclass
class Cell:
    """One (split, kind) cell: how many pairs, how many of them the grouping put together."""

    pairs: int = 0
    grouped: int = 0

    @property
    def rate(self) -> float:
        """Grouped fraction; for ``different`` pairs the reported figure is 1 - rate."""
        return self.grouped / self.pairs if self.pairs else float("nan")


def score(
    pairs: Iterable[Pair], labels: Mapping[str, Hashable]
) -> tuple[dict[tuple[str, str], Cell], list[tuple[Pair, bool]]]:
    """Cells keyed (split, kind), with split "all" too; and every pair with its outcome.

    Same-happening pairs are also counted apart by outlet, as issue 26's table does:
    kind ``same_happening/one_outlet`` (one outlet wrote it up twice) and
    ``same_happening/two_outlets`` (independent reports)."""
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    outcomes = []
    for p in pairs:
        la, lb = labels.get(p.a_url), labels.get(p.b_url)
        together = la is not None and la == lb
        kinds = [p.kind]
        if p.kind == "same_happening":
            one = site(p.a_url) == site(p.b_url)
            kinds.append(f"{p.kind}/{'one_outlet' if one else 'two_outlets'}")
        for split, kind in itertools.product((p.split, "all"), kinds):
            c = cells[split, kind]
            c.pairs += 1
            c.grouped += together
        outcomes.append((p, together))
    return dict(cells), outcomes


def site(url: str) -> str:
    """The outlet behind a URL: its registered domain (jogja.antaranews.com -> antaranews.com,
    ekonomi.republika.co.id -> republika.co.id)."""
    parts = (urlsplit(url).hostname or url).split(".")
    return ".".join(parts[-3:] if parts[-2:-1] == ["co"] else parts[-2:])


def headline(cell: Cell, kind: str) -> float:
    """The figure a desk cares about: recall for positives, precision for ``different``."""
    return 1.0 - cell.rate if kind == "different" else cell.rate


def report(name: str, cells: Mapping[tuple[str, str], Cell], splits: Sequence[str]) -> str:
    cols = [
        ("copy", "copy grouped"),
        ("same_happening", "same grouped"),
        ("same_happening/one_outlet", "  one outlet"),
        ("same_happening/two_outlets", "  two outlets"),
        ("different", "precision"),
    ]
    lines = [f"{name}:", f"  {'split':5} " + " ".join(f"{h:>18}" for _, h in cols)]
    for split in splits:
        row = [f"  {split:5}"]
        for kind, _ in cols:
            c = cells.get((split, kind), Cell())
            row.append(f"{headline(c, kind):8.3f} ({c.grouped:4}/{c.pairs:4})")
        lines.append(" ".join(row))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Baselines


def singletons(articles: Sequence[Article]) -> dict[str, Hashable]:
    """Every article its own event: grouped 0, precision 1 (the floor)."""
    return {a.url: a.url for a in articles}


_OUTLET_SUFFIX = re.compile(r"\s*(?::[^:]*\bOkezone\b[^:]*|\|\s*Republika Online.*)$")
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_STOP = frozenset(
    "dan di ke dari yang untuk pada ini itu jadi menjadi hari per gram rp juta ribu naik turun "
    "harga hingga kini lagi dengan atau tak tidak akan sebut minta".split()
)


def clean_title(title: str) -> str:
    """The headline without the outlet's name that Okezone and Republika append to it."""
    return _OUTLET_SUFFIX.sub("", title).strip()


def title_words(text: str) -> frozenset[str]:
    t = clean_title(text).lower()
    return frozenset(w for w in _WORD.findall(t) if len(w) > 2 and w not in _STOP)


def same_title_words(
    articles: Sequence[Article], threshold: float = 0.5, days: int = 1
) -> dict[str, Hashable]:
    """Naive baseline: link two articles at most ``days`` apart whose title word sets have
    Jaccard >= ``threshold``; events are the connected components (it chains freely)."""
    parent = {a.url: a.url for a in articles}

    def find(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    by_day: dict[date, list[tuple[str, frozenset[str]]]] = defaultdict(list)
    for a in articles:
        by_day[a.date].append((a.url, title_words(a.title)))
    for d, todays in by_day.items():
        near = [
            x for k in range(-days, 1) for x in by_day.get(d.fromordinal(d.toordinal() + k), [])
        ]
        for (u, wu), (v, wv) in itertools.product(todays, near):
            if u < v and wu and wv and len(wu & wv) / len(wu | wv) >= threshold:
                parent[find(u)] = find(v)
    return {u: find(u) for u in parent}


def stories(articles: Sequence[Article]) -> dict[str, Hashable]:
    """Today's story layer (copies of one text), run as bench/eval_stories.py runs it on the
    real corpus: title + first 300 characters, dates at noon WIB, 72 h window."""
    sys.path.insert(0, str(ROOT / "bench"))
    import eval_stories  # noqa: PLC0415 (imports the daemon: only when asked for)

    rows = [
        eval_stories.Row(
            i,
            a.url,
            a.domain,
            None,
            eval_stories.Doc(
                title=a.title,
                summary=a.text[:300],
                content="",
                url=a.url,
                published_at=datetime.combine(a.date, time(12), eval_stories.WIB),
            ),
        )
        for i, a in enumerate(articles)
    ]
    assigned = eval_stories.group(rows)
    return {r.doc.url: assigned[r.id] for r in rows}


BUILTIN: dict[str, Grouper] = {
    "singletons": singletons,
    "title_words": same_title_words,
    "stories": stories,
}


def resolve(spec: str) -> Grouper:
    """A built-in name or ``package.module:function``."""
    if spec in BUILTIN:
        return BUILTIN[spec]
    mod, _, func = spec.partition(":")
    if not func:
        raise SystemExit(f"--grouper {spec!r}: use one of {sorted(BUILTIN)} or module:function")
    sys.path.insert(0, str(ROOT))
    return getattr(importlib.import_module(mod), func)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--grouper",
        action="append",
        help="built-in (singletons, title_words, stories) or module:function; repeatable",
    )
    ap.add_argument("--split", choices=(*SPLITS, "all"), help="only this split")
    ap.add_argument("--errors", type=int, default=0, metavar="N", help="list N misses/merges")
    ap.add_argument("--json", action="store_true", help="one JSON object per grouper")
    args = ap.parse_args(argv)

    path = corpus_path()
    if path is None:
        print("news-2025.csv not found in ../shared/corpus beside the checkout: skipped")
        return 0
    articles = load_corpus(path)
    pairs = load_pairs()
    splits = [args.split] if args.split else [*SPLITS, "all"]
    wanted = [p for p in pairs if p.split in splits or "all" in splits]
    for spec in args.grouper or ["singletons", "title_words", "stories"]:
        labels = resolve(spec)(articles)
        cells, outcomes = score(wanted, labels)
        if args.json:
            print(
                json.dumps(
                    {
                        "grouper": spec,
                        "cells": {
                            f"{s}/{k}": {"pairs": c.pairs, "grouped": c.grouped}
                            for (s, k), c in sorted(cells.items())
                        },
                    }
                )
            )
        else:
            print(report(spec, cells, splits))
        if args.errors:
            wrong = [p for p, together in outcomes if together == (p.kind == "different")][
                : args.errors
            ]
            for p in wrong:
                what = "MERGED" if p.kind == "different" else "MISSED"
                print(f"    {what} {p.kind:14} {p.a_title[:60]!r} ~ {p.b_title[:60]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
