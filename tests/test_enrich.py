"""Full text end to end: a feed with `fulltext: true`, article pages on loopback, then the
text changes what is grouped and matched."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from daemon.config import parse_config
from daemon.demo.loopback import LoopbackServer, send
from daemon.runtime.service import run_once
from daemon.storage.store import Store
from tests.feedgen import Entry, rss

BODY = [
    "Pemerintah Ukraina pada Kamis mengizinkan pasukan dari sejumlah negara sahabat mengikuti "
    "latihan gabungan di wilayah barat negara itu selama dua pekan ke depan.",
    "Latihan tersebut melibatkan satuan darat dan udara, termasuk simulasi evakuasi warga sipil "
    "dari kota-kota dekat perbatasan serta pengamanan jalur logistik kereta api.",
    "Juru bicara kementerian pertahanan mengatakan parlemen telah menyetujui rencana itu dengan "
    "suara mayoritas setelah perdebatan panjang mengenai jumlah personel asing.",
    "Sementara itu, sejumlah pengamat menilai keputusan tersebut menjadi sinyal penting menjelang "
    "pertemuan para menteri luar negeri di Brussel bulan depan.",
]


def page(title: str, paragraphs: list[str], extra: str = "") -> bytes:
    ps = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Beranda</a> <a href='/dunia'>Dunia</a></nav>"
        f"<article><h1>{title}</h1><div class='article-content'>{ps}"
        f"<p>Baca Juga: Harga cabai naik lagi di pasar induk</p>{extra}</div></article>"
        f"<aside>Berita Lainnya: Timnas juara turnamen persahabatan</aside></body></html>"
    ).encode()


def test_fulltext_adds_a_match_and_a_grouping(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    with LoopbackServer() as srv:
        # Two outlets carry one report: their feed summaries are different one-liners that
        # never name Ukraine; their article pages carry the same body.
        a_url = srv.url("/a/berita/1")
        b_url = srv.url("/b/berita/9")
        srv.static(
            "/a/berita/1",
            page("Latihan militer gabungan disetujui", BODY),
            "text/html; charset=utf-8",
        )
        srv.static(
            "/b/berita/9",
            page("Parlemen restui latihan pasukan asing", BODY[:3]),
            "text/html; charset=utf-8",
        )
        srv.route(
            "/c/berita/404",
            lambda r: send(r, 404, b"<html>tidak ada</html>", {"Content-Type": "text/html"}),
        )
        srv.static("/a.xml", rss("A", [
            Entry(a_url, "Latihan militer gabungan disetujui", "Keputusan diumumkan Kamis sore.", a_url, now - timedelta(hours=1)),
        ]))  # fmt: skip
        srv.static("/b.xml", rss("B", [
            Entry(b_url, "Parlemen restui latihan pasukan asing", "Simak rinciannya di sini.", b_url, now - timedelta(minutes=30)),
            Entry(srv.url("/c/berita/404"), "Berita yang hilang", "Halaman ini sudah dihapus.", srv.url("/c/berita/404"), now),
        ]))  # fmt: skip
        loaded = parse_config(
            f"database: sqlite:///{tmp_path / 'p.db'}\n"
            f"fulltext: {{default: true}}\n"
            f"feeds: [{{url: '{srv.url('/a.xml')}', name: A}}, {{url: '{srv.url('/b.xml')}', name: B}}]\n"
            "topics: [{name: Ukraina, query: Ukraina}]\n",
            env={},
        )
        run_once(loaded)
        assert srv.count("/a/berita/1") == 1 and srv.count("/b/berita/9") == 1
    store = Store.open(loaded.config.database)
    try:
        stories = store.stories_since(now - timedelta(days=1))
        multi = [s for s in stories if len(s.items) > 1]
        assert len(multi) == 1 and {i.feed for i in multi[0].items} == {"A", "B"}
        alerts = store.alerts_since(now - timedelta(days=1))
        assert [a.topic for a in alerts] == ["Ukraina"]  # found only in the body, raised once
        assert {s.outlet for s in alerts[0].sources} == {"A", "B"}
        import sqlalchemy as sa

        from daemon.storage.schema import items

        with store.engine.connect() as c:
            rows = {r.url: r for r in c.execute(sa.select(items))}
        ok = rows[a_url]
        assert ok.fulltext_status.startswith("ok") and "Baca Juga" not in ok.fulltext
        assert "Berita Lainnya" not in ok.fulltext and BODY[1][:40] in ok.fulltext
        lost = [r for u, r in rows.items() if u.endswith("/404")][0]
        assert lost.fulltext is None and "404" in lost.fulltext_status
    finally:
        store.close()


def test_feeds_without_fulltext_fetch_no_pages(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    with LoopbackServer() as srv:
        u = srv.url("/a/1")
        srv.static("/a/1", page("Judul", BODY), "text/html")
        srv.static("/a.xml", rss("A", [Entry(u, "Judul", "Ringkasan pendek.", u, now)]))
        loaded = parse_config(
            f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds: [{{url: '{srv.url('/a.xml')}'}}]\n",
            env={},
        )
        run_once(loaded)
        assert srv.count("/a/1") == 0
