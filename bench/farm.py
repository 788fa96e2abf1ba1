"""Feed farm: N loopback RSS feeds of Indonesian-news-like items, served fast enough that the
client under test, never the farm, is what a benchmark measures.

Runs as its own process (so it never takes the GIL from the measured one) on an asyncio raw
protocol with keep-alive; every body is rendered and gzipped ahead of time, so a request costs
a dictionary lookup and one ``write``. Feeds answer 304 to a matching ``If-None-Match`` (or,
without one, ``If-Modified-Since``), and gzip when ``Accept-Encoding`` allows.

Rotation (a fraction of the feeds gain k new items) is triggered either by ``POST /_rotate``
(deterministic: round r always picks the same feeds) or every ``--rotate-every`` seconds.

    python bench/farm.py --feeds 1000 --items 50 --port 8800
    curl -s localhost:8800/_urls | head; curl -s -XPOST 'localhost:8800/_rotate?fraction=0.2&items=5'

``--corpus DIR`` serves the saved real outlet feeds in DIR (``*.xml``) instead, unchanged.

Control endpoints: ``GET /_urls`` (one feed URL per line), ``GET /_stats`` (JSON counters and
the farm's own CPU seconds), ``POST /_rotate[?fraction=f&items=k]``, ``POST /_reset``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import math
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

# ---------------------------------------------------------------------------------------------
# Word lists (the project's own wording, shaped like Indonesian wire copy)

KOTA = (
    "Jakarta Surabaya Medan Makassar Bandung Semarang Denpasar Palembang Yogyakarta Padang "
    "Pontianak Banjarmasin Manado Ambon Jayapura Kupang Mataram Pekanbaru Jambi Bengkulu "
    "Kendari Palu Samarinda Balikpapan Batam Serang Bogor Malang Solo Cirebon Tasikmalaya "
    "Sorong Ternate Gorontalo Mamuju Tarakan Lhokseumawe Banda-Aceh Sibolga Tegal"
).split()
TOKOH = (
    "Presiden Joko Widodo",
    "Wakil Presiden",
    "Menteri Keuangan",
    "Menteri Luar Negeri",
    "Menteri Pertahanan",
    "Menteri ESDM",
    "Menteri Kesehatan",
    "Menteri Perdagangan",
    "Kapolri",
    "Panglima TNI",
    "Ketua KPK",
    "Jaksa Agung",
    "Gubernur Bank Indonesia",
    "Kepala BMKG",
    "Kepala BNPB",
    "Ketua DPR",
    "Gubernur DKI Jakarta",
    "Gubernur Jawa Timur",
    "Wali Kota Surabaya",
    "Bupati Bogor",
    "Juru bicara Kemlu",
    "Direktur Utama Pertamina",
    "Ketua Umum PSSI",
    "Kapolda Metro Jaya",
    "Kepala Dinas Kesehatan",
    "Ekonom senior",
    "Pengamat politik",
    "Ketua Komisi I DPR",
    "Duta Besar Indonesia untuk Rusia",
    "Sekretaris Jenderal NATO",
)
VERBA = (
    "menyatakan",
    "menegaskan",
    "meminta",
    "mengumumkan",
    "membantah",
    "menyoroti",
    "mendorong",
    "menanggapi",
    "meninjau",
    "membahas",
    "mengkritik",
    "mengapresiasi",
    "memastikan",
    "mengingatkan",
    "mengungkap",
    "menargetkan",
)
OBJEK = (
    "kenaikan harga BBM bersubsidi",
    "konflik Rusia dan Ukraina",
    "pertemuan puncak NATO di Brussel",
    "kasus korupsi yang ditangani KPK",
    "banjir rob di pesisir utara",
    "gempa bumi magnitudo 5,6",
    "laju inflasi bulan ini",
    "pelemahan nilai tukar rupiah",
    "persiapan Pemilu 2024",
    "harga beras di pasar tradisional",
    "vaksinasi dosis penguat",
    "kebakaran hutan dan lahan",
    "arus mudik Lebaran",
    "investasi asing di kawasan industri",
    "ekspor batu bara ke China",
    "pembangunan Ibu Kota Nusantara",
    "kualifikasi Piala Dunia",
    "hasil Liga Spanyol",
    "kerja sama dagang dengan Tiongkok",
    "serangan rudal di Kyiv",
    "sanksi Uni Eropa terhadap Moskow",
    "penertiban pedagang kaki lima",
    "kemacetan di jalur Pantura",
    "stunting pada balita",
    "subsidi pupuk untuk petani",
    "penyelundupan narkoba lewat pelabuhan",
    "kenaikan suku bunga acuan",
    "program makan siang gratis",
    "sengketa lahan warga",
    "harga emas Antam hari ini",
    "perubahan iklim dan cuaca ekstrem",
    "keamanan siber lembaga negara",
    "reformasi birokrasi",
    "perlindungan pekerja migran",
    "kebijakan impor gula",
    "tol laut di kawasan timur",
    # subjects no benchmark topic looks for (most news matches no topic)
    "renovasi stadion utama",
    "festival budaya di alun-alun",
    "penataan kawasan kota tua",
    "seleksi calon pegawai negeri",
    "layanan kependudukan daring",
    "penerimaan siswa baru",
    "peluncuran aplikasi layanan publik",
    "pengembangan desa wisata",
    "jadwal operasional kereta rel listrik",
    "pemeliharaan jaringan listrik",
    "penyediaan air bersih di permukiman",
    "revitalisasi pasar rakyat",
    "penanaman mangrove di pesisir",
    "lomba lari maraton internasional",
    "pameran produk usaha kecil",
    "perbaikan jalan rusak di perbatasan",
    "pengelolaan sampah plastik",
    "sertifikasi halal produk makanan",
    "penyaluran kredit usaha rakyat",
    "perekaman kartu identitas anak",
    "pembukaan rute penerbangan baru",
    "uji coba bus listrik",
    "perayaan hari jadi kabupaten",
    "pelatihan kerja bagi pemuda",
    "pemugaran cagar budaya",
    "pembangunan rumah susun",
    "konser musik amal",
    "pendataan warga miskin",
    "perluasan ruang terbuka hijau",
    "penghargaan kota layak anak",
)
KATA = (
    "pemerintah daerah warga petugas pihaknya masyarakat aparat anggaran program kebijakan "
    "laporan data pekan bulan tahun kegiatan pelaksanaan koordinasi evaluasi pengawasan "
    "pembangunan bantuan penanganan pemeriksaan penyidik tersangka saksi sidang pengadilan "
    "rapat kerja komisi fraksi partai koalisi oposisi anggota dewan kepala dinas kantor "
    "kawasan wilayah desa kecamatan kabupaten provinsi pulau pelabuhan bandara terminal stasiun "
    "harga pasokan stok distribusi pasar pedagang konsumen produsen ekspor impor neraca "
    "pertumbuhan ekonomi investor saham obligasi rupiah dolar bank kredit pinjaman utang "
    "cuaca hujan angin gelombang banjir longsor kekeringan kebakaran gempa evakuasi pengungsi "
    "sekolah siswa guru kampus mahasiswa rumah sakit pasien dokter obat vaksin layanan "
    "jalan jembatan listrik air bersih internet jaringan telekomunikasi transportasi bus kereta "
    "keamanan ketertiban patroli operasi razia penangkapan barang bukti kerugian negara "
    "diplomasi perundingan delegasi kunjungan kenegaraan perjanjian perdamaian gencatan senjata"
).split()
SAMBUNG = (
    "Hal itu disampaikan dalam keterangan tertulis di",
    "Menurut dia, langkah tersebut perlu agar",
    "Ia menambahkan bahwa",
    "Sebelumnya, pihak berwenang mencatat",
    "Dalam kesempatan itu, ia juga menyebut",
    "Berdasarkan data terbaru,",
    "Di sisi lain,",
    "Pihaknya berharap",
    "Sementara itu, warga setempat mengeluhkan",
    "Kepada wartawan, ia menjelaskan",
    "Rencananya,",
    "Tercatat",
)
# Words that the benchmark's topics look for stay out of the free-order filler, so an item
# matches the topics of its own subject (about one item in three matches one), not at random.
TRIGGERS = (
    "ukraina kyiv nato rusia moskow putin china tiongkok beijing kpk bbm bahan bakar banjir "
    "longsor gempa tsunami inflasi suku bunga bank indonesia rupiah pemilu pilkada kpu beras "
    "gula pupuk korupsi suap gratifikasi narkoba sabu ibu kota nusantara ikn batu bara pssi "
    "liga piala dunia spanyol cuaca bmkg ekstrem siber peretas hacker pekerja migran tki "
    "harga naik turun pelemahan vaksin vaksinasi stunting serangan menyerang diserang"
).split()
VOCAB = sorted(
    (set(KATA) | {w.lower() for p in TOKOH + OBJEK + VERBA for w in p.split() if len(w) > 3})
    - set(TRIGGERS)
)
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
KANTOR = ("ANTARA", "Detik", "Kompas", "Tempo", "Republika", "Okezone", "Sindonews", "Liputan6")

SPACING = 600  # seconds between two consecutive items of the initial feed
WIRE_GROUP = 5  # a syndicated story is carried by this many consecutive feeds


def _rng(*key: int) -> random.Random:
    return random.Random(hashlib.blake2b(repr(key).encode(), digest_size=8).digest())


def _number(r: random.Random) -> str:
    kind = r.randrange(4)
    if kind == 0:
        return f"Rp{r.randrange(1, 999)},{r.randrange(10)} miliar"
    if kind == 1:
        return f"{r.randrange(2, 9999):,} orang".replace(",", ".")
    if kind == 2:
        return f"{r.randrange(1, 99)},{r.randrange(10)} persen"
    return f"{r.randrange(2, 500)} unit"


def story_text(r: random.Random, kota: str, kantor: str) -> tuple[str, str]:
    """Title (~10 words) and plain lead (40-60 words) of one report.

    Story grouping fingerprints the lead's word 3-shingles, so the lead is mostly free word
    order over a large vocabulary: two unrelated farm items share about as few shingles as two
    unrelated real reports do. Fixed phrases (``SAMBUNG``) only appear past the 40th word.
    """
    tokoh, verba, objek = r.choice(TOKOH), r.choice(VERBA), r.choice(OBJEK)
    title = f"{tokoh} {verba} {objek} di {kota}"
    target = r.randrange(40, 61)
    words = [r.choice(VOCAB) for _ in range(36)]
    for w in [*objek.split()[:2], tokoh.split()[-1].lower(), _number(r)]:
        words.insert(r.randrange(len(words)), w)
    for i in range(r.randrange(5, 9), len(words), r.randrange(6, 11)):
        words[i] += "."
    while len(words) < target:
        words.extend(r.choice(SAMBUNG).split())
        words.extend(r.choice(VOCAB) for _ in range(r.randrange(3, 7)))
    lead = " ".join(words[:target]).rstrip(".,") + "."
    return title, f"{kota} ({kantor}) - {lead[0].upper()}{lead[1:]}"


@dataclass
class FeedState:
    no: int
    head: int  # items [head - M, head) are live, newest first
    born: dict[int, float] = field(default_factory=dict)  # rotated items: idx -> epoch
    etag: str = ""
    last_modified: float = 0.0
    lm_header: str = ""
    body: bytes = b""
    gz: bytes = b""


class Farm:
    """The feeds' content and versions; rendering is pure and deterministic per seed."""

    def __init__(self, feeds: int, items: int, *, seed: int = 1, syndicated: float = 0.1) -> None:
        self.n, self.m, self.seed, self.syndicated = feeds, items, seed, syndicated
        self.t0 = float(int(time.time()))
        self.round = 0
        self.feeds = [FeedState(i, items) for i in range(feeds)]
        self._items: dict[tuple[int, int], str] = {}
        for f in self.feeds:
            self._render(f, self.t0)

    def host(self, feed: int) -> str:
        return f"www.media{feed:04d}.co.id"

    def published(self, f: FeedState, idx: int) -> float:
        if idx in f.born:
            return f.born[idx]
        return self.t0 - (self.m - idx) * SPACING - (f.no * 37) % SPACING

    def item_xml(self, f: FeedState, idx: int) -> str:
        key = (f.no, idx)
        cached = self._items.get(key)
        if cached is not None:
            return cached
        r = _rng(self.seed, f.no, idx)
        if _rng(self.seed, -2, f.no // WIRE_GROUP, idx).random() < self.syndicated:
            # a wire story: the feeds of one group carry the same text under their own links
            wr = _rng(self.seed, -1, f.no // WIRE_GROUP, idx)
            title, lead = story_text(wr, wr.choice(KOTA), "ANTARA")
        else:
            title, lead = story_text(r, r.choice(KOTA), r.choice(KANTOR))
        slug = "-".join(title.lower().replace(",", "").split()[:8])
        link = f"https://{self.host(f.no)}/berita/{f.no}{idx:06d}/{slug}"
        img = (
            f'<img src="https://img.media{f.no:04d}.co.id/2024/{idx % 12 + 1:02d}/{idx}.jpg" '
            f'align="left" border="0">'
        )
        xml = (
            f"<item><title>{escape(title)}</title><link>{link}</link>"
            f"<pubDate>{_wib(self.published(f, idx))}</pubDate>"
            f"<description>{escape(img + lead)}</description>"
            f"<guid>{link}</guid></item>\n"
        )
        self._items[key] = xml
        return xml

    def _render(self, f: FeedState, now: float) -> None:
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n',
            f"<title>Media {f.no:04d} - Berita Terkini</title>",
            f"<link>https://{self.host(f.no)}/</link>",
            "<description>Berita terkini dari Indonesia</description><language>id</language>",
            f"<lastBuildDate>{_wib(now)}</lastBuildDate>\n",
        ]
        for idx in range(f.head - 1, f.head - self.m - 1, -1):
            parts.append(self.item_xml(f, idx))
        parts.append("</channel></rss>\n")
        self._publish(f, "".join(parts).encode(), now)

    def _publish(self, f: FeedState, body: bytes, now: float) -> None:
        f.body = body
        f.gz = gzip.compress(f.body, compresslevel=6, mtime=0)
        f.etag = '"' + hashlib.blake2b(f.body, digest_size=10).hexdigest() + '"'
        # strictly increasing, so If-Modified-Since never hides a change made in the same second
        f.last_modified = max(float(int(now)), f.last_modified + 1)
        f.lm_header = formatdate(f.last_modified, usegmt=True)

    def rotate(self, fraction: float, items: int) -> list[int]:
        """Round r picks the same feeds on every run: a seeded sample."""
        self.round += 1
        count = min(self.n, math.ceil(fraction * self.n))
        chosen = sorted(_rng(self.seed, 7, self.round).sample(range(self.n), count))
        now = time.time()
        for no in chosen:
            f = self.feeds[no]
            for j in range(items):
                f.born[f.head + j] = now - (items - 1 - j) * 1.0
            for idx in range(f.head - self.m, f.head - self.m + items):
                self._items.pop((no, idx), None)
            f.head += items
            f.born = {k: v for k, v in f.born.items() if k >= f.head - self.m}
            self._render(f, now)
        return chosen


class CorpusFarm(Farm):
    """Saved real outlet feeds (one ``*.xml`` file each, in name order) served as they are:
    the real corpus workload; rotation changes nothing."""

    def __init__(self, directory: Path) -> None:
        self.files = sorted(directory.glob("*.xml"))
        if not self.files:
            raise SystemExit(f"no *.xml in {directory}")
        self.bodies = [p.read_bytes() for p in self.files]
        super().__init__(len(self.files), 0)

    def _render(self, f: FeedState, now: float) -> None:
        self._publish(f, self.bodies[f.no], now)

    def rotate(self, fraction: float, items: int) -> list[int]:
        self.round += 1
        return []


def _wib(epoch: float) -> str:
    t = time.gmtime(epoch + 7 * 3600)
    return time.strftime("%a, %d %b %Y %H:%M:%S +0700", t)


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass
class Stats:
    requests: int = 0
    ok: int = 0
    not_modified: int = 0
    other: int = 0
    bytes_out: int = 0
    connections: int = 0
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "200": self.ok,
            "304": self.not_modified,
            "other": self.other,
            "bytes_out": self.bytes_out,
            "connections": self.connections,
            "farm_cpu_seconds": round(time.process_time(), 3),
            "uptime": round(time.monotonic() - self.started, 3),
        }


