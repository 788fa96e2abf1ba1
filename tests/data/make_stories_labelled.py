"""Writes tests/data/stories_labelled.jsonl: a labelled story-grouping corpus written for pantau.

Seeds are hand-written (stories_seeds.py and the families below); outlet copies are produced
with the transforms real syndication shows: rewritten titles, datelines added or removed,
the summary cut to its first one to three sentences (or empty), small edits in updates.
Hard negatives share a ``family``: templated daily reports (gold, fuel, exchange rate) that
differ only in figures and dates, two Ukraine events on one day, two articles from one press
conference, and a re-run outside the story window.

Deterministic: ``python tests/data/make_stories_labelled.py`` rewrites the same file.
"""

from __future__ import annotations

import json
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from stories_seeds import GENERAL, SINGLES  # noqa: E402

OUT = Path(__file__).with_name("stories_labelled.jsonl")
WIB = timezone(timedelta(hours=7))
HARI = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember"]  # fmt: skip


def day(n: int) -> datetime:
    """Day ``n`` counted from 1 November 2025 (n may exceed 30)."""
    return datetime(2025, 11, 1, tzinfo=WIB) + timedelta(days=n - 1)


def fill(text: str, d: datetime, year: bool = False) -> str:
    tgl = f"{d.day}/{d.month}" + (f"/{d.year}" if year else "")
    return text.replace("{hari}", HARI[d.weekday()]).replace("{tgl}", tgl)


def rupiah(v: int) -> str:
    return f"{v:,}".replace(",", ".")


class Corpus:
    def __init__(self) -> None:
        self.items: list[dict] = []
        self.rng = random.Random(20251101)

    def add(self, story: str, outlet: str, title: str, summary: str, when: datetime,
            content: str = "", family: str | None = None, url: str | None = None,
            pattern: str = "") -> None:  # fmt: skip
        n = len(self.items) + 1
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
        self.items.append(
            {
                "id": n,
                "story": story,
                "outlet": outlet,
                "title": title,
                "summary": summary,
                "content": content,
                "url": url or f"https://{outlet}/berita/{n}/{slug}",
                "published_at": when.astimezone(timezone.utc).isoformat(),
                "family": family,
                "pattern": pattern,
            }
        )


# --- syndication transforms --------------------------------------------------------------


def small_edits(text: str) -> str:
    """What a re-publishing desk changes without changing the facts."""
    text = re.sub(r"\((\d{1,2}/\d{1,2})\)", lambda m: f"({m[1]}/2025)", text)
    text = re.sub(r"Rp(\d)", r"Rp \1", text)
    text = text.replace(" mengatakan ", " menuturkan ", 1)
    return text.replace("Adapun ", "", 1)


SYNONYMS = {" mengatakan ": " menjelaskan ", " sekitar ": " kurang lebih ", " menjadi ": " jadi ",
            " sebanyak ": " sejumlah ", " kembali ": " lagi-lagi ", " sehingga ": " hingga ",
            " setelah ": " usai ", " tersebut ": " itu ", " juga ": " pun ", " untuk ": " guna ",
            " dengan ": " serta ", " di ": " pada "}  # fmt: skip


def rewrite(text: str, rng: random.Random) -> str:
    """A desk's rewrite: several words swapped for synonyms, sentences kept in order."""
    for old, new in rng.sample(sorted(SYNONYMS.items()), 5):
        text = text.replace(old, new)
    return text


def cut(sentences: list[str], n: int) -> str:
    return " ".join(sentences[:n])


def republika_dateline(city: str) -> str:
    return f"REPUBLIKA.CO.ID, {city.upper()} -- "


def antara_dateline(city: str) -> str:
    return f"{city} (ANTARA) - "


OUTLETS = ["republika.co.id", "okezone.com", "sindonews.com", "jogja.antaranews.com",
           "ihram.co.id", "merdeka.com"]  # fmt: skip


