"""Loopback news outlets for the soak: feeds that gain stories at random, and hostile modes.

The outlets are the ground truth. Every story is generated here with the topics it must match
chosen by construction (its lead contains the topic keyword, or no topic word at all), and
every copy records the feed that carries it and the wall-clock moment it appeared there.
Syndicated copies share their lead text word for word (only the dateline and the headline
differ); different stories are drawn from a large vocabulary, so grouping mistakes are
pantau's, not the generator's.

A feed is served normally (RSS or Atom, ETag/304, gzip on request) or in one of the hostile
modes pantau must survive (README.md, "How polling works"): slow, huge, gzip bomb, entity
bomb, malformed, 5xx, 410, redirect loop.
Hostile bodies are built once at start-up so serving them costs nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

from daemon.demo.loopback import LoopbackServer, send

WIB = timezone(timedelta(hours=7))
MAX_ITEMS = 40  # items in one feed document, newest first

# Topic name -> (query, keyword the generator writes into a matching lead).
TOPICS: dict[str, tuple[str, str]] = {
    "Ukraina": ("Ukraina OR Kyiv", "Ukraina"),
    "NATO": ("NATO", "NATO"),
    "Gempa": ("gempa", "gempa"),
    "Nikel": ("nikel OR smelter", "nikel"),
}

# The project's own word list; none of these is a topic term or part of one.
VOCAB = """
warga pemerintah daerah kota kabupaten desa kecamatan provinsi rapat sidang dewan anggota
ketua wakil menteri kepala dinas badan lembaga kantor gedung jalan jembatan pasar sekolah
rumah sakit puskesmas bandara pelabuhan stasiun terminal kereta kapal pesawat bus angkutan
harga beras cabai bawang minyak gula telur daging ayam ikan sayur buah pupuk benih panen
petani nelayan pedagang buruh guru murid mahasiswa dosen dokter perawat bidan polisi tentara
hakim jaksa pengacara saksi terdakwa korban pelaku tersangka penyidik laporan aduan keluhan
anggaran belanja pajak retribusi bantuan subsidi kredit pinjaman tabungan investasi ekspor
impor produksi distribusi pasokan stok gudang pabrik industri usaha koperasi toko warung
hujan angin banjir longsor kemarau kebakaran hutan lahan sungai danau laut pantai gunung
bukit lembah sawah kebun ladang hewan ternak sapi kambing kerbau unggas vaksin obat
penyakit demam batuk flu diare wabah kesehatan gizi stunting air bersih sanitasi sampah
limbah polusi udara energi listrik tenaga surya gas bumi tambang batu bara emas tembaga
pasir kayu rotan karet sawit kopi kakao teh cengkih lada pala vanili tembakau kelapa
budaya seni musik tari lagu film buku perpustakaan museum festival pameran lomba juara
olahraga sepak bola bulu tangkis voli renang lari atlet pelatih tim klub liga turnamen
meninjau membahas menggelar menyiapkan menyalurkan membangun memperbaiki mengawasi menata
meresmikan mengunjungi mendata mencatat menghitung memeriksa menerima menolak menunda
mempercepat memperluas menambah mengurangi menaikkan menurunkan menjaga melindungi
mengimbau meminta mendorong mengajak menegaskan menjelaskan menyampaikan mengatakan
pagi siang sore malam pekan bulan tahun lalu depan baru lama besar kecil tinggi rendah
cepat lambat ramai sepi mahal murah penuh kosong bersih kotor aman rawan sulit mudah
utara selatan barat timur tengah pusat pinggir hulu hilir pesisir pedalaman perbatasan
""".split()

KOTA = (
    "Jakarta Surabaya Medan Makassar Bandung Semarang Denpasar Palembang Yogyakarta Padang "
    "Pontianak Banjarmasin Manado Ambon Jayapura Kupang Mataram Pekanbaru Jambi Bengkulu"
).split()


# --------------------------------------------------------------------------------------------
# Ground truth (pure data)


@dataclass
class Copy:
    story_id: int
    feed: int
    guid: str
    title: str
    summary: str
    appeared_at: float | None = None  # time.time() when it joined the feed document


@dataclass
class Story:
    id: int
    topics: frozenset[str]
    lead: str
    copies: list[Copy] = field(default_factory=list)
    burst: bool = False

    @property
    def first_appeared(self) -> float | None:
        times = [c.appeared_at for c in self.copies if c.appeared_at is not None]
        return min(times) if times else None


def make_lead(rng: random.Random, topics: frozenset[str], words: int = 45) -> str:
    """A lead of random vocabulary words with each topic keyword among its first 30 words."""
    out = [rng.choice(VOCAB) for _ in range(words)]
    for t in sorted(topics):
        out.insert(rng.randrange(1, 30), TOPICS[t][1])
    out[0] = out[0].capitalize()
    return " ".join(out) + "."


def make_title(rng: random.Random, topics: frozenset[str]) -> str:
    words = [rng.choice(VOCAB) for _ in range(rng.randint(6, 10))]
    if topics and rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), TOPICS[sorted(topics)[0]][1])
    words[0] = words[0].capitalize()
    return " ".join(words)


def article_path(feed: int, story_id: int, title: str) -> str:
    slug = "-".join(title.lower().split()[:5])
    return f"/a/{feed}/s{story_id}-{slug}"


def feed_of_guid(guid: str) -> int | None:
    """The feed number written into an article link, or None for a link not made here."""
    parts = guid.split("/a/", 1)
    if len(parts) != 2:
        return None
    head = parts[1].split("/", 1)[0]
    return int(head) if head.isdigit() else None


def story_of_url(url: str) -> int | None:
    parts = url.split("/a/", 1)
    if len(parts) != 2 or "/s" not in parts[1]:
        return None
    num = parts[1].split("/s", 1)[1].split("-", 1)[0]
    return int(num) if num.isdigit() else None


# --------------------------------------------------------------------------------------------
# Rendering (pure)


def render_rss(name: str, base: str, copies: list[Copy]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(name)}</title><link>{escape(base)}/</link>",
        "<description>Berita terkini</description><language>id</language>",
    ]
    for c in copies:
        when = datetime.fromtimestamp(c.appeared_at or time.time(), WIB)
        parts.append(
            "<item>"
            f'<guid isPermaLink="true">{escape(c.guid)}</guid>'
            f"<title>{escape(c.title)}</title>"
            f"<link>{escape(c.guid)}</link>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape('<p>' + escape(c.summary) + '</p>')}</description>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def render_atom(name: str, base: str, copies: list[Copy]) -> bytes:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(name)}</title><id>{escape(base)}/</id><updated>{now}</updated>",
    ]
    for c in copies:
        when = datetime.fromtimestamp(c.appeared_at or time.time(), WIB).isoformat("T", "seconds")
        parts.append(
            "<entry>"
            f"<id>{escape(c.guid)}</id>"
            f"<title>{escape(c.title)}</title>"
            f'<link href="{escape(c.guid)}"/>'
            f"<updated>{when}</updated><published>{when}</published>"
            f'<summary type="text">{escape(c.summary)}</summary>'
            "</entry>"
        )
    parts.append("</feed>")
    return "".join(parts).encode("utf-8")


def truncated(body: bytes) -> bytes:
    """A transfer cut off at an item boundary: the complete items survive, the XML is broken."""
    cut = body.rfind(b"</item>", 0, max(len(body) * 2 // 3, 1))
    if cut < 0:
        return b"<rss><channel><item><gui"
    return body[: cut + len(b"</item>")] + b"<item><gui"


# --------------------------------------------------------------------------------------------
# Hostile bodies, built once


@dataclass(frozen=True)
class HostileBodies:
    huge: bytes
    gzip_bomb: bytes
    entity_bomb: bytes
    html_error: bytes
    junk: bytes


def build_hostile(max_bytes: int, bomb_mb: int = 200) -> HostileBodies:
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Besar</title><item><title>'
    huge = head + b"a" * (max_bytes * 3) + b"</title></item></channel></rss>"
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    chunks = [z.compress(head)]
    block = b" " * (1 << 20)
    for _ in range(bomb_mb):
        chunks.append(z.compress(block))
    chunks.append(z.flush())
    lol = [b'<!ENTITY lol0 "lol">']
    for i in range(1, 10):
        lol.append(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'.encode())
    entity = (
        b'<?xml version="1.0"?><!DOCTYPE rss [' + b"".join(lol) + b"]>"
        b'<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        b"<description>&lol9;</description><guid>bom</guid></item></channel></rss>"
    )
    html = (
        b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
        b"<h1>Gangguan</h1><p>Server sedang dalam perbaikan.</p></body></html>"
    )
    junk = bytes(random.Random(7).getrandbits(8) for _ in range(4096))
    return HostileBodies(huge, b"".join(chunks), entity, html, junk)


HOSTILE_KINDS = (
    "slow",
    "huge",
    "gzip_bomb",
    "entity_bomb",
    "malformed",
    "http_5xx",
    "redirect_loop",
)


# --------------------------------------------------------------------------------------------
# The server


@dataclass
class FeedState:
    index: int
    name: str
    atom: bool
    gzip_ok: bool
    copies: list[Copy] = field(default_factory=list)  # newest first
    body: bytes = b""
    etag: str = ""
    mode: str = "ok"
    guids: set[str] = field(default_factory=set)  # every guid this feed ever carried
    requests: int = 0
    served: dict[str, int] = field(default_factory=dict)  # mode -> responses


class Outlets:
    """All the outlets on one threaded loopback HTTP server: ``/f/<n>.xml`` per feed."""

    def __init__(self, n_feeds: int, hostile: HostileBodies, *, seed: int = 1) -> None:
        rng = random.Random(seed)
        self.hostile = hostile
        self.lock = threading.Lock()
        self.feeds = [
            FeedState(i, f"Outlet {i:03d}", atom=rng.random() < 0.2, gzip_ok=rng.random() < 0.5)
            for i in range(n_feeds)
        ]
        self.last_request = time.monotonic()
        self.requests = 0
        self._stop = threading.Event()
        # every path is a feed (or a 404 from _serve): the server records no hits
        self.server = LoopbackServer(fallback=self._serve, record=False, name="soak-outlets")
        self.port = self.server.port
        self.base = self.server.base
        for f in self.feeds:
            self._render(f)

    def start(self) -> None:
        self.server.start()

    def close(self) -> None:
        self._stop.set()
        self.server.close()

    def url(self, i: int) -> str:
        return f"{self.base}/f/{i}.xml"

    # -- state ------------------------------------------------------------------------------
    def _render(self, f: FeedState) -> None:
        body = (render_atom if f.atom else render_rss)(f.name, self.base, f.copies)
        f.body = body
        f.etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'

    def publish(self, copy: Copy) -> None:
        """The copy appears on its feed now (its ``appeared_at`` is set here)."""
        with self.lock:
            f = self.feeds[copy.feed]
            copy.appeared_at = time.time()
            f.copies.insert(0, copy)
            del f.copies[MAX_ITEMS:]
            f.guids.add(copy.guid)
            self._render(f)

    def set_mode(self, i: int, mode: str) -> None:
        with self.lock:
            self.feeds[i].mode = mode

    # -- serving ----------------------------------------------------------------------------
    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0]
        self.last_request = time.monotonic()
        if path.startswith("/r/"):  # the other end of a redirect loop
            num = path[3:]
            send(req, 302, b"", {"Location": f"/f/{num}.xml"})
            return
        if not (path.startswith("/f/") and path.endswith(".xml")):
            send(req, 404, b"tidak ditemukan", {"Content-Type": "text/plain"})
            return
        try:
            i = int(path[3:-4])
            f = self.feeds[i]
        except (ValueError, IndexError):
            send(req, 404, b"tidak ditemukan", {"Content-Type": "text/plain"})
            return
        with self.lock:
            mode, body, etag = f.mode, f.body, f.etag
            f.requests += 1
            f.served[mode] = f.served.get(mode, 0) + 1
            self.requests += 1
        if mode == "ok":
            self._serve_ok(req, f, body, etag)
        else:
            self._serve_hostile(req, f, mode, body)

    def _serve_ok(self, req: BaseHTTPRequestHandler, f: FeedState, body: bytes, etag: str) -> None:
        if req.headers.get("If-None-Match") == etag:
            send(req, 304, b"", {"ETag": etag})
            return
        ctype = "application/atom+xml" if f.atom else "application/rss+xml; charset=utf-8"
        headers = {"Content-Type": ctype, "ETag": etag}
        if f.gzip_ok and "gzip" in (req.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body, 5)
            headers["Content-Encoding"] = "gzip"
        send(req, 200, body, headers)

    def _serve_hostile(
        self, req: BaseHTTPRequestHandler, f: FeedState, mode: str, body: bytes
    ) -> None:
        h = self.hostile
        rss = {"Content-Type": "application/rss+xml"}
        if mode == "gone":
            send(req, 410, b"Gone", {"Content-Type": "text/plain"})
        elif mode == "http_5xx":
            if f.requests % 2:
                send(req, 503, h.html_error, {"Content-Type": "text/html", "Retry-After": "20"})
            else:
                send(req, 500, h.html_error, {"Content-Type": "text/html"})
        elif mode == "redirect_loop":
            send(req, 302, b"<html>pindah</html>", {"Location": f"/r/{f.index}"})
        elif mode == "huge":
            send(req, 200, h.huge, rss)
        elif mode == "gzip_bomb":
            send(req, 200, h.gzip_bomb, {**rss, "Content-Encoding": "gzip"})
        elif mode == "entity_bomb":
            send(req, 200, h.entity_bomb, rss)
        elif mode == "malformed":
            variant = f.requests % 3
            if variant == 0:
                send(req, 200, h.html_error, rss)  # an error page dressed as a feed
            elif variant == 1:
                send(req, 200, h.junk, rss)
            else:
                send(req, 200, truncated(body), rss)
        elif mode == "slow":
            self._dribble(req, body)
        else:
            send(req, 500, b"unknown mode", {"Content-Type": "text/plain"})

    def _dribble(self, req: BaseHTTPRequestHandler, body: bytes) -> None:
        """Headers at once, then a byte every 0.2 s: only a total deadline ends this."""
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        give_up = time.monotonic() + 60
        for b in body:
            if self._stop.wait(0.2) or time.monotonic() > give_up:
                break
            req.wfile.write(bytes([b]))
            req.wfile.flush()
        req.close_connection = True


# --------------------------------------------------------------------------------------------
# Story generation


class Newsroom:
    """Makes stories and schedules their copies; ``tick`` publishes what is due."""

    def __init__(
        self,
        outlets: Outlets,
        *,
        clean: list[int],
        hostile: list[int],
        gone: list[int],
        seed: int = 2,
    ) -> None:
        self.outlets = outlets
        self.rng = random.Random(seed)
        self.clean, self.hostile, self.gone = clean, hostile, gone
        self.stories: list[Story] = []
        self.pending: list[tuple[float, Copy]] = []  # (due monotonic, copy)
        self.lock = threading.Lock()

    def _topics(self, p_topic: float) -> frozenset[str]:
        if self.rng.random() >= p_topic:
            return frozenset()
        names = sorted(TOPICS)
        k = 2 if self.rng.random() < 0.2 else 1
        return frozenset(self.rng.sample(names, k))

    def new_story(
        self,
        *,
        p_topic: float = 0.25,
        topics: frozenset[str] | None = None,
        feeds: list[int] | None = None,
        spread: float = 45.0,
        burst: bool = False,
    ) -> Story:
        """A story on 1–4 outlets; copies appear up to ``spread`` seconds apart."""
        with self.lock:
            topics = self._topics(p_topic) if topics is None else topics
            sid = len(self.stories) + 1
            story = Story(sid, topics, make_lead(self.rng, topics), burst=burst)
            if feeds is None:
                feeds = self._pick_feeds(topics)
            now = time.monotonic()
            for n, feed in enumerate(feeds):
                title = make_title(self.rng, topics)
                kota = self.rng.choice(KOTA)
                summary = f"{kota} ({self.outlets.feeds[feed].name}) - {story.lead}"
                guid = self.outlets.base + article_path(feed, sid, title)
                c = Copy(sid, feed, guid, title, summary)
                story.copies.append(c)
                due = now if n == 0 else now + self.rng.uniform(0, spread)
                self.pending.append((due, c))
            self.stories.append(story)
            return story

    def _pick_feeds(self, topics: frozenset[str]) -> list[int]:
        r = self.rng.random()
        if r < 0.08 and self.hostile:  # a bad feed's own story
            return [self.rng.choice(self.hostile)]
        if r < 0.11 and self.gone and not topics:  # a feed that will go 410: filler only
            return [self.rng.choice(self.gone)]
        n = self.rng.choices([1, 2, 3, 4], weights=[40, 30, 20, 10])[0]
        pool = self.clean + (self.hostile if self.rng.random() < 0.2 else [])
        return self.rng.sample(pool, min(n, len(pool)))

    def tick(self) -> int:
        now = time.monotonic()
        with self.lock:
            due = [c for t, c in self.pending if t <= now]
            self.pending = [(t, c) for t, c in self.pending if t > now]
        for c in due:
            self.outlets.publish(c)
        return len(due)

    def flush(self) -> None:
        """Publish every scheduled copy now (before the drain)."""
        with self.lock:
            due = [c for _, c in self.pending]
            self.pending = []
        for c in due:
            self.outlets.publish(c)
