"""JSON Feed (https://jsonfeed.org) beside RSS and Atom: a site that publishes only JSON Feed
was "not a feed: JSON or other non-XML text". Documents in our own words, shaped after the
spec's examples of versions 1 and 1.1; hostile shapes; then through the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as hst

from daemon.demo.loopback import LoopbackServer
from daemon.feeds.parse import CONTENT_MAX, SUMMARY_MAX, TITLE_MAX, parse_feed
from tests.test_pipeline import pantau, write_config

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=timezone.utc)
URL = "https://kabar.example.id/feed.json"


def doc(items: list[Any], version: str = "https://jsonfeed.org/version/1.1") -> bytes:
    return json.dumps(
        {"version": version, "title": "Kabar Pesisir", "home_page_url": "https://kabar.example.id/",
         "feed_url": URL, "items": items}
    ).encode()  # fmt: skip


def test_a_json_feed_reads_as_its_rss_twin() -> None:
    items = [
        {"id": "k-1", "url": "https://kabar.example.id/berita/1",
         "title": "Nelayan Pesisir Utara Kembali Melaut Setelah Cuaca Membaik",
         "content_html": "<p>Ratusan nelayan kembali melaut pada <b>Senin</b> pagi.</p>",
         "date_published": "2026-12-07T06:30:00+07:00",
         "authors": [{"name": "Rina Wulandari"}]},
        # 1.0: a number as id, "author" as one object, text as plain text with a "<"
        {"id": 2, "external_url": "https://kabar.example.id/berita/2",
         "title": "Harga Ikan Turun", "content_text": "Harga tongkol < Rp30.000 per kilogram.",
         "date_modified": "2026-12-07T08:00:00+07:00", "author": {"name": "Redaksi"}},
        # a summary beside the text, and no id: the link is its identity
        {"url": "https://kabar.example.id/berita/3", "title": "Dermaga Baru Diresmikan",
         "summary": "Dermaga diresmikan wali kota.", "content_html": "<p>Teks lengkap.</p>"},
    ]  # fmt: skip
    got = parse_feed(doc(items), url=URL, now=NOW)
    assert got.error is None and got.title == "Kabar Pesisir"
    assert got.link == "https://kabar.example.id/"
    rows = [(i.url, i.title, i.summary, i.published_at, i.author) for i in got.items]
    assert rows == [
        ("https://kabar.example.id/berita/1",
         "Nelayan Pesisir Utara Kembali Melaut Setelah Cuaca Membaik",
         "Ratusan nelayan kembali melaut pada Senin pagi.",
         datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc), "Rina Wulandari"),
        ("https://kabar.example.id/berita/2", "Harga Ikan Turun",
         "Harga tongkol < Rp30.000 per kilogram.",
         datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc), "Redaksi"),
        ("https://kabar.example.id/berita/3", "Dermaga Baru Diresmikan",
         "Dermaga diresmikan wali kota.", NOW, ""),
    ]  # fmt: skip
    assert got.items[2].content == "Teks lengkap."
    assert len({i.identity for i in got.items}) == 3


def test_version_1_is_read_too() -> None:
    got = parse_feed(
        doc([{"id": "1", "url": "https://kabar.example.id/a", "title": "Satu",
              "content_text": "Isi."}], "https://jsonfeed.org/version/1"),
        url=URL, now=NOW,
    )  # fmt: skip
    assert [i.title for i in got.items] == ["Satu"]


def test_odd_values_cost_their_field_not_the_feed() -> None:
    items: list[Any] = [
        "not an item",
        {"id": True, "url": ["x"], "title": 7, "content_html": {"a": 1}, "date_published": 3},
        {"id": "ok", "url": "https://kabar.example.id/b", "title": "Tetap Terbaca",
         "authors": "Redaksi", "content_text": "Isi."},
    ]  # fmt: skip
    got = parse_feed(doc(items), url=URL, now=NOW)
    assert got.error is None
    assert [i.title for i in got.items] == ["Tetap Terbaca"]
    assert got.items[0].author == ""


def test_json_that_is_no_json_feed_is_still_not_a_feed() -> None:
    nested = '{"version": "https://jsonfeed.org/version/1.1", "items": ' + "[" * 100_000
    nested += "]" * 100_000 + "}"
    for body in (b'{"error": "rate limited"}', b"[1, 2, 3]", b'{"version": 1.1, "items": []',
                 nested.encode()):  # fmt: skip
        got = parse_feed(body, url=URL, now=NOW)
        assert got.items == [] and got.error == "not a feed: JSON or other non-XML text", body[:40]


_json = hst.recursive(
    hst.none() | hst.booleans() | hst.integers() | hst.floats(allow_nan=False) | hst.text(),
    lambda kids: (
        hst.lists(kids, max_size=4) | hst.dictionaries(hst.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = ["id", "url", "external_url", "title", "summary", "content_html", "content_text",
           "date_published", "date_modified", "author", "authors"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(hst.lists(hst.dictionaries(hst.sampled_from(_FIELDS), _json | hst.text()), max_size=6))
def test_any_values_in_any_fields_never_break_the_feed(items: list[dict[str, Any]]) -> None:
    got = parse_feed(doc(items), url=URL, now=NOW)
    assert got.error is None
    for it in got.items:
        assert len(it.title) <= TITLE_MAX and len(it.summary) <= SUMMARY_MAX
        assert len(it.content) <= CONTENT_MAX
        for text in (it.title, it.summary, it.content, it.author):
            assert "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def test_cli_a_json_feed_alerts_like_any_feed(tmp_path: Path) -> None:
    body = doc([
        {"id": "k-9", "url": "https://kabar.example.id/berita/9",
         "title": "Banjir Rob Rendam Permukiman di Pesisir Utara",
         "content_text": "Banjir rob merendam ratusan rumah warga sejak Minggu malam.",
         "date_published": datetime.now(timezone.utc).isoformat()},
    ])  # fmt: skip
    topics = "topics:\n  - {name: Banjir, query: banjir, notify: [log]}\n"
    topics += "notifiers:\n  log: {type: console}\n"
    with LoopbackServer() as srv:
        feed = srv.static("/feed.json", body, "application/feed+json")
        cfg = write_config(tmp_path, [("Kabar Pesisir", feed)], topics)
        r = pantau("--config", str(cfg), "run", "--once")
    assert r.returncode == 0, r.stderr
    assert "[pantau] Banjir | Kabar Pesisir |" in r.stdout
    stories = json.loads(pantau("--config", str(cfg), "stories", "--json").stdout)
    assert [s["title"] for s in stories] == ["Banjir Rob Rendam Permukiman di Pesisir Utara"]
