"""Full text: extraction quality and speed on the article fixtures, and what full text adds
to topic matching and story grouping on a demo-like scenario.

    .venv/bin/python bench/bench_fulltext.py            # pantau's extractor only
    PYTHONPATH=. /tmp/tfvenv/bin/python bench/bench_fulltext.py   # also trafilatura, if importable

1. Fixtures (tests/fixtures/articles, hand-written in the outlets' layouts): per extractor,
   body-paragraph recall, boilerplate strings leaked, milliseconds per page.
2. Demo-like scenario: the bundled demo feeds with their summaries cut to the first sentence
   (what Indonesian outlets' feeds carry), each item's article page served on loopback in an
   outlet layout whose boilerplate names *other* demo stories ("Baca juga", related lists).
   Topic matches and same-story pairs are counted with the terse feed alone, with full text,
   and against the truth (the article body as written). Cost per item: time and bytes.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from html import escape
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from daemon.demo.loopback import LoopbackServer  # noqa: E402
from daemon.demo.server import OUTLETS, render_all  # noqa: E402
from daemon.feeds.fetch import Fetcher, FetchPolicy  # noqa: E402
from daemon.feeds.parse import parse_feed  # noqa: E402
from daemon.grouping.stories import Doc, same_story  # noqa: E402
from daemon.pipeline import fulltext  # noqa: E402
from daemon.pipeline.fulltext import ArticleFetcher, FulltextPolicy, extract_text, filter_lines  # noqa: E402
from daemon.text import fold_ws  # noqa: E402
from daemon.topics.match import Matcher, TopicSpec  # noqa: E402

ARTICLES = ROOT / "tests" / "fixtures" / "articles"
WINDOW = timedelta(hours=72)
RUNS = 30

Extractor = Callable[[str, str], str]


# ---------------------------------------------------------------- extractors


def pantau(html: str, url: str) -> str:
    return extract_text(html, url)


def pantau_generic(html: str, url: str) -> str:
    """Without the outlets' container classes: the density fallback alone."""
    saved = fulltext._CONTENT_CLASSES
    fulltext._CONTENT_CLASSES = ()
    try:
        return extract_text(html, url)
    finally:
        fulltext._CONTENT_CLASSES = saved


def pantau_unfiltered(html: str, url: str) -> str:
    """Containers and class-based drops, but no line filter."""
    saved = fulltext.filter_lines
    fulltext.filter_lines = lambda lines: [fold_ws(x) for x in lines]  # type: ignore[assignment]
    try:
        return extract_text(html, url)
    finally:
        fulltext.filter_lines = saved  # type: ignore[assignment]


def naive(html: str, url: str) -> str:
    """Every visible string of the page: what leaks without any extraction."""
    html = re.sub(r"(?is)<(script|style|noscript|head)\b.*?</\1\s*>", " ", html)
    return "\n\n".join(s for s in (fold_ws(x) for x in re.split(r"<[^>]*>", html)) if s).replace(
        "&nbsp;", " "
    )


def extractors() -> dict[str, Extractor]:
    out: dict[str, Extractor] = {
        "pantau": pantau,
        "pantau, density only": pantau_generic,
        "pantau, no line filter": pantau_unfiltered,
    }
    try:
        import trafilatura
    except ImportError:
        return out

    def traf(html: str, url: str) -> str:
        return (
            trafilatura.extract(html, url=url, include_comments=False, include_tables=False) or ""
        )

    def traf_filtered(html: str, url: str) -> str:
        return "\n\n".join(filter_lines(traf(html, url).split("\n")))

    def traf_precision(html: str, url: str) -> str:
        text = trafilatura.extract(
            html, url=url, include_comments=False, include_tables=False, favor_precision=True
        )
        return "\n\n".join(filter_lines((text or "").split("\n")))

    out["trafilatura " + trafilatura.__version__] = traf
    out["trafilatura + line filter"] = traf_filtered
    out["trafilatura precision + filter"] = traf_precision
    return out


