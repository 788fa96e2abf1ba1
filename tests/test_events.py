"""Events (issue 26): signatures, the join decision, storage, alerts per event, the CLI.

The reports are the project's own words about invented happenings (a regent of "Sumber
Jaya" caught by KPK, a harbour master of "Teluk Indah"), shaped like the real ones."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as hst

from daemon.demo.loopback import LoopbackServer
from daemon.feeds.parse import ParsedItem
from daemon.grouping import events as ev
from daemon.grouping.stories import Doc
from daemon.pipeline.ingest import Rules, ingest_items
from daemon.storage import db
from daemon.storage.feeds import FeedSpec
from daemon.storage.store import Store
from daemon.topics.match import Matcher, TopicSpec
from tests.feedgen import Entry, entries, rss
from tests.test_pipeline import pantau, write_config

NOW = datetime.now(timezone.utc).replace(microsecond=0)
WINDOW = timedelta(hours=36)
FLAT = ev.Rarity({}, 1000)  # every term equally rare: similarity is plain overlap


def sig(title: str, summary: str, hours_ago: float = 1) -> ev.Signature:
    return ev.signature(
        Doc(title=title, summary=summary, published_at=NOW - timedelta(hours=hours_ago))
    )


# --- reports, in the project's own words -----------------------------------------------------

REGENT = [
    (
        "Antara",
        "KPK tangkap Bupati Sumber Jaya dalam OTT proyek jalan",
        "Jakarta (ANTARA) - Komisi Pemberantasan Korupsi (KPK) menangkap Bupati Sumber Jaya "
        "Hendra Wiratama dalam operasi tangkap tangan terkait suap proyek peningkatan jalan "
        "kabupaten. Penyidik menyita uang tunai Rp2,5 miliar dari rumah dinas bupati dan "
        "membawa empat orang lainnya ke Gedung Merah Putih untuk diperiksa.",
    ),
    (
        "Detik",
        "OTT di Sumber Jaya, Bupati Hendra Wiratama Diamankan KPK",
        "Tim penindakan KPK mengamankan Bupati Sumber Jaya Hendra Wiratama dini hari tadi. "
        "Dalam operasi tangkap tangan itu petugas menemukan uang Rp 2.500.000.000 yang diduga "
        "suap proyek jalan kabupaten. Empat orang lain ikut dibawa ke Gedung Merah Putih "
        "dan masih diperiksa penyidik.",
    ),
    (
        "Kompas",
        "Bupati Sumber Jaya Terjaring OTT KPK, Uang Rp2,5 Miliar Disita",
        "KPK menggelar operasi tangkap tangan di Kabupaten Sumber Jaya. Bupati Hendra Wiratama "
        "beserta empat orang lainnya diamankan penyidik. Uang suap proyek jalan kabupaten "
        "senilai Rp2,5 miliar turut disita dan dibawa ke Gedung Merah Putih.",
    ),
]
HARBOUR = (
    "Tempo",
    "KPK gelar OTT di Pelabuhan Teluk Indah, kepala syahbandar ditangkap",
    "Komisi Pemberantasan Korupsi (KPK) menangkap Kepala Kantor Syahbandar Teluk Indah Rudi "
    "Santoso dalam operasi tangkap tangan terkait suap izin bongkar muat kapal. Penyidik "
    "menyita uang Rp750 juta dan dokumen perizinan dari kantor syahbandar.",
)


# --- signatures --------------------------------------------------------------------------------


def test_figures_read_alike_however_written() -> None:
    forms = ["Rp1.524.000", "Rp 1.524.000", "Rp1,524 juta", "Rp 1,524 juta"]
    figs = [
        sig("Harga emas hari ini", f"Harga emas batangan dijual {f} per gram di butik.").figures
        for f in forms
    ]
    assert all("idr:1524000" in f for f in figs), figs
    tonnes = sig("Stok beras aman", "Bulog menyimpan 1,9 juta ton beras di gudang daerah.").figures
    assert "qty:1900000:ton" in tonnes
    assert "qty:1900000:ton" in sig("Stok beras", "Stok mencapai 1.900.000 ton di gudang.").figures


def test_a_body_that_opens_with_its_headline_is_read_from_its_lead() -> None:
    title = "Harga emas Antam merosot tajam, kini di bawah Rp2 juta per gram"
    filler = (
        "pedagang di butik logam mulia mencatat penurunan yang cukup dalam sejak pagi hari "
        "dan pembeli memilih menunggu sambil memantau pergerakan harga di laman resmi "
        "perusahaan"
    )
    body = f"{title} {filler} hingga harga jual turun menjadi Rp1.969.000 per gram."
    s = sig(title, body)
    assert body.split().index("Rp1.969.000") >= ev.LEAD_WORDS  # past the old reading
    assert "idr:1969000" in s.figures and "idr:2000000" in s.headline_figures


def test_names_and_acronyms_are_read_from_running_text_and_headline() -> None:
    s = sig(REGENT[0][1], REGENT[0][2])
    assert {"kpk", "hendra", "wiratama"} <= s.names
    assert "jakarta" not in s.names or "jakarta" in ev.STOPWORDS  # a dateline is no name


def test_three_reports_of_one_arrest_are_close_and_another_arrest_is_not() -> None:
    a, b, c = (sig(t, s) for _, t, s in REGENT)
    event = ev.Profile.of(a)
    assert ev.similarity(b, event, FLAT) >= ev.THRESHOLD
    event.add(b)
    assert ev.choose_event(c, [(7, event)], FLAT, WINDOW) == 7
    other = sig(HARBOUR[1], HARBOUR[2])
    assert ev.choose_event(other, [(7, event)], FLAT, WINDOW) is None


def test_a_small_corpus_never_merges() -> None:
    a, b = sig(REGENT[0][1], REGENT[0][2]), sig(REGENT[1][1], REGENT[1][2])
    assert ev.choose_event(b, [(1, ev.Profile.of(a))], ev.Rarity({}, 10), WINDOW) is None


def test_hot_terms_are_stop_words_for_the_index() -> None:
    """A term most stored stories use finds only arbitrary events: it is neither filed nor
    looked up, and the story is filed under its rarer terms instead."""
    a = sig(REGENT[0][1], REGENT[0][2])
    total = 10_000
    hot = {"kpk", "bupati", "jalan"}
    assert hot <= set(a.terms)
    cold = ev.Rarity({ev.event_key(t): 3 for t in a.terms}, total)
    assert {ev.event_key(t) for t in hot} <= set(ev.index_keys(a, cold, n=len(a.terms)))
    df = {ev.event_key(t): (int(total * ev.HOT_SHARE) + 1 if t in hot else 3) for t in a.terms}
    keys = ev.index_keys(a, ev.Rarity(df, total), n=len(a.terms))
    assert keys and not {ev.event_key(t) for t in hot} & set(keys)
    assert len(keys) == len(set(a.terms) - hot)


GOLD = (
    "Harga emas batangan Antam hari ini {move} jadi {price} per gram",
    "Harga emas batangan produksi Antam pada {day} ({date}) {move} Rp{delta} menjadi {price} "
    "per gram, menurut laman Logam Mulia. Harga pembelian kembali atau buyback ikut {move} "
    "ke level {buyback} per gram.",
)


def gold(
    day: str, date: str, move: str, price: str, delta: str, buyback: str, h: float
) -> ev.Signature:
    kw = dict(day=day, date=date, move=move, price=price, delta=delta, buyback=buyback)
    return sig(GOLD[0].format(**kw), GOLD[1].format(**kw), h)


def test_the_gold_price_of_two_days_stays_apart() -> None:
    monday = gold("Senin", "1/12", "naik", "Rp2.301.000", "12.000", "Rp2.150.000", 30)
    tuesday = gold("Selasa", "2/12", "naik", "Rp2.315.000", "14.000", "Rp2.163.000", 6)
    assert ev.vetoed(tuesday, ev.Profile.of(monday), WINDOW) is not None
    assert ev.choose_event(tuesday, [(1, ev.Profile.of(monday))], FLAT, WINDOW) is None
    # the same day's price from another outlet, written differently, joins
    again = sig(
        "Emas Antam naik Rp12.000, kini Rp2,301 juta per gram",
        "Logam Mulia mencatat harga emas Antam pada Senin (1/12) naik Rp12.000 menjadi "
        "Rp2,301 juta per gram, sedangkan harga buyback naik ke Rp2,15 juta per gram.",
        29,
    )
    assert ev.choose_event(again, [(1, ev.Profile.of(monday))], FLAT, WINDOW) == 1


def test_a_headline_that_names_two_movements_reports_neither() -> None:
    """A daily chart piece asks "naik atau turun?" in its headline and answers in its lead;
    another compares the month with the day. Read as their first movement word, both
    vetoed the day's other reports of the price as "another edition"."""
    monday = gold("Senin", "1/12", "turun", "Rp2.289.000", "12.000", "Rp2.138.000", 30)
    chart = sig(
        "Grafik Harga Emas Antam, Hari Ini Naik atau Turun? (1 Desember 2025)",
        GOLD[1].format(day="Senin", date="1/12", move="turun", delta="12.000",
                       price="Rp2.289.000", buyback="Rp2.138.000"),
        29,
    )  # fmt: skip
    assert chart.lead_move == "down"  # the lead's answer
    assert ev.vetoed(chart, ev.Profile.of(monday), WINDOW) is None
    assert ev.choose_event(chart, [(1, ev.Profile.of(monday))], FLAT, WINDOW) == 1
    # the next day's chart piece is the next day's edition
    tuesday = sig(
        "Grafik Harga Emas Antam, Hari Ini Naik atau Turun? (2 Desember 2025)",
        GOLD[1].format(day="Selasa", date="2/12", move="naik", delta="9.000",
                       price="Rp2.298.000", buyback="Rp2.146.000"),
        6,
    )  # fmt: skip
    assert ev.vetoed(tuesday, ev.Profile.of(monday), WINDOW) is not None
    assert ev.choose_event(tuesday, [(1, ev.Profile.of(chart))], FLAT, WINDOW) is None
    cases = {  # headline (as the signature reads it: lower-cased) -> what it reports
        "harga emas antam hari ini naik rp12.000": "up",
        "emas naik lagi, rupiah ikut menguat": "up",  # two words, one way
        "grafik harga emas antam, hari ini naik atau turun?": None,  # asks
        "sebulan naik 4,2 persen, emas antam hari ini turun": "down",  # the day's
        "ihsg ditutup turun 0,5 persen, rupiah menguat": "down",  # two markets: the first
        "rupiah dibuka stagnan": "flat",
        "kpk tangkap bupati sumber jaya": None,
    }
    assert {h: ev.headline_move(h) for h in cases} == cases


