"""Break one item of each real outlet feed and count what the rest of the feed loses.

For every feed in ``../shared/corpus/real`` (and the test fixtures) that parses cleanly
with three items or more: ``--trials`` times, one fragment that breaks XML (an
unterminated comment or CDATA section, a stray end tag, an open attribute quote, ...) is
inserted at a random place inside one random item, and the document is parsed again.
Counted per trial: the original items no longer read under their identity or any identity
the store also knows them by (``identity_aliases``), and the items that would be stored as
new. "One bad entry costs one entry": no trial should lose more than one.

    python bench/one_broken_item.py [--trials 12] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.feeds.parse import identity_aliases, parse_feed  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
BREAKS = ["<", "&", "<b>", "</item>", "<item>", "]]>", "<![CDATA[", "\x00", "&#xD800;", "<!--",
          '"', "<title>", "</channel>", '<a href="x>', "&nbsp", "<!DOCTYPE x>", "\ufffe",
          '<?xml version="1.0"?>', "<link>", "<description>"]  # fmt: skip
_ITEM = re.compile(rb"<(item|entry)[\s>].*?</\1>", re.S)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "real")
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    docs = sorted(args.corpus.glob("*")) + sorted((ROOT / "tests/fixtures/feeds").glob("*.xml"))
    stats: Counter[str] = Counter()
    worst: list[tuple[int, int, str, str]] = []
    for path in docs:
        body = path.read_bytes()
        base = parse_feed(body, url="https://x.example/rss", now=NOW)
        spans = [m.span() for m in _ITEM.finditer(body)]
        if base.error or len(base.items) < 3 or len(spans) < 3:
            continue
        ids = {it.identity for it in base.items}
        for _ in range(args.trials):
            a, b = spans[rng.randrange(len(spans))]
            at, frag = rng.randrange(a + 1, b - 1), rng.choice(BREAKS)
            got = parse_feed(
                body[:at] + frag.encode() + body[at:], url="https://x.example/rss", now=NOW
            )
            known: set[str] = set()
            new = 0
            for it in got.items:
                hit = [
                    i for i in (it.identity, *identity_aliases(it)) if i in ids and i not in known
                ]
                if hit:
                    known.add(hit[0])
                else:
                    new += 1
            lost = len(ids - known)
            stats["trials"] += 1
            stats["items stored again as new"] += new
            stats[
                "lost none" if lost == 0 else "lost one" if lost == 1 else "lost more than one"
            ] += 1
            if lost > 1:
                worst.append((lost, len(ids), path.name, frag))
    print(dict(stats))
    for lost, total, name, frag in sorted(worst, reverse=True)[:15]:
        print(f"  lost {lost} of {total}: {name}, {frag!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