# ---------------------------------------------------------------- 1. fixtures


def fixture_table(exts: dict[str, Extractor]) -> None:
    spec = json.loads((ARTICLES / "expected.json").read_text(encoding="utf-8"))["articles"]
    print("## Extraction on the fixtures\n")
    print("| extractor | body paragraphs found | boilerplate strings leaked | ms/page (median) |")
    print("|---|---|---|---|")
    for name, ext in exts.items():
        found = total = leaked = 0
        times: list[float] = []
        leaks: list[str] = []
        for art_name, art in spec.items():
            texts = []
            for path, file in art["pages"].items():
                html = (ARTICLES / file).read_text(encoding="utf-8")
                url = "https://example.id" + path
                texts.append(ext(html, url))
                for _ in range(RUNS):
                    t0 = time.perf_counter()
                    ext(html, url)
                    times.append(time.perf_counter() - t0)
            text = fold_ws(" ".join(texts))
            found += sum(1 for p in art["body"] if fold_ws(p) in text)
            total += len(art["body"])
            bad = [b for b in art["boilerplate"] if b in text]
            leaked += len(bad)
            leaks += [f"{art_name}:{b}" for b in bad]
        ms = statistics.median(times) * 1000
        print(f"| {name} | {found}/{total} | {leaked} | {ms:.2f} |")
        if leaks:
            print(f"|  leaks | {', '.join(leaks[:12])}{' ...' if len(leaks) > 12 else ''} | | |")
    print()


# ---------------------------------------------------------------- 2. demo-like scenario


def first_sentence(s: str) -> str:
    m = re.search(r"(?<=[.!?])\s+(?=[A-Z\"“])", s)
    return s[: m.start()] if m else s


