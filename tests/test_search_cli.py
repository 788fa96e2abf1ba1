"""`pantau search QUERY`: a topic query over stored items, through the CLI as an editor
types it before adding the query as a topic (README, "Everyday commands")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from daemon.demo.loopback import LoopbackServer
from tests.feedgen import Entry, rss
from tests.test_cli import pantau

UTC = timezone.utc


@pytest.fixture
def polled(tmp_path: Path) -> Iterator[Path]:
    """A database that one `run --once` filled from a loopback outlet: four items, written
    here, of which two mention Gibran and Xi within a few words and one far apart."""
    now = datetime.now(UTC)
    texts = [
        ("Gibran bertemu Presiden Xi di Beijing", "Wapres membahas kerja sama dagang."),
        ("Prabowo terima kunjungan menteri", "Presiden Xi Jinping menyambut Prabowo hangat."),
        ("Gibran membuka pameran dagang di Jakarta pada pagi hari ini",
         "Sementara itu di tempat lain jauh dari pameran ada kabar soal Xi."),
        ("Harga emas Antam naik", "Emas batangan naik Rp10.000 per gram."),
    ]  # fmt: skip
    es = [
        Entry(f"https://a.example/{i}", t, s, f"https://a.example/{i}", now - timedelta(hours=i))
        for i, (t, s) in enumerate(texts)
    ]
    with LoopbackServer() as srv:
        url = srv.static("/a.xml", rss("A", es))
        cfg = tmp_path / "config.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n  - {{url: '{url}', name: Antara}}\n"
        )
        r = pantau("--config", str(cfg), "run", "--once")
        assert r.rc == 0, r.err
    yield cfg


def test_search_finds_what_the_query_matches_newest_first(polled: Path) -> None:
    r = pantau("--config", str(polled), "search", "(Prabowo OR Gibran) NEAR/5 Xi", "--json")
    assert r.rc == 0, r.err
    hits = json.loads(r.out)
    assert [h["title"] for h in hits] == [
        "Gibran bertemu Presiden Xi di Beijing",
        "Prabowo terima kunjungan menteri",
    ]
    assert hits[0]["feed"] == "Antara" and hits[0]["url"] == "https://a.example/0"
    assert set(hits[0]["matched"]) == {"Gibran", "Xi"}
    assert hits[1]["fields"] == ["summary"]
    table = pantau("--config", str(polled), "search", "emas")
    assert table.rc == 0 and "Harga emas Antam naik" in table.out and "matched=emas" in table.out


def test_search_says_when_nothing_matches_and_limits(polled: Path) -> None:
    r = pantau("--config", str(polled), "search", "Zelensky")
    assert r.rc == 0 and "no items first seen in the last 1d match" in r.out
    r = pantau("--config", str(polled), "search", "Gibran OR emas", "--limit", "1", "--json")
    assert r.rc == 0 and len(json.loads(r.out)) == 1


def test_a_bad_query_is_a_usage_error_pointing_at_its_position(polled: Path) -> None:
    r = pantau("--config", str(polled), "search", "Gibran AND (Xi")
    assert r.rc == 2 and r.out == ""
    assert r.err.strip().splitlines() == [r.err.strip()]  # one line
    assert "position 11" in r.err and "never closed" in r.err