_PLAIN_WORDS = hst.lists(
    hst.sampled_from(
        "harga emas antam hari ini ihsg rupiah per gram "
        "pegadaian grafik sebulan persen di ke".split()
    )
)
_MOVES = {"up": ["naik", "menguat", "melonjak"], "down": ["turun", "melemah", "anjlok"],
          "flat": ["stagnan", "tetap"]}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(_PLAIN_WORDS, _PLAIN_WORDS, hst.sampled_from(sorted(_MOVES)), hst.data())
def test_a_headline_reads_one_way_or_asks(
    before: list[str], after: list[str], kind: str, data: hst.DataObject
) -> None:
    """Around any words that name no movement: words of one way read as that way, and
    "x atau y" of two ways as a question, wherever it stands."""
    word = data.draw(hst.sampled_from(_MOVES[kind]))
    again = data.draw(hst.sampled_from(_MOVES[kind]))
    assert ev.headline_move(" ".join([*before, word, *after, again])) == kind
    other = data.draw(hst.sampled_from(sorted(set(_MOVES) - {kind})))
    asked = [*before, word, "atau", data.draw(hst.sampled_from(_MOVES[other])), *after]
    assert ev.headline_move(" ".join(asked)) is None


def test_a_parse_worker_signs_a_story_as_its_text_alone_would() -> None:
    """The parse worker takes the lead's day and movement from the fingerprint it has just
    made (``prepare_item``); ``decide_events`` signs a story from its text alone when no
    signature came with it. Both must read the same day and the same movement: the
    headline's movement first, else the lead's."""
    from daemon.pipeline.prepare import prepare_item

    cases = [  # (headline, lead, day, movement)
        (GOLD[0].format(move="naik", price="Rp2.301.000"),
         GOLD[1].format(day="Senin", date="1/12", move="turun", delta="12.000",
                        price="Rp2.301.000", buyback="Rp2.150.000"), "senin", "up"),
        ("Harga emas Antam hari ini", GOLD[1].format(
            day="Selasa", date="2/12", move="turun", delta="3.000", price="Rp2.298.000",
            buyback="Rp2.147.000"), "selasa", "down"),
        ("Rupiah dibuka stagnan", "Nilai tukar rupiah pada Rabu (3/12) pagi tidak berubah "
         "di level Rp16.650 per dolar AS, menurut data Bloomberg.", "rabu", "flat"),
    ]  # fmt: skip
    for n, (title, lead, day, move) in enumerate(cases):
        item = parsed("antara", n, title, lead)
        worker = prepare_item(item, None, NOW, timedelta(days=2)).signature
        alone = ev.signature(Doc(title=title, summary=lead, url=item.url,
                                 published_at=item.published_at))  # fmt: skip
        assert worker == alone
        assert (alone.lead_day, alone.lead_move) == (day, move)