def sentences(s: str) -> list[str]:
    return [x for x in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", s) if x]


def paragraphs_of(text: str) -> list[str]:
    sent = sentences(text)
    return [" ".join(sent[i : i + 2]) for i in range(0, len(sent), 2)]


def layout(kind: str, title: str, paras: list[str], others: list[str]) -> str:
    """An article page in one outlet's layout; its boilerplate names other demo stories."""
    e = escape
    body = "".join(f"<p>{e(p)}</p>" for p in paras)
    rel = "".join(f'<li><a href="/r/{i}">{e(t)}</a></li>' for i, t in enumerate(others))
    baca = e(others[0]) if others else ""
    head = f'<html><head><meta charset="utf-8"><title>{e(title)}</title></head><body>'
    if kind == "detik":
        mid = (
            f"<p>{e(paras[0])}</p><table class='linksisip'><tr><td><div class='lihatjg'>"
            f"<strong>Baca juga:</strong> <a href='/b'>{baca}</a></div></td></tr></table>"
            "<div class='parallaxindetail'>ADVERTISEMENT SCROLL TO CONTINUE WITH CONTENT</div>"
            + "".join(f"<p>{e(p)}</p>" for p in paras[1:])
            + f"<strong>Simak juga Video: {baca}</strong>"
        )
        main = (
            f"<article class='detail'><h1 class='detail__title'>{e(title)}</h1>"
            "<figure><figcaption>(Foto: Redaksi/detikcom)</figcaption></figure>"
            f"<div class='detail__body-text itp_bodycontent'>{mid}</div></article>"
            f"<section class='berita-terkait'><h2>Berita Terkait</h2><ul>{rel}</ul></section>"
        )
    elif kind == "kompas":
        main = (
            f"<h1 class='read__title'>{e(title)}</h1><div class='read__credit'>Penulis: Redaksi</div>"
            f"<div class='read__content'><div class='clearfix'><p>{e(paras[0])}</p>"
            f"<p><strong>Baca juga: <a class='inner-link-baca-juga' href='/b'>{baca}</a></strong></p>"
            + "".join(f"<p>{e(p)}</p>" for p in paras[1:])
            + "</div><p>Simak breaking news dan berita pilihan kami langsung di ponselmu.</p></div>"
            f"<div class='read__more'><h3>Berita Terkait</h3><ul>{rel}</ul></div>"
        )
    elif kind == "ihram":  # the seed article as scraped: boilerplate inline as paragraphs
        main = (
            f"<h1>{e(title)}</h1><div class='article-content'><p>Sidebar</p>"
            "<p>Suasana di lokasi. (Foto: Republika/Redaksi)</p><p>Rep: Redaksi Red: Redaksi</p>"
            f"<p>{e(paras[0])}</p><p>Baca Juga: {baca}</p>"
            + "".join(f"<p>{e(p)}</p>" for p in paras[1:])
            + f"<p>Berita terkait</p><ul>{rel}</ul><p>Editor: Redaksi</p><p>(rhs)</p></div>"
            f"<div class='berita-lainnya'><p>Berita Lainnya</p><ul>{rel}</ul></div>"
        )
    elif kind == "republika":
        main = (
            f"<h1>{e(title)}</h1><div class='caption'>Foto: ANTARA/Redaksi</div>"
            f"<div class='article-content'><p>{e(paras[0])}</p>"
            f"<div class='baca-juga'><div>Baca Juga</div><ul>{rel}</ul></div>"
            + "".join(f"<p>{e(p)}</p>" for p in paras[1:])
            + f"</div><div class='berita-lainnya'><h3>Berita Lainnya</h3><ul>{rel}</ul></div>"
        )
    else:
        main = (
            f"<div id='main'><h2>{e(title)}</h2><div class='entry'>{body}</div></div>"
            f"<div id='side'><h3>Terbaru</h3><ul>{rel}</ul></div>"
        )
    return head + main + "<div class='footer'>Copyright © 2025</div></body></html>"


LAYOUT = {
    "Detik": "detik",
    "Okezone": "detik",
    "Sindonews": "kompas",
    "Tempo": "kompas",
    "Republika": "republika",
    "IHRAM": "ihram",
    "Antara": "generic",
    "BBC Indonesia": "generic",
}


def topics() -> list[TopicSpec]:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    return [TopicSpec(t["name"], t["query"]) for t in cfg["topics"]]


def with_pages(items: list[dict]) -> list[dict]:
    """Each item's article page; its boilerplate names three other items' titles."""
    for i, it in enumerate(items):
        others = [items[(i + k) % len(items)]["title"] for k in (3, 7, 11)]
        kind = it.get("layout") or LAYOUT.get(it["outlet"], "generic")
        it["html"] = layout(kind, it["title"], it["body"].split("\n\n"), others)
    return items


def demo_items() -> list[dict]:
    now = datetime.now(timezone.utc)
    bodies = render_all(now)
    items: list[dict] = []
    for outlet in OUTLETS:
        feed = parse_feed(bodies[outlet.path], url="https://demo.example" + outlet.path, now=now)
        for it in feed.items:
            body = it.content or it.summary
            items.append(
                {
                    "outlet": outlet.name,
                    "title": it.title,
                    "terse": first_sentence(it.summary),
                    "body": "\n\n".join(paragraphs_of(body)),
                    "published_at": it.published_at,
                }
            )
    return with_pages(items)


KINDS = ("detik", "kompas", "republika", "ihram", "generic")


def labelled_items() -> tuple[list[dict], set[tuple[int, int]]]:
    """tests/data/stories_labelled.jsonl: story labels give the true same-story pairs."""
    rows = [
        json.loads(line)
        for line in (ROOT / "tests" / "data" / "stories_labelled.jsonl").open(encoding="utf-8")
    ]
    items = []
    for n, r in enumerate(rows):
        body = r.get("content") or r["summary"]
        outlet = r["outlet"]
        kind = next((k for k in KINDS if k in outlet), KINDS[n % len(KINDS)])
        items.append(
            {
                "outlet": outlet,
                "title": r["title"],
                "terse": first_sentence(r["summary"]),
                "body": "\n\n".join(paragraphs_of(body)),
                "published_at": datetime.fromisoformat(r["published_at"]),
                "layout": kind,
                "story": r["story"],
            }
        )
    truth = {
        (i, j)
        for i, j in combinations(range(len(items)), 2)
        if items[i]["story"] == items[j]["story"] and items[i]["outlet"] != items[j]["outlet"]
    }
    return with_pages(items), truth


def matches(m: Matcher, items: list[dict], field: str | None) -> set[tuple[int, str]]:
    out = set()
    for i, it in enumerate(items):
        text = it.get(field, "") if field else ""
        for hit in m.match(it["title"], it["terse"], text or ""):
            out.add((i, hit.topic))
    return out


def pairs(items: list[dict], field: str | None) -> set[tuple[int, int]]:
    docs = [
        Doc(
            it["title"],
            it["terse"],
            (it.get(field) or "") if field else "",
            None,
            published_at=it["published_at"],
        )
        for it in items
    ]
    return {
        (i, j)
        for i, j in combinations(range(len(items)), 2)
        if items[i]["outlet"] != items[j]["outlet"] and same_story(docs[i], docs[j], WINDOW)
    }


def fetch_all(items: list[dict]) -> dict[str, list]:
    """Full text through the real path: loopback server, fetcher, limiter, extraction."""
    costs: dict[str, list] = {"time": [], "fetched": [], "stored": [], "failed": []}
    with LoopbackServer() as srv, Fetcher(FetchPolicy(timeout=10.0)) as fetcher:
        af = ArticleFetcher(fetcher, FulltextPolicy(per_host_per_minute=0))
        for i, it in enumerate(items):
            srv.static(f"/artikel/{i}", it["html"].encode(), "text/html; charset=utf-8")
            res = af.fetch_text(srv.url(f"/artikel/{i}"), feed_is_private=True)
            costs["time"].append(res.elapsed)
            costs["fetched"].append(res.bytes_fetched)
            if res.text is None:
                costs["failed"].append(res.status)
            it["pantau"] = res.text or ""
            costs["stored"].append(len((res.text or "").encode()))
    return costs


def scenario(
    title: str,
    items: list[dict],
    exts: dict[str, Extractor],
    truth_p: set[tuple[int, int]] | None = None,
) -> None:
    m = Matcher.compile(topics())
    costs = fetch_all(items)
    for name, ext in exts.items():
        if name.startswith("trafilatura"):
            for it in items:
                it[name] = ext(it["html"], "https://demo.example/x")
    for it in items:
        it["naive"] = naive(it["html"], "")
    truth_m = matches(m, items, "body")
    truth_note = "story labels" if truth_p is not None else "the article body as written"
    if truth_p is None:
        truth_p = pairs(items, "body")
    terse_m, terse_p = matches(m, items, None), pairs(items, None)
    print(f"## {title}\n")
    print(
        f"{len(items)} items, feed summaries cut to one sentence; {len(m.topic_names)} topics "
        f"from config.yaml. Truth: topic matches on the article body as written "
        f"({len(truth_m)}); cross-outlet same-story pairs from {truth_note} ({len(truth_p)}).\n"
    )
    print("| text used | topic matches | wrong | missed | same-story pairs | wrong | missed |")
    print("|---|---|---|---|---|---|---|")
    rows: list[tuple[str, str | None]] = [("title + 1-sentence summary", None)]
    rows += [("+ full text (pantau)", "pantau")]
    rows += [(f"+ full text ({n})", n) for n in exts if n.startswith("trafilatura")]
    rows += [("+ whole page text, no extraction", "naive"), ("+ article body as written", "body")]
    for label, field in rows:
        mm = terse_m if field is None else matches(m, items, field)
        pp = terse_p if field is None else pairs(items, field)
        print(
            f"| {label} | {len(mm)} | {len(mm - truth_m)} | {len(truth_m - mm)} "
            f"| {len(pp)} | {len(pp - truth_p)} | {len(truth_p - pp)} |"
        )
    print()
    full_m, full_p = matches(m, items, "pantau"), pairs(items, "pantau")
    print(
        f"Full text (pantau) adds {len(full_m - terse_m)} topic matches and "
        f"{len(full_p - terse_p)} same-story pairs; removes {len(terse_m - full_m)} and "
        f"{len(terse_p - full_p)}."
    )
    for i, topic in sorted(full_m - terse_m)[:10]:
        print(f"  + match {topic!r}: {items[i]['outlet']}: {items[i]['title'][:70]}")
    for i, j in sorted(full_p - terse_p)[:10]:
        print(f"  + pair {items[i]['outlet']} / {items[j]['outlet']}: {items[i]['title'][:60]}")
    t, st = costs["time"], costs["stored"]
    print(
        f"\nCost per item (loopback): fetch+extract median {statistics.median(t) * 1000:.1f} ms; "
        f"bytes fetched median {statistics.median(costs['fetched']):.0f}; bytes stored median "
        f"{statistics.median(st):.0f} (mean {statistics.mean(st):.0f}, total {sum(st)})."
    )
    if costs["failed"]:
        reasons = sorted({re.sub(r"\d+ chars", "N chars", f) for f in costs["failed"]})
        print(f"Fell back to the summary: {len(costs['failed'])} of {len(items)} ({reasons}).")
    print()


def fetch_costs() -> None:
    """The fixtures through the real fetch path: what one article costs to fetch and store."""
    spec = json.loads((ARTICLES / "expected.json").read_text(encoding="utf-8"))["articles"]
    print("## Fixture articles fetched over loopback\n")
    print("| article | status | pages | bytes fetched | bytes stored | ms |")
    print("|---|---|---|---|---|---|")
    with LoopbackServer() as srv, Fetcher(FetchPolicy(timeout=10.0)) as fetcher:
        af = ArticleFetcher(fetcher, FulltextPolicy(per_host_per_minute=0))
        for name, art in spec.items():
            for path, file in art["pages"].items():
                srv.static(path, (ARTICLES / file).read_bytes(), "text/html; charset=utf-8")
            best = None
            for _ in range(10):
                res = af.fetch_text(srv.url(next(iter(art["pages"]))), feed_is_private=True)
                best = res if best is None or res.elapsed < best.elapsed else best
            assert best is not None
            print(
                f"| {name} | {best.status} | {best.pages} | {best.bytes_fetched} "
                f"| {len((best.text or '').encode())} | {best.elapsed * 1000:.1f} |"
            )
    print()


def real_size_timing(exts: dict[str, Extractor]) -> None:
    """Real outlet pages are 150-400 KB, mostly inline scripts, JSON and navigation: the
    detik fixture padded to that size."""
    html = (ARTICLES / "detik_p1.html").read_text(encoding="utf-8")
    script = (
        "<script>window.__DATA__ = "
        + json.dumps({"k": ["nilai <b>" + "x" * 80] * 2500})
        + ";</script>"
    )
    nav = "<ul class='menu'>" + "<li><a href='/k/1'>Kanal berita daerah</a></li>" * 1500 + "</ul>"
    padded = html.replace("</head>", script + "</head>").replace("<body class", nav + "<body class")
    print(f"## Extraction time on a real-sized page ({len(padded.encode()) // 1024} KB)\n")
    print("| extractor | ms (median of 10) | text chars |")
    print("|---|---|---|")
    for name, ext in exts.items():
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            out = ext(padded, "https://news.detik.com/berita/d-7000001/x")
            times.append(time.perf_counter() - t0)
        print(f"| {name} | {statistics.median(times) * 1000:.1f} | {len(out)} |")
    print()


def main() -> None:
    exts = extractors()
    fixture_table(exts)
    real_size_timing(exts)
    fetch_costs()
    scenario("Demo-like scenario: the bundled demo feeds", demo_items(), exts)
    items, truth = labelled_items()
    scenario("Labelled stories corpus (tests/data/stories_labelled.jsonl)", items, exts, truth)


if __name__ == "__main__":
    main()
