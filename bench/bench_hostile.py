"""Parse cost of hostile shapes and of ordinary feeds (issue 24).

Hostile shapes: the documents of issue 24 that cost quadratic time (unterminated DOCTYPEs,
100,000 attributes on one element) or dropped the feed (bad character references), at a
few sizes, so linear growth shows: time per MB should stay flat. Ordinary feeds: the CPU
time of ``prepare_xml`` (the hygiene passes before any parser) and of ``parse_feed`` on the
real outlet feeds of the shared corpus, which is what the checks cost every poll.

    python bench/bench_hostile.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.feeds import parse  # noqa: E402

HEAD = '<?xml version="1.0"?><rss version="2.0"><channel><title>K</title>'
TAIL = "</channel></rss>"
ITEM = "<item><title>Judul {n}</title><link>https://kabar.example/{n}</link></item>"


def shapes(scale: int) -> dict[str, bytes]:
    attrs = " ".join(f'a{i}="1"' for i in range(10_000 * scale))
    return {
        "unterminated DOCTYPEs": (HEAD.replace("<rss", "<!DOCTYPE x [" * (20_000 * scale) + "<rss")
                                  + ITEM.format(n=1) + TAIL).encode(),
        "attributes on one element": (HEAD + f"<item {attrs}><title>x</title></item>"
                                      + ITEM.format(n=1) + TAIL).encode(),
        "bad character references": (HEAD + "".join(
            ITEM.format(n=f"{i} &#55357;&#56833; &#xD800; &#x110000;") for i in range(500 * scale))
            + TAIL).encode(),
    }  # fmt: skip


def cpu(fn: object, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()  # type: ignore[operator]
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--corpus", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real")
    )
    args = ap.parse_args()
    print("| shape | size | items | CPU s | s per MB |")
    print("|---|---|---|---|---|")
    for scale in (1, 4, 10):
        for name, body in shapes(scale).items():
            feed = parse.parse_feed(body, url="https://kabar.example/rss")
            t = cpu(lambda b=body: parse.parse_feed(b, url="https://kabar.example/rss"), 1)
            mb = len(body) / 1e6
            print(f"| {name} | {mb:.2f} MB | {len(feed.items)} | {t:.3f} | {t / mb:.3f} |")
    # Documents under 16 KB are parsed in the calling thread (no worker, no SIGALRM): their
    # cost rests on the linear bound alone. The worst shapes found, at 16 KB:
    inline = {
        "deep nesting": "<b>" * 5_300,
        "unclosed nesting (loose parser)": "<b" * 8_000,
        "tiny elements": "<x/>" * 4_000,
        "bare < and &": "<&" * 8_000,
    }
    print("\n| shape under 16 KB (parsed inline) | CPU ms |")
    print("|---|---|")
    for name, middle in inline.items():
        body = (HEAD + "<item><title>" + middle + "</title></item>" + TAIL).encode()[:16_383]
        t = cpu(lambda b=body: parse.parse_feed(b, url="https://kabar.example/rss"))
        print(f"| {name} | {t * 1000:.0f} |")
    paths = sorted(glob.glob(f"{args.corpus}/*.xml"))
    if paths:
        bodies = [Path(p).read_bytes() for p in paths]
        texts = [parse.decode_body(b, None)[0] for b in bodies]

        def prepare_all() -> None:
            for t in texts:
                try:
                    parse.prepare_xml(t)
                except parse.Refused:
                    pass

        def parse_all() -> None:
            for b in bodies:
                parse.parse_feed(b, url="https://kabar.example/rss")

        mb = sum(map(len, bodies)) / 1e6
        print(f"\ncorpus: {len(bodies)} feeds, {mb:.2f} MB")
        print(f"prepare_xml: {cpu(prepare_all, 5) * 1000:.1f} ms CPU (best of 5)")
        print(f"parse_feed: {cpu(parse_all, 3) * 1000:.0f} ms CPU (best of 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