def copy_of(c: Corpus, outlet: str, sentences: list[str], city: str) -> tuple[str, str]:
    """(summary, pattern) of one outlet's copy."""
    r = c.rng
    if outlet == "republika.co.id":
        n = r.choice([2, 3, 3])
        body = small_edits(cut(sentences, n))
        if r.random() < 0.4:
            return republika_dateline(city) + rewrite(body, r), "retitle+dateline+rewrite"
        return republika_dateline(city) + body, "retitle+dateline+edits"
    if outlet == "ihram.co.id":
        return f"IHRAM.CO.ID, {city.upper()} -- " + cut(sentences, 3), "retitle+dateline"
    if outlet == "okezone.com":
        return cut(sentences, r.choice([1, 2])), "retitle+no-dateline+cut"
    if outlet == "sindonews.com":
        s = cut(sentences, 2)
        if len(sentences) > 1:
            s = sentences[0] + " Baca Juga: Harga Emas Hari Ini Naik Lagi " + sentences[1]
        return s, "retitle+baca-juga"
    if outlet == "jogja.antaranews.com":
        return antara_dateline(city) + cut(sentences, 3), "same-text"
    if r.random() < 0.5:
        teaser = "Ada kabar terbaru yang perlu Anda ketahui hari ini."
        return f"{teaser} {cut(sentences, 2)}", "retitle+teaser+cut-2"
    return f"merdeka.com - {cut(sentences, 1)}", "retitle+cut-1"


def general(c: Corpus) -> None:
    r = c.rng
    for i, (key, dn, city, titles, lead, more) in enumerate(GENERAL):
        t0 = day(dn).replace(hour=r.randint(6, 19), minute=r.randint(0, 59))
        sents = [fill(s, t0) for s in lead]
        content = " ".join(sents + more) if more else ""
        c.add(key, "antaranews.com", titles[0], antara_dateline(city) + cut(sents, 3), t0,
              content=antara_dateline(city) + content if content else "", pattern="origin")  # fmt: skip
        origin_url = c.items[-1]["url"]
        k = r.choice([1, 2, 2, 3])
        for j, outlet in enumerate(r.sample(OUTLETS, k)):
            when = t0 + timedelta(minutes=r.randint(8, 600))
            summary, pattern = copy_of(c, outlet, sents, city)
            title = titles[1 + j % (len(titles) - 1)]
            body = republika_dateline(city) + small_edits(content) if content else ""
            c.add(key, outlet, title, summary, when,
                  content=body if outlet == "republika.co.id" else "", pattern=pattern)  # fmt: skip
        if i % 6 == 2:  # an update: one more sentence, a word changed, a day later
            upd = " ".join(sents[:2]).replace(" sekitar ", " kurang lebih ", 1)
            upd += " Informasi ini diperbarui seiring perkembangan terbaru di lapangan."
            c.add(key, "antaranews.com", titles[0] + " (update)", antara_dateline(city) + upd,
                  t0 + timedelta(hours=r.randint(5, 30)), pattern="update")  # fmt: skip
        if i % 9 == 4:  # the feed gave no summary: unmergeable by text
            c.add(key, "okezone.com", titles[-1], "", t0 + timedelta(hours=2),
                  pattern="empty-summary")  # fmt: skip
        if i % 10 == 1:  # the same article in a second Antara feed, summary dropped
            c.add(key, "antaranews.com", titles[0], "", t0 + timedelta(minutes=30),
                  url=origin_url, pattern="same-url")  # fmt: skip
        if i % 17 == 5:  # re-run five days later: outside the 72h window, a new story
            c.add(key + "-rerun", "merdeka.com", titles[1], cut(sents, 2),
                  t0 + timedelta(days=5), family=key, pattern="rerun-outside-window")  # fmt: skip
            for it in c.items:
                if it["story"] == key:
                    it["family"] = key
    for key, dn, _city, title, text in SINGLES:
        t0 = day(dn).replace(hour=r.randint(6, 19))
        c.add(key, r.choice(["antaranews.com", "okezone.com"]), title, text, t0,
              pattern="single")  # fmt: skip


# --- templated daily reports ---------------------------------------------------------------