def test_recurring_reports_stay_apart() -> None:
    weather_mon = sig(
        "BMKG peringatkan hujan lebat di Jawa Barat",
        "BMKG mengeluarkan peringatan dini hujan lebat disertai angin kencang untuk wilayah "
        "Bogor, Sukabumi dan Cianjur pada Senin (1/12) sore hingga malam hari.",
        30,
    )
    weather_tue = sig(
        "BMKG peringatkan hujan lebat di Jawa Barat",
        "BMKG mengeluarkan peringatan dini hujan lebat disertai angin kencang untuk wilayah "
        "Bogor, Sukabumi dan Cianjur pada Selasa (2/12) sore hingga malam hari.",
        6,
    )
    assert ev.vetoed(weather_tue, ev.Profile.of(weather_mon), WINDOW) in {"day", "dates"}
    match1 = sig(
        "Persija menang 2-1 atas Persib di laga pekan ke-12",
        "Persija Jakarta menang 2-1 atas Persib Bandung dalam laga pekan ke-12 liga di "
        "Stadion Utama, gol penentu dicetak pada menit ke-88 oleh penyerang muda.",
        30,
    )
    match2 = sig(
        "Persija kalah 0-3 dari Arema di laga pekan ke-13",
        "Persija Jakarta kalah 0-3 dari Arema dalam laga pekan ke-13 liga di Stadion Utama, "
        "gol pertama tercipta pada menit ke-20 oleh gelandang tamu.",
        6,
    )
    assert ev.choose_event(match2, [(1, ev.Profile.of(match1))], FLAT, WINDOW) is None
    minister = "Menteri Pertanian Amran Sulaiman"
    st1 = sig(
        "Mentan Amran pastikan stok beras cukup hingga Lebaran",
        f"{minister} memastikan stok beras di gudang Bulog cukup hingga Lebaran dan meminta "
        "warga tidak panik membeli dalam jumlah besar.",
        8,
    )
    st2 = sig(
        "Mentan Amran minta harga ayam hidup segera dinormalkan",
        f"{minister} meminta peternak dan pedagang menormalkan harga ayam hidup di tingkat "
        "peternak yang jatuh di bawah biaya produksi sejak awal pekan.",
        6,
    )
    # a minister the desk covers daily is named in many stored stories: their name is no
    # rarer than the words around it
    common = "mentan amran sulaiman menteri pertanian meminta harga peternak warga".split()
    rarity = ev.Rarity({ev.event_key(w): 60 for w in common}, 1000)
    assert ev.choose_event(st2, [(1, ev.Profile.of(st1))], rarity, WINDOW) is None


def test_a_headline_about_its_own_day_names_that_day() -> None:
    """Yesterday's forecast named its day in the lead; today's arrives as a headline alone
    (a Google News entry, a feed without descriptions) in nearly the same words. Its
    "hari ini" is its publication day (Jakarta's): another edition, not yesterday's event.
    A headline-only report of the same day is not kept apart by it."""
    wib = timezone(timedelta(hours=7))
    names = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
    midnight = NOW.astimezone(wib).replace(hour=0, minute=0, second=0) - timedelta(days=1)
    morning = midnight + timedelta(hours=6)  # yesterday, 06:00 in Jakarta
    day = names[morning.weekday()]
    yesterday = ev.Profile.of(
        ev.signature(
            Doc(
                title="Prakiraan Cuaca Jakarta Hari Ini: Hujan Ringan Siang Hari",
                summary=f"BMKG memprakirakan cuaca Jakarta hari ini, {day}, cerah berawan pada "
                "pagi hari. Hujan ringan hingga sedang diperkirakan turun di sebagian wilayah "
                "Jakarta pada siang hari.",
                published_at=morning.astimezone(timezone.utc),
            )
        )
    )

    def headline_only(at: datetime) -> ev.Signature:
        title = "Prakiraan Cuaca Jakarta Hari Ini: Hujan Ringan di Siang Hari"
        return ev.signature(Doc(title=title, summary="", published_at=at.astimezone(timezone.utc)))

    today = headline_only(morning + timedelta(days=1))
    assert today.lead_day == names[(morning + timedelta(days=1)).weekday()].lower()
    assert ev.vetoed(today, yesterday, WINDOW) == "day"
    same_day = headline_only(morning + timedelta(hours=5))
    assert ev.vetoed(same_day, yesterday, WINDOW) is None
    # a headline that speaks of no day of its own names none
    plain = ev.signature(Doc(title="Hujan ringan guyur Jakarta", summary="", published_at=NOW))
    assert plain.lead_day is None


def test_a_weekday_the_headline_names_comes_before_the_leads() -> None:
    """A lead may name another day first ("naik setelah turun sejak Sabtu (5/4)") while its
    headline names the report's own ("Harga emas Antam Rabu mulai naik"): the headline's is
    the story's day, so the same day's reports that name Wednesday are not vetoed."""
    lead = (
        "Harga emas Antam mulai mengalami kenaikan setelah turun sejak Sabtu (5/4). Pada Rabu, "
        "harga jual emas melonjak Rp23.000 menjadi Rp1.777.000 per gram."
    )
    assert sig("Harga emas Antam Rabu mulai naik", lead).lead_day == "rabu"
    assert sig("Harga emas Antam mulai naik lagi", lead).lead_day == "sabtu"  # the lead's


