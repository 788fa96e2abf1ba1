"""Builders for Indonesian-style RSS documents used by the pipeline tests.

The wording is the project's own; the shapes follow the real feeds (RSS 2.0 with +0700
dates, escaped HTML in descriptions, guids that are URLs).
"""

from __future__ import annotations

import random
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


_VOCAB = (
    "warga petugas gempa longsor banjir sekolah jembatan pasar rumah jalan desa kota listrik air "
    "tenda bantuan relawan polisi bupati gubernur menteri rapat anggaran tol kereta bandara "
    "pelabuhan nelayan petani beras cabai harga minyak gula garam kopi teh hujan angin gelombang "
    "laut sungai gunung hutan kebakaran asap kabut sampah parkir ojek bus truk mobil motor pajak "
    "ekspor impor investasi saham rupiah dolar inflasi bunga kredit koperasi pabrik buruh upah "
    "guru murid kampus dosen rumah sakit dokter perawat obat vaksin puskesmas klinik pasien"
).split()


def entries(feed_no: int, n: int, *, start: int = 0, now: datetime | None = None) -> list[Entry]:
    """``n`` distinct reports for outlet ``feed_no`` (each its own words, so each its own
    story), newest first, five minutes apart."""
    now = now or datetime.now(timezone.utc)
    out = []
    for i in range(start, start + n):
        rng = random.Random(feed_no * 1_000_003 + i)
        kota, subj = KOTA[rng.randrange(len(KOTA))], SUBJEK[rng.randrange(len(SUBJEK))]
        aksi, obj = AKSI[rng.randrange(len(AKSI))], OBJEK[rng.randrange(len(OBJEK))]
        words = " ".join(rng.choice(_VOCAB) for _ in range(30))
        title = f"{subj} {aksi} {obj} di {kota} ({feed_no}-{i})"
        summary = f"{kota} - {subj} {aksi} {obj}: {words}."
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