def gold(c: Corpus) -> None:
    """Antam gold price: one story per day, Antara original plus a Republika copy."""
    r = c.rng
    price, bb = 2_262_000, 2_107_000
    for n in range(1, 17):
        d = day(n).replace(hour=9, minute=r.randint(0, 40))
        delta = 0 if n in (8, 9) else r.choice([-27, -15, -9, -4, 2, 6, 12, 16, 21]) * 1000
        prev, price, bb = price, price + delta, bb + delta
        if delta == 0:
            move = f"tetap di angka Rp{rupiah(price)} per gram, sama seperti hari sebelumnya"
        else:
            verb = "naik" if delta > 0 else "turun"
            move = (f"{verb} Rp{rupiah(abs(delta))} menjadi Rp{rupiah(price)} per gram dari "
                    f"sebelumnya Rp{rupiah(prev)} per gram")  # fmt: skip
        sents = [
            f"Harga emas batangan PT Aneka Tambang Tbk yang dipantau dari laman Logam Mulia "
            f"pada {{hari}} ({{tgl}}) {move}.",
            f"Adapun harga pembelian kembali atau buyback emas batangan berada di level "
            f"Rp{rupiah(bb)} per gram.",
            "Transaksi penjualan kembali emas batangan dengan nominal lebih dari Rp10 juta "
            "dikenakan pajak penghasilan Pasal 22 sebesar 1,5 persen bagi pemegang NPWP dan "
            "3 persen bagi yang tidak memiliki NPWP.",
        ]
        sents = [fill(s, d) for s in sents]
        title = (f"Harga emas Antam {HARI[d.weekday()]} ini "
                 + ("stabil" if delta == 0 else ("naik" if delta > 0 else "turun"))
                 + f" ke Rp{price / 1e6:.3f} juta per gram".replace(".", ","))  # fmt: skip
        story = f"emas-{n}"
        c.add(story, "antaranews.com", title, antara_dateline("Jakarta") + " ".join(sents), d,
              family="emas", pattern="template")  # fmt: skip
        rep_title = f"Emas Antam Hari Ini Dibanderol Rp {rupiah(price)} per Gram"
        c.add(story, "republika.co.id", rep_title,
              republika_dateline("Jakarta") + small_edits(cut(sents, r.choice([2, 3]))),
              d + timedelta(minutes=r.randint(20, 180)), family="emas",
              pattern="template-copy")  # fmt: skip


def fuel(c: Corpus) -> None:
    """Daily fuel-price roundups: identical prices on consecutive days, only dates differ."""
    prices = [(12_500, 13_500, 13_200, 13_500), (12_200, 13_100, 13_000, 13_300)]
    for n in range(25, 31):
        d = day(n).replace(hour=6, minute=15)
        p = prices[0] if n < 28 else prices[1]
        tgl = f"{d.day} {BULAN[d.month - 1]} {d.year}"
        sents = [
            f"PT Pertamina (Persero) memberlakukan harga bahan bakar minyak nonsubsidi per "
            f"{HARI[d.weekday()]}, {tgl}, dengan Pertamax dijual Rp{rupiah(p[0])} per liter "
            f"dan Pertamax Turbo Rp{rupiah(p[1])} per liter di wilayah Jakarta.",
            f"Harga Dexlite berada di level Rp{rupiah(p[2])} per liter, sedangkan Pertamina "
            f"Dex dijual Rp{rupiah(p[3])} per liter.",
            "Harga Pertalite tetap Rp10.000 per liter dan Biosolar bersubsidi Rp6.800 per liter.",
        ]
        story = f"bbm-{n}"
        c.add(story, "antaranews.com", f"Harga BBM Pertamina hari ini, {tgl}",
              antara_dateline("Jakarta") + " ".join(sents), d, family="bbm",
              pattern="template")  # fmt: skip
        c.add(story, "okezone.com", f"Cek Harga Pertamax Hari Ini {HARI[d.weekday()]}",
              cut(sents, 1), d + timedelta(minutes=45), family="bbm",
              pattern="template-copy")  # fmt: skip


