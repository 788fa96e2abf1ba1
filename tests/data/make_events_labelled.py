"""Writes tests/data/events_labelled.jsonl from the hand annotations in events_annotations.txt.

The annotations name articles of ../shared/corpus/news-2025.csv by row and group them by
happening (see the file's header). This script only expands those judgements into pairs:

- within a group: ``copy`` when one article is marked a copy of the other (directly or via a
  chain), else ``same_happening``; every copy and every one-outlet pair is kept, but at most
  10 cross-outlet same-happening pairs per group, so a day with six write-ups does not swamp
  the set;
- Antam (A) and Pegadaian (P) groups: ``different`` pairs with the same kind of report on the
  neighbouring day (6 per day pair, same-outlet pairs first: they share the template) and with
  the other price list of the same day (3);
- ``N`` lines: ``different`` pairs judged one by one.

Split: by the earlier article's date, hashed with a fixed seed, about 40 % of days ``dev``;
stable as annotations are added, and a day's pairs never straddle dev and test.

Only titles and URLs reach the output, never article text. Deterministic:
``python tests/data/make_events_labelled.py [--corpus PATH]`` rewrites the same file.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from eval_events import CORPUS_CANDIDATES, clean_title, site  # noqa: E402

ANNOTATIONS = HERE / "events_annotations.txt"
OUT = HERE / "events_labelled.jsonl"
CORPUS_ROWS = 1908
# sha256 of the corpus's url column joined by newlines: the rows the annotations point at
CORPUS_URLS_SHA256 = "65f0d074b0aa835b27d39f79da2238805a55342eda84c078e1558b6a64ccc4fd"
SAME_PER_GROUP = 10
NEXT_DAY_NEGATIVES = 6
OTHER_LIST_NEGATIVES = 3
DEV_PERCENT = 40


@dataclass
class Group:
    day: str
    tag: str
    desc: str
    members: list[int] = field(default_factory=list)
    copy_of: dict[int, int] = field(default_factory=dict)


def parse(path: Path) -> tuple[list[Group], list[tuple[int, int, str]]]:
    groups: list[Group] = []
    negatives: list[tuple[int, int, str]] = []
    day = ""
    for n, raw in enumerate(path.read_text("utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            day = line[1:].strip()
            date.fromisoformat(day)
            continue
        head, _, rest = line.partition("|")
        if not rest:
            raise SystemExit(f"{path.name}:{n}: no '|'")
        if head.startswith("N "):
            a, b = map(int, head[2:].split())
            negatives.append((a, b, rest.strip()))
            continue
        tag, desc = head.strip().split(" ", 1)
        g = Group(day, tag, desc.strip())
        for tok in rest.split():
            i, _, j = tok.partition("=")
            g.members.append(int(i))
            if j:
                g.copy_of[int(i)] = int(j)
        groups.append(g)
    return groups, negatives


def load_rows(corpus: Path) -> list[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    with corpus.open(encoding="utf-8", newline="") as f:
        rows = [
            {"url": d["url"], "title": d["title"], "date": d["date"]} for d in csv.DictReader(f)
        ]
    digest = hashlib.sha256("\n".join(r["url"] for r in rows).encode()).hexdigest()
    if len(rows) != CORPUS_ROWS or digest != CORPUS_URLS_SHA256:
        raise SystemExit(f"{corpus}: not the corpus the annotations were made on")
    return rows


def build(
    rows: list[dict[str, str]], groups: list[Group], negatives: list[tuple[int, int, str]]
) -> list[dict[str, str]]:
    rng = random.Random(26)
    pairs: dict[frozenset[str], tuple[str, int, int, str]] = {}

    def add(kind: str, a: int, b: int, why: str) -> None:
        key = frozenset((rows[a]["url"], rows[b]["url"]))
        if a == b or len(key) < 2:
            raise SystemExit(f"pair of one article: {a} {b}")
        if key in pairs and pairs[key][0] != kind:
            raise SystemExit(f"rows {a} {b} labelled both {pairs[key][0]} and {kind}")
        pairs.setdefault(key, (kind, a, b, why))

    seen: dict[int, Group] = {}
    for g in groups:
        for i in g.members:
            if i in seen:
                raise SystemExit(f"row {i} is in two groups ({seen[i].desc!r}, {g.desc!r})")
            seen[i] = g
            if rows[i]["date"][:10] != g.day and g.tag[0] in "AP":
                raise SystemExit(f"row {i} dated {rows[i]['date']} in a price group of {g.day}")

        def root(i: int, g: Group = g) -> int:
            while i in g.copy_of:
                i = g.copy_of[i]
            return i

        cand = []
        for a, b in itertools.combinations(g.members, 2):
            kind = "copy" if root(a) == root(b) else "same_happening"
            cross = site(rows[a]["url"]) != site(rows[b]["url"])
            cand.append((kind, a, b, cross))
        rng.shuffle(cand)
        copies = [c for c in cand if c[0] == "copy"]
        one_outlet = [c for c in cand if c[0] == "same_happening" and not c[3]]
        two_outlets = [c for c in cand if c[0] == "same_happening" and c[3]][:SAME_PER_GROUP]
        for kind, a, b, cross in copies + one_outlet + two_outlets:
            if kind == "copy":
                why = f"{g.desc}; one text reposted or lightly rewritten"
            elif cross:
                why = f"{g.desc}; written up separately by two outlets"
            else:
                why = f"{g.desc}; two separate write-ups by one outlet"
            add(kind, a, b, why)

    def negs(g1: Group, g2: Group, cap: int, why: str) -> None:
        cand = list(itertools.product(g1.members, g2.members))
        rng.shuffle(cand)
        cand.sort(key=lambda p: site(rows[p[0]]["url"]) != site(rows[p[1]]["url"]))
        for a, b in cand[:cap]:
            add("different", a, b, f"{why}: {g1.desc} / {g2.desc}")

    priced = [g for g in groups if g.tag[0] in "AP"]
    for g1, g2 in itertools.combinations(priced, 2):
        gap = abs((date.fromisoformat(g2.day) - date.fromisoformat(g1.day)).days)
        if g1.tag[0] == g2.tag[0] and gap == 1:
            negs(g1, g2, NEXT_DAY_NEGATIVES, "same kind of daily price report, consecutive days")
        elif g1.tag[0] != g2.tag[0] and gap == 0:
            negs(g1, g2, OTHER_LIST_NEGATIVES, "two different price lists, same day")
    for a, b, why in negatives:
        add("different", a, b, why)

    out = []
    for kind, a, b, why in pairs.values():
        if rows[a]["url"] > rows[b]["url"]:
            a, b = b, a
        first = min(rows[a]["date"], rows[b]["date"])[:10]
        h = int(hashlib.sha256(f"events-26:{first}".encode()).hexdigest(), 16)
        out.append(
            {
                "a_url": rows[a]["url"],
                "b_url": rows[b]["url"],
                "a_title": clean_title(rows[a]["title"]),
                "b_title": clean_title(rows[b]["title"]),
                "kind": kind,
                "split": "dev" if h % 100 < DEV_PERCENT else "test",
                "why": why,
            }
        )
    return sorted(out, key=lambda r: (r["a_url"], r["b_url"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", type=Path, default=next((p for p in CORPUS_CANDIDATES if p.exists()), None)
    )
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.corpus is None:
        raise SystemExit("news-2025.csv not found: pass --corpus")
    pairs = build(load_rows(args.corpus), *parse(ANNOTATIONS))
    args.out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), "utf-8")
    counts: dict[tuple[str, str], int] = {}
    for p in pairs:
        counts[p["kind"], p["split"]] = counts.get((p["kind"], p["split"]), 0) + 1
    print(
        f"{len(pairs)} pairs -> {args.out}: "
        + ", ".join(f"{k}/{s} {n}" for (k, s), n in sorted(counts.items()))
    )


if __name__ == "__main__":
    main()
