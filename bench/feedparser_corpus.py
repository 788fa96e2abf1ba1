"""Run feedparser's own test documents through ``parse_feed`` once and report what happens.

feedparser's public repository ships ~2,100 small documents written to exercise every corner
of feed parsing (encodings, entities, ill-formed XML, sanitizer bait, every element). They
are not ours and are not copied into this project: point this script at a checkout of
its ``tests/`` directory (default: /work/wt/feedparser-tests/tests).

For every document: ``parse_feed`` must not raise; stored-text invariants must hold (caps,
no NUL or control characters, no lone surrogates); the time is recorded. Every item then
goes through the rest of a parse worker's work (``prepare_item``: content hash, story
fingerprint and its stored features, event signature), which must not raise either; the
features must decode to what was encoded, and the item's one-story event profile must
store and read back as it was, written by either path (``Profile.encode``,
``solo_profile``). It also compares
the number of items with feedparser's own number of entries on the same bytes, so that a
document pantau reads as an error, or with fewer items, can be looked at.

    python bench/feedparser_corpus.py [DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser  # noqa: E402

from daemon.feeds.parse import (  # noqa: E402
    AUTHOR_MAX,
    CONTENT_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    parse_feed,
    strip_html,
)
from daemon.feeds.urls import canonical_url  # noqa: E402
from daemon.grouping import events  # noqa: E402
from daemon.grouping.stories import decode_features  # noqa: E402
from daemon.pipeline.prepare import prepare_item  # noqa: E402

DEFAULT = Path("/work/wt/feedparser-tests/tests")
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.+?)\s*$", re.M)


def headers_of(body: bytes) -> dict[str, str]:
    """feedparser's HTTP-header tests declare their headers in a comment."""
    return {k.decode().lower(): v.decode("latin-1") for k, v in _HEADER.findall(body[:4096])}


def invariant_problems(feed: object) -> list[str]:
    out = []
    for it in feed.items:  # type: ignore[attr-defined]
        if len(it.title) > TITLE_MAX or len(it.summary) > SUMMARY_MAX:
            out.append("over cap")
        if len(it.content) > CONTENT_MAX or len(it.author) > AUTHOR_MAX:
            out.append("over cap")
        for v in (it.title, it.summary, it.content, it.author, it.guid or "", it.url or ""):
            if _CONTROL.search(v):
                out.append("control character")
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                out.append("lone surrogate")
    return out


def prepared_problems(feed: object) -> list[str]:
    """What the parse worker's per-item work got wrong on these items (see the docstring)."""
    out = []
    for it in feed.items:  # type: ignore[attr-defined]
        p = prepare_item(it, None, NOW, timedelta(days=36500))
        if p.fingerprint is None or p.signature is None or p.features is None:
            out.append("incomplete")
            continue
        back = decode_features(p.features, it.url)
        if back is None or back.shingles != p.fingerprint.shingles:
            out.append("features do not read back")
        elif (back.dates, back.figures, back.lead_day) != (
            p.fingerprint.dates, p.fingerprint.figures, p.fingerprint.lead_day,
        ):  # fmt: skip
            out.append("features do not read back")
        sig = p.signature
        prof = events.Profile.of(sig)
        rarity = events.Rarity({}, 1000)
        events.centroid_norm(prof, rarity)
        if events.Profile.decode(prof.encode()) != prof:
            out.append("profile does not read back")
        solo = events.solo_profile(sig, rarity)
        if solo is not None and solo != prof.encode():
            out.append("solo profile differs")
    return out


def feedparser_entries(body: bytes, headers: dict[str, str]) -> int | None:
    try:
        d = feedparser.parse(io.BytesIO(body), response_headers=headers or None)
    except Exception:  # noqa: BLE001 - feedparser itself raising is a finding too
        return None
    # entries pantau keeps: those with a title, guid, summary text or link to show them by
    return sum(
        1
        for e in d.get("entries") or []
        if strip_html(e.get("title"), 200)
        or e.get("id")
        or strip_html(e.get("summary"), 200)
        or canonical_url(e.get("link"), "http://example.org/feed")
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not args.dir.is_dir():
        print(f"{args.dir}: not a directory (a checkout of feedparser's tests/)", file=sys.stderr)
        return 2
    files = sorted(p for p in args.dir.rglob("*") if p.suffix in (".xml", ".rdf", ".atom"))
    raised: list[str] = []
    broken: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    fewer: list[tuple[str, int, int]] = []
    times: list[tuple[float, str]] = []
    items = 0
    for path in files:
        body = path.read_bytes()
        headers = headers_of(body)
        name = str(path.relative_to(args.dir))
        start = time.perf_counter()
        try:
            feed = parse_feed(body, url="http://example.org/feed", headers=headers, now=NOW)
        except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
            raised.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        times.append((time.perf_counter() - start, name))
        items += len(feed.items)
        for problem in invariant_problems(feed):
            broken[problem] += 1
        try:
            for problem in prepared_problems(feed):
                broken[problem] += 1
        except Exception as exc:  # noqa: BLE001 - one bad item must cost one item, not raise
            raised.append(f"{name}: prepare_item: {type(exc).__name__}: {exc}")
        if feed.error is not None:
            errors[re.sub(r"\(line \d+\)|'.*", "", feed.error)[:70]] += 1
        theirs = feedparser_entries(body, headers)
        if theirs is not None and len(feed.items) < theirs:
            fewer.append((name, len(feed.items), theirs))
    times.sort(reverse=True)
    report = {
        "documents": len(files),
        "items": items,
        "raised": raised,
        "invariant_violations": dict(broken),
        "errors": dict(errors.most_common()),
        "fewer_items_than_feedparser": len(fewer),
        "fewer_examples": fewer[:40],
        "total_seconds": round(sum(t for t, _ in times), 2),
        "slowest": [(round(t * 1000, 1), n) for t, n in times[:5]],
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 1 if raised or broken else 0


if __name__ == "__main__":
    sys.exit(main())