def kurs(c: Corpus) -> None:
    """Closing rupiah rate: same sentences, different figures and weekdays."""
    r = c.rng
    rate = 16_640
    for n in range(3, 11):
        d = day(n).replace(hour=16, minute=30)
        move = r.choice([-35, -20, -12, 8, 15, 27, 41])
        prev, rate = rate, rate - move
        verb = "menguat" if move > 0 else "melemah"
        pct = f"{abs(move) / prev * 100:.2f}".replace(".", ",")
        sents = [
            f"Nilai tukar rupiah yang ditransaksikan antarbank di Jakarta pada {{hari}} sore "
            f"ditutup {verb} {abs(move)} poin atau {pct} persen menjadi Rp{rupiah(rate)} per "
            f"dolar AS dari sebelumnya Rp{rupiah(prev)} per dolar AS.",
            "Pengamat pasar uang menilai pergerakan rupiah dipengaruhi ekspektasi pasar "
            "terhadap arah suku bunga bank sentral Amerika Serikat.",
        ]
        sents = [fill(s, d) for s in sents]
        story = f"kurs-{n}"
        c.add(story, "antaranews.com", f"Rupiah {HARI[d.weekday()]} sore {verb} {abs(move)} poin",
              antara_dateline("Jakarta") + " ".join(sents), d, family="kurs",
              pattern="template")  # fmt: skip
        c.add(story, "republika.co.id", f"Rupiah Ditutup {verb.title()} ke Rp{rupiah(rate)}",
              republika_dateline("Jakarta") + small_edits(" ".join(sents)),
              d + timedelta(minutes=40), family="kurs", pattern="template-copy")  # fmt: skip