def _accepts_gzip(value: str) -> bool:
    for part in value.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and float(q[2:] or 0) == 0)
    return False


def not_modified(f: FeedState, headers: dict[str, str]) -> bool:
    """RFC 9110: If-None-Match wins; If-Modified-Since only counts without it."""
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or f.etag in tags or ("W/" + f.etag) in tags
    ims = headers.get("if-modified-since")
    if ims:
        try:
            return parsedate_to_datetime(ims).timestamp() >= f.last_modified
        except (TypeError, ValueError):
            return False
    return False


class Server:
    def __init__(self, farm: Farm, base: str) -> None:
        self.farm, self.base, self.stats = farm, base, Stats()
        self.stop = asyncio.Event()

    def urls(self) -> list[str]:
        return [f"{self.base}/feed/{i}.xml" for i in range(self.farm.n)]

    def respond(self, method: str, target: str, headers: dict[str, str]) -> bytes:
        path, _, query = target.partition("?")
        st = self.stats
        st.requests += 1
        if path.startswith("/feed/") and path.endswith(".xml") and method in ("GET", "HEAD"):
            try:
                f = self.farm.feeds[int(path[6:-4])]
            except (ValueError, IndexError):
                st.other += 1
                return _response(404, b"no such feed\n")
            common = [
                ("ETag", f.etag),
                ("Last-Modified", f.lm_header),
                ("Cache-Control", "max-age=0"),
                ("Vary", "Accept-Encoding"),
            ]
            if not_modified(f, headers):
                st.not_modified += 1
                return _response(304, b"", common)
            st.ok += 1
            gz = _accepts_gzip(headers.get("accept-encoding", ""))
            body = f.gz if gz else f.body
            extra = [("Content-Type", "application/rss+xml; charset=UTF-8"), *common]
            if gz:
                extra.append(("Content-Encoding", "gzip"))
            st.bytes_out += len(body)
            return _response(200, b"" if method == "HEAD" else body, extra, length=len(body))
        if path == "/_urls":
            return _response(200, ("\n".join(self.urls()) + "\n").encode())
        if path == "/_stats":
            return _response(200, json.dumps(st.as_dict()).encode(), [("Content-Type", "json")])
        if path == "/_rotate" and method == "POST":
            q = parse_qs(query)
            fraction = float(q.get("fraction", [ARGS_DEFAULTS["fraction"]])[0])
            items = int(q.get("items", [ARGS_DEFAULTS["items"]])[0])
            chosen = self.farm.rotate(fraction, items)
            doc = {"round": self.farm.round, "feeds": chosen, "items": items}
            return _response(200, json.dumps(doc).encode(), [("Content-Type", "json")])
        if path == "/_reset" and method == "POST":
            self.stats = Stats(connections=st.connections, started=st.started)
            return _response(200, b"{}")
        if path == "/_quit" and method == "POST":
            self.stop.set()
            return _response(200, b"{}")
        st.other += 1
        return _response(404, b"not found\n")