def test_one_figure_both_leads_mention_in_passing_is_no_evidence() -> None:
    # Two unrelated regional reports whose words are all common in the stored corpus, and
    # which happen to state the same precise percentage in their leads.
    roads = sig(
        "Pemkab perbaiki jalan desa di wilayah selatan",
        "Pemerintah kabupaten memperbaiki jalan desa di wilayah selatan. Realisasi anggaran "
        "pekerjaan umum sudah mencapai 45,6 persen dan dinas menargetkan rampung akhir bulan.",
        6,
    )
    clinics = sig(
        "Dinas kesehatan tambah layanan puskesmas keliling",
        "Dinas kesehatan menambah layanan puskesmas keliling untuk warga desa. Cakupan "
        "imunisasi anak di wilayah itu baru 45,6 persen sehingga petugas mendatangi rumah warga.",
        5,
    )
    assert "%:45.6" in roads.figures & clinics.figures
    words = (set(roads.terms) | set(clinics.terms)) - {"%:45.6"}
    rarity = ev.Rarity({ev.event_key(w): 2000 for w in words}, 10_000)
    assert ev.choose_event(clinics, [(1, ev.Profile.of(roads))], rarity, WINDOW) is None
    # the same figure as the news itself, in a headline: the day's price from two outlets
    # whose wording shares only common words joins
    a = sig(
        "Harga emas Antam hari ini Rp1.904.000 per gram",
        "Harga emas batangan Antam di butik Logam Mulia dijual Rp1.904.000 per gram pagi ini.",
        6,
    )
    b = sig(
        "Emas Antam stabil, dibanderol Rp1,904 juta",
        "Logam mulia produksi Antam bertahan di level Rp1,904 juta untuk ukuran satu gram.",
        5,
    )
    assert a.figures & b.figures == {"idr:1904000"}
    words = (set(a.terms) | set(b.terms)) - {"idr:1904000"}
    rarity = ev.Rarity({ev.event_key(w): 2000 for w in words}, 10_000)
    assert ev.choose_event(b, [(1, ev.Profile.of(a))], rarity, WINDOW) == 1


def test_a_defeat_reads_its_score_however_the_verb_is_inflected() -> None:
    lost = sig(
        "Timnas dikalahkan Filipina 1-0 di Manahan",
        "Tim nasional dikalahkan Filipina 1-0 di Stadion Manahan, Solo, Sabtu malam.",
    )
    drew = sig(
        "Timnas tahan imbang Filipina 1-3 di Manahan",
        "Tim nasional ditahan Filipina 1-3 di Stadion Manahan, Solo, Sabtu malam.",
    )
    assert "score:1-0" in lost.figures
    assert ev.vetoed(drew, ev.Profile.of(lost), WINDOW) == "score"
    beat = sig("Persib mengalahkan Persija 2-1", "Persib unggul di kandang sendiri.")
    assert "score:2-1" in beat.figures


def test_no_chaining_a_story_must_be_close_to_the_event_as_a_whole() -> None:
    words = [f"kata{chr(97 + n // 26)}{chr(97 + n % 26)}" for n in range(40)]

    def s(lo: int, hi: int) -> ev.Signature:
        return sig(" ".join(words[lo : lo + 4]), " ".join(words[lo:hi]) + ".")

    event = ev.Profile.of(s(0, 12))
    event.add(s(0, 12))
    event.add(s(0, 12))
    bridge = s(6, 18)  # half like the event
    far = s(12, 24)  # like the bridge's far half only
    assert ev.similarity(far, ev.Profile.of(bridge), FLAT) >= ev.THRESHOLD  # a chain's link
    event.add(bridge)
    assert ev.choose_event(far, [(1, event)], FLAT, WINDOW) is None


def test_profile_round_trips_and_is_bounded() -> None:
    p = ev.Profile.of(sig(REGENT[0][1], REGENT[0][2]))
    for n in range(60):
        p.add(
            sig(
                f"laporan {n}",
                " ".join(
                    f"unik{chr(97 + n % 26)}{chr(97 + n // 26)}x{chr(97 + k)}" for k in range(20)
                ),
            )
        )
    q = ev.Profile.decode(p.encode())
    assert q is not None and q.stories == p.stories == 61 and q.terms == p.terms
    assert len(p.terms) <= 2 * ev.MAX_TERMS
    assert ev.Profile.decode("{not json") is None


# --- storage and alerts, on SQLite and PostgreSQL ------------------------------------------------


def parsed(outlet: str, n: int, title: str, summary: str, minutes_ago: int = 30) -> ParsedItem:
    url = f"https://{outlet.lower()}.example/berita/{n}"
    return ParsedItem(
        identity=f"guid:{url}", guid=url, url=url, title=title, summary=summary, content="",
        title_html="", summary_html="", author="",
        published_at=NOW - timedelta(minutes=minutes_ago), published_raw=None, has_date=True, outlet="",
    )  # fmt: skip


def filler(feed_no: int, n: int) -> list[ParsedItem]:
    return [
        parsed(f"isi{feed_no}", e.guid.__hash__() & 0xFFFFFF, e.title, e.summary, 600 + k)
        for k, e in enumerate(entries(feed_no, n, now=NOW))
    ]


def rules(per: str = "event") -> Rules:
    return Rules(
        matcher=Matcher.compile([TopicSpec("Korupsi", "OTT OR suap")]),
        routes={"Korupsi": ("log",)},
        window=timedelta(hours=72),
        max_age=timedelta(hours=48),
        per=per,
    )


def seeded(store: Store, outlets: list[str]) -> dict[str, int]:
    """Feeds for ``outlets`` plus a corpus of unrelated stories (above ``MIN_CORPUS``)."""
    urls = {o: f"https://{o.lower()}.example/rss" for o in [*outlets, "Isi"]}
    ids = store.sync_feeds([FeedSpec(u, o, 600) for o, u in urls.items()], NOW, {})
    with store.tx() as tx:
        ingest_items(
            tx, feed_id=ids[urls["Isi"]], outlet="Isi", parsed=filler(3, ev.MIN_CORPUS + 20),
            rules=rules(), now=NOW,
        )  # fmt: skip
    return {o: ids[u] for o, u in urls.items()}