UKRAINA: list[tuple[str, str, str]] = [
    (
        "Drone Rusia hantam gedung apartemen di Kharkiv",
        "Serangan Drone di Kharkiv Tewaskan Warga",
        "Serangan pesawat nirawak Rusia menghantam sebuah gedung apartemen di Kota Kharkiv, "
        "Ukraina timur, pada {hari} dini hari dan menewaskan sedikitnya empat orang. Gubernur "
        "wilayah Kharkiv mengatakan belasan warga lainnya terluka dan dua lantai gedung runtuh.",
    ),
    (
        "Ukraina dan Rusia bertukar ratusan tawanan perang",
        "Pertukaran Tawanan Rusia-Ukraina Kembali Digelar",
        "Ukraina dan Rusia kembali melakukan pertukaran tawanan perang pada {hari} dengan "
        "mediasi Uni Emirat Arab. Presiden Volodymyr Zelensky menyebut sebanyak 150 prajurit "
        "Ukraina pulang, sebagian di antaranya ditawan sejak pertempuran Mariupol.",
    ),
    (
        "Serangan rudal lumpuhkan pembangkit listrik di Odesa",
        "Odesa Gelap Gulita Usai Rudal Rusia Hantam Pembangkit",
        "Rusia melancarkan serangan rudal ke fasilitas energi di wilayah Odesa pada {hari} "
        "malam sehingga ratusan ribu rumah tangga kehilangan aliran listrik. Operator jaringan "
        "listrik nasional Ukraina memberlakukan pemadaman bergilir di wilayah selatan.",
    ),
    (
        "Zelensky umumkan pergantian panglima pasukan darat",
        "Zelensky Rombak Pimpinan Militer",
        "Presiden Ukraina Volodymyr Zelensky mengumumkan pergantian panglima pasukan darat "
        "pada {hari} dengan alasan perlunya pendekatan baru dalam pertahanan di front timur. "
        "Panglima yang baru sebelumnya memimpin brigade mekanis di wilayah Donetsk.",
    ),
    (
        "Kapal gandum tinggalkan pelabuhan Chornomorsk meski ada ancaman",
        "Ekspor Gandum Ukraina Jalan Terus Lewat Laut Hitam",
        "Tiga kapal pengangkut gandum meninggalkan pelabuhan Chornomorsk pada {hari} menuju "
        "Mesir dan Turki melalui koridor maritim yang ditetapkan Ukraina. Otoritas pelabuhan "
        "menyatakan ekspor biji-bijian bulan ini diperkirakan mencapai 5 juta ton.",
    ),
    (
        "Rusia klaim rebut desa di dekat Pokrovsk",
        "Moskow Klaim Kuasai Desa Baru di Donetsk",
        "Kementerian Pertahanan Rusia mengklaim pasukannya merebut sebuah desa di dekat kota "
        "Pokrovsk, wilayah Donetsk, pada {hari}. Staf Umum Angkatan Bersenjata Ukraina tidak "
        "mengonfirmasi klaim itu dan menyebut pertempuran sengit masih berlangsung.",
    ),
    (
        "Uni Eropa setujui pinjaman baru untuk Ukraina",
        "Ukraina Terima Pinjaman Jumbo dari Uni Eropa",
        "Dewan Uni Eropa menyetujui pencairan pinjaman baru senilai 4 miliar euro untuk "
        "membantu anggaran Ukraina pada {hari}. Dana itu berasal dari keuntungan aset bank "
        "sentral Rusia yang dibekukan di Eropa.",
    ),
    (
        "Drone Ukraina serang kilang minyak di Rusia selatan",
        "Kilang Minyak Rusia Terbakar Diserang Drone",
        "Pesawat nirawak Ukraina menyerang sebuah kilang minyak di wilayah Krasnodar, Rusia "
        "selatan, pada {hari} dini hari dan memicu kebakaran besar. Gubernur setempat "
        "menyatakan api berhasil dipadamkan dan tidak ada korban jiwa.",
    ),
    (
        "Zelensky bertemu utusan AS bahas rencana perdamaian",
        "Utusan Trump Temui Zelensky di Kiev",
        "Presiden Volodymyr Zelensky menerima utusan khusus Amerika Serikat di Kiev pada {hari} "
        "untuk membahas rancangan rencana perdamaian. Zelensky mengatakan Ukraina tidak akan "
        "menyerahkan wilayah yang diduduki sebagai syarat gencatan senjata.",
    ),
    (
        "Serangan drone Rusia tewaskan dua orang di Sumy",
        "Dua Warga Sumy Tewas Akibat Drone Rusia",
        "Dua orang tewas dan lima lainnya terluka ketika drone Rusia menghantam sebuah pasar di "
        "Kota Sumy, Ukraina timur laut, pada {hari} siang. Kepala administrasi militer Sumy "
        "mengatakan drone itu jatuh di antara kios pedagang sayur.",
    ),
    (
        "IAEA laporkan pemadaman listrik di PLTN Zaporizhzhia",
        "PLTN Zaporizhzhia Kembali Kehilangan Pasokan Listrik",
        "Badan Energi Atom Internasional melaporkan pembangkit listrik tenaga nuklir "
        "Zaporizhzhia kehilangan pasokan listrik eksternal pada {hari} sehingga harus "
        "menggunakan generator diesel. Direktur Jenderal IAEA menyerukan kedua pihak menahan diri.",
    ),
    (
        "Parlemen Ukraina perpanjang darurat militer 90 hari",
        "Darurat Militer di Ukraina Diperpanjang Lagi",
        "Parlemen Ukraina memperpanjang status darurat militer dan mobilisasi umum selama 90 "
        "hari dalam pemungutan suara pada {hari}. Perpanjangan itu merupakan yang ke-17 sejak "
        "invasi Rusia dimulai pada Februari 2022.",
    ),
    (
        "Rusia serang jaringan kereta api di Ukraina tengah",
        "Stasiun Kereta di Poltava Dihantam Rudal",
        "Rudal Rusia menghantam infrastruktur kereta api di wilayah Poltava, Ukraina tengah, "
        "pada {hari} pagi sehingga sejumlah perjalanan kereta penumpang tertunda. Perusahaan "
        "kereta api negara Ukraina menyatakan tidak ada penumpang yang terluka.",
    ),
    (
        "Jerman kirim sistem pertahanan udara tambahan ke Ukraina",
        "Berlin Tambah Bantuan Patriot untuk Kiev",
        "Pemerintah Jerman mengumumkan pengiriman dua sistem pertahanan udara tambahan ke "
        "Ukraina pada {hari} untuk melindungi kota-kota dari serangan rudal menjelang musim "
        "dingin. Menteri Pertahanan Jerman menyebut pengiriman dilakukan dalam beberapa pekan.",
    ),
    (
        "Kebakaran hutan meluas di zona eksklusi Chernobyl",
        "Zona Chernobyl Terbakar, Petugas Kesulitan Padamkan Api",
        "Kebakaran hutan meluas di zona eksklusi Chernobyl, Ukraina utara, pada {hari} "
        "setelah serpihan drone jatuh di kawasan itu. Layanan darurat Ukraina menyatakan "
        "tingkat radiasi di sekitar lokasi masih dalam batas normal.",
    ),
    (
        "Ukraina evakuasi anak-anak dari garis depan di Zaporizhzhia",
        "Ratusan Anak Dievakuasi dari Wilayah Zaporizhzhia",
        "Otoritas Ukraina mengevakuasi ratusan anak beserta orang tua mereka dari permukiman "
        "dekat garis depan di wilayah Zaporizhzhia pada {hari}. Gubernur wilayah itu "
        "mengatakan serangan artileri Rusia semakin intens dalam sepekan terakhir.",
    ),
]


