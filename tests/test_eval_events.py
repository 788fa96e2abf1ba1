"""The hand-labelled event pairs (tests/data/events_labelled.jsonl) and their scorer
(bench/eval_events.py): schema, no article text, URLs that exist in the real corpus."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import eval_events  # noqa: E402

FIELDS = {"a_url", "b_url", "a_title", "b_title", "kind", "split", "why"}
MIN_SAME = 300  # issue 26: at least 300 same-happening pairs ...
LONGEST = 300  # ... and no field long enough to carry article text


def rows() -> list[dict]:
    return [json.loads(line) for line in eval_events.LABELLED.read_text("utf-8").splitlines()]


def test_every_line_has_exactly_the_schema() -> None:
    for n, r in enumerate(rows(), 1):
        assert set(r) == FIELDS, n
        assert all(isinstance(v, str) and v.strip() for v in r.values()), n
        assert r["kind"] in eval_events.KINDS, n
        assert r["split"] in eval_events.SPLITS, n
        assert r["a_url"].startswith("https://") and r["b_url"].startswith("https://"), n
        assert r["a_url"] != r["b_url"], n
        assert max(len(v) for v in r.values()) <= LONGEST, n


def test_no_pair_twice_in_either_order() -> None:
    keys = Counter(frozenset((r["a_url"], r["b_url"])) for r in rows())
    assert [k for k, n in keys.items() if n > 1] == []


def test_sizes_and_splits() -> None:
    rs = rows()
    kinds = Counter(r["kind"] for r in rs)
    assert kinds["same_happening"] >= MIN_SAME
    assert kinds["different"] >= kinds["same_happening"] + kinds["copy"]
    for kind in eval_events.KINDS:
        splits = Counter(r["split"] for r in rs if r["kind"] == kind)
        assert 0.25 <= splits["dev"] / sum(splits.values()) <= 0.55, (kind, splits)


def test_pairs_score_through_the_loader() -> None:
    # the bench's own loader accepts every line (a typo in a key would raise here)
    assert len(eval_events.load_pairs()) == len(rows())


def test_score_counts_grouped_pairs_per_split_and_kind() -> None:
    p = [
        eval_events.Pair("u1", "u2", "t1", "t2", "copy", "dev", "w"),
        eval_events.Pair("u1", "u3", "t1", "t3", "same_happening", "test", "w"),
        eval_events.Pair("u3", "u4", "t3", "t4", "same_happening", "test", "w"),
        eval_events.Pair("u2", "u5", "t2", "t5", "different", "test", "w"),
        eval_events.Pair("u4", "u5", "t4", "t5", "different", "dev", "w"),
    ]
    labels = {"u1": 1, "u2": 1, "u3": 1, "u4": 2, "u5": 2}  # u5 wrongly joins u4
    cells, outcomes = eval_events.score(p, labels)
    assert (cells["dev", "copy"].pairs, cells["dev", "copy"].grouped) == (1, 1)
    assert (cells["test", "same_happening"].pairs, cells["test", "same_happening"].grouped) == (
        2,
        1,
    )
    assert eval_events.headline(cells["all", "different"], "different") == 0.5
    assert eval_events.headline(cells["test", "different"], "different") == 1.0
    assert [t for _, t in outcomes] == [True, True, False, False, True]
    # urls the grouper leaves out are events of their own, never merged with each other
    cells, _ = eval_events.score(p, {})
    assert cells["all", "copy"].grouped == 0 and cells["all", "different"].grouped == 0


def test_same_happening_is_also_counted_by_outlet() -> None:
    ant, jogja, rep = (
        "https://www.antaranews.com/berita/1",
        "https://jogja.antaranews.com/berita/2",
        "https://ekonomi.republika.co.id/berita/3",
    )
    p = [
        eval_events.Pair(ant, jogja, "t", "t", "same_happening", "dev", "w"),
        eval_events.Pair(ant, rep, "t", "t", "same_happening", "dev", "w"),
    ]
    cells, _ = eval_events.score(p, {ant: 1, jogja: 1, rep: 2})
    one, two = cells["dev", "same_happening/one_outlet"], cells["dev", "same_happening/two_outlets"]
    assert (one.pairs, one.grouped, two.pairs, two.grouped) == (1, 1, 1, 0)
    assert eval_events.site(rep) == "republika.co.id"


def test_title_words_baseline_links_near_days_only() -> None:
    d = date(2025, 5, 1)
    arts = [
        eval_events.Article("a", "x", "Harga emas Antam anjlok Rp33.000", d, ""),
        eval_events.Article("b", "y", "Emas Antam anjlok Rp33.000 : Okezone Economy", d, ""),
        eval_events.Article("c", "y", "Emas Antam anjlok Rp33.000", date(2025, 5, 5), ""),
    ]
    g = eval_events.same_title_words(arts)
    assert g["a"] == g["b"] != g["c"]


CORPUS = eval_events.corpus_path()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="news-2025.csv not available")


@needs_corpus
def test_urls_and_titles_match_the_corpus_and_no_text_is_copied() -> None:
    assert CORPUS is not None
    by_url = {a.url: a for a in eval_events.load_corpus(CORPUS)}
    for n, r in enumerate(rows(), 1):
        for side in "ab":
            art = by_url.get(r[f"{side}_url"])
            assert art is not None, (n, r[f"{side}_url"])
            assert r[f"{side}_title"] == eval_events.clean_title(art.title), n
        # the reason is in our own words: no run of eight words from either article's text
        words = re.findall(r"\w+", r["why"].lower())
        text = " ".join(
            re.findall(r"\w+", (by_url[r["a_url"]].text + " " + by_url[r["b_url"]].text).lower())
        )
        for i in range(len(words) - 7):
            assert " ".join(words[i : i + 8]) not in text, (n, r["why"])


@needs_corpus
def test_script_runs_and_singletons_is_the_floor() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "eval_events.py"),
            "--grouper",
            "singletons",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    cells = json.loads(out)["cells"]
    kinds = Counter(r["kind"] for r in rows())
    for kind, n in kinds.items():
        assert cells[f"all/{kind}"] == {"pairs": n, "grouped": 0}


def test_script_skips_without_the_corpus(tmp_path: Path) -> None:
    # a copy of the script in a checkout with no ../shared beside it: says so and exits 0
    src = (ROOT / "bench" / "eval_events.py").read_text("utf-8")
    script = tmp_path / "bench" / "eval_events.py"
    script.parent.mkdir()
    script.write_text(src, "utf-8")
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    assert "skipped" in out.stdout


@needs_corpus
def test_the_file_is_what_the_annotations_say(tmp_path: Path) -> None:
    # the jsonl is generated from tests/data/events_annotations.txt: a hand edit of one
    # without the other shows up here
    out = tmp_path / "pairs.jsonl"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "data" / "make_events_labelled.py"),
            "--corpus",
            str(CORPUS),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert out.read_text("utf-8") == eval_events.LABELLED.read_text("utf-8")