@pytest.mark.parametrize("per", ["event", "story"])
def test_three_outlets_one_event_one_alert(store: Store, per: str) -> None:
    feeds = seeded(store, [o for o, _, _ in REGENT] + [HARBOUR[0]])
    for k, (outlet, title, summary) in enumerate([*REGENT, HARBOUR]):
        with store.tx() as tx:
            ingest_items(
                tx, feed_id=feeds[outlet], outlet=outlet,
                parsed=[parsed(outlet, k, title, summary, 30 - k)], rules=rules(per), now=NOW,
            )  # fmt: skip
    alerts = store.alerts_since(NOW - timedelta(days=1), "Korupsi")
    stories = {s.id: s for s in store.stories_since(NOW - timedelta(days=1))}
    regent = [s for s in stories.values() if "Sumber Jaya" in s.title]
    assert len(regent) == 3 and len({s.event_id for s in regent}) == 1
    harbour = [s for s in stories.values() if "Teluk Indah" in s.title]
    assert harbour[0].event_id != regent[0].event_id
    if per == "story":
        assert len(alerts) == 4  # today's behaviour: one per story
        return
    assert len(alerts) == 2
    first = next(a for a in alerts if a.event_id == regent[0].event_id)
    assert first.outlet == "Antara"
    assert [s.outlet for s in first.sources] == ["Antara", "Detik", "Kompas"]
    events = {e.id: e for e in store.events_since(NOW - timedelta(days=1))}
    assert events[regent[0].event_id].outlets == ["Antara", "Detik", "Kompas"]
    assert events[regent[0].event_id].stories == sorted(s.id for s in regent)


def test_migration_makes_every_story_its_own_event(db_url: str) -> None:
    s = Store.open(db_url)
    try:
        db.upgrade(s.engine, "0009")
        with s.engine.begin() as conn:
            for n in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO stories (title, first_seen_at, published_at, item_count) "
                        "VALUES (:t, :p, :p, 1)"
                    ),
                    {"t": f"cerita {n}", "p": NOW},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO alerts (topic, story_id, title, outlet, published_at, matched, "
                    "snippet, created_at) VALUES ('T', 2, 'cerita 2', 'Antara', :p, '[]', '', :p)"
                ),
                {"p": NOW},
            )
        s.upgrade()
        with s.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, event_id FROM stories ORDER BY id")).all()
            evs = conn.execute(sa.text("SELECT id, title FROM events ORDER BY id")).all()
            alert = conn.execute(sa.text("SELECT event_id, event_key FROM alerts")).one()
        assert [tuple(r) for r in rows] == [(1, 1), (2, 2)]
        assert [tuple(r) for r in evs] == [(1, "cerita 1"), (2, "cerita 2")]
        assert tuple(alert) == (2, None)
        # new stories get new event ids past the migrated ones
        feeds = seeded(s, ["Antara"])
        with s.tx() as tx:
            ingest_items(tx, feed_id=feeds["Antara"], outlet="Antara",
                         parsed=[parsed("Antara", 1, REGENT[0][1], REGENT[0][2])], rules=rules(), now=NOW)  # fmt: skip
        ids = {e.id for e in s.events_since(NOW - timedelta(days=1))}
        assert {1, 2} < ids and min(ids - {1, 2}) > 2
    finally:
        s.close()


def vary(text: str, rnd: int) -> str:
    """Another arrest: another regency, regent and sum (so another story and event)."""
    place, name = ["Sumber Jaya", "Tanah Merah", "Bukit Hijau", "Air Dingin"][rnd].split()
    who = ["Hendra Wiratama", "Sulastri Handayani", "Bambang Prasetyo", "Yosef Manurung"][rnd]
    a, d = 2 + rnd, rnd + 1
    for old, new in (
        ("Sumber Jaya", f"{place} {name}"), ("Hendra Wiratama", who),
        ("2,5", f"{a},{d}"), ("2.500.000.000", f"{a}.{d}00.000.000"),
    ):  # fmt: skip
        text = text.replace(old, new)
    return text