def ukraina(c: Corpus) -> None:
    """Two different Ukraine events on each of eight days, each copied by Republika."""
    r = c.rng
    for k in range(0, len(UKRAINA), 2):
        dn = 3 + k
        for j in (0, 1):
            t_title, r_title, text = UKRAINA[k + j]
            d = day(dn).replace(hour=10 + 4 * j, minute=r.randint(0, 59))
            body = fill(text, d)
            story = f"ukr-{k + j}"
            c.add(story, "antaranews.com", t_title, "Kiev (ANTARA) - " + body, d,
                  family=f"ukraina-{dn}", pattern="ukraine")  # fmt: skip
            c.add(story, "republika.co.id", r_title, "KIEV -- " + small_edits(body),
                  d + timedelta(minutes=r.randint(30, 240)), family=f"ukraina-{dn}",
                  pattern="ukraine-copy")  # fmt: skip


PRESSERS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Menteri Keuangan Sri Mulyani Indrawati dalam konferensi pers APBN KiTa di Jakarta, {hari}, mengatakan",
        "Jakarta",
        [
            (
                "Penerimaan pajak hingga Oktober capai Rp1.459 triliun",
                "penerimaan pajak hingga akhir Oktober mencapai Rp1.459 triliun atau 66 persen dari target, tertekan oleh turunnya harga komoditas dan restitusi yang meningkat.",
            ),
            (
                "Sri Mulyani: belanja subsidi energi membengkak",
                "realisasi belanja subsidi energi hingga Oktober sudah mencapai Rp301 triliun karena volume konsumsi elpiji dan solar bersubsidi melampaui perkiraan awal.",
            ),
        ],
    ),
    (
        "Kapolri Jenderal Listyo Sigit Prabowo dalam jumpa pers di Mabes Polri, Jakarta, {hari}, menyampaikan",
        "Jakarta",
        [
            (
                "Polri kerahkan 150 ribu personel amankan Natal dan Tahun Baru",
                "Polri akan mengerahkan sekitar 150.000 personel gabungan dalam Operasi Lilin untuk mengamankan perayaan Natal dan Tahun Baru di seluruh Indonesia.",
            ),
            (
                "Kapolri perintahkan usut tuntas kasus penganiayaan tahanan",
                "pihaknya memerintahkan Divisi Profesi dan Pengamanan mengusut tuntas dugaan penganiayaan tahanan oleh oknum anggota di sebuah polres di Sumatera.",
            ),
        ],
    ),
    (
        "Kepala BMKG dalam konferensi pers daring di Jakarta, {hari}, menjelaskan",
        "Jakarta",
        [
            (
                "BMKG: puncak musim hujan terjadi Januari-Februari",
                "puncak musim hujan di sebagian besar wilayah Indonesia diperkirakan terjadi pada Januari hingga Februari sehingga masyarakat perlu mewaspadai banjir dan longsor.",
            ),
            (
                "BMKG ingatkan potensi gelombang tinggi saat libur akhir tahun",
                "gelombang laut setinggi 2,5 hingga 4 meter berpotensi terjadi di perairan selatan Jawa hingga Nusa Tenggara selama libur akhir tahun sehingga kapal kecil diminta tidak berlayar.",
            ),
        ],
    ),
    (
        "Menteri Luar Negeri dalam pernyataan pers tahunan di Gedung Pancasila, Jakarta, {hari}, menegaskan",
        "Jakarta",
        [
            (
                "Menlu tegaskan Indonesia tolak relokasi warga Gaza",
                "Indonesia menolak segala bentuk pemindahan paksa warga Gaza dan akan terus mendorong pengakuan penuh negara Palestina di Perserikatan Bangsa-Bangsa.",
            ),
            (
                "Indonesia targetkan perjanjian dagang dengan Uni Eropa berlaku 2027",
                "perundingan perjanjian kemitraan ekonomi komprehensif dengan Uni Eropa sudah rampung dan ditargetkan berlaku pada awal 2027 setelah ratifikasi.",
            ),
        ],
    ),
    (
        "Gubernur Jawa Barat dalam konferensi pers di Gedung Sate, Bandung, {hari}, mengatakan",
        "Bandung",
        [
            (
                "Pemprov Jabar hapus tunggakan pajak kendaraan",
                "Pemerintah Provinsi Jawa Barat menghapus denda dan tunggakan pajak kendaraan bermotor hingga akhir tahun agar warga kembali tertib membayar pajak.",
            ),
            (
                "Gubernur Jabar larang study tour ke luar provinsi",
                "sekolah di Jawa Barat dilarang menggelar study tour ke luar provinsi karena membebani orang tua dan rawan kecelakaan bus pariwisata.",
            ),
        ],
    ),
    (
        "Direktur Utama Pertamina dalam konferensi pers di Jakarta, {hari}, menyebutkan",
        "Jakarta",
        [
            (
                "Pertamina jamin stok BBM aman hingga akhir tahun",
                "stok bahan bakar minyak nasional dalam kondisi aman dengan ketahanan rata-rata 21 hari dan perusahaan menyiagakan 400 SPBU siaga di jalur mudik.",
            ),
            (
                "Pertamina bangun 100 stasiun pengisian kendaraan listrik",
                "perusahaan akan membangun 100 stasiun pengisian kendaraan listrik umum baru di jalan tol dan kota besar dalam dua tahun ke depan.",
            ),
        ],
    ),
    (
        "Ketua KPU dalam jumpa pers di kantor KPU, Jakarta, {hari}, mengungkapkan",
        "Jakarta",
        [
            (
                "KPU usulkan anggaran pemilu 2029 sebesar Rp41 triliun",
                "KPU mengusulkan anggaran penyelenggaraan pemilu 2029 sebesar Rp41 triliun yang akan dibahas bersama pemerintah dan DPR tahun depan.",
            ),
            (
                "KPU evaluasi penggunaan aplikasi Sirekap",
                "KPU tengah mengevaluasi aplikasi rekapitulasi suara Sirekap setelah banyak keluhan mengenai ketidaksesuaian data pada pemilihan lalu.",
            ),
        ],
    ),
    (
        "Menteri Pendidikan Dasar dan Menengah dalam konferensi pers di Jakarta, {hari}, menyampaikan",
        "Jakarta",
        [
            (
                "Mendikdasmen: guru honorer dapat tunjangan tambahan mulai Januari",
                "guru honorer yang telah memiliki sertifikat pendidik akan menerima tunjangan tambahan mulai Januari dengan besaran yang disesuaikan dengan masa kerja.",
            ),
            (
                "Ujian nasional tidak akan kembali digelar",
                "pemerintah tidak akan menghidupkan kembali ujian nasional, tetapi memperkuat tes kemampuan akademik sebagai alat ukur mutu pendidikan.",
            ),
        ],
    ),
]


