"""Run Mozilla Readability's test pages through ``extract_text`` and score what comes out.

Readability (github.com/mozilla/readability) keeps ~130 real article pages from many sites
and languages, each with the article as Readability extracts it (``expected.html``). They
are not ours and are not copied into this project: point this script at a checkout of its
``test/test-pages`` directory (default: /work/wt/readability/test/test-pages).

Readability's output is not ground truth, only another extractor's careful answer; what
this looks for is the gross failure (nothing extracted, or mostly something else). Per
page: word recall (the expected words, counted with multiplicity, that pantau's text
holds) and precision (pantau's words that the expected text holds); the worst pages are
listed. pantau's extractor is tuned for Indonesian outlets (their body containers first,
then paragraph density), so an English page that keeps a long figure caption or a
sidebar of its own reads as lower precision without being wrong for pantau's purpose.

    python bench/readability_corpus.py [DIR] [--worst N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.feeds.parse import strip_html  # noqa: E402
from daemon.pipeline.fulltext import extract_text  # noqa: E402

DEFAULT = Path("/work/wt/readability/test/test-pages")


def words(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.lower()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", nargs="?", type=Path, default=DEFAULT)
    p.add_argument("--worst", type=int, default=15)
    args = p.parse_args(argv)
    pages = sorted(d for d in args.dir.iterdir() if (d / "source.html").exists())
    if not pages:
        sys.exit(f"no test pages under {args.dir}")
    rows = []
    for d in pages:
        expected = words(strip_html((d / "expected.html").read_text(errors="replace"), 10**7))
        t = time.process_time()
        ours = words(extract_text((d / "source.html").read_bytes()))
        cpu = time.process_time() - t
        common = sum((expected & ours).values())
        n_exp, n_ours = sum(expected.values()), sum(ours.values())
        rows.append((d.name, common / max(n_exp, 1), common / max(n_ours, 1), n_exp, n_ours, cpu))
    print(f"{len(rows)} pages; word recall median {statistics.median(r[1] for r in rows):.3f}, "
          f"precision median {statistics.median(r[2] for r in rows):.3f}; "
          f"recall < 0.5: {sum(r[1] < 0.5 for r in rows)}, precision < 0.5: "
          f"{sum(r[2] < 0.5 for r in rows)}, nothing extracted: {sum(r[4] == 0 for r in rows)}; "
          f"CPU {sum(r[5] for r in rows):.2f} s in all")  # fmt: skip
    for name, rec, prec, n_exp, n_ours, _ in sorted(rows, key=lambda r: min(r[1], r[2]))[
        : args.worst
    ]:
        print(f"  {name:44s} recall {rec:.2f} precision {prec:.2f} ({n_exp} words expected, {n_ours} extracted)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