def _ingest_at_once(
    store: Store, feeds: dict[str, int], jobs: list[tuple[str, ParsedItem]]
) -> None:
    """Each (outlet, item) ingested by its own 'process' (a thread with its own connection
    and transaction), all released at the same instant inside their transactions."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(outlet: str, item: ParsedItem) -> None:
        try:
            with store.tx() as tx:
                barrier.wait(timeout=10)
                ingest_items(tx, feed_id=feeds[outlet], outlet=outlet, parsed=[item],
                             rules=rules(), now=NOW)  # fmt: skip
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors


def test_concurrent_writers_make_one_event_and_one_alert(pg_url: str) -> None:
    """Three 'processes' (threads with their own connections) ingest three outlets' own
    reports of one happening at the same instant: one event, one alert, every round."""
    store = Store.open(pg_url)
    store.upgrade()
    try:
        outlets = [o for o, _, _ in REGENT]
        feeds = seeded(store, outlets)
        for rnd in range(4):
            _ingest_at_once(
                store,
                feeds,
                [
                    (o, parsed(o, 100 + rnd, f"{vary(t, rnd)} ({rnd})", vary(s, rnd)))
                    for o, t, s in REGENT
                ],
            )
            with store.engine.connect() as conn:
                n_events = conn.execute(
                    sa.text("SELECT count(DISTINCT event_id) FROM stories WHERE title LIKE :t"),
                    {"t": f"% ({rnd})"},
                ).scalar()
                n_alerts = conn.execute(
                    sa.text("SELECT count(*) FROM alerts WHERE title LIKE :t"), {"t": f"% ({rnd})"}
                ).scalar()
            assert (n_events, n_alerts) == (1, 1), rnd
    finally:
        store.close()


# --- through the CLI --------------------------------------------------------------------------


def _feed(outlet: str, reports: list[tuple[str, str]]) -> bytes:
    now = datetime.now(timezone.utc)
    items = [
        Entry(
            f"https://{outlet.lower()}.example/berita/{k}",
            title,
            summary,
            f"https://{outlet.lower()}.example/berita/{k}",
            now - timedelta(minutes=20 - k),
        )
        for k, (title, summary) in enumerate(reports)
    ]
    return rss(outlet, items)


def test_cli_three_outlets_one_alert_listing_them(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        filler_url = srv.static("/isi.xml", rss("Isi", entries(5, ev.MIN_CORPUS + 20)))
        feeds = [("Isi", filler_url)]
        for outlet, title, summary in REGENT:
            feeds.append((outlet, srv.static(f"/{outlet}.xml", _feed(outlet, [(title, summary)]))))
        feeds.append(
            (HARBOUR[0], srv.static("/tempo.xml", _feed(HARBOUR[0], [(HARBOUR[1], HARBOUR[2])])))
        )
        topics = (
            "topics:\n  - {name: Korupsi, query: 'OTT OR suap', notify: [log]}\n"
            "notifiers:\n  log: {type: console}\n"
        )
        # the corpus first (a new database merges nothing until it knows which words are rare)
        cfg = write_config(tmp_path, feeds[:1], topics)
        r = pantau("--config", str(cfg), "run", "--once")
        assert r.returncode == 0, r.stderr
        cfg = write_config(tmp_path, feeds, topics)
        r = pantau("--config", str(cfg), "run", "--once")
        assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("[pantau] Korupsi")]
    assert len(lines) == 2, r.stdout
    regent = next(ln for ln in lines if "Sumber Jaya" in ln)
    outlet = regent.split(" | ")[1]
    others = sorted({"Antara", "Detik", "Kompas"} - {outlet})
    assert regent.endswith(f"juga: {', '.join(others)}") or regent.endswith(
        f"juga: {', '.join(reversed(others))}"
    )
    alerts = json.loads(pantau("--config", str(cfg), "alerts", "--json").stdout)
    assert len(alerts) == 2
    a = next(a for a in alerts if "Sumber Jaya" in a["title"])
    assert sorted(s["outlet"] for s in a["sources"]) == ["Antara", "Detik", "Kompas"]
    out = pantau("--config", str(cfg), "events", "--json")
    assert out.returncode == 0 and out.stderr == ""
    events = {e["id"]: e for e in json.loads(out.stdout)}
    e = events[a["event_id"]]
    assert sorted(e["outlets"]) == ["Antara", "Detik", "Kompas"] and len(e["stories"]) == 3
    stories = json.loads(pantau("--config", str(cfg), "stories", "--json").stdout)
    assert {s["event_id"] for s in stories if s["id"] in e["stories"]} == {e["id"]}
    assert all(s["event_id"] is not None for s in stories)


def test_retention_drops_events_left_without_stories(store: Store) -> None:
    from daemon.pipeline.retention import prune

    feeds = seeded(store, ["Antara"])
    with store.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
        keys = conn.execute(sa.text("SELECT count(*) FROM event_keys")).scalar()
    assert before > 1 and keys > 0
    with store.tx() as tx:
        ingest_items(
            tx, feed_id=feeds["Antara"], outlet="Antara",
            parsed=[parsed("Antara", 1, REGENT[0][1], REGENT[0][2])], rules=rules(), now=NOW,
        )  # fmt: skip
    prune(store, NOW + timedelta(days=30), timedelta(days=7))
    with store.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
        keys = conn.execute(sa.text("SELECT count(*) FROM event_keys")).scalar()
        alerted = conn.execute(
            sa.text("SELECT count(*) FROM events e JOIN alerts a ON a.event_id = e.id")
        ).scalar()
    # the alerted story (and so its event) is kept; every other event went with its keys
    assert (left, alerted) == (1, 1) and keys <= ev.INDEX_KEYS


def test_retention_prunes_term_counts_not_counted_since_its_cutoff(db_url: str) -> None:
    """term_df kept a row for every term ever counted (issue 26: it grew without end): a
    migrated database counts its rows as seen on the upgrade's day, and retention deletes
    the rows last counted before its cutoff, in batches, keeping the others whole."""
    from daemon.pipeline.retention import prune
    from daemon.storage import events as event_store

    s = Store.open(db_url)
    try:
        db.upgrade(s.engine, "0010")
        with s.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO term_df (key, n) VALUES (7, 3), (8, 1)"))
        s.upgrade()
        today = event_store.today()
        with s.engine.connect() as conn:
            seen = dict(conn.execute(sa.text("SELECT key, seen FROM term_df")).all())
        assert seen == {7: today, 8: today}
        # counts of many terms on three days, across several prune batches
        old, recent = today - 40, today - 2
        keys = list(range(-(event_store.PRUNE_BATCH + 300), event_store.PRUNE_BATCH + 300, 1))
        with s.tx() as tx:
            tx._many(
                event_store.ADD_TERMS,
                [(k, 1, old if k % 3 else recent) for k in keys if k not in (7, 8)],
            )
            event_store.add_term_frequencies(tx, {7: 2})  # counted today
        # the daemon's hourly runs scan the table only once a day (``terms=False`` between)
        assert prune(s, datetime.now(timezone.utc), timedelta(days=30), terms=False).terms == 0
        with s.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM term_df")).scalar() == len(keys)
        stats = prune(s, datetime.now(timezone.utc), timedelta(days=30))
        with s.engine.connect() as conn:
            left = dict(conn.execute(sa.text("SELECT key, n FROM term_df")).all())
        stale = {k for k in keys if k % 3 and k not in (7, 8)}
        assert stats.terms == len(stale)
        assert set(left) == (set(keys) - stale) | {7, 8}
        assert left[7] == 5 and left[8] == 1
    finally:
        s.close()


def _story_buckets(p: ParsedItem) -> set[int]:
    from daemon.grouping.stories import fingerprint
    from daemon.storage.bands import STORY_LOCK_BUCKETS

    doc = Doc(title=p.title, summary=p.summary, url=p.url, published_at=p.published_at)
    return {k % STORY_LOCK_BUCKETS for k in fingerprint(doc).bands}


def _apart(rnd: int) -> tuple[ParsedItem, ParsedItem]:
    """Two outlets' reports of one arrest whose story locks share no bucket (so only the
    event lock can order their transactions): each gets a short sentence of the corpus's
    common words after its first (they weigh little for the event), tried until the band
    keys fall in other buckets."""
    import random

    from tests.feedgen import _VOCAB

    (o1, t1, s1), (o2, t2, s2) = REGENT[0], REGENT[1]
    rng = random.Random(rnd)

    def opener() -> str:
        return " ".join(rng.choice(_VOCAB) for _ in range(14)) + ". "

    def text(summary: str) -> str:  # the common words after the first sentence
        first, _, rest = vary(summary, rnd).partition(". ")
        return f"{first}. {opener()}{rest}"

    for _ in range(5_000):
        a = parsed(o1, 200 + rnd, f"{vary(t1, rnd)} [{rnd}]", text(s1))
        b = parsed(o2, 200 + rnd, f"{vary(t2, rnd)} [{rnd}]", text(s2))
        if _story_buckets(a).isdisjoint(_story_buckets(b)):
            return a, b
    raise AssertionError("no opening sentences separate the story locks")


def test_the_event_lock_orders_writers_that_share_no_story_lock(pg_url: str) -> None:
    """Two 'processes' ingest two outlets' own reports of one happening at once, reports
    whose story locks are disjoint: without the event lock each would open its own event."""
    store = Store.open(pg_url)
    store.upgrade()
    try:
        feeds = seeded(store, ["Antara", "Detik"])
        for rnd in range(3):
            pair = _apart(rnd)
            _ingest_at_once(store, feeds, list(zip(("Antara", "Detik"), pair, strict=True)))
            with store.engine.connect() as conn:
                got = conn.execute(
                    sa.text(
                        "SELECT count(*), count(DISTINCT event_id) FROM stories WHERE title LIKE :t"
                    ),
                    {"t": f"% [{rnd}]"},
                ).one()
                n_alerts = conn.execute(
                    sa.text("SELECT count(*) FROM alerts WHERE title LIKE :t"), {"t": f"% [{rnd}]"}
                ).scalar()
            assert (tuple(got), n_alerts) == ((2, 1), 1), rnd
    finally:
        store.close()


# --- copies the event layer used to miss (dev copy pairs, bench/README.md "Events: copies") --

PEGADAIAN = (
    "harga emas yang dikutip dari laman resmi Pegadaian, Rabu (10/12) menunjukkan harga tiga "
    "produk logam mulia, yakni buatan Antam, UBS dan Galeri24 yang mengalami kenaikan harga "
    "jual dari hari sebelumnya. Emas Antam melonjak Rp37.000 dan emas UBS naik Rp41.000. "
    "Dengan kenaikan itu emas Antam kini dijual Rp2.386.000 per gram dari semula Rp2.349.000, "
    "sedangkan emas UBS menjadi Rp2.298.000 per gram."
)


def test_a_pull_quote_before_the_dateline_is_not_the_lead() -> None:
    """Antara's main site opens a report with a pull quote (a sentence from further down,
    here another brand's price) and then its dateline; its regional site and reposts open
    with the lead. Both are read from the lead, so the copy joins."""
    title = "Harga emas di Pegadaian kompak naik pada Rabu"
    quote = "Emas Galeri24 turut naik Rp29.000 menjadi Rp2.254.000 per gram"
    main = sig(title, f"{quote} Jakarta (ANTARA) - {PEGADAIAN}", 3)
    regional = sig(f"{title} 10 Desember", PEGADAIAN, 2)
    assert "idr:2254000" not in main.figures  # the quote's price is no lead figure
    assert main.figures == regional.figures and set(main.terms) <= set(regional.terms)
    assert ev.choose_event(regional, [(1, ev.Profile.of(main))], FLAT, WINDOW) == 1
    # a dateline that opens the text (its place: a few words) changes nothing
    plain = sig(title, f"Jakarta (ANTARA) - {PEGADAIAN}", 3)
    assert plain == sig(title, PEGADAIAN, 3)


def test_a_round_headline_figure_is_no_other_edition() -> None:
    """A rewrite's headline rounds the price ("hampir Rp2,4 juta") while its lead, cut
    short, states none of the figures the original's lead does (the day's changes): it is
    the same report, not another edition of the price list."""
    original = sig(
        "Harga emas di Pegadaian kompak melonjak hingga Rp41.000 pada Rabu", PEGADAIAN, 3
    )
    rewrite = sig(
        "Harga Emas Pegadaian Melonjak, Hampir Rp2,4 Juta per Gram",
        PEGADAIAN.split(". Emas Antam")[0] + ".",
        2,
    )
    assert ev._money(original.figures) == {"idr:37000", "idr:41000"}  # the lead's 40 words
    assert ev._money(rewrite.figures) == {"idr:2400000"}
    assert ev.vetoed(rewrite, ev.Profile.of(original), WINDOW) is None
    assert ev.choose_event(rewrite, [(1, ev.Profile.of(original))], FLAT, WINDOW) == 1


def test_round_money_figures_agree_with_what_they_round_and_nothing_else() -> None:
    full = ev.Profile.of(
        sig(
            "Harga emas Antam naik jadi Rp1.701.000 per gram",
            "Harga emas Antam di laman Logam Mulia naik Rp9.000 menjadi Rp1.701.000 per gram.",
        )
    )
    body = "Harga emas Antam di laman Logam Mulia terus naik dan mencetak rekor baru hari ini."
    assert ev.vetoed(sig("Emas Antam tembus Rp1,7 juta per gram", body), full, WINDOW) is None
    assert ev.vetoed(sig("Emas Antam tembus Rp1,9 juta per gram", body), full, WINDOW) == "figures"
    clash = ev._money_clash
    assert not clash({"idr:1700000"}, {"idr:1701000"})  # "Rp1,7 juta" ~ "Rp1.701.000"
    assert not clash({"idr:1700000", "idr:41000"}, {"idr:1692000", "idr:1701000", "idr:9000"})
    assert clash({"idr:1900000"}, {"idr:1701000"})  # the same size, another price
    assert clash({"idr:1700000"}, {"idr:1750000"})  # 1,75 juta does not round to 1,7 juta
    assert not clash({"idr:1900000"}, {"idr:38000", "idr:42000"})  # nothing of its size
    # two editions of a price list stated in full differ as before
    assert clash({"idr:1607000", "idr:3000"}, {"idr:1608000", "idr:1000"})
    assert not clash({"idr:1607000", "idr:3000"}, {"idr:1607000", "idr:5000"})


def test_a_feeds_endless_money_figure_is_compared_without_failing() -> None:
    """A feed may write "Rp" and thousands of digits; both a story and an event can hold such
    a figure, one of them round. Comparing them must decide, not raise (Python refuses to
    turn more than 4,300 digits into an int): the whole poll's transaction would fail."""
    long = "Harga emas Antam hari ini Rp" + "1" * 5000 + " per gram di Jakarta, kemarin Rp1.701.000"
    event = ev.Profile.of(sig("Harga emas Antam naik hari ini", long))
    rounded = "Harga emas Antam tembus Rp2" + "0" * 4999 + " per gram di Jakarta dan Rp1,7 juta"
    assert ev.vetoed(sig("Harga emas Antam tembus", rounded), event, WINDOW) in (None, "figures")