def pressers(c: Corpus) -> None:
    """Two articles from one press conference, each copied by a second outlet."""
    r = c.rng
    for k, (opening, city, articles) in enumerate(PRESSERS):
        dn = 4 + 3 * k
        for j, (title, rest) in enumerate(articles):
            d = day(dn).replace(hour=13 + j, minute=r.randint(0, 59))
            text = fill(opening, d) + " " + rest
            story = f"pers-{k}-{j}"
            c.add(story, "antaranews.com", title, antara_dateline(city) + text, d,
                  family=f"pers-{k}", pattern="press-conference")  # fmt: skip
            c.add(story, r.choice(["okezone.com", "republika.co.id"]), title.upper()[:1]
                  + title[1:] + " | Berita Terkini", text,
                  d + timedelta(minutes=r.randint(15, 300)), family=f"pers-{k}",
                  pattern="press-conference-copy")  # fmt: skip


def main() -> None:
    c = Corpus()
    general(c)
    gold(c)
    fuel(c)
    kurs(c)
    ukraina(c)
    pressers(c)
    with OUT.open("w", encoding="utf-8") as f:
        for it in c.items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    stories = {}
    for it in c.items:
        stories.setdefault(it["story"], set()).add(it["outlet"])
    multi = sum(1 for v in stories.values() if len(v) > 1)
    print(f"{len(c.items)} items, {len(stories)} stories, {multi} multi-outlet -> {OUT}")


if __name__ == "__main__":
    main()
