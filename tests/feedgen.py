"""Builders for Indonesian-style RSS documents used by the pipeline tests.

The wording is the project's own; the shapes follow the real feeds (RSS 2.0 with +0700
dates, escaped HTML in descriptions, guids that are URLs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape

WIB = timezone(timedelta(hours=7))

KOTA = ["Jakarta", "Surabaya", "Medan", "Makassar", "Bandung", "Semarang", "Denpasar", "Palembang"]
SUBJEK = [
    "Pemerintah",
    "DPR",
    "Kementerian Keuangan",
    "Polri",
    "BMKG",
    "Bank Indonesia",
    "KPK",
    "Pemprov",
]
AKSI = [
    "mengumumkan kebijakan baru soal",
    "membahas anggaran untuk",
    "meninjau langsung lokasi",
    "menggelar rapat terkait",
    "meminta warga waspada terhadap",
    "menyiapkan langkah antisipasi",
]
OBJEK = [
    "banjir rob di pesisir utara",
    "harga beras yang terus naik",
    "pembangunan jalan tol trans daerah",
    "gelombang tinggi di perairan selatan",
    "penyaluran bantuan sosial tahap dua",
    "arus mudik akhir tahun",
    "vaksinasi anak sekolah",
    "kemacetan di jalur utama kota",
]


@dataclass
class Entry:
    guid: str
    title: str
    summary: str
    link: str
    published: datetime


def entries(feed_no: int, n: int, *, start: int = 0, now: datetime | None = None) -> list[Entry]:
    now = now or datetime.now(timezone.utc)
    out = []
    for i in range(start, start + n):
        k = feed_no * 7919 + i * 104729
        kota, subj = KOTA[k % len(KOTA)], SUBJEK[(k // 8) % len(SUBJEK)]
        aksi, obj = AKSI[(k // 64) % len(AKSI)], OBJEK[(k // 384) % len(OBJEK)]
        title = f"{subj} {aksi} {obj} di {kota} ({feed_no}-{i})"
        summary = (
            f"{kota} - {subj} pada hari ini {aksi} {obj}. Langkah ini diambil setelah laporan "
            f"warga nomor {feed_no}{i:04d} masuk ke posko pengaduan sejak pekan lalu."
        )
        link = f"https://outlet{feed_no}.example/berita/{i}/judul-{feed_no}-{i}"
        out.append(Entry(link, title, summary, link, now - timedelta(minutes=5 * i + 1)))
    return out


def rss(title: str, items: list[Entry]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
        "<description>Berita terkini</description><language>id</language>",
    ]
    for e in items:
        parts.append(
            "<item>"
            f"<title>{escape(e.title)}</title>"
            f"<link>{escape(e.link)}</link>"
            f"<guid>{escape(e.guid)}</guid>"
            f"<pubDate>{format_datetime(e.published.astimezone(WIB))}</pubDate>"
            f"<description>{escape('<p>' + escape(e.summary) + '</p>')}</description>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")