ARGS_DEFAULTS: dict[str, float] = {"fraction": 0.2, "items": 5}
_REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found"}


def _response(
    status: int, body: bytes, headers: list[tuple[str, str]] | None = None, length: int = -1
) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'X')}"]
    for k, v in headers or ():
        lines.append(f"{k}: {v}")
    if status != 304:
        lines.append(f"Content-Length: {len(body) if length < 0 else length}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; requests are tiny, so a simple buffer parse is enough."""

    MAX_HEAD = 64 * 1024

    def __init__(self, server: Server) -> None:
        self.server = server
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.stats.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        t = self.transport
        assert t is not None
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > self.MAX_HEAD:
                    t.write(_response(400, b"head too large\n"))
                    t.close()
                return
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            clen = int(headers.get("content-length", "0") or 0)
            if len(self.buf) < end + 4 + clen:
                return
            self.buf = self.buf[end + 4 + clen :]
            parts = lines[0].split(" ")
            if len(parts) != 3:
                t.write(_response(400, b"bad request line\n"))
                t.close()
                return
            method, target, version = parts
            if target.startswith("http"):
                target = urlsplit(target).path or "/"
            t.write(self.server.respond(method, target, headers))
            conn = headers.get("connection", "").lower()
            if conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive"):
                t.close()
                return


async def serve(args: argparse.Namespace) -> None:
    started = time.monotonic()
    farm = (
        CorpusFarm(args.corpus)
        if args.corpus
        else Farm(args.feeds, args.items, seed=args.seed, syndicated=args.syndicated)
    )
    loop = asyncio.get_running_loop()
    holder: dict[str, Server] = {}
    srv = await loop.create_server(
        lambda: HttpProtocol(holder["s"]), args.host, args.port, backlog=2048, reuse_address=True
    )
    port = srv.sockets[0].getsockname()[1]
    server = Server(farm, f"http://{args.host}:{port}")
    holder["s"] = server
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.stop.set)
    size = sum(len(f.body) for f in farm.feeds) / max(1, farm.n)
    gz = sum(len(f.gz) for f in farm.feeds) / max(1, farm.n)
    print(
        f"READY {port} feeds={farm.n} items={farm.m} body={size / 1024:.1f}KB "
        f"gzip={gz / 1024:.1f}KB render={time.monotonic() - started:.1f}s",
        flush=True,
    )

    async def rotator() -> None:
        while True:
            await asyncio.sleep(args.rotate_every)
            chosen = farm.rotate(args.rotate_fraction, args.rotate_items)
            print(f"rotated round={farm.round} feeds={len(chosen)}", flush=True)

    tasks = []
    if args.rotate_every > 0:
        tasks.append(asyncio.create_task(rotator()))
    try:
        await asyncio.wait_for(server.stop.wait(), timeout=args.lifetime)
    except asyncio.TimeoutError:
        print("lifetime reached, exiting", file=sys.stderr, flush=True)
    for t in tasks:
        t.cancel()
    srv.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=int, default=200)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--host", default="127.0.0.1", help="a loopback address only")
    p.add_argument("--port", type=int, default=0, help="0: any free port (printed on READY)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--syndicated", type=float, default=0.1, help="share of wire copies")
    p.add_argument("--rotate-fraction", type=float, default=0.2)
    p.add_argument("--rotate-items", type=int, default=5)
    p.add_argument("--rotate-every", type=float, default=0.0, help="seconds; 0: only /_rotate")
    p.add_argument(
        "--corpus", type=Path, help="serve this directory's *.xml feeds instead of rendered ones"
    )
    p.add_argument("--lifetime", type=float, default=4 * 3600, help="exit after this long")
    args = p.parse_args(argv)
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        p.error("--host must be a loopback address")
    ARGS_DEFAULTS.update(fraction=args.rotate_fraction, items=args.rotate_items)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
