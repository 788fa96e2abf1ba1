"""Throughput of the topic matcher (daemon.topics.match), one core.

    .venv/bin/python bench/bench_match.py [--items 10000] [--quick]

Synthetic Indonesian-like text: a Zipf-distributed vocabulary of generated CV-syllable words
(with meN-/di-/-kan affixes and capitalised "names"), items of a 10-word title, a 30-word
summary and a ~300-word body. Topics are boolean queries (OR groups, AND, NOT, phrases,
prefixes, word families, ALL-CAPS acronyms, NEAR) drawn from a pool of N distinct terms.
If ../shared/corpus/news-2025.csv (beside the checkout) exists, real items are matched too (skipped otherwise).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemon.topics.match import Matcher, TopicSpec  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "news-2025.csv"
ONSETS = ["", "b", "d", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "w", "y", "ng"]
ONSETS += ["ny", "c", "pr", "tr"]
VOWELS = ["a", "a", "i", "u", "e", "o"]
CODAS = ["", "", "", "n", "ng", "k", "r", "t", "s", "h", "l"]


def make_vocab(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        n = rng.choice((2, 2, 2, 3, 3, 4))
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(n))
        r = rng.random()
        if r < 0.08:
            w = "me" + w + rng.choice(("", "kan", "i"))
        elif r < 0.12:
            w = "di" + w
        elif r < 0.2:
            w = w.capitalize()
        elif r < 0.21:
            w = w[:4].upper()
        words.add(w)
    return list(words)


def make_items(rng: random.Random, vocab: list[str], n: int) -> list[tuple[str, str, str]]:
    weights = [1.0 / (r + 1) for r in range(len(vocab))]
    pool = rng.choices(vocab, weights, k=n * 340)
    items = []
    for i in range(n):
        w = pool[i * 340 : (i + 1) * 340]
        title = " ".join(w[:10]).capitalize()
        summary = " ".join(w[10:40]) + "."
        body = []
        for j in range(40, 340, 15):
            body.append(" ".join(w[j : j + 15]).capitalize() + rng.choice((".", ",", ";")))
        items.append((title, summary, " ".join(body)))
    return items


def make_terms(rng: random.Random, vocab: list[str], n: int, skip: float = 0.05) -> list[str]:
    """``n`` distinct query terms of mixed kinds, from all but the ``skip`` most frequent
    words (``vocab`` is in frequency order)."""
    cands = vocab[int(len(vocab) * skip) :]
    rng.shuffle(cands)
    terms: list[str] = []
    for w in cands:
        if len(terms) >= n:
            break
        r = rng.random()
        if w.isupper():
            terms.append(w)
        elif r < 0.05 and w.isalpha() and len(w) > 4:
            terms.append(w[:-1] + "*")
        elif r < 0.10 and w.islower() and w.isalpha() and len(w) >= 4:
            terms.append(w + "~")
        elif r < 0.15:
            terms.append(f'"{w} {rng.choice(vocab)}"')
        else:
            terms.append(w)
    return terms


def make_topics(rng: random.Random, terms: list[str], n_topics: int) -> list[TopicSpec]:
    """Topics drawing terms round-robin from the pool, so every term is used."""
    order = terms[:]
    rng.shuffle(order)
    per = max(4, len(terms) // n_topics)  # leaves per topic; terms are shared when few
    topics = []
    k = 0

    def take() -> str:
        nonlocal k
        t = order[k % len(order)]
        k += 1
        return t

    for i in range(n_topics):
        shape = i % 5
        m = per
        if shape == 0:
            q = " OR ".join(take() for _ in range(m))
        elif shape == 1:
            q = f"({' OR '.join(take() for _ in range(m - 1))}) AND {take()}"
        elif shape == 2:
            q = f"({' OR '.join(take() for _ in range(m - 1))}) -{take()}"
        elif shape == 3:
            a, b = take(), take()
            rest = [take() for _ in range(m - 2)]
            q = f"({a} NEAR/5 {b})" + (f" OR {' OR '.join(rest)}" if rest else "")
            if a.endswith("~") or b.endswith("~"):
                q = " OR ".join([a, b, *rest])
        else:
            q = " ".join(f"title:{take()}" if j == 0 else take() for j in range(min(m, 2)))
            extra = [take() for _ in range(m - 2)]
            q = f"({q})" + (f" OR ({' OR '.join(extra)})" if extra else "")
        topics.append(TopicSpec(f"t{i}", q))
    return topics


def run(matcher: Matcher, items: list[tuple[str, str, str]]) -> tuple[float, int]:
    """CPU seconds (process time: one core, unaffected by other load) and alerts raised."""
    t0 = time.process_time()
    alerts = 0
    for title, summary, text in items:
        alerts += len(matcher.match(title, summary, text))
    return time.process_time() - t0, alerts


def bench_synthetic(n_items: int) -> None:
    rng = random.Random(20250601)
    vocab = make_vocab(rng, 60_000)
    items = make_items(rng, vocab, n_items)
    words = sum(len(" ".join(i).split()) for i in items) / len(items)
    print(f"synthetic: {n_items} items, {words:.0f} words each on average")
    print(
        f"{'terms':>7} {'topics':>7} {'from':>9} {'compile s':>10} {'items/s':>9} {'alerts/item':>12}"
    )
    rows = ((10, 3, 0.05), (1_000, 1_000, 0.05), (10_000, 1_000, 0.05), (10_000, 1_000, 0.5))
    for n_terms, n_topics, skip in rows:
        terms = make_terms(rng, vocab, n_terms, skip)
        topics = make_topics(rng, terms, n_topics)
        t0 = time.process_time()
        matcher = Matcher.compile(topics)
        compile_s = time.process_time() - t0
        secs, alerts = run(matcher, items)
        print(
            f"{n_terms:>7} {n_topics:>7} {f'rank>{skip:.0%}':>9} {compile_s:>10.3f} "
            f"{n_items / secs:>9.0f} "
            f"{alerts / n_items:>12.2f}"
        )


HAND_TOPICS = [
    ("Ukraina", "Ukraina OR Ukraine OR Kyiv OR Zelensky*"),
    ("NATO", "NATO OR (pakta NEAR/3 atlantik)"),
    ("Emas", '"harga emas" OR (emas AND antam)'),
    ("Inflasi", "inflasi OR deflasi OR (indeks NEAR/3 konsumen)"),
    ("Serangan", "serang~ -latihan"),
    ("Korupsi", "(korupsi OR suap OR gratifikasi) AND (KPK OR kejaksaan OR tersangka)"),
    ("BI", '"bank indonesia" OR "suku bunga" OR BI*'),
    ("Banjir", "banjir OR longsor OR title:bencana"),
]


def bench_corpus() -> None:
    if not CORPUS.exists():
        print("corpus: absent, skipped")
        return
    csv.field_size_limit(10**8)
    with CORPUS.open(newline="", encoding="utf-8") as fh:
        rows = [(r["title"], "", r["clean_text"]) for r in csv.DictReader(fh)]
    words = sum(len((t + " " + x).split()) for t, _, x in rows) / len(rows)
    print(f"corpus: {len(rows)} items, {words:.0f} words each on average")
    rng = random.Random(7)
    # Query terms from the corpus's own words, minus the 1,000 most frequent ("dan", "yang").
    freq = Counter(w for _, _, x in rows for w in x.split() if w.isalpha())
    vocab = [w for w, _ in freq.most_common()[1000:]]
    for name, topics in (
        ("8 hand-written topics", [TopicSpec(n, q) for n, q in HAND_TOPICS]),
        (
            "1,000 topics / 10,000 corpus words",
            make_topics(rng, make_terms(rng, vocab, 10_000), 1_000),
        ),
    ):
        matcher = Matcher.compile(topics)
        reps = 5
        secs, alerts = run(matcher, rows * reps)
        n = len(rows) * reps
        print(f"  {name}: {n / secs:,.0f} items/s, {alerts / n:.2f} alerts/item")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    args = ap.parse_args()
    bench_synthetic(args.items)
    bench_corpus()


if __name__ == "__main__":
    main()