@settings(max_examples=100, deadline=None)
@given(
    size=hst.integers(1, 6000),
    head=hst.text("123456789", min_size=1, max_size=4),
    tail=hst.text("0123456789", max_size=6),
    lead=hst.sampled_from("123456789"),
)
def test_money_figures_of_any_length_compare(size: int, head: str, tail: str, lead: str) -> None:
    """A figure stated in full against a round one of the same size, at any size: a
    decision either way, never an exception."""
    full = "idr:" + (head + tail + "7" * size)[:size]
    rounded = "idr:" + lead + "0" * (size - 1)
    for a, b in (({full}, {rounded}), ({rounded}, {full}), ({full, rounded}, {rounded})):
        assert ev._money_clash(a, b) in (True, False)


def _lead_doc(title: str, lead: str, hours_ago: float) -> Doc:
    return Doc(title=title, summary=lead, published_at=NOW - timedelta(hours=hours_ago))


def _assign(store: Store, docs: list[Doc]) -> list[int]:
    """The events of new stories, one per doc, as ingest assigns them (one transaction)."""
    from daemon.pipeline import events as eventing  # noqa: PLC0415

    with store.tx() as tx:
        ids = tx.new_stories([(d.title, d.published_at, d.published_at, 1) for d in docs])
        opened = [eventing.Opened(s, d, d.title, d.published_at) for s, d in zip(ids, docs)]
        got = eventing.assign_events(tx, opened, WINDOW)
        eventing.count_terms(tx, got)
    return [got.events[s] for s in ids]


def test_a_copy_is_found_behind_three_vetoed_editions(store: Store) -> None:
    """The copy of a templated report shares one index key with its original (every other
    word of the template is hot) and two with each of three other days' editions, which the
    day guard vetoes: the original ranks fourth among the candidates and is still scored."""
    template = "harga cabai merah di pasar induk turun menurut catatan dinas perdagangan kota"
    doc = _lead_doc

    def assign(docs: list[Doc]) -> list[int]:
        return _assign(store, docs)

    letters = "abcdefghijklmnopqrstuvwxyz"
    filler = [
        doc(f"Harga cabai merah {letters[n % 26]}{letters[n // 26]}", f"Pada Senin {template} "
            + " ".join(f"isi{letters[n % 26]}{letters[n // 26]}{letters[k]}" for k in range(6))
            + ".", 40)
        for n in range(ev.MIN_CORPUS + 20)
    ]  # fmt: skip
    assign(filler)  # the template's words are now hot: none files or finds an event
    shared = ["anjlok", "merosot", "terkoreksi"]
    editions = [
        doc(
            f"Harga cabai merah {shared[i]} dan {shared[(i + 1) % 3]}",
            f"Pada {day} {template}, {shared[i]} lalu {shared[(i + 1) % 3]}.",
            24 + i,
        )
        for i, day in enumerate(["Senin", "Selasa", "Kamis"])
    ]  # three editions: three days
    original = doc("Harga cabai merah kompak turun", f"Pada Rabu {template}, kompak.", 2)
    (*vetoed, first) = assign([*editions, original])
    assert len({*vetoed, first}) == 4
    copy = doc(
        "Harga cabai merah kompak turun",
        f"Pada Rabu {template}, kompak: anjlok, merosot dan terkoreksi.",
        1,
    )
    assert assign([copy]) == [first]


def test_a_stored_profile_of_another_shape_costs_one_merge_not_the_poll(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A candidate event whose stored profile decodes to an unexpected shape (a count that is
    not a number: a row written by hand, or by a version with a bug) makes the decision
    fail: the story opens an event of its own, the poll's transaction goes on, and the log
    says so."""
    doc = _lead_doc

    def assign(docs: list[Doc]) -> list[int]:
        return _assign(store, docs)

    assign([
        doc(f"Laporan cuaca kota nomor {n}", f"Kota nomor {n} cerah berawan sepanjang hari ke-{n} "
            f"menurut pengamat setempat bernama Pengamat{n} dan rekannya.", 30)
        for n in range(ev.MIN_CORPUS + 10)
    ])  # fmt: skip
    lead = (
        "Komisi Pemberantasan Korupsi menahan Bupati Sukamaju Hartono Wiryo setelah "
        "pemeriksaan terkait suap proyek jembatan Sungai Cerah senilai Rp12,4 miliar."
    )
    (first,) = assign([doc("KPK tahan Bupati Sukamaju Hartono Wiryo", lead, 3)])
    rewrite = doc("Bupati Sukamaju Hartono Wiryo ditahan KPK", lead, 2)
    with store.tx() as tx:  # the event's profile: every term counted "x" times
        (profile,) = tx.conn.execute(
            sa.text("SELECT profile FROM events WHERE id = :i"), {"i": first}
        ).one()
        data = json.loads(profile)
        data["t"] = dict.fromkeys(data["t"].split(" "), "x")
        tx.conn.execute(
            sa.text("UPDATE events SET profile = :p WHERE id = :i"),
            {"p": json.dumps(data), "i": first},
        )
    (second,) = assign([rewrite])
    assert second != first
    assert "event.decision_failed" in caplog.text
